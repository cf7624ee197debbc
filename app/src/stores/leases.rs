//! Leases: a named piece of work (a shop's bulk sync, a periodic job) held by one replica
//! at a time, and free again when its holder stops renewing it (stopped, or killed).

use async_trait::async_trait;

use crate::error::AppError;

/// Leases shared by every replica on one database. The holder is the store's replica.
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes the lease for `ttl_ms`, or renews it when this replica holds it already; false
    /// when another replica holds it and it has not lapsed.
    async fn try_hold(&self, name: &str, ttl_ms: i64) -> Result<bool, AppError>;

    /// Lets the lease go, if this replica holds it, so another may take it at once.
    async fn release(&self, name: &str) -> Result<(), AppError>;

    /// How many leases whose names start with `prefix` are held and not lapsed.
    async fn live_leases(&self, prefix: &str) -> Result<u64, AppError>;

    /// Who this replica is to the others: the holder its leases and claims are recorded by.
    fn replica(&self) -> &str;
}
