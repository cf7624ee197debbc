//! The next basket (`kindred eval`'s second table): Online Retail's known customers, their
//! invoices in time order, each customer's last basket held out (customers with at least
//! two) and predicted from the baskets before it. Buy-again is tuned on a validation split
//! made the same way one basket earlier (customers with at least three); the test never
//! tunes anything. As is usual for next-basket evaluation, other customers' baskets from
//! any time are in the training data; each customer's own held-out basket never is.

use std::collections::HashSet;

use kindred_retriever::recommend::{
    repeat_share, Blender, BuyAgain, BuyAgainParams, Candidate, CandidateSource, ItemId,
    Popularity, Session, ShopperId,
};

use crate::recommend::tuned::{RepeatTuning, SERVED};

/// A customer's history and the basket that followed it.
pub struct BasketCase {
    pub customer: ShopperId,
    pub history: Vec<Session>,
    pub next: HashSet<ItemId>,
}

/// Recall@10, Recall@20 and NDCG@10 averaged over the cases.
#[derive(Debug, Clone, Copy, Default)]
pub struct BasketMetrics {
    pub cases: usize,
    pub recall10: f64,
    pub recall20: f64,
    pub ndcg10: f64,
}

pub struct BasketRow {
    pub strategy: &'static str,
    pub metrics: BasketMetrics,
    pub parameters: String,
}

/// Each customer with two baskets or more holds out their last: the histories left (every
/// customer's, the held-out baskets taken away) and the cases.
pub fn hold_out_last(
    customers: &[(ShopperId, Vec<Session>)],
) -> (Vec<(ShopperId, Vec<Session>)>, Vec<BasketCase>) {
    let mut histories = Vec::with_capacity(customers.len());
    let mut cases = Vec::new();
    for (customer, baskets) in customers {
        match baskets.split_last() {
            Some((last, before)) if !before.is_empty() => {
                cases.push(BasketCase {
                    customer: *customer,
                    history: before.to_vec(),
                    next: last.items.iter().copied().collect(),
                });
                histories.push((*customer, before.to_vec()));
            }
            _ => histories.push((*customer, baskets.clone())),
        }
    }
    (histories, cases)
}

/// Scores one ranking of each case (the 20 best items for it) against what was bought next.
pub fn measure(cases: &[BasketCase], rank: impl Fn(&BasketCase) -> Vec<ItemId>) -> BasketMetrics {
    let mut total = BasketMetrics {
        cases: cases.len(),
        ..BasketMetrics::default()
    };
    for case in cases {
        let ranked = rank(case);
        let hits = |k: usize| {
            ranked
                .iter()
                .take(k)
                .filter(|i| case.next.contains(i))
                .count()
        };
        let size = case.next.len() as f64;
        total.recall10 += hits(10) as f64 / size;
        total.recall20 += hits(20) as f64 / size;
        let dcg: f64 = ranked
            .iter()
            .take(10)
            .enumerate()
            .filter(|(_, item)| case.next.contains(item))
            .map(|(rank, _)| 1.0 / ((rank + 2) as f64).log2())
            .sum();
        let ideal: f64 = (0..case.next.len().min(10))
            .map(|rank| 1.0 / ((rank + 2) as f64).log2())
            .sum();
        total.ndcg10 += dcg / ideal;
    }
    let n = cases.len().max(1) as f64;
    total.recall10 /= n;
    total.recall20 /= n;
    total.ndcg10 /= n;
    total
}

/// What tuning maximises.
fn objective(m: &BasketMetrics) -> f64 {
    m.recall10 + m.ndcg10
}

/// Buy-again's parameters, by grid search on the validation split.
pub fn tune(customers: &[(ShopperId, Vec<Session>)]) -> BuyAgainParams {
    let (earlier, _) = hold_out_last(customers);
    let (train, validation) = hold_out_last(&earlier);
    let mut best = (f64::MIN, BuyAgainParams::FREQUENCY);
    for neighbours in [0, 10, 50, 100, 300] {
        for alpha in [0.5, 0.7, 0.9, 1.0] {
            if (neighbours == 0) != (alpha == 1.0) {
                continue;
            }
            for group_size in [1, 2, 4] {
                for group_decay in [0.5, 0.7, 0.9, 1.0] {
                    for basket_decay in [0.9, 1.0] {
                        let params = BuyAgainParams {
                            neighbours,
                            group_size,
                            basket_decay,
                            group_decay,
                            alpha,
                        };
                        let score = objective(&measure_buy_again(&train, &validation, params));
                        if score > best.0 {
                            best = (score, params);
                        }
                    }
                }
            }
        }
    }
    best.1
}

