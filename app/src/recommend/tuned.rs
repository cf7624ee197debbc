//! The parameters the server runs with, named, in one place read by serving (the interaction
//! models, trending, the for-you blend) and by `kindred eval`, which measures the server's
//! own models with exactly these ("as served" rows) beside what it tunes per data set.
//! Where each value comes from is said beside it; BENCHMARKS.md has the measurements.

use std::collections::HashSet;

use kindred_retriever::recommend::{
    Blender, BuyAgainParams, Candidate, CandidateSource, CoOccurrence, Fusion, ItemWalk,
    RankedList, Recency, SequentialRules, Session, SessionKnn, SourceWeight,
};

const DAY_SECS: f64 = 86_400.0;

/// "Often bought with": co-occurrence in baskets.
#[derive(Debug, Clone, Copy)]
pub struct CoOccurrenceTuning {
    /// Items co-occurring with everything are dampened by count^this (tuned on Online
    /// Retail's baskets, where purchases are).
    pub normalise: f64,
    pub recency_decay: f64,
    /// Links kept per item.
    pub max_links: usize,
}

impl CoOccurrenceTuning {
    pub fn train(&self, baskets: &[Session]) -> CoOccurrence {
        CoOccurrence::train(baskets, self.normalise, self.recency_decay, self.max_links)
    }
}

/// "Shoppers who viewed this also viewed": session-kNN (tuned on Online Retail, the same
/// optimum as on Diginetica).
#[derive(Debug, Clone, Copy)]
pub struct SessionKnnTuning {
    pub neighbours: usize,
    pub sample: usize,
    pub recency_decay: f64,
}

impl SessionKnnTuning {
    pub fn train(&self, sessions: &[Session]) -> SessionKnn {
        SessionKnn::train(sessions, self.neighbours, self.sample, self.recency_decay)
    }
}

/// "Often viewed next": sequential rules (tuned on Online Retail).
#[derive(Debug, Clone, Copy)]
pub struct SequentialRulesTuning {
    pub window: usize,
    pub recency_decay: f64,
}

impl SequentialRulesTuning {
    pub fn train(&self, sessions: &[Session]) -> SequentialRules {
        SequentialRules::train(sessions, self.window, self.recency_decay)
    }
}

/// What is viewed with what is viewed with this: the two-step co-view walk (tuned on
/// Diginetica's view sessions: in browsing, items two steps away are where most unseen
/// next views are; Online Retail's baskets turned the second step off).
#[derive(Debug, Clone, Copy)]
pub struct WalkTuning {
    /// An item's strongest links followed.
    pub max_links: usize,
    /// Sessions that viewed more items than this are skipped: they link everything.
    pub max_session: usize,
    pub second_step: f64,
    pub recency_decay: f64,
}

impl WalkTuning {
    pub fn train(&self, sessions: &[Session]) -> ItemWalk {
        ItemWalk::train(
            sessions,
            self.max_links,
            self.max_session,
            self.second_step,
            self.recency_decay,
        )
    }
}

/// Trending: views, cart additions and units sold of the last week, each day counting half
/// as much as the next, so what is rising shows before what has peaked (a shop's trending
/// shelf should move within days; the evaluation's tuned half-lives, 2 and 7 days, rank a
/// month-old data set, not a live shop).
#[derive(Debug, Clone, Copy)]
pub struct TrendingTuning {
    pub window_days: i64,
    pub half_life_days: f64,
    /// How many views one unit sold counts as: best-sellers lead, and a shop whose
    /// storefront reports nothing (orders only) still has a trending shelf. Chosen, not
    /// tuned (no data set here has a shop's views and sales together): online shops sell
    /// about one unit per 20-50 product views, so a sale weighs what the views behind it do.
    pub unit_sold_weight: f64,
}

impl TrendingTuning {
    pub fn recency(&self) -> Recency {
        Recency {
            half_life_secs: Some(self.half_life_days * DAY_SECS),
            window_secs: Some(self.window_days as f64 * DAY_SECS),
        }
    }
}

/// The for-you blend of the session's content neighbours with what the shop's shoppers did
/// together: reciprocal-rank fusion with the constant and content weight the evaluation
/// tuned on Online Retail, the data set with item text, before the walk was added; each
/// collaborative source counts 1. The optimum tuned with the walk (constant 60, three of
/// them at 0.5) is within noise of it there (one hit fewer on HR@20 of 214 cases, MRR@20
/// 2% higher) and would let the text model drown out twenty shoppers who all viewed the
/// same next product.
#[derive(Debug, Clone, Copy)]
pub struct BlendTuning {
    pub content: f64,
    pub together: f64,
    pub neighbours: f64,
    pub next: f64,
    pub nearby: f64,
    pub rrf_constant: f64,
    /// How deep each source's list is read.
    pub depth: usize,
}

