//! The webhook inbox: deliveries committed before they are acknowledged, applied later.

use async_trait::async_trait;

use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::shopify::webhooks::Topic;

/// A webhook delivery as received, before it is applied.
#[derive(Debug, Clone)]
pub struct InboxDelivery {
    pub webhook_id: String,
    pub event_key: Option<String>,
    pub shop: ShopDomain,
    pub topic: Topic,
    pub api_version: Option<String>,
    pub triggered_at: Option<String>,
    pub body: String,
}

/// A delivery waiting to be applied.
#[derive(Debug, Clone)]
pub struct PendingDelivery {
    pub webhook_id: String,
    pub shop: ShopDomain,
    pub topic: Topic,
    pub triggered_at: Option<String>,
    pub body: String,
    pub attempts: i64,
}

/// A due delivery as read back: ready to apply, or a row this version cannot read (a topic
/// it no longer knows, a shop domain it no longer accepts), to be parked.
#[derive(Debug, Clone)]
pub enum DueDelivery {
    Ready(PendingDelivery),
    Unreadable { webhook_id: String, reason: String },
}

impl DueDelivery {
    pub fn webhook_id(&self) -> &str {
        match self {
            Self::Ready(delivery) => &delivery.webhook_id,
            Self::Unreadable { webhook_id, .. } => webhook_id,
        }
    }
}

/// Counts of the inbox by state, for status pages and metrics.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InboxCounts {
    pub pending: i64,
    pub applied: i64,
    pub failed: i64,
}

/// A delivery given up on, as the merchant's health page lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FailedDelivery {
    pub webhook_id: String,
    pub topic: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub received_at_ms: i64,
    /// False when its body is gone (cleared because it named a customer): it cannot be
    /// applied again, and the data comes back with the next update or sync.
    pub retryable: bool,
}

/// What asking to retry a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Back in the queue, due now.
    Queued,
    /// Not a failed delivery with a body.
    NotRetryable,
    /// No such delivery of this shop.
    Unknown,
}

/// The durable webhook inbox.
#[async_trait]
pub trait InboxStore: Send + Sync {
    /// Commits a delivery; false when the same webhook or event was received before.
    async fn enqueue_delivery(&self, delivery: &InboxDelivery) -> Result<bool, AppError>;

    /// Whether a delivery with this webhook id or event key is already in the inbox.
    async fn delivery_seen(
        &self,
        webhook_id: &str,
        event_key: Option<&str>,
    ) -> Result<bool, AppError>;

    /// Claims up to `limit` deliveries due now for this replica, oldest first, for
    /// `lease_ms`: no other replica takes them until the claim lapses (its holder died), and
    /// none takes a shop's deliveries while another holds a live claim on that shop, so a
    /// shop's deliveries are applied by one replica at a time, in arrival order.
    async fn claim_due_deliveries(
        &self,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<DueDelivery>, AppError>;

    /// Renews this replica's claims on the deliveries it is still applying.
    async fn extend_claims(&self, lease_ms: i64) -> Result<u64, AppError>;

    /// Marks this replica's claimed deliveries applied; returns how many it still held
    /// (a claim that lapsed and was taken by another replica is that replica's to mark).
    async fn mark_applied(&self, webhook_ids: &[String]) -> Result<u64, AppError>;

    /// Records a failed attempt: tried again after `retry_in_ms`, or given up on when `None`.
    /// The claim is let go.
    async fn mark_attempt_failed(
        &self,
        webhook_id: &str,
        error: &str,
        retry_in_ms: Option<i64>,
    ) -> Result<(), AppError>;

    /// Tries a delivery again after `retry_in_ms` without counting the attempt (what failed
    /// was a dependency being away, not the delivery); the claim is let go.
    async fn postpone_delivery(
        &self,
        webhook_id: &str,
        error: &str,
        retry_in_ms: i64,
    ) -> Result<(), AppError>;

    async fn inbox_counts(&self, shop: Option<&ShopDomain>) -> Result<InboxCounts, AppError>;

    /// The shop's deliveries given up on, newest first.
    async fn failed_deliveries(
        &self,
        shop: &ShopDomain,
        limit: i64,
    ) -> Result<Vec<FailedDelivery>, AppError>;

    /// Puts one of the shop's failed deliveries back in the queue, due now.
    async fn retry_delivery(&self, shop: &ShopDomain, webhook_id: &str) -> Result<Retry, AppError>;

    /// Forgets bodies of deliveries applied long ago; their ids stay so late duplicates are still caught.
    async fn prune_inbox(&self, applied_before_ms: i64) -> Result<u64, AppError>;
}