/// For-you's weight on the re-buys, by search on the validation split: the fusion as served
/// at each weight, the best objective kept (the lowest weight of equals).
pub fn tune_repeat_weight(customers: &[(ShopperId, Vec<Session>)]) -> f64 {
    let (earlier, _) = hold_out_last(customers);
    let (train, validation) = hold_out_last(&earlier);
    let baskets: Vec<Session> = train.iter().flat_map(|(_, b)| b.iter().cloned()).collect();
    let own = served_for_you(&baskets);
    let again = BuyAgain::train(&train, SERVED.buy_again);
    let nothing = HashSet::new();
    let mut best = (f64::MIN, SERVED.repeat.weight);
    for weight in REPEAT_WEIGHTS {
        let metrics = measure(&validation, |case| {
            let rebuys = items(&again.recommend(Some(case.customer), &case.history, 20, &nothing));
            fuse_with_rebuys(&own(case), &rebuys, weight)
        });
        if objective(&metrics) > best.0 + 1e-12 {
            best = (objective(&metrics), weight);
        }
    }
    best.1
}

/// The re-buy weights tried: from interleaving (1) to re-buys all but always first.
const REPEAT_WEIGHTS: [f64; 9] = [1.0, 1.5, 2.0, 3.0, 4.0, 8.0, 16.0, 32.0, 64.0];

fn measure_buy_again(
    train: &[(ShopperId, Vec<Session>)],
    cases: &[BasketCase],
    params: BuyAgainParams,
) -> BasketMetrics {
    let model = BuyAgain::train(train, params);
    let nothing = HashSet::new();
    measure(cases, |case| {
        items(&model.recommend(Some(case.customer), &case.history, 20, &nothing))
    })
}

fn items(found: &[Candidate]) -> Vec<ItemId> {
    found.iter().map(|c| c.item).collect()
}

/// Every row of the next-basket table.
pub fn evaluate(customers: &[(ShopperId, Vec<Session>)]) -> Vec<BasketRow> {
    let tuned = tune(customers);
    let (train, cases) = hold_out_last(customers);
    let baskets: Vec<Session> = train.iter().flat_map(|(_, b)| b.iter().cloned()).collect();
    let popular = Popularity::train(&baskets, None);
    let nothing = HashSet::new();
    let popularity = measure(&cases, |_| items(&popular.recommend(&[], 20, &nothing)));
    let frequency = measure_buy_again(&train, &cases, BuyAgainParams::FREQUENCY);
    let buy_again = measure_buy_again(&train, &cases, tuned);
    let served = measure_buy_again(&train, &cases, SERVED.buy_again);
    let for_you_list = served_for_you(&baskets);
    let for_you = measure(&cases, &for_you_list);
    let again = BuyAgain::train(&train, SERVED.buy_again);
    let share = repeat_share(&train);
    let fused = |weight: f64| {
        measure(&cases, |case| {
            let own = for_you_list(case);
            let rebuys = items(&again.recommend(Some(case.customer), &case.history, 20, &nothing));
            fuse_with_rebuys(&own, &rebuys, weight)
        })
    };
    let repeat_weight = tune_repeat_weight(customers);
    let tuned_repeats = fused(repeat_weight);
    let with_repeats = fused(SERVED.repeat.weight);
    vec![
        BasketRow {
            strategy: "popularity",
            metrics: popularity,
            parameters: "all-time counts".into(),
        },
        BasketRow {
            strategy: "personal top-frequency",
            metrics: frequency,
            parameters: "each customer's most-bought items".into(),
        },
        BasketRow {
            strategy: "buy-again (TIFU-KNN)",
            metrics: buy_again,
            parameters: format!(
                "neighbours {}, alpha {}, group size {}, group decay {}, basket decay {}",
                tuned.neighbours, tuned.alpha, tuned.group_size, tuned.group_decay, tuned.basket_decay
            ),
        },
        BasketRow {
            strategy: "buy-again, as served",
            metrics: served,
            parameters: "the buy_again endpoint's (recommend/tuned.rs)".into(),
        },
        BasketRow {
            strategy: "for-you as served, no re-buys",
            metrics: for_you,
            parameters: "the server's models and blend, the history as the session, what it touched left out".into(),
        },
        BasketRow {
            strategy: "for-you, re-buy weight tuned",
            metrics: tuned_repeats,
            parameters: format!(
                "buy-again weighted {repeat_weight}, tuned on the validation split (of {REPEAT_WEIGHTS:?})"
            ),
        },
        BasketRow {
            strategy: "for-you as served",
            metrics: with_repeats,
            parameters: format!(
                "the buyers' repeat share is {share:.2} (at least {} takes re-buys): for-you's list and buy-again's fused by reciprocal rank, buy-again weighted {}",
                SERVED.repeat.min_repeat_share, SERVED.repeat.weight
            ),
        },
    ]
}

