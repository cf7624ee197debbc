//! Content similarity: items whose embedded text is closest to the shopper's context (the
//! recency-weighted mean of the context items' vectors). Needs no interactions, so it
//! answers for new shops and new products from the start. Exact search over the vectors it
//! is given; the server's large catalogues go through the vector index instead.

use std::collections::{HashMap, HashSet};

use super::{recency_weight, top_k, Candidate, CandidateSource, ItemId};

pub struct ContentSimilarity {
    items: Vec<ItemId>,
    /// Unit vectors, row-major, `dimension` per item.
    vectors: Vec<f32>,
    dimension: usize,
    index: HashMap<ItemId, usize>,
    recency_decay: f64,
}

impl ContentSimilarity {
    /// `vectors` are L2-normalised (the embedder's output).
    pub fn new(vectors: Vec<(ItemId, Vec<f32>)>, recency_decay: f64) -> Self {
        let dimension = vectors.first().map_or(0, |(_, v)| v.len());
        let mut items = Vec::with_capacity(vectors.len());
        let mut flat = Vec::with_capacity(vectors.len() * dimension);
        let mut index = HashMap::with_capacity(vectors.len());
        for (item, vector) in vectors {
            index.insert(item, items.len());
            items.push(item);
            flat.extend_from_slice(&vector);
        }
        Self {
            items,
            vectors: flat,
            dimension,
            index,
            recency_decay,
        }
    }

    fn vector(&self, item: ItemId) -> Option<&[f32]> {
        let row = *self.index.get(&item)?;
        Some(&self.vectors[row * self.dimension..(row + 1) * self.dimension])
    }
}

impl CandidateSource for ContentSimilarity {
    fn name(&self) -> &'static str {
        "similar"
    }

    fn recommend(&self, context: &[ItemId], k: usize, exclude: &HashSet<ItemId>) -> Vec<Candidate> {
        let mut query = vec![0f32; self.dimension];
        let mut any = false;
        for (position, item) in context.iter().enumerate() {
            if let Some(vector) = self.vector(*item) {
                let weight = recency_weight(position, context.len(), self.recency_decay) as f32;
                query
                    .iter_mut()
                    .zip(vector)
                    .for_each(|(q, v)| *q += weight * v);
                any = true;
            }
        }
        if !any {
            return Vec::new();
        }
        let scores: HashMap<ItemId, f64> = self
            .items
            .iter()
            .enumerate()
            .map(|(row, item)| {
                let vector = &self.vectors[row * self.dimension..(row + 1) * self.dimension];
                let dot: f32 = vector.iter().zip(&query).map(|(a, b)| a * b).sum();
                // Shifted so every item keeps a positive score (top_k drops non-positive ones).
                (*item, f64::from(dot) + 2.0)
            })
            .collect();
        top_k(scores, k, exclude)
    }
}
