//! The inbox worker: applies committed deliveries as they arrive (product upserts of a shop
//! in groups, everything else in arrival order), retries failures with backoff and parks
//! what can never apply. Each replica applies only the deliveries it claimed, and renews
//! its claims while it works: a replica that dies lets them lapse to another.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use serde_json::Value;

use crate::domain::{Product, ShopDomain};
use crate::error::AppError;
use crate::shopify::service::{Collections, ShopifyService};
use crate::shopify::webhooks::Topic;
use crate::stores::{DueDelivery, PendingDelivery};

/// Deliveries applied per round of the inbox worker.
const INBOX_BATCH: i64 = 200;
/// Attempts before a delivery is parked as failed (backoff from 2 s to 68 min: about six hours in all).
const MAX_ATTEMPTS: i64 = 16;
/// A delivery that failed only because the database or the vector index is away is tried
/// again this soon, and the attempt is not counted: however long the outage, it waits in
/// the inbox and is applied once they are back.
const AWAY_RETRY_MS: i64 = 5_000;

/// Why a delivery was not applied, and whether only because a dependency is away.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    pub reason: String,
    pub away: bool,
}

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Self {
            reason,
            away: false,
        }
    }
}

impl From<&str> for Failure {
    fn from(reason: &str) -> Self {
        reason.to_owned().into()
    }
}

impl From<AppError> for Failure {
    fn from(err: AppError) -> Self {
        Self {
            away: err.is_unavailable(),
            reason: err.to_string(),
        }
    }
}

impl ShopifyService {
    /// Applies every delivery that is due; returns how many were taken.
    pub async fn process_inbox(&self) -> Result<usize, AppError> {
        let lease_ms = self.claim_lease_ms();
        let mut total = 0;
        loop {
            let batch = self
                .stores()
                .inbox
                .claim_due_deliveries(INBOX_BATCH, lease_ms)
                .await?;
            if batch.is_empty() {
                return Ok(total);
            }
            total += batch.len();
            self.renewing_claims(self.apply_batch(batch)).await?;
        }
    }

    fn claim_lease_ms(&self) -> i64 {
        crate::leases::millis(self.inner.config.lease)
    }

