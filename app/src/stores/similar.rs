//! Precomputed "similar products" lists, written for a whole shop at once.

use async_trait::async_trait;

use crate::domain::ShopDomain;
use crate::error::AppError;

/// A product's nearest products, best first, with their cosine similarity.
pub type Neighbours = Vec<(u64, f32)>;

/// Stored similar-products lists, current only while no vector of the shop changed.
#[async_trait]
pub trait SimilarListStore: Send + Sync {
    /// Replaces the shop's lists with these, computed from the vectors as they were at
    /// `read_at`, unless the catalogue changed since (a product written or waiting for its
    /// vector): then nothing is written and `false` comes back, and a later run tries again.
    async fn replace_similar_lists(
        &self,
        shop: &ShopDomain,
        read_at: i64,
        lists: &[(u64, Neighbours)],
    ) -> Result<bool, AppError>;

    /// The product's precomputed list, if the shop's lists are current.
    async fn similar_list(
        &self,
        shop: &ShopDomain,
        product_id: u64,
    ) -> Result<Option<Neighbours>, AppError>;

    /// How many of the shop's products have a current list.
    async fn similar_list_count(&self, shop: &ShopDomain) -> Result<u64, AppError>;

    /// Shops due a list job: more than one product, every vector current, no lists, and no
    /// product written since `quiet_since` (a sync in progress would only invalidate them).
    async fn shops_needing_similar_lists(
        &self,
        quiet_since: i64,
    ) -> Result<Vec<ShopDomain>, AppError>;
}
