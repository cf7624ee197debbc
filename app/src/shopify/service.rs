//! The Shopify app's shared core: what the app is to Shopify, the service every job hangs
//! its methods on, and what they report. The jobs live beside it: `install` (OAuth and
//! tokens), `webhooks` (receipt, inbox worker, per-topic apply), `sync` (bulk sync and
//! reconciliation) and `privacy`. HTTP handlers only parse and call in here.
//!
//! Ordering rules that keep the catalogue equal to the store's whatever the delivery does:
//! a delivery is committed to the inbox before it is acknowledged; applying it is
//! idempotent; an older version of a product never replaces a newer one (`updated_at`);
//! a deleted product leaves a tombstone, so no late create or update brings it back.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::Notify;

use super::api::ShopifyApi;
use super::crypto::TokenCipher;
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::key_cache::KeyCache;
use crate::recommend::Recommender;
use crate::stores::{Stores, SyncRow};

/// What the app is to Shopify.
#[derive(Debug, Clone)]
pub struct ShopifyAppConfig {
    pub scopes: String,
    /// Public URL of this server, for the OAuth redirect.
    pub app_url: Option<String>,
    pub bulk_poll_interval: Duration,
    /// How long a replica's claims on inbox deliveries and its leases (a shop's sync, the
    /// reconciliation) run unrenewed; renewed while it works, so this bounds only how long
    /// the work of a replica that died waits for another.
    pub lease: Duration,
}

#[derive(Clone)]
pub struct ShopifyService {
    pub(super) inner: Arc<Inner>,
}

/// What every job of the app shares; each job (`install`, `webhooks`, `sync`, `privacy`)
/// adds its methods to `ShopifyService` in its own module.
pub(super) struct Inner {
    pub(super) recommender: Recommender,
    pub(super) api: ShopifyApi,
    pub(super) cipher: TokenCipher,
    pub(super) keys: KeyCache,
    pub(super) config: ShopifyAppConfig,
    /// Woken when a delivery is committed.
    pub(super) inbox_ready: Notify,
    /// Woken when Shopify says a bulk operation finished.
    pub(super) bulk_finished: Notify,
    /// Shops with a sync running in this process.
    pub(super) syncing: Mutex<HashSet<ShopDomain>>,
    /// One token refresh at a time.
    pub(super) refreshing: tokio::sync::Mutex<()>,
}

/// What became of a delivery at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Receipt {
    Accepted,
    Duplicate,
    /// A privacy topic for a shop Kindred holds nothing of.
    NothingHeld,
}

/// Whether products carry their collections. The Admin REST shape of product webhooks has
/// none, so a webhook keeps what the bulk sync or reconciliation last read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collections {
    Included,
    Unknown,
}

/// A shop's Shopify state, for the merchant's admin page and operators.
#[derive(Debug, Serialize)]
pub struct ShopStatus {
    pub shop: String,
    pub installed: bool,
    pub scopes: Option<String>,
    pub products: i64,
    pub indexed: i64,
    pub sync: Option<SyncRow>,
    /// The order history read.
    pub order_sync: Option<crate::stores::OrderSyncRow>,
    /// Orders stored, and how many of them are test orders.
    pub orders: i64,
    pub test_orders: i64,
    /// Whether the web pixel is connected (its id in Shopify).
    pub web_pixel: Option<String>,
    pub webhooks: crate::stores::InboxCounts,
}

impl ShopifyService {
    pub fn new(
        recommender: Recommender,
        api: ShopifyApi,
        cipher: TokenCipher,
        keys: KeyCache,
        config: ShopifyAppConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                recommender,
                api,
                cipher,
                keys,
                config,
                inbox_ready: Notify::new(),
                bulk_finished: Notify::new(),
                syncing: Mutex::default(),
                refreshing: Default::default(),
            }),
        }
    }

    pub fn stores(&self) -> &Stores {
        self.inner.recommender.catalog().stores()
    }

    pub fn api(&self) -> &ShopifyApi {
        &self.inner.api
    }

    /// Whether the shop is installed and served now.
    pub(in crate::shopify) async fn serving(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        Ok(self
            .stores()
            .installs
            .install(shop)
            .await?
            .is_some_and(|i| i.active()))
    }
}

pub(super) fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
