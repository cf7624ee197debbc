//! Vector index for product recommendations.
//!
//! One small trait, [`VectorIndex`], and two real Qdrant backends behind it:
//! [`EdgeIndex`], Qdrant's own engine embedded in the process (`qdrant-edge`, data on
//! disk), and [`ServerIndex`], a Qdrant server or cluster through `qdrant-client`.
//!
//! Tenancy: every point carries its shop in the payload, point ids are derived from
//! (shop, product id), and every read, count and delete is filtered by shop, so one shop's
//! calls can never see or touch another shop's points, whichever backend is in use.

mod edge;
mod error;
mod exact;
pub mod exact_batched;
mod filter;
mod model;
pub mod recommend;
pub mod search;
mod server;

use async_trait::async_trait;

pub use edge::{EdgeIndex, EdgeOptions};
pub use error::RetrieverError;
pub use exact::exact_top_k;
pub use model::{
    point_id, ProductPayload, ProductPoint, ScoredProduct, SearchFilter, SearchQuery, StoredProduct,
};
pub use server::ServerIndex;

/// A multi-tenant store of product vectors with filtered nearest-neighbour search (cosine).
#[async_trait]
pub trait VectorIndex: Send + Sync {
    /// Inserts or replaces points of one shop.
    async fn upsert(&self, shop: &str, points: Vec<ProductPoint>) -> Result<(), RetrieverError>;
    /// Replaces the payload of one product, keeping its vector (price or stock changes).
    /// [`RetrieverError::NotFound`] when the shop has no such product.
    async fn set_payload(
        &self,
        shop: &str,
        product_id: u64,
        payload: ProductPayload,
    ) -> Result<(), RetrieverError>;
    /// Deletes products of one shop; unknown ids are ignored.
    async fn delete(&self, shop: &str, product_ids: &[u64]) -> Result<(), RetrieverError>;
    /// The shop's nearest products to the query vector that pass the filter, best first.
    async fn search(
        &self,
        shop: &str,
        query: &SearchQuery,
    ) -> Result<Vec<ScoredProduct>, RetrieverError>;
    /// One product's vector and payload.
    async fn fetch(
        &self,
        shop: &str,
        product_id: u64,
    ) -> Result<Option<StoredProduct>, RetrieverError>;
    /// Several products' vectors and payloads in one read, in no particular order; unknown
    /// ids are left out.
    async fn fetch_many(
        &self,
        shop: &str,
        product_ids: &[u64],
    ) -> Result<Vec<StoredProduct>, RetrieverError>;
    /// How many products the shop has in the index.
    async fn count(&self, shop: &str) -> Result<u64, RetrieverError>;
    /// Removes every point of one shop and nothing of any other.
    async fn drop_shop(&self, shop: &str) -> Result<(), RetrieverError>;
    /// Builds the approximate index where the backend needs telling (embedded engine);
    /// blocking work runs off the async runtime. Searches and writes keep working meanwhile.
    async fn optimize(&self) -> Result<(), RetrieverError>;
    /// Makes every write so far survive a crash. The server's writes already have when
    /// they return; the embedded engine's otherwise do within a second.
    async fn flush(&self) -> Result<(), RetrieverError> {
        Ok(())
    }
    /// Whether the index can serve now: the server answers its health check (the
    /// embedded engine always can). Readiness asks this, so a load balancer stops sending
    /// traffic to a replica whose index is down.
    async fn ready(&self) -> Result<(), RetrieverError> {
        Ok(())
    }
    /// `qdrant-edge` or `qdrant-server`, for logs and readiness.
    fn backend_name(&self) -> &'static str;
}
