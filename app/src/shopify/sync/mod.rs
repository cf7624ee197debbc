//! The bulk catalogue sync: one bulk operation per shop, its JSONL result assembled into
//! products, applied, and products no longer in the store removed; resumed after a restart.

pub mod bulk;
mod reconcile;

use std::collections::HashSet;

use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;

use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::shopify::graphql::{BULK_OPERATION_STATUS, BULK_PRODUCTS_QUERY, RUN_BULK_QUERY};
use crate::shopify::service::{parse_time, Collections, ShopifyService};
use crate::shopify::sync::bulk::BulkAssembler;
use crate::stores::SyncState;

impl ShopifyService {
    /// Asks for a full catalogue sync and starts it in the background.
    /// Refused for a shop that has not installed the app (or has uninstalled it).
    pub async fn request_sync(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        if !self.serving(shop).await? {
            return Err(AppError::UnknownShop(shop.to_string()));
        }
        let requested = self.stores().syncs.request_sync(shop).await?;
        self.spawn_sync(shop.clone());
        Ok(requested)
    }

    /// Picks up syncs that a stop or crash interrupted.
    pub async fn resume_syncs(&self) -> Result<usize, AppError> {
        let shops = self.stores().syncs.unfinished_syncs().await?;
        for shop in &shops {
            tracing::info!(%shop, "resuming catalogue sync");
            self.spawn_sync(shop.clone());
        }
        Ok(shops.len())
    }

    fn spawn_sync(&self, shop: ShopDomain) {
        let this = self.clone();
        tokio::spawn(async move {
            let _ = this.run_sync(&shop).await;
        });
    }

    /// Runs (or resumes) the shop's sync to the end. One runner per shop at a time.
    pub async fn run_sync(&self, shop: &ShopDomain) -> Result<(), AppError> {
        let first = self
            .inner
            .syncing
            .lock()
            .map(|mut s| s.insert(shop.clone()))
            .unwrap_or(false);
        if !first {
            return Ok(());
        }
        let result = self.run_sync_steps(shop).await;
        if let Ok(mut syncing) = self.inner.syncing.lock() {
            syncing.remove(shop);
        }
        if let Err(err) = &result {
            tracing::warn!(%shop, error = %err, "catalogue sync failed");
            self.stores()
                .syncs
                .sync_failed(shop, &err.to_string())
                .await?;
        }
        result
    }

    async fn run_sync_steps(&self, shop: &ShopDomain) -> Result<(), AppError> {
        let Some(sync) = self.stores().syncs.sync_state(shop).await? else {
            return Ok(());
        };
        let operation_id = match (sync.state, &sync.operation_id) {
            (SyncState::Requested, _) | (SyncState::Running | SyncState::Ingesting, None) => {
                self.start_bulk(shop).await?
            }
            (SyncState::Running | SyncState::Ingesting, Some(id)) => id.clone(),
            (SyncState::Completed | SyncState::Failed, _) => return Ok(()),
        };
        let (url, objects) = self.wait_for_bulk(shop, &operation_id).await?;
        self.stores()
            .syncs
            .sync_progress(shop, SyncState::Ingesting, objects, 0)
            .await?;

        let mut assembler = BulkAssembler::default();
        if let Some(url) = url {
            let mut lines = self.inner.api.download(&url).await?.lines();
            while let Some(line) = lines.next_line().await? {
                assembler.push_line(&line);
            }
        }
        let (products, skipped) = assembler.finish();
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
        Ok(())
    }

    async fn start_bulk(&self, shop: &ShopDomain) -> Result<String, AppError> {
        let data = self
            .admin_graphql(
                shop,
                RUN_BULK_QUERY,
                json!({ "query": BULK_PRODUCTS_QUERY }),
            )
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
        self.stores().syncs.sync_started(shop, &id).await?;
        tracing::info!(%shop, operation = %id, "bulk operation started");
        Ok(id)
    }

    /// Polls until the operation ends (the finish webhook cuts the wait short); returns its
    /// result URL (none when it found nothing) and object count.
    async fn wait_for_bulk(
        &self,
        shop: &ShopDomain,
        id: &str,
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
                    self.stores()
                        .syncs
                        .sync_progress(shop, SyncState::Running, objects, 0)
                        .await?;
                    tokio::select! {
                        _ = self.inner.bulk_finished.notified() => {}
                        _ = tokio::time::sleep(self.inner.config.bulk_poll_interval) => {}
                    }
                }
            }
        }
    }
}