    /// Runs `work` while this replica's claims are renewed every third of the lease, so a
    /// batch that takes long (a model under load) is not taken over while it is applied.
    async fn renewing_claims<T>(&self, work: impl Future<Output = T>) -> T {
        let lease_ms = self.claim_lease_ms();
        let inbox = self.stores().inbox.clone();
        let every = (self.inner.config.lease / 3).max(Duration::from_millis(10));
        let renew = async move {
            loop {
                tokio::time::sleep(every).await;
                match inbox.extend_claims(lease_ms).await {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "could not renew inbox claims"),
                }
            }
        };
        tokio::pin!(work);
        tokio::select! {
            done = &mut work => return done,
            () = renew => {}
        }
        work.await
    }

    /// The inbox worker: applies deliveries as they arrive, and retries failed ones when due.
    pub async fn run_inbox_worker(self) {
        loop {
            if let Err(err) = self.process_inbox().await {
                tracing::warn!(error = %err, "webhook inbox round failed; will retry");
            }
            tokio::select! {
                _ = self.inner.inbox_ready.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    }

    /// Product upserts of one shop are applied together (one embedding batch; the newest
    /// version of each product wins); any other delivery is applied in arrival order, after
    /// the upserts of its shop that came before it.
    async fn apply_batch(&self, batch: Vec<DueDelivery>) -> Result<(), AppError> {
        let mut upserts: BTreeMap<ShopDomain, Vec<(PendingDelivery, Product)>> = BTreeMap::new();
        for due in batch {
            let delivery = match due {
                DueDelivery::Ready(delivery) => delivery,
                DueDelivery::Unreadable { webhook_id, reason } => {
                    self.give_up(&webhook_id, None, &reason).await?;
                    continue;
                }
            };
            let (shop, topic) = (delivery.shop.clone(), delivery.topic);
            if matches!(topic, Topic::ProductsCreate | Topic::ProductsUpdate) {
                let parsed = serde_json::from_str::<Value>(&delivery.body)
                    .map_err(|e| e.to_string())
                    .and_then(|body| crate::catalog::product_from_json(&body));
                match parsed {
                    Ok(product) => upserts.entry(shop).or_default().push((delivery, product)),
                    Err(reason) => {
                        self.give_up(&delivery.webhook_id, Some(topic), &reason)
                            .await?
                    }
                }
                continue;
            }
            if let Some(pending) = upserts.remove(&shop) {
                self.apply_upserts(&shop, pending).await?;
            }
            let outcome = self.apply_one(&shop, topic, &delivery).await;
            self.record(&delivery, outcome).await?;
        }
        for (shop, pending) in upserts {
            self.apply_upserts(&shop, pending).await?;
        }
        Ok(())
    }

    async fn apply_upserts(
        &self,
        shop: &ShopDomain,
        pending: Vec<(PendingDelivery, Product)>,
    ) -> Result<(), AppError> {
        let (deliveries, products): (Vec<_>, Vec<_>) = pending.into_iter().unzip();
        match self
            .upsert_from_shopify(shop, products, Collections::Unknown)
            .await
        {
            Ok(_) => {
                let ids: Vec<String> = deliveries.iter().map(|d| d.webhook_id.clone()).collect();
                metrics::counter!("kindred_webhooks_applied_total").increment(ids.len() as u64);
                self.mark_applied(&ids).await?;
            }
            Err(err) => {
                let failure = Failure::from(err);
                for delivery in &deliveries {
                    self.record(delivery, Err(failure.clone())).await?;
                }
            }
        }
        Ok(())
    }

    async fn record(
        &self,
        delivery: &PendingDelivery,
        outcome: Result<(), Failure>,
    ) -> Result<(), AppError> {
        match outcome {
            Ok(()) => {
                metrics::counter!("kindred_webhooks_applied_total").increment(1);
                self.mark_applied(std::slice::from_ref(&delivery.webhook_id))
                    .await
            }
            Err(Failure { reason, away: true }) => {
                tracing::warn!(webhook = %delivery.webhook_id, topic = %delivery.topic, shop = %delivery.shop,
                    %reason, "webhook waits for the database or vector index to come back");
                self.stores()
                    .inbox
                    .postpone_delivery(&delivery.webhook_id, &reason, AWAY_RETRY_MS)
                    .await
            }
            Err(Failure {
                reason,
                away: false,
            }) => {
                let attempts = delivery.attempts + 1;
                let retry = (attempts < MAX_ATTEMPTS).then(|| 1000 * (1i64 << attempts.min(12)));
                tracing::warn!(webhook = %delivery.webhook_id, topic = %delivery.topic, shop = %delivery.shop,
                    attempts, %reason, "webhook not applied");
                if retry.is_none() {
                    metrics::counter!("kindred_webhooks_failed_total").increment(1);
                }
                self.stores()
                    .inbox
                    .mark_attempt_failed(&delivery.webhook_id, &reason, retry)
                    .await
            }
        }
    }

    /// Marks applied what this replica still held; one whose claim lapsed and went to
    /// another replica (this one stalled past the lease) is that replica's to apply and mark.
    async fn mark_applied(&self, webhook_ids: &[String]) -> Result<(), AppError> {
        let marked = self.stores().inbox.mark_applied(webhook_ids).await?;
        if marked < webhook_ids.len() as u64 {
            metrics::counter!("kindred_webhook_claims_lost_total")
                .increment(webhook_ids.len() as u64 - marked);
            tracing::warn!(
                lost = webhook_ids.len() as u64 - marked,
                "inbox claims lapsed before their deliveries were marked applied; another replica took them"
            );
        }
        Ok(())
    }

    /// A delivery that can never apply (its body is unusable): parked, not retried.
    async fn give_up(
        &self,
        webhook_id: &str,
        topic: Option<Topic>,
        reason: &str,
    ) -> Result<(), AppError> {
        tracing::warn!(webhook = %webhook_id, topic = ?topic, %reason, "webhook cannot be applied");
        metrics::counter!("kindred_webhooks_failed_total").increment(1);
        self.stores()
            .inbox
            .mark_attempt_failed(webhook_id, reason, None)
            .await
    }
}
