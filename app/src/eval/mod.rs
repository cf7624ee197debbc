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

mod data;
pub mod next_basket;
pub mod search;
mod served;
mod tuning;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kindred_embedder::Embedder;
use kindred_retriever::recommend::{
    CandidateSource, CoOccurrence, Evaluation, Fusion, ItemId, Metrics, Popularity, Session,
};

use crate::error::AppError;
use crate::recommend::tuned::SERVED;
pub use data::{diginetica, online_retail, online_retail_customers};
use tuning::{blend, build, catalogue_size, tune, Cached, Parameters, Sources};

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

/// Tunes on validation, trains on the whole training window, measures on the test window.
pub fn evaluate(
    split: &Split,
    embedder: Option<&dyn Embedder>,
) -> Result<Vec<ResultRow>, AppError> {
    let vectors = item_vectors(split, embedder)?;
    let p = tune(split, &vectors);
    let sources = build(&split.train, &vectors, &p);
    let size = catalogue_size(&split.train);
    let measure = |source: &dyn CandidateSource| Some(Metrics::measure(source, &split.test, size));
    let mut rows = source_rows(split, &sources, &p, &measure);
    rows.extend(blend_rows(split, sources, &p, &measure));
    rows.extend(served::rows(split, &vectors, p.content_decay, &measure));
    Ok(rows)
}

/// The item texts' vectors, when there are texts and a model.
fn item_vectors(
    split: &Split,
    embedder: Option<&dyn Embedder>,
) -> Result<Option<Vec<(ItemId, Vec<f32>)>>, AppError> {
    let (Some(model), false) = (embedder, split.texts.is_empty()) else {
        return Ok(None);
    };
    let (items, texts): (Vec<ItemId>, Vec<String>) = split
        .texts
        .iter()
        .map(|(item, text)| (*item, text.clone()))
        .unzip();
    let vectors = model.embed(&texts)?;
    Ok(Some(items.into_iter().zip(vectors).collect()))
}

type Measure<'a> = dyn Fn(&dyn CandidateSource) -> Option<Metrics> + 'a;

/// Each source alone, tuned, after two untuned baselines as they are usually run (to
/// compare with published figures).
fn source_rows(
    split: &Split,
    sources: &Sources,
    p: &Parameters,
    measure: &Measure,
) -> Vec<ResultRow> {
    vec![
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
    ]
}

/// The blend as tuned, and the same trained sources with the server's for-you weights.
fn blend_rows(
    split: &Split,
    sources: Sources,
    p: &Parameters,
    measure: &Measure,
) -> Vec<ResultRow> {
    let content: Box<dyn CandidateSource> = match sources.content {
        Some(content) => Box::new(content),
        None => Box::new(Cached::empty("similar")),
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
        p,
    );
    let [c, k, r, w, e, t] = p.weights;
    let tuned = measure(&blender);
    let weights = SERVED.blend;
    let served = Parameters {
        weights: [
            weights.together,
            weights.neighbours,
            weights.next,
            weights.nearby,
            weights.content,
            0.0,
        ],
        fusion: weights.fusion(),
        ..*p
    };
    let blender = blend(blender.into_sources(), &served);
    let fusion = match p.fusion {
        Fusion::Score => "score fusion".to_owned(),
        Fusion::ReciprocalRank { constant } => {
            format!("reciprocal-rank fusion, constant {constant}")
        }
    };
    let [sc, sk, sr, sw, se, _] = served.weights;
    vec![
        row(split, "blended", tuned,
            format!("{fusion}; weights co-occurrence {c}, session-kNN {k}, sequential rules {r}, walk {w}, content {e}, trending {t}")),
        row(split, "blended, as served", measure(&blender),
            format!("the for-you endpoint's: reciprocal-rank fusion, constant {}; weights co-occurrence {sc}, session-kNN {sk}, sequential rules {sr}, walk {sw}, content {se}", weights.rrf_constant)),
    ]
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
    use super::tuning::{catalogue_size, walk};
    use super::*;
    use chrono::NaiveDateTime;

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
