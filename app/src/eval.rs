//! Offline evaluation of the recommendation strategies on real interaction data
//! (`kindred eval`): a time-based split, parameters tuned on a validation window that
//! precedes the test window (never on the test), and HR@10, HR@20, MRR@20, NDCG@20 and
//! coverage for each baseline and for the blend. Deterministic: no sampling anywhere, ties
//! broken by item id.
//!
//! - Online Retail (baskets with item descriptions): the last item of each basket is held
//!   out and predicted from the others. Train on December 2010, test on January 2011;
//!   tuning trains on 1–12 December and validates on 13–23 December.
//! - Diginetica (anonymous view sessions, no item text): every next view predicted from
//!   the views before it (re-views are left out: that is "recently viewed", not a
//!   prediction). Test on the last 7 days, validate on the 7 days before.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use kindred_embedder::Embedder;
use kindred_retriever::recommend::{
    Blender, Candidate, CandidateSource, CoOccurrence, ContentSimilarity, Evaluation, Fusion,
    ItemId, ItemWalk, Metrics, Popularity, SequentialRules, Session, SessionKnn, SourceWeight,
};

use crate::error::AppError;
use crate::recommend::for_you;

const DAY: i64 = 86_400;
/// Candidates each source hands the blender.
const BLEND_DEPTH: usize = 100;

/// A data set split in time: tuning (train, validate) and the real run (train, test).
pub struct Split {
    pub name: &'static str,
    pub tune_train: Vec<Session>,
    pub validation: Vec<Evaluation>,
    pub train: Vec<Session>,
    pub test: Vec<Evaluation>,
    /// Item texts, when the data set has them (for content similarity).
    pub texts: BTreeMap<ItemId, String>,
}

/// One row of the results table.
pub struct ResultRow {
    pub dataset: &'static str,
    pub strategy: String,
    pub metrics: Option<Metrics>,
    pub parameters: String,
}

// ---- data sets -------------------------------------------------------------------------

/// Online Retail: invoices as baskets (cancellations, returns and non-product lines left out).
pub fn online_retail(path: &Path) -> Result<Split, AppError> {
    const NOT_PRODUCTS: &[&str] = &[
        "POST",
        "DOT",
        "M",
        "m",
        "C2",
        "D",
        "S",
        "AMAZONFEE",
        "BANK CHARGES",
        "CRUK",
        "PADS",
    ];
    let mut reader = csv::Reader::from_path(path)
        .map_err(|e| AppError::InvalidInput(format!("{}: {e}", path.display())))?;
    let mut codes: HashMap<String, ItemId> = HashMap::new();
    let mut texts = BTreeMap::new();
    // Invoice -> (time, items in line order).
    let mut baskets: BTreeMap<String, (i64, Vec<ItemId>)> = BTreeMap::new();
    for (line, record) in reader.records().enumerate() {
        let record = record
            .map_err(|e| AppError::InvalidInput(format!("{}:{}: {e}", path.display(), line + 2)))?;
        let field = |i: usize| record.get(i).unwrap_or_default().trim();
        let (invoice, code, description, quantity, date) =
            (field(0), field(1), field(2), field(3), field(4));
        if invoice.starts_with('C') || NOT_PRODUCTS.contains(&code) || code.starts_with("gift_") {
            continue;
        }
        if quantity.parse::<i64>().map_or(true, |q| q <= 0) {
            continue;
        }
        let Ok(time) = NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S") else {
            continue;
        };
        let next = codes.len() as ItemId + 1;
        let item = *codes.entry(code.to_owned()).or_insert(next);
        if !description.is_empty() {
            texts.entry(item).or_insert_with(|| description.to_owned());
        }
        let basket = baskets
            .entry(invoice.to_owned())
            .or_insert((time.and_utc().timestamp(), Vec::new()));
        basket.1.push(item);
    }
    let sessions: Vec<Session> = baskets
        .into_values()
        .map(|(time, items)| Session {
            items: kindred_retriever::recommend::distinct(&items),
            time,
        })
        .collect();
    let at = |date: &str| {
        NaiveDateTime::parse_from_str(&format!("{date} 00:00:00"), "%Y-%m-%d %H:%M:%S")
            .map(|t| t.and_utc().timestamp())
            .unwrap_or_default()
    };
    let (tune_end, test_start) = (at("2010-12-13"), at("2011-01-01"));
    let window = |from: i64, to: i64| {
        sessions
            .iter()
            .filter(move |s| s.time >= from && s.time < to)
    };
    Ok(Split {
        name: "Online Retail",
        tune_train: window(i64::MIN, tune_end).cloned().collect(),
        validation: last_item_cases(window(tune_end, test_start)),
        train: window(i64::MIN, test_start).cloned().collect(),
        test: last_item_cases(window(test_start, i64::MAX)),
        texts,
    })
}