impl BlendTuning {
    pub fn fusion(&self) -> Fusion {
        Fusion::ReciprocalRank {
            constant: self.rrf_constant,
        }
    }
}

impl RepeatTuning {
    /// For-you's own list and the shopper's likely re-buys, fused by reciprocal rank (the
    /// for-you blend's constant and depth): the `k` best.
    pub fn fuse(&self, own: Vec<Candidate>, rebuys: Vec<Candidate>, k: usize) -> Vec<Candidate> {
        let blend = SERVED.blend;
        let list = |name, candidates| -> Box<dyn CandidateSource> {
            Box::new(RankedList { name, candidates })
        };
        Blender::new(
            vec![
                SourceWeight {
                    source: list("for_you", own),
                    weight: 1.0,
                },
                SourceWeight {
                    source: list("buy_again", rebuys),
                    weight: self.weight,
                },
            ],
            blend.fusion(),
            blend.depth,
        )
        .recommend(&[], k, &HashSet::new())
    }
}

/// Everything the server's recommendations are tuned by.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    pub cooccurrence: CoOccurrenceTuning,
    pub session_knn: SessionKnnTuning,
    pub sequential_rules: SequentialRulesTuning,
    pub walk: WalkTuning,
    pub trending: TrendingTuning,
    pub blend: BlendTuning,
    /// Buy again (TIFU-KNN), as `kindred eval` tuned it on Online Retail's customers'
    /// next baskets: the 100 nearest purchase histories blended in at 0.1, baskets in
    /// groups of two, each group half the next.
    pub buy_again: BuyAgainParams,
    pub repeat: RepeatTuning,
}

/// When for-you takes buy-again's candidates: in a shop whose buyers re-buy (the share of a
/// repeat buyer's basket items they had bought before is at least `min_repeat_share`; it
/// is about a quarter on Online Retail), fused with for-you's own by reciprocal rank; a shop
/// whose shoppers rarely buy the same thing twice keeps for-you as it was.
#[derive(Debug, Clone, Copy)]
pub struct RepeatTuning {
    pub min_repeat_share: f64,
    /// Buy-again's weight beside for-you's own (1), as `kindred eval` tuned it on the
    /// next-basket validation split (Online Retail's customers, one basket before the test):
    /// 32. With the blend's constant of 20, the shopper's likely re-buys come first in their
    /// own order (a product for-you's list shares with them rises only a little), and
    /// for-you's own list fills the shelf after them. At 2, shared products rose above the
    /// shopper's best re-buys (Recall@10 0.1328 on the test against 0.1595 at 32); at 1 the
    /// two interleave, and the end-to-end buy-again test found less than half as much of the
    /// next basket (recall@10 0.06 against 0.15).
    pub weight: f64,
}

impl Tuning {
    /// The four collaborative models trained on `sessions`, each with its for-you weight:
    /// what `kindred eval` blends to measure the server's own models.
    pub fn collaborative_sources(&self, sessions: &[Session]) -> Vec<SourceWeight> {
        let w = self.blend;
        vec![
            SourceWeight {
                source: Box::new(self.cooccurrence.train(sessions)),
                weight: w.together,
            },
            SourceWeight {
                source: Box::new(self.session_knn.train(sessions)),
                weight: w.neighbours,
            },
            SourceWeight {
                source: Box::new(self.sequential_rules.train(sessions)),
                weight: w.next,
            },
            SourceWeight {
                source: Box::new(self.walk.train(sessions)),
                weight: w.nearby,
            },
        ]
    }
}

/// What the server runs with.
pub const SERVED: Tuning = Tuning {
    cooccurrence: CoOccurrenceTuning {
        normalise: 0.25,
        recency_decay: 0.0,
        max_links: 100,
    },
    session_knn: SessionKnnTuning {
        neighbours: 20,
        sample: 200,
        recency_decay: 0.5,
    },
    sequential_rules: SequentialRulesTuning {
        window: 3,
        recency_decay: 0.5,
    },
    walk: WalkTuning {
        max_links: 100,
        max_session: 100,
        second_step: 4.0,
        recency_decay: 0.0,
    },
    trending: TrendingTuning {
        window_days: 7,
        half_life_days: 1.0,
        unit_sold_weight: 20.0,
    },
    blend: BlendTuning {
        content: 2.0,
        together: 1.0,
        neighbours: 1.0,
        next: 1.0,
        nearby: 1.0,
        rrf_constant: 20.0,
        depth: 50,
    },
    buy_again: BuyAgainParams {
        neighbours: 100,
        group_size: 2,
        basket_decay: 1.0,
        group_decay: 0.5,
        alpha: 0.9,
    },
    repeat: RepeatTuning {
        min_repeat_share: 0.1,
        weight: 32.0,
    },
};
