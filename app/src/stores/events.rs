//! Shopper events as the domain needs them stored: once per (shop, event id), read back
//! per client or customer, and summed for trending, performance and interaction models.

use crate::domain::{ClientId, CustomerId, ShopDomain};
use crate::error::AppError;
use crate::events::ShopperEvent;
use crate::recommend::training_log::LoggedEvent;
use async_trait::async_trait;

/// Shopper events.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Stores a batch in one transaction; events already stored (same id) are skipped.
    /// Returns how many were new.
    async fn insert_events(
        &self,
        shop: &ShopDomain,
        events: &[ShopperEvent],
    ) -> Result<u64, AppError>;

    /// A client's latest events (at most `MAX_HISTORY_EVENTS`), in time order: what the
    /// shopper did, not which recommendations they were shown.
    async fn client_events(
        &self,
        shop: &ShopDomain,
        client_id: &ClientId,
    ) -> Result<Vec<ShopperEvent>, AppError>;

    /// A customer's latest events (at most `MAX_HISTORY_EVENTS`), in time order: those of
    /// every browser a signed source said they used (the anonymous part of their sessions
    /// too). Customer ids nobody vouched for (stored before provenance was kept) link nothing.
    async fn customer_events(
        &self,
        shop: &ShopDomain,
        customer_id: CustomerId,
    ) -> Result<Vec<ShopperEvent>, AppError>;

    /// Every event of the customer, for a data request.
    async fn customer_export_events(
        &self,
        shop: &ShopDomain,
        customer_id: CustomerId,
    ) -> Result<Vec<ShopperEvent>, AppError>;

    /// Views and cart additions per product and day since `since_ms`: (product, day number
    /// since the epoch, count). Days keep the answer small however busy the shop is.
    async fn daily_product_interest(
        &self,
        shop: &ShopDomain,
        since_ms: i64,
    ) -> Result<Vec<(u64, i64, i64)>, AppError>;

    /// The product views and cart additions received from `received_from_ms` on that
    /// happened from `occurred_since_ms` on, in the order they were received: what a shop's
    /// training log absorbs (`recommend::training_log`).
    async fn logged_events(
        &self,
        shop: &ShopDomain,
        received_from_ms: i64,
        occurred_since_ms: i64,
    ) -> Result<Vec<LoggedEvent>, AppError>;

    /// Every checkout_completed event since `since_ms`, oldest first (`purchases::merge`
    /// decides which are purchases).
    async fn checkouts(
        &self,
        shop: &ShopDomain,
        since_ms: i64,
    ) -> Result<Vec<ShopperEvent>, AppError>;

    /// Drops events older than the retention window; returns how many.
    async fn prune_events(&self, occurred_before_ms: i64) -> Result<u64, AppError>;
}