/// Diginetica: `session_id;user_id;item_id;timeframe;eventdate`, views in time order.
pub fn diginetica(path: &Path) -> Result<Split, AppError> {
    let raw = std::fs::read_to_string(path)
        .map_err(|e| AppError::InvalidInput(format!("{}: {e}", path.display())))?;
    let mut views: BTreeMap<u64, Vec<(i64, ItemId)>> = BTreeMap::new();
    for (line, row) in raw.lines().enumerate().skip(1) {
        let fields: Vec<&str> = row.split(';').collect();
        let parsed = (|| {
            let session = fields.first()?.parse::<u64>().ok()?;
            let item = fields.get(2)?.parse::<u64>().ok()?;
            let frame = fields.get(3)?.parse::<i64>().ok()?;
            let day = chrono::NaiveDate::parse_from_str(fields.get(4)?, "%Y-%m-%d").ok()?;
            let time = day.and_hms_opt(0, 0, 0)?.and_utc().timestamp() + frame / 1000;
            Some((session, time, item))
        })();
        let (session, time, item) = parsed.ok_or_else(|| {
            AppError::InvalidInput(format!("{}:{}: not a view", path.display(), line + 1))
        })?;
        views.entry(session).or_default().push((time, item));
    }
    let sessions: Vec<Session> = views
        .into_values()
        .filter_map(|mut events| {
            events.sort();
            let items: Vec<ItemId> = events.iter().map(|(_, item)| *item).collect();
            let time = events.last()?.0;
            (items.len() >= 2).then_some(Session { items, time })
        })
        .collect();
    let last = sessions.iter().map(|s| s.time).max().unwrap_or(0);
    let last_day = last - last.rem_euclid(DAY);
    let (test_start, validation_start) = (last_day - 6 * DAY, last_day - 13 * DAY);
    let window = |from: i64, to: i64| {
        sessions
            .iter()
            .filter(move |s| s.time >= from && s.time < to)
    };
    Ok(Split {
        name: "Diginetica (sample)",
        tune_train: window(i64::MIN, validation_start).cloned().collect(),
        validation: next_item_cases(window(validation_start, test_start)),
        train: window(i64::MIN, test_start).cloned().collect(),
        test: next_item_cases(window(test_start, i64::MAX)),
        texts: BTreeMap::new(),
    })
}

fn last_item_cases<'a>(sessions: impl Iterator<Item = &'a Session>) -> Vec<Evaluation> {
    sessions
        .filter(|s| s.items.len() >= 2)
        .map(|s| Evaluation {
            context: s.items[..s.items.len() - 1].to_vec(),
            target: s.items[s.items.len() - 1],
        })
        .collect()
}

fn next_item_cases<'a>(sessions: impl Iterator<Item = &'a Session>) -> Vec<Evaluation> {
    let mut cases = Vec::new();
    for session in sessions {
        for next in 1..session.items.len() {
            let context = &session.items[..next];
            let target = session.items[next];
            if !context.contains(&target) {
                cases.push(Evaluation {
                    context: context.to_vec(),
                    target,
                });
            }
        }
    }
    cases
}

// ---- strategies and tuning -------------------------------------------------------------

/// The parameters of every strategy, as tuned.
#[derive(Debug, Clone, Copy)]
struct Parameters {
    half_life_days: Option<f64>,
    cooc_normalise: f64,
    cooc_decay: f64,
    knn_neighbours: usize,
    knn_sample: usize,
    knn_decay: f64,
    content_decay: f64,
    rules_window: usize,
    rules_decay: f64,
    walk_second_step: f64,
    walk_decay: f64,
    /// Blend weights: co-occurrence, session-kNN, sequential rules, walk, content, popularity.
    weights: [f64; 6],
    fusion: Fusion,
}

