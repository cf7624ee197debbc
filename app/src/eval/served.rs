//! The server's own models, measured: trending and the for-you blend trained and fused
//! with exactly the parameters serving runs with (`recommend::tuned::SERVED`), so the
//! table shows what a shop is served beside what tuning finds for each data set.

use kindred_retriever::recommend::{
    Blender, CandidateSource, ContentSimilarity, Diversified, ItemId, Popularity, SourceWeight,
};

use super::tuning::Cached;
use super::{row, Measure, ResultRow, Split};
use crate::recommend::diversity::DEFAULT_DIVERSITY;
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
    let (c, k, r, w) = (
        SERVED.cooccurrence,
        SERVED.session_knn,
        SERVED.sequential_rules,
        SERVED.walk,
    );
    let blend_parameters = format!(
        "the server's models and for-you blend: co-occurrence normalise {}; session-kNN k {}, sample {}, recency decay {}; sequential rules window {}, recency decay {}; walk second step {}; reciprocal-rank fusion, constant {}, depth {} (content: the tuned similarity, standing in for the live session vector)",
        c.normalise, k.neighbours, k.sample, k.recency_decay, r.window, r.recency_decay,
        w.second_step, weights.rrf_constant, weights.depth
    );
    let mut rows = vec![
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
            measure(&served_blend(split, vectors, content_decay)),
            blend_parameters,
        ),
    ];
    // What shelf diversity costs in hits: the same answers re-ordered as shelves are.
    if let Some(vectors) = vectors {
        let diversified = Diversified::new(
            served_blend(split, &Some(vectors.clone()), content_decay),
            vectors.iter().cloned().collect(),
            DEFAULT_DIVERSITY,
        );
        rows.push(row(
            split,
            "served models, blended, shelf diversity",
            measure(&diversified),
            format!("as above, then maximal marginal relevance {DEFAULT_DIVERSITY} on the item vectors (the shops' default)"),
        ));
    }
    rows
}

/// The for-you blend with the server's parameters.
fn served_blend(
    split: &Split,
    vectors: &Option<Vec<(ItemId, Vec<f32>)>>,
    content_decay: f64,
) -> Blender {
    let weights = SERVED.blend;
    // The server's content source is the live session's vector, which has no offline
    // counterpart; the evaluation's tuned content similarity stands in for it.
    let content: Box<dyn CandidateSource> = match vectors {
        Some(vectors) => Box::new(ContentSimilarity::new(vectors.clone(), content_decay)),
        None => Box::new(Cached::empty("similar")),
    };
    let mut sources = SERVED.collaborative_sources(&split.train);
    sources.push(SourceWeight {
        source: content,
        weight: weights.content,
    });
    Blender::new(sources, weights.fusion(), weights.depth)
}
