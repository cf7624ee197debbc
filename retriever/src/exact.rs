//! Exact nearest neighbours by brute force: the ground truth that ANN recall is measured against.

use crate::ScoredProduct;

/// The `k` vectors with the highest cosine similarity to `query`, best first.
pub fn exact_top_k(vectors: &[(u64, Vec<f32>)], query: &[f32], k: usize) -> Vec<ScoredProduct> {
    let query_norm = norm(query);
    let mut scored: Vec<ScoredProduct> = vectors
        .iter()
        .map(|(id, v)| {
            let dot: f32 = v.iter().zip(query).map(|(a, b)| a * b).sum();
            let denom = norm(v) * query_norm;
            ScoredProduct {
                product_id: *id,
                score: if denom > 0.0 { dot / denom } else { 0.0 },
            }
        })
        .collect();
    scored.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.product_id.cmp(&b.product_id))
    });
    scored.truncate(k);
    scored
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}