impl Parameters {
    const START: Self = Self {
        half_life_days: None,
        cooc_normalise: 0.0,
        cooc_decay: 0.0,
        knn_neighbours: 100,
        knn_sample: 500,
        knn_decay: 0.0,
        content_decay: 0.0,
        rules_window: 5,
        rules_decay: 0.0,
        walk_second_step: 1.0,
        walk_decay: 0.0,
        weights: [1.0, 1.0, 1.0, 1.0, 0.5, 0.1],
        fusion: Fusion::Score,
    };
}

struct Sources {
    popularity: Popularity,
    cooccurrence: CoOccurrence,
    knn: SessionKnn,
    rules: SequentialRules,
    walk: ItemWalk,
    content: Option<ContentSimilarity>,
}

fn build(train: &[Session], vectors: &Option<Vec<(ItemId, Vec<f32>)>>, p: &Parameters) -> Sources {
    Sources {
        popularity: Popularity::train(train, p.half_life_days.map(|d| d * DAY as f64)),
        cooccurrence: CoOccurrence::train(train, p.cooc_normalise, p.cooc_decay, 100),
        knn: SessionKnn::train(train, p.knn_neighbours, p.knn_sample, p.knn_decay),
        rules: SequentialRules::train(train, p.rules_window, p.rules_decay),
        walk: walk(train, p.walk_second_step, p.walk_decay),
        content: vectors
            .clone()
            .map(|v| ContentSimilarity::new(v, p.content_decay)),
    }
}

/// The co-view walk with the link and session bounds the server uses.
fn walk(train: &[Session], second_step: f64, decay: f64) -> ItemWalk {
    ItemWalk::train(train, 100, 100, second_step, decay)
}

/// A source's answers computed once per case, so many blend weightings can be tried cheaply.
struct Cached {
    name: &'static str,
    lists: HashMap<Vec<ItemId>, Vec<Candidate>>,
}

impl Cached {
    fn of(source: &dyn CandidateSource, cases: &[Evaluation]) -> Self {
        let lists = cases
            .iter()
            .map(|case| {
                let exclude: HashSet<ItemId> = case.context.iter().copied().collect();
                (
                    case.context.clone(),
                    source.recommend(&case.context, BLEND_DEPTH, &exclude),
                )
            })
            .collect();
        Self {
            name: source.name(),
            lists,
        }
    }
}

impl CandidateSource for Cached {
    fn name(&self) -> &'static str {
        self.name
    }
    fn recommend(
        &self,
        context: &[ItemId],
        k: usize,
        _exclude: &HashSet<ItemId>,
    ) -> Vec<Candidate> {
        let mut list = self.lists.get(context).cloned().unwrap_or_default();
        list.truncate(k);
        list
    }
}

fn blend(sources: Vec<Box<dyn CandidateSource>>, p: &Parameters) -> Blender {
    let weighted = sources
        .into_iter()
        .zip(p.weights)
        .map(|(source, weight)| SourceWeight { source, weight })
        .collect();
    Blender::new(weighted, p.fusion, BLEND_DEPTH)
}

/// What tuning maximises: MRR@20 and HR@20 together.
fn objective(m: &Metrics) -> f64 {
    m.mrr20 + m.hr20
}

fn catalogue_size(sessions: &[Session]) -> usize {
    sessions
        .iter()
        .flat_map(|s| s.items.iter())
        .collect::<HashSet<_>>()
        .len()
}

