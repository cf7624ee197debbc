//! The vectors of shoppers' searches, as the for-you session reads them. A search is text
//! the shopper typed, so its vector must be computed by the model; what a request may make
//! the model do is bounded: only a session's latest few searches count, each text is
//! embedded once and then served from a cache shared by every shop (the same words mean the
//! same thing everywhere), and the work waits in the model's storefront lane, never in
//! front of catalogue indexing. When that lane is full, the session goes on without the
//! searches not yet known rather than failing the shelf.

use std::sync::Arc;

use kindred_embedder::{EmbedError, Lane};
use kindred_retriever::search::text::query_for_model;

use super::Recommender;
use crate::error::AppError;

/// A session's searches that count: the latest ones.
pub const MAX_SESSION_SEARCHES: usize = 3;
/// Search texts whose vectors are kept (384 floats each: about 15 MB in all).
pub const CACHED_SEARCHES: usize = 10_000;

pub type SearchVectors = Arc<quick_cache::sync::Cache<String, Arc<Vec<f32>>>>;

pub fn search_vector_cache() -> SearchVectors {
    Arc::new(quick_cache::sync::Cache::new(CACHED_SEARCHES))
}

impl Recommender {
    /// How many search texts have their vectors cached.
    pub fn cached_searches(&self) -> usize {
        self.search_cache.len()
    }

    /// The vectors of these search texts, in order; `None` for a text the model could not
    /// take now (its lane is full).
    pub(crate) async fn search_vectors(
        &self,
        texts: &[String],
    ) -> Result<Vec<Option<Arc<Vec<f32>>>>, AppError> {
        // The ways one text is typed (case, spacing, full-width letters) share one vector.
        let texts: Vec<String> = texts.iter().map(|t| query_for_model(t)).collect();
        let mut found: Vec<Option<Arc<Vec<f32>>>> =
            texts.iter().map(|t| self.search_cache.get(t)).collect();
        let missing: Vec<usize> = (0..texts.len()).filter(|&i| found[i].is_none()).collect();
        if missing.is_empty() {
            return Ok(found);
        }
        metrics::counter!("kindred_search_embeddings_total").increment(missing.len() as u64);
        let asked = missing.iter().map(|&i| texts[i].clone()).collect();
        match self
            .catalog
            .embedder
            .embed_in(Lane::Storefront, asked)
            .await
        {
            Ok(vectors) => {
                for (i, vector) in missing.into_iter().zip(vectors) {
                    let vector = Arc::new(vector);
                    self.search_cache.insert(texts[i].clone(), vector.clone());
                    found[i] = Some(vector);
                }
            }
            Err(EmbedError::Overloaded) => {
                metrics::counter!("kindred_search_embeddings_shed_total").increment(1);
                tracing::debug!("storefront lane full: a session goes on without new searches");
            }
            Err(err) => return Err(err.into()),
        }
        Ok(found)
    }
}
