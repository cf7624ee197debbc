//! The server's own models, measured: trending and the for-you blend trained and fused
//! with exactly the parameters serving runs with (`recommend::tuned::SERVED`), so the
//! table shows what a shop is served beside what tuning finds for each data set.

use kindred_retriever::recommend::{
    Blender, CandidateSource, ContentSimilarity, ItemId, Popularity, SourceWeight,
};

use super::tuning::Cached;
use super::{row, Measure, ResultRow, Split};
use crate::recommend::tuned::SERVED;

pub(super) fn rows(
    split: &Split,
    vectors: &Option<Vec<(ItemId, Vec<f32>)>>,
    content_decay: f64,
    measure: &Measure,
) -> Vec<ResultRow> {
    let trending = SERVED.trending;
    let train = &split.train;
    let weights = SERVED.blend;
    // The server's content source is the live session's vector, which has no offline
    // counterpart; the evaluation's tuned content similarity stands in for it.
    let content: Box<dyn CandidateSource> = match vectors {
        Some(vectors) => Box::new(ContentSimilarity::new(vectors.clone(), content_decay)),
        None => Box::new(Cached::empty("similar")),
    };
    let mut sources = SERVED.collaborative_sources(train);
    sources.push(SourceWeight {
        source: content,
        weight: weights.content,
    });
    let blender = Blender::new(sources, weights.fusion(), weights.depth);
    let (c, k, r, w) = (
        SERVED.cooccurrence,
        SERVED.session_knn,
        SERVED.sequential_rules,
        SERVED.walk,
    );
    vec![
        row(
            split,
            "trending, as served",
            measure(&Popularity::train_recent(train, trending.recency())),
            format!(
                "the trending endpoint's: the last {} days, half-life {} day",
                trending.window_days, trending.half_life_days
            ),
        ),
        row(
            split,
            "served models, blended",
            measure(&blender),
            format!(
                "the server's models and for-you blend: co-occurrence normalise {}; session-kNN k {}, sample {}, recency decay {}; sequential rules window {}, recency decay {}; walk second step {}; reciprocal-rank fusion, constant {}, depth {} (content: the tuned similarity, standing in for the live session vector)",
                c.normalise, k.neighbours, k.sample, k.recency_decay, r.window, r.recency_decay,
                w.second_step, weights.rrf_constant, weights.depth
            ),
        ),
    ]
}
