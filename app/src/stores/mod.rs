//! What the domain needs from storage, one trait per use, with the rows they trade in.
//! `storage` implements them all on the sqlx database; the domain holds only these traits,
//! bundled in `Stores`, and asks its `clock` what time it is.

mod events;
mod inbox;
mod installs;
mod keys;
mod leases;
mod models;
mod orders;
mod privacy;
mod products;
mod proof;
mod shops;
mod similar;
mod syncs;

use std::sync::Arc;

use crate::clock::Clock;
pub use events::EventStore;
pub use inbox::{
    DueDelivery, FailedDelivery, InboxCounts, InboxDelivery, InboxStore, PendingDelivery, Retry,
};
pub use installs::{InstallRow, InstallStore, PixelRow, SealedGrant};
pub use keys::{generate_key, hash_key, key_id, KeyGrant, KeyInfo, KeyOrigin, KeyScope, KeyStore};
pub use leases::LeaseStore;
pub use models::{ModelStore, StoredModels};
pub use orders::{OrderStore, OrdersWritten};
pub use privacy::PrivacyStore;
pub use products::{IndexState, ProductRow, ProductStore};
pub use proof::ProofStore;
pub use shops::ShopStore;
pub use similar::{Neighbours, SimilarListStore};
pub use syncs::{OrderSyncRow, SyncRow, SyncState, SyncStore};

/// The traits, for code that calls a store's methods directly (adapters, tests).
pub mod prelude {
    pub use super::{
        EventStore, InboxStore, InstallStore, KeyStore, LeaseStore, ModelStore, OrderStore,
        PrivacyStore, ProductStore, ProofStore, ShopStore, SimilarListStore, SyncStore,
    };
}

/// Every store the domain uses, each behind the narrow trait of its use, and the clock.
#[derive(Clone)]
pub struct Stores {
    pub products: Arc<dyn ProductStore>,
    pub similar: Arc<dyn SimilarListStore>,
    pub events: Arc<dyn EventStore>,
    pub inbox: Arc<dyn InboxStore>,
    pub shops: Arc<dyn ShopStore>,
    pub keys: Arc<dyn KeyStore>,
    pub installs: Arc<dyn InstallStore>,
    pub syncs: Arc<dyn SyncStore>,
    pub privacy: Arc<dyn PrivacyStore>,
    pub orders: Arc<dyn OrderStore>,
    pub proof: Arc<dyn ProofStore>,
    pub leases: Arc<dyn LeaseStore>,
    pub models: Arc<dyn ModelStore>,
    pub clock: Arc<dyn Clock>,
}

impl Stores {
    /// Every use served by one store that implements them all.
    pub fn all_in<S>(store: Arc<S>, clock: Arc<dyn Clock>) -> Self
    where
        S: ProductStore
            + SimilarListStore
            + EventStore
            + InboxStore
            + ShopStore
            + KeyStore
            + InstallStore
            + SyncStore
            + PrivacyStore
            + OrderStore
            + ProofStore
            + LeaseStore
            + ModelStore
            + 'static,
    {
        Self {
            products: store.clone(),
            similar: store.clone(),
            events: store.clone(),
            inbox: store.clone(),
            shops: store.clone(),
            keys: store.clone(),
            installs: store.clone(),
            syncs: store.clone(),
            privacy: store.clone(),
            orders: store.clone(),
            proof: store.clone(),
            leases: store.clone(),
            models: store,
            clock,
        }
    }

    /// Milliseconds since the Unix epoch, by the stores' clock.
    pub fn now(&self) -> i64 {
        self.clock.now_millis()
    }
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}
