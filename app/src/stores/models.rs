//! A shop's trained interaction models as every replica shares them: written by the one
//! replica that holds the shop's build lease, read by all.

use async_trait::async_trait;

use crate::domain::ShopDomain;
use crate::error::AppError;

/// A stored build: when it read the shop's data, the models, and the training log the next
/// build continues from (both in their stored forms).
pub struct StoredModels {
    pub built_at: i64,
    pub models: Vec<u8>,
}

/// Shared interaction models.
#[async_trait]
pub trait ModelStore: Send + Sync {
    /// When the stored build of the shop read its data, if there is one: a cheap question
    /// each replica asks before reading the models themselves.
    async fn models_built_at(&self, shop: &ShopDomain) -> Result<Option<i64>, AppError>;

    async fn stored_models(&self, shop: &ShopDomain) -> Result<Option<StoredModels>, AppError>;

    /// The training log of the stored build.
    async fn training_log(&self, shop: &ShopDomain) -> Result<Option<Vec<u8>>, AppError>;

    /// Replaces the shop's stored build.
    async fn put_models(
        &self,
        shop: &ShopDomain,
        built_at: i64,
        models: &[u8],
        training_log: &[u8],
    ) -> Result<(), AppError>;

    /// Drops the shop's stored build (its shoppers' data changed under it: a redaction).
    async fn delete_models(&self, shop: &ShopDomain) -> Result<(), AppError>;
}
