//! Keeping a shop's catalogue and orders equal to Shopify's: bulk sync states, the
//! reconciliation watermark and tombstones of deleted products.

use async_trait::async_trait;

use crate::domain::ShopDomain;
use crate::error::AppError;

/// Where a shop's bulk sync is: asked for, waiting on Shopify's bulk operation, writing
/// what it returned, or finished either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    Requested,
    Running,
    Ingesting,
    Completed,
    Failed,
}

impl SyncState {
    const ALL: [SyncState; 5] = [
        Self::Requested,
        Self::Running,
        Self::Ingesting,
        Self::Completed,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Running => "running",
            Self::Ingesting => "ingesting",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == raw)
    }
}

/// Catalogue sync state of one shop.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyncRow {
    pub state: SyncState,
    pub operation_id: Option<String>,
    pub requested_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub objects: i64,
    pub products: i64,
    pub deleted: i64,
    pub last_error: Option<String>,
    pub reconciled_until: Option<String>,
    pub reconciled_at: Option<i64>,
}

/// The order history's bulk read of one shop.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OrderSyncRow {
    pub state: SyncState,
    pub operation_id: Option<String>,
    pub requested_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub objects: i64,
    pub orders: i64,
    pub last_error: Option<String>,
}

/// Catalogue sync state and tombstones; the order history's bulk read state.
#[async_trait]
pub trait SyncStore: Send + Sync {
    async fn add_tombstone(&self, shop: &ShopDomain, product_id: u64) -> Result<(), AppError>;

    /// Which of `ids` were deleted in Shopify.
    async fn tombstoned(&self, shop: &ShopDomain, ids: &[u64]) -> Result<Vec<u64>, AppError>;

    async fn sync_state(&self, shop: &ShopDomain) -> Result<Option<SyncRow>, AppError>;

    /// Asks for a bulk sync; a sync already under way is left alone. True when newly requested.
    async fn request_sync(&self, shop: &ShopDomain) -> Result<bool, AppError>;

    /// Shops with a sync that was requested or under way: after a restart these resume.
    async fn unfinished_syncs(&self) -> Result<Vec<ShopDomain>, AppError>;

    async fn sync_started(&self, shop: &ShopDomain, operation_id: &str) -> Result<(), AppError>;

    async fn sync_progress(
        &self,
        shop: &ShopDomain,
        state: SyncState,
        objects: i64,
        products: i64,
    ) -> Result<(), AppError>;

    /// The sync finished; `watermark` is the newest `updatedAt` it saw (reconciliation starts there).
    async fn sync_completed(
        &self,
        shop: &ShopDomain,
        deleted: i64,
        watermark: Option<&str>,
    ) -> Result<(), AppError>;

    async fn sync_failed(&self, shop: &ShopDomain, error: &str) -> Result<(), AppError>;

    async fn save_watermark(&self, shop: &ShopDomain, watermark: &str) -> Result<(), AppError>;

    /// Ids of the shop's products last written before `before_ms` (candidates for deletion
    /// after a full sync that did not return them).
    async fn products_written_before(
        &self,
        shop: &ShopDomain,
        before_ms: i64,
    ) -> Result<Vec<u64>, AppError>;

    async fn order_sync_state(&self, shop: &ShopDomain) -> Result<Option<OrderSyncRow>, AppError>;

    /// Asks for the order history; one under way is left alone. True when newly requested.
    async fn request_order_sync(&self, shop: &ShopDomain) -> Result<bool, AppError>;

    async fn unfinished_order_syncs(&self) -> Result<Vec<ShopDomain>, AppError>;

    async fn order_sync_started(
        &self,
        shop: &ShopDomain,
        operation_id: &str,
    ) -> Result<(), AppError>;

    async fn order_sync_progress(
        &self,
        shop: &ShopDomain,
        state: SyncState,
        objects: i64,
        orders: i64,
    ) -> Result<(), AppError>;

    /// Finished: completed (no error) or failed (with it).
    async fn order_sync_finished(
        &self,
        shop: &ShopDomain,
        error: Option<&str>,
    ) -> Result<(), AppError>;
}
