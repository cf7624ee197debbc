//! The bulk reads of a shop, one at a time (Shopify runs one bulk query per shop at once):
//! the catalogue (its JSONL assembled into products, applied, and products no longer in the
//! store removed), then the order history (`shopify::orders`); resumed after a restart.

pub mod bulk;
mod reconcile;

use std::collections::HashSet;

use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;

use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::leases::while_holding;
use crate::shopify::graphql::{
    BULK_OPERATION_STATUS, BULK_ORDERS_QUERY, BULK_PRODUCTS_QUERY, RUN_BULK_QUERY,
};
use crate::shopify::service::{parse_time, Collections, ShopifyService};
use crate::shopify::sync::bulk::{catalogue_lines, products_of};
use crate::stores::SyncState;

/// What a bulk operation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkRead {
    Catalogue,
    Orders,
}

impl ShopifyService {
    /// Asks for a full catalogue sync (the order history follows it) and starts it in the background.
    /// Refused for a shop that has not installed the app (or has uninstalled it).
    pub async fn request_sync(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        if !self.serving(shop).await? {
            return Err(AppError::UnknownShop(shop.to_string()));
        }
        let requested = self.stores().syncs.request_sync(shop).await?;
        self.spawn_sync(shop.clone());
        Ok(requested)
    }

    /// Picks up syncs (catalogue or orders) that a stop or crash interrupted.
    pub async fn resume_syncs(&self) -> Result<usize, AppError> {
        let mut shops = self.stores().syncs.unfinished_syncs().await?;
        shops.extend(self.stores().syncs.unfinished_order_syncs().await?);
        shops.sort();
        shops.dedup();
        for shop in &shops {
            tracing::debug!(%shop, "resuming bulk sync");
            self.spawn_sync(shop.clone());
        }
        Ok(shops.len())
    }

    pub(in crate::shopify) fn spawn_sync(&self, shop: ShopDomain) {
        let this = self.clone();
        tokio::spawn(async move {
            let _ = this.run_sync(&shop).await;
        });
    }

    /// Runs (or resumes) the shop's pending bulk reads to the end, catalogue first. One
    /// runner per shop at a time, across replicas too (a lease, which another replica takes
    /// on if this one dies); a read asked for while it runs is run before it stops.
    pub async fn run_sync(&self, shop: &ShopDomain) -> Result<(), AppError> {
        loop {
            let first = self
                .inner
                .syncing
                .lock()
                .map(|mut s| s.insert(shop.clone()))
                .unwrap_or(false);
            if !first {
                return Ok(());
            }
            let lease = format!("sync {shop}");
            let reads = self.run_pending_reads(shop);
            let result = while_holding(
                &self.stores().leases,
                &lease,
                self.inner.config.lease,
                reads,
            )
            .await;
            if let Ok(mut syncing) = self.inner.syncing.lock() {
                syncing.remove(shop);
            }
            match result? {
                Some(done) => done?,
                // Another replica runs it; it takes any read asked for meanwhile too.
                None => return Ok(()),
            }
            // Asked for after this runner looked and before it let go: run it now.
            if !self.read_pending(shop).await? {
                return Ok(());
            }
        }
    }

    async fn read_pending(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        let pending = |state: SyncState| {
            matches!(
                state,
                SyncState::Requested | SyncState::Running | SyncState::Ingesting
            )
        };
        let catalogue = self.stores().syncs.sync_state(shop).await?.map(|s| s.state);
        let orders = self
            .stores()
            .syncs
            .order_sync_state(shop)
            .await?
            .map(|s| s.state);
        // An order history asked for while the catalogue's read failed waits for the next sync.
        Ok(catalogue.is_some_and(pending)
            || (orders.is_some_and(pending) && catalogue != Some(SyncState::Failed)))
    }

    async fn run_pending_reads(&self, shop: &ShopDomain) -> Result<(), AppError> {
        if let Err(err) = self.run_sync_steps(shop).await {
            tracing::warn!(%shop, error = %err, "catalogue sync failed");
            self.stores()
                .syncs
                .sync_failed(shop, &err.to_string())
                .await?;
            // Its operation may still run at Shopify, which takes one per shop: the order
            // history stays asked for, and is read with the next sync.
            return Ok(());
        }
        if let Err(err) = self.run_order_sync(shop).await {
            tracing::warn!(%shop, error = %err, "order history sync failed");
            self.stores()
                .syncs
                .order_sync_finished(shop, Some(&err.to_string()))
                .await?;
        }
        Ok(())
    }

