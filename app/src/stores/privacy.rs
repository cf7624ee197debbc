//! What Shopify's privacy topics need stored: data-request exports and redaction.

use async_trait::async_trait;

use crate::domain::{CustomerId, ShopDomain};
use crate::error::AppError;

/// Customer data exports and redaction.
#[async_trait]
pub trait PrivacyStore: Send + Sync {
    async fn save_customer_export(
        &self,
        shop: &ShopDomain,
        customer_id: CustomerId,
        request_id: &str,
        data: &str,
    ) -> Result<(), AppError>;

    /// Drops data-request exports older than the retention window (the data they copy is
    /// gone by then too); returns how many.
    async fn prune_customer_exports(&self, requested_before_ms: i64) -> Result<u64, AppError>;

    /// The shop's data-request exports, newest first: (customer id, request id, requested at, data).
    async fn customer_exports(
        &self,
        shop: &ShopDomain,
    ) -> Result<Vec<(u64, String, i64, String)>, AppError>;

    /// customers/redact: everything Kindred holds about one customer of one shop.
    async fn redact_customer(
        &self,
        shop: &ShopDomain,
        customer_id: CustomerId,
    ) -> Result<u64, AppError>;
}