/// Tunes each strategy and then the blend weights on the validation window.
fn tune(split: &Split, vectors: &Option<Vec<(ItemId, Vec<f32>)>>) -> Parameters {
    let size = catalogue_size(&split.tune_train);
    let train = &split.tune_train;
    let cases = &split.validation;
    let mut p = Parameters::START;
    let score = |source: &dyn CandidateSource| objective(&Metrics::measure(source, cases, size));

    p.half_life_days = [None, Some(30.0), Some(7.0), Some(2.0)]
        .into_iter()
        .max_by(|a, b| {
            let s = |h: &Option<f64>| score(&Popularity::train(train, h.map(|d| d * DAY as f64)));
            s(a).total_cmp(&s(b))
        })
        .flatten();
    let mut best = f64::MIN;
    for normalise in [0.0, 0.25, 0.5, 0.75] {
        for decay in [0.0, 0.2, 0.5] {
            let s = score(&CoOccurrence::train(train, normalise, decay, 100));
            if s > best {
                (best, p.cooc_normalise, p.cooc_decay) = (s, normalise, decay);
            }
        }
    }
    best = f64::MIN;
    for neighbours in [20, 50, 100, 200, 500] {
        for sample in [200, 1000, 5000] {
            for decay in [0.0, 0.2, 0.5] {
                let s = score(&SessionKnn::train(train, neighbours, sample, decay));
                if s > best {
                    (best, p.knn_neighbours, p.knn_sample, p.knn_decay) =
                        (s, neighbours, sample, decay);
                }
            }
        }
    }
    best = f64::MIN;
    for window in [1, 3, 10] {
        for decay in [0.0, 0.5, 1.0] {
            let s = score(&SequentialRules::train(train, window, decay));
            if s > best {
                (best, p.rules_window, p.rules_decay) = (s, window, decay);
            }
        }
    }
    best = f64::MIN;
    for second_step in [0.0, 0.5, 1.0, 2.0, 4.0] {
        for decay in [0.0, 0.5, 1.0] {
            let s = score(&walk(train, second_step, decay));
            if s > best {
                (best, p.walk_second_step, p.walk_decay) = (s, second_step, decay);
            }
        }
    }
    if let Some(vectors) = vectors {
        best = f64::MIN;
        for decay in [0.0, 0.3, 1.0] {
            let s = score(&ContentSimilarity::new(vectors.clone(), decay));
            if s > best {
                (best, p.content_decay) = (s, decay);
            }
        }
    }

    // Blend weights by grid search over cached answers.
    let sources = build(train, vectors, &p);
    let mut cached: Vec<Box<dyn CandidateSource>> = vec![
        Box::new(Cached::of(&sources.cooccurrence, cases)),
        Box::new(Cached::of(&sources.knn, cases)),
        Box::new(Cached::of(&sources.rules, cases)),
        Box::new(Cached::of(&sources.walk, cases)),
        Box::new(match &sources.content {
            Some(content) => Cached::of(content, cases),
            None => Cached {
                name: "similar",
                lists: HashMap::new(),
            },
        }),
        Box::new(Cached::of(&sources.popularity, cases)),
    ];
    let grid = [0.0, 0.5, 1.0, 2.0];
    let content_grid: &[f64] = if vectors.is_some() { &grid } else { &[0.0] };
    best = f64::MIN;
    let mut best_weights = p.weights;
    let mut best_fusion = p.fusion;
    let fusions = [
        Fusion::Score,
        Fusion::ReciprocalRank { constant: 5.0 },
        Fusion::ReciprocalRank { constant: 20.0 },
        Fusion::ReciprocalRank { constant: 60.0 },
    ];
    for fusion in fusions {
        for &w_cooc in &grid {
            for &w_knn in &grid {
                for &w_rules in &grid {
                    for &w_walk in &grid {
                        for &w_content in content_grid {
                            for w_pop in [0.0, 0.1, 0.25] {
                                if w_cooc + w_knn + w_rules + w_walk + w_content == 0.0 {
                                    continue;
                                }
                                let trial = Parameters {
                                    weights: [w_cooc, w_knn, w_rules, w_walk, w_content, w_pop],
                                    fusion,
                                    ..p
                                };
                                let blender = blend(std::mem::take(&mut cached), &trial);
                                let s = score(&blender);
                                cached = blender.into_sources();
                                if s > best {
                                    (best, best_weights, best_fusion) = (s, trial.weights, fusion);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    p.weights = best_weights;
    p.fusion = best_fusion;
    p
}

/// Tunes on validation, trains on the whole training window, measures on the test window.
pub fn evaluate(
    split: &Split,
    embedder: Option<&dyn Embedder>,
) -> Result<Vec<ResultRow>, AppError> {
    let vectors = match (embedder, split.texts.is_empty()) {
        (Some(model), false) => {
            let (items, texts): (Vec<ItemId>, Vec<String>) = split
                .texts
                .iter()
                .map(|(item, text)| (*item, text.clone()))
                .unzip();
            let vectors = model.embed(&texts)?;
            Some(items.into_iter().zip(vectors).collect::<Vec<_>>())
        }
        _ => None,
    };
    let p = tune(split, &vectors);
    let sources = build(&split.train, &vectors, &p);
    let size = catalogue_size(&split.train);
    let measure = |source: &dyn CandidateSource| Some(Metrics::measure(source, &split.test, size));
    // Untuned baselines as they are usually run, to compare with published figures.
    let mut rows = vec![
        row(
            split,
            "popularity, all-time counts",
            measure(&Popularity::train(&split.train, None)),
            "untuned".into(),
        ),
        row(
            split,
            "co-occurrence, raw counts",
            measure(&CoOccurrence::train(&split.train, 0.0, 0.0, usize::MAX)),
            "untuned".into(),
        ),
        row(
            split,
            "popularity",
            measure(&sources.popularity),
            match p.half_life_days {
                Some(days) => format!("half-life {days} days"),
                None => "no decay".into(),
            },
        ),
        row(
            split,
            "co-occurrence",
            measure(&sources.cooccurrence),
            format!(
                "normalise {}, recency decay {}",
                p.cooc_normalise, p.cooc_decay
            ),
        ),
        row(
            split,
            "session-kNN",
            measure(&sources.knn),
            format!(
                "k {}, sample {}, recency decay {}",
                p.knn_neighbours, p.knn_sample, p.knn_decay
            ),
        ),
        row(
            split,
            "sequential rules",
            measure(&sources.rules),
            format!("window {}, recency decay {}", p.rules_window, p.rules_decay),
        ),
        row(
            split,
            "co-view walk (two steps)",
            measure(&sources.walk),
            format!(
                "second step {}, recency decay {}",
                p.walk_second_step, p.walk_decay
            ),
        ),
        row(
            split,
            "content-only (embeddings)",
            sources.content.as_ref().and_then(|c| measure(c)),
            if sources.content.is_some() {
                format!("recency decay {}", p.content_decay)
            } else {
                "no item text in this data set".into()
            },
        ),
    ];
    let content: Box<dyn CandidateSource> = match sources.content {
        Some(content) => Box::new(content),
        None => Box::new(Cached {
            name: "similar",
            lists: HashMap::new(),
        }),
    };
    let blender = blend(
        vec![
            Box::new(sources.cooccurrence),
            Box::new(sources.knn),
            Box::new(sources.rules),
            Box::new(sources.walk),
            content,
            Box::new(sources.popularity),
        ],
        &p,
    );
    let [c, k, r, w, e, t] = p.weights;
    let tuned = measure(&blender);
    // The server's for-you blend: the same trained sources, its own weights.
    let served = Parameters {
        weights: [
            for_you::TOGETHER_WEIGHT,
            for_you::NEIGHBOURS_WEIGHT,
            for_you::NEXT_WEIGHT,
            for_you::NEARBY_WEIGHT,
            for_you::CONTENT_WEIGHT,
            0.0,
        ],
        fusion: Fusion::ReciprocalRank {
            constant: for_you::RRF_CONSTANT,
        },
        ..p
    };
    let blender = blend(blender.into_sources(), &served);
    let fusion = match p.fusion {
        Fusion::Score => "score fusion".to_owned(),
        Fusion::ReciprocalRank { constant } => {
            format!("reciprocal-rank fusion, constant {constant}")
        }
    };
    rows.push(row(split, "blended", tuned,
        format!("{fusion}; weights co-occurrence {c}, session-kNN {k}, sequential rules {r}, walk {w}, content {e}, trending {t}")));
    let [c, k, r, w, e, _] = served.weights;
    rows.push(row(split, "blended, as served", measure(&blender),
        format!("the for-you endpoint's: reciprocal-rank fusion, constant {}; weights co-occurrence {c}, session-kNN {k}, sequential rules {r}, walk {w}, content {e}", for_you::RRF_CONSTANT)));
    Ok(rows)
}

fn row(split: &Split, strategy: &str, metrics: Option<Metrics>, parameters: String) -> ResultRow {
    ResultRow {
        dataset: split.name,
        strategy: strategy.into(),
        metrics,
        parameters,
    }
}

/// The results as a markdown table.
pub fn table(rows: &[ResultRow]) -> String {
    let mut out = String::from("| data set | strategy | cases | HR@10 | HR@20 | MRR@20 | NDCG@20 | coverage@20 | tuned parameters |\n|---|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        match &r.metrics {
            Some(m) => out.push_str(&format!(
                "| {} | {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.3} | {} |\n",
                r.dataset,
                r.strategy,
                m.cases,
                m.hr10,
                m.hr20,
                m.mrr20,
                m.ndcg20,
                m.coverage20,
                r.parameters
            )),
            None => out.push_str(&format!(
                "| {} | {} | | n/a | n/a | n/a | n/a | n/a | {} |\n",
                r.dataset, r.strategy, r.parameters
            )),
        }
    }
    out
}

/// The data sets under `folder` (the shared data's `interactions/`).
pub fn datasets(folder: &Path) -> (PathBuf, PathBuf) {
    (
        folder.join("online-retail/online_retail_first49999rows.csv"),
        folder.join("diginetica-sample/sample_train-item-views.csv"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interactions() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/interactions")
    }

    fn check_split(split: &Split) {
        let train_end = split.train.iter().map(|s| s.time).max().unwrap();
        let tune_end = split.tune_train.iter().map(|s| s.time).max().unwrap();
        assert!(split.tune_train.len() < split.train.len());
        assert!(
            tune_end < train_end,
            "{}: validation comes after tuning's training",
            split.name
        );
        assert!(
            split.validation.len() > 100 && split.test.len() > 100,
            "{}",
            split.name
        );
        for case in split.validation.iter().chain(&split.test) {
            assert!(
                !case.context.is_empty() && !case.context.contains(&case.target),
                "{}",
                split.name
            );
        }
    }

    #[test]
    fn the_splits_are_in_time_order_and_never_share_a_session() {
        let (retail_path, diginetica_path) = datasets(&interactions());
        let retail = online_retail(&retail_path).unwrap();
        check_split(&retail);
        // Test baskets are January's; training is December's.
        let january =
            NaiveDateTime::parse_from_str("2011-01-01 00:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert!(retail
            .train
            .iter()
            .all(|s| s.time < january.and_utc().timestamp()));
        assert_eq!(retail.test.len(), 214);
        assert!(retail.texts.len() > 2_000, "items carry their descriptions");
        check_split(&diginetica(&diginetica_path).unwrap());
    }

    #[test]
    fn on_real_baskets_co_occurrence_beats_popularity_many_times_over() {
        let (retail, _) = datasets(&interactions());
        let split = online_retail(&retail).unwrap();
        let size = catalogue_size(&split.train);
        let popular = Metrics::measure(&Popularity::train(&split.train, None), &split.test, size);
        let together = Metrics::measure(
            &CoOccurrence::train(&split.train, 0.0, 0.0, 100),
            &split.test,
            size,
        );
        assert!(
            together.hr10 > 3.0 * popular.hr10,
            "{together:?} vs {popular:?}"
        );
        assert!(together.coverage20 > 10.0 * popular.coverage20);
    }

    #[test]
    fn on_real_view_sessions_a_second_step_finds_next_views_direct_links_cannot() {
        let (_, views) = datasets(&interactions());
        let split = diginetica(&views).unwrap();
        let size = catalogue_size(&split.train);
        let direct = Metrics::measure(&walk(&split.train, 0.0, 0.0), &split.test, size);
        let two_steps = Metrics::measure(&walk(&split.train, 4.0, 0.0), &split.test, size);
        assert!(
            two_steps.hr20 > 1.1 * direct.hr20 && two_steps.coverage20 > direct.coverage20,
            "{two_steps:?} vs {direct:?}"
        );
    }
}
