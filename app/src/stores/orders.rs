//! Orders as the domain needs them stored: the newest version of each, refunds once each,
//! read back per shop, per shopper and per customer, erased on request.

use async_trait::async_trait;

use crate::domain::{ClientId, CustomerId, ShopDomain};
use crate::error::AppError;
use crate::purchases::{Order, OrderBook, OrderSource, Refund};

/// How a batch of order versions fared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OrdersWritten {
    /// Orders stored for the first time.
    pub created: u64,
    /// Orders replaced by a version at least as new.
    pub updated: u64,
    /// Versions older than the one stored: ignored.
    pub stale: u64,
}

#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Stores each order unless a newer version (by `updated_at`) is stored; one transaction.
    async fn upsert_orders(
        &self,
        shop: &ShopDomain,
        orders: &[Order],
        source: OrderSource,
    ) -> Result<OrdersWritten, AppError>;

    /// Stores refunds not stored yet (by refund id); returns how many were new.
    async fn add_refunds(&self, shop: &ShopDomain, refunds: &[Refund]) -> Result<u64, AppError>;

    /// orders/delete: the order's content and refunds go; a tombstone stays, so no
    /// delivery that arrives later brings it back. True when there was an order.
    async fn delete_order(&self, shop: &ShopDomain, order_id: u64) -> Result<bool, AppError>;

    /// Orders created since `since_ms` with their refunds, oldest first. An order without
    /// a browser of its own takes the one a checkout event linked to it (same order id and
    /// checkout token).
    async fn orders_since(&self, shop: &ShopDomain, since_ms: i64) -> Result<OrderBook, AppError>;

    /// The orders of a shopper: the customer's, and those the browser placed (by its cart
    /// attribute or a linked checkout event); at most `limit`, newest.
    async fn shopper_orders(
        &self,
        shop: &ShopDomain,
        customer: Option<CustomerId>,
        client: Option<&ClientId>,
        limit: usize,
    ) -> Result<OrderBook, AppError>;

    /// How many orders the shop has stored (deleted ones not counted), and how many of them
    /// are test orders.
    async fn order_counts(&self, shop: &ShopDomain) -> Result<(i64, i64), AppError>;

    /// customers/data_request: the customer's orders and those named.
    async fn customer_orders(
        &self,
        shop: &ShopDomain,
        customer: CustomerId,
        named: &[u64],
    ) -> Result<OrderBook, AppError>;

    /// customers/redact: the customer's orders, those named, and their refunds; returns how
    /// many orders went.
    async fn redact_orders(
        &self,
        shop: &ShopDomain,
        customer: CustomerId,
        named: &[u64],
    ) -> Result<u64, AppError>;
}