/// For-you as the server answers a logged-in customer today: their purchases as the session
/// (newest last), the server's models trained on every basket, fused as served, and what
/// the shopper already touched left out.
fn served_for_you(baskets: &[Session]) -> impl Fn(&BasketCase) -> Vec<ItemId> {
    let weights = SERVED.blend;
    let sources = SERVED.collaborative_sources(baskets);
    let blender = Blender::new(sources, weights.fusion(), weights.depth);
    move |case| {
        let context: Vec<ItemId> = case
            .history
            .iter()
            .flat_map(|b| b.items.iter().copied())
            .collect();
        let touched: HashSet<ItemId> = context.iter().copied().collect();
        items(&blender.recommend(&context, 20, &touched))
    }
}

/// For-you's list and the re-buys fused as the server fuses them, the re-buys at `weight`.
fn fuse_with_rebuys(own: &[ItemId], rebuys: &[ItemId], weight: f64) -> Vec<ItemId> {
    let ranked = |list: &[ItemId]| -> Vec<Candidate> {
        list.iter()
            .enumerate()
            .map(|(rank, item)| Candidate {
                item: *item,
                score: 1.0 / (rank + 1) as f64,
            })
            .collect()
    };
    let tuning = RepeatTuning {
        weight,
        ..SERVED.repeat
    };
    items(&tuning.fuse(ranked(own), ranked(rebuys), 20))
}

/// The rows as a markdown table.
pub fn table(rows: &[BasketRow]) -> String {
    let mut out = String::from(
        "| strategy | customers | Recall@10 | Recall@20 | NDCG@10 | parameters |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let m = r.metrics;
        out.push_str(&format!(
            "| {} | {} | {:.4} | {:.4} | {:.4} | {} |\n",
            r.strategy, m.cases, m.recall10, m.recall20, m.ndcg10, r.parameters
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basket(items: &[ItemId], time: i64) -> Session {
        Session {
            items: items.to_vec(),
            time,
        }
    }

    #[test]
    fn the_last_basket_of_each_repeat_customer_is_held_out() {
        let customers = vec![
            (1, vec![basket(&[1, 2], 1), basket(&[2, 3], 2)]),
            (2, vec![basket(&[4], 1)]),
        ];
        let (histories, cases) = hold_out_last(&customers);
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].customer, 1);
        assert_eq!(cases[0].next, HashSet::from([2, 3]));
        assert_eq!(histories[0].1, vec![basket(&[1, 2], 1)]);
        assert_eq!(histories[1].1, vec![basket(&[4], 1)]);
    }

    #[test]
    fn recall_and_ndcg_count_the_next_basket() {
        let cases = [BasketCase {
            customer: 1,
            history: vec![],
            next: HashSet::from([7, 8]),
        }];
        let perfect = measure(&cases, |_| vec![7, 8, 9]);
        assert!((perfect.recall10 - 1.0).abs() < 1e-12);
        assert!((perfect.ndcg10 - 1.0).abs() < 1e-12);
        let half = measure(&cases, |_| vec![9, 7]);
        assert!((half.recall10 - 0.5).abs() < 1e-12);
        assert!(half.ndcg10 < 0.5 && half.ndcg10 > 0.0);
    }
}