    async fn run_sync_steps(&self, shop: &ShopDomain) -> Result<(), AppError> {
        let Some(sync) = self.stores().syncs.sync_state(shop).await? else {
            return Ok(());
        };
        let Some(operation_id) = self
            .operation_to_wait_on(shop, BulkRead::Catalogue, sync.state, &sync.operation_id)
            .await?
        else {
            return Ok(());
        };
        let (url, objects) = self
            .wait_for_bulk(shop, &operation_id, BulkRead::Catalogue)
            .await?;
        self.stores()
            .syncs
            .sync_progress(shop, SyncState::Ingesting, objects, 0)
            .await?;

        let mut lines = catalogue_lines();
        self.read_bulk_file(url, |line| lines.push_line(line))
            .await?;
        let (products, skipped) = products_of(lines);
        for skip in &skipped {
            tracing::warn!(%shop, location = %skip.location, reason = %skip.reason, "bulk record skipped");
        }
        let watermark = products
            .iter()
            .filter_map(|p| p.updated_at.as_deref().and_then(parse_time))
            .max()
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let seen: HashSet<u64> = products.iter().map(|p| p.id).collect();
        let count = products.len() as i64;
        self.upsert_from_shopify(shop, products, Collections::Included)
            .await?;
        self.stores()
            .syncs
            .sync_progress(shop, SyncState::Ingesting, objects, count)
            .await?;

        // What Shopify no longer has: rows written before this sync began and absent from it.
        // (Rows written since came from webhooks newer than the snapshot.)
        let started = sync.requested_at.unwrap_or_else(|| self.stores().now());
        let gone: Vec<u64> = self
            .stores()
            .syncs
            .products_written_before(shop, started)
            .await?
            .into_iter()
            .filter(|id| !seen.contains(id))
            .collect();
        for id in &gone {
            self.delete_from_shopify(shop, *id).await?;
        }
        self.stores()
            .syncs
            .sync_completed(shop, gone.len() as i64, watermark.as_deref())
            .await?;
        tracing::info!(%shop, products = count, deleted = gone.len(), skipped = skipped.len(), "catalogue sync completed");
        // The order history follows: a fresh catalogue gives its lines their products.
        if self.stores().syncs.request_order_sync(shop).await? {
            tracing::info!(%shop, "order history sync requested");
        }
        Ok(())
    }

    /// The operation a read waits on: the one under way, or a new one when the read was
    /// asked for (or started without its operation recorded); none once it has finished.
    pub(in crate::shopify) async fn operation_to_wait_on(
        &self,
        shop: &ShopDomain,
        read: BulkRead,
        state: SyncState,
        operation: &Option<String>,
    ) -> Result<Option<String>, AppError> {
        match (state, operation) {
            (SyncState::Requested, _) | (SyncState::Running | SyncState::Ingesting, None) => {
                self.start_bulk(shop, read).await.map(Some)
            }
            (SyncState::Running | SyncState::Ingesting, Some(id)) => Ok(Some(id.clone())),
            (SyncState::Completed | SyncState::Failed, _) => Ok(None),
        }
    }

    /// Every line of a finished bulk operation's file (none when it found nothing).
    pub(in crate::shopify) async fn read_bulk_file(
        &self,
        url: Option<String>,
        mut each: impl FnMut(&str),
    ) -> Result<(), AppError> {
        if let Some(url) = url {
            let mut lines = self.inner.api.download(&url).await?.lines();
            while let Some(line) = lines.next_line().await? {
                each(&line);
            }
        }
        Ok(())
    }

    /// Starts the bulk query of `read` and records its operation.
    pub(in crate::shopify) async fn start_bulk(
        &self,
        shop: &ShopDomain,
        read: BulkRead,
    ) -> Result<String, AppError> {
        let query = match read {
            BulkRead::Catalogue => BULK_PRODUCTS_QUERY,
            BulkRead::Orders => BULK_ORDERS_QUERY,
        };
        let data = self
            .admin_graphql(shop, RUN_BULK_QUERY, json!({ "query": query }))
            .await?;
        let result = &data["bulkOperationRunQuery"];
        if let Some(errors) = result["userErrors"].as_array().filter(|e| !e.is_empty()) {
            return Err(AppError::Upstream(format!(
                "bulk operation refused: {}",
                Value::Array(errors.clone())
            )));
        }
        let id = result
            .pointer("/bulkOperation/id")
            .and_then(Value::as_str)
            .ok_or_else(|| AppError::Upstream("bulk operation started without an id".into()))?
            .to_owned();
        match read {
            BulkRead::Catalogue => self.stores().syncs.sync_started(shop, &id).await?,
            BulkRead::Orders => self.stores().syncs.order_sync_started(shop, &id).await?,
        }
        tracing::info!(%shop, operation = %id, ?read, "bulk operation started");
        Ok(id)
    }

    /// Polls until the operation ends (the finish webhook cuts the wait short); returns its
    /// result URL (none when it found nothing) and object count.
    pub(in crate::shopify) async fn wait_for_bulk(
        &self,
        shop: &ShopDomain,
        id: &str,
        read: BulkRead,
    ) -> Result<(Option<String>, i64), AppError> {
        loop {
            let data = self
                .admin_graphql(shop, BULK_OPERATION_STATUS, json!({ "id": id }))
                .await?;
            let node = &data["node"];
            let objects = node["objectCount"]
                .as_str()
                .and_then(|c| c.parse().ok())
                .or_else(|| node["objectCount"].as_i64())
                .unwrap_or(0);
            match node["status"].as_str() {
                Some("COMPLETED") => return Ok((node["url"].as_str().map(str::to_owned), objects)),
                Some(status @ ("FAILED" | "CANCELED" | "EXPIRED")) => {
                    return Err(AppError::Upstream(format!(
                        "bulk operation {status}: {}",
                        node["errorCode"].as_str().unwrap_or("no error code")
                    )))
                }
                None => return Err(AppError::Upstream(format!("bulk operation {id} not found"))),
                Some(_) => {
                    match read {
                        BulkRead::Catalogue => {
                            self.stores()
                                .syncs
                                .sync_progress(shop, SyncState::Running, objects, 0)
                                .await?
                        }
                        BulkRead::Orders => {
                            self.stores()
                                .syncs
                                .order_sync_progress(shop, SyncState::Running, objects, 0)
                                .await?
                        }
                    }
                    tokio::select! {
                        _ = self.inner.bulk_finished.notified() => {}
                        _ = tokio::time::sleep(self.inner.config.bulk_poll_interval) => {}
                    }
                }
            }
        }
    }
}
