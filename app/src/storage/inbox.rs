//! The webhook inbox: deliveries committed before they are acknowledged, applied by the
//! worker, retried with backoff, parked when they never can apply, pruned when old.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::SqlStore;
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::shopify::webhooks::Topic;
use crate::stores::{
    DueDelivery, FailedDelivery, InboxCounts, InboxDelivery, InboxStore, LeaseStore,
    PendingDelivery, Retry,
};

/// Topics whose bodies carry a customer's personal data.
const PERSONAL_TOPICS: &str = "'customers/data_request', 'customers/redact', 'shop/redact', \
     'orders/create', 'orders/updated', 'orders/cancelled', 'orders/delete', 'refunds/create'";

#[async_trait]
impl InboxStore for SqlStore {
    async fn enqueue_delivery(&self, delivery: &InboxDelivery) -> Result<bool, AppError> {
        let now = self.now();
        let inserted = sqlx::query(
            "INSERT INTO webhook_inbox (webhook_id, event_key, shop_domain, topic, api_version, triggered_at, \
             received_at, body, state, attempts, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&delivery.webhook_id)
        .bind(&delivery.event_key)
        .bind(delivery.shop.as_str())
        .bind(delivery.topic.as_str())
        .bind(&delivery.api_version)
        .bind(&delivery.triggered_at)
        .bind(now)
        .bind(&delivery.body)
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn delivery_seen(
        &self,
        webhook_id: &str,
        event_key: Option<&str>,
    ) -> Result<bool, AppError> {
        let row = sqlx::query(
            "SELECT 1 FROM webhook_inbox WHERE webhook_id = $1 OR (event_key IS NOT NULL AND event_key = $2)",
        )
        .bind(webhook_id)
        .bind(event_key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    async fn claim_due_deliveries(
        &self,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<DueDelivery>, AppError> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        // Claimers queue behind one row lock (SQLite's write lock does the same), so two
        // replicas never both see a shop free and split its deliveries between them.
        sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ('inbox claims', $1, 0) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder",
        )
        .bind(self.replica())
        .execute(&mut *tx)
        .await?;
        // Rows another transaction is changing are skipped, not waited for.
        let skip_locked = if self.is_postgres {
            "FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let rows = sqlx::query(&format!(
            "UPDATE webhook_inbox SET claimed_by = $1, next_attempt_at = $2 WHERE webhook_id IN ( \
               SELECT webhook_id FROM webhook_inbox WHERE state = 'pending' AND next_attempt_at <= $3 \
               AND shop_domain NOT IN (SELECT shop_domain FROM webhook_inbox WHERE state = 'pending' \
                 AND claimed_by IS NOT NULL AND claimed_by <> $1 AND next_attempt_at > $3) \
               ORDER BY received_at, webhook_id LIMIT $4 {skip_locked}) \
             RETURNING webhook_id, shop_domain, topic, triggered_at, body, attempts, received_at"
        ))
        .bind(self.replica())
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut claimed = rows
            .iter()
            .map(|row| Ok((row.try_get::<i64, _>(6)?, due_of(row)?)))
            .collect::<Result<Vec<_>, AppError>>()?;
        // RETURNING keeps no order: arrival order again.
        claimed.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.webhook_id().cmp(y.webhook_id())));
        Ok(claimed.into_iter().map(|(_, due)| due).collect())
    }

    async fn extend_claims(&self, lease_ms: i64) -> Result<u64, AppError> {
        let renewed = sqlx::query(
            "UPDATE webhook_inbox SET next_attempt_at = $2 WHERE claimed_by = $1 AND state = 'pending'",
        )
        .bind(self.replica())
        .bind(self.now() + lease_ms)
        .execute(&self.pool)
        .await?;
        Ok(renewed.rows_affected())
    }

    async fn mark_applied(&self, webhook_ids: &[String]) -> Result<u64, AppError> {
        let mut tx = self.pool.begin().await?;
        let now = self.now();
        let mut marked = 0;
        for id in webhook_ids {
            let result = sqlx::query(
                // A privacy or order delivery's body names the customer (email, phone,
                // addresses): once applied, only the record that it arrived is kept.
                &format!(
                    "UPDATE webhook_inbox SET state = 'applied', applied_at = $2, last_error = NULL, \
                     body = CASE WHEN topic IN ({PERSONAL_TOPICS}) THEN NULL ELSE body END \
                     WHERE webhook_id = $1 AND state = 'pending' AND claimed_by = $3"
                ),
            )
            .bind(id)
            .bind(now)
            .bind(self.replica())
            .execute(&mut *tx)
            .await?;
            marked += result.rows_affected();
        }
        tx.commit().await?;
        Ok(marked)
    }

    async fn mark_attempt_failed(
        &self,
        webhook_id: &str,
        error: &str,
        retry_in_ms: Option<i64>,
    ) -> Result<(), AppError> {
        let (state, next) = match retry_in_ms {
            Some(delay) => ("pending", self.now() + delay),
            None => ("failed", self.now()),
        };
        // Parked for good, a personal body goes too: the order comes back with its next
        // update or the next history read.
        sqlx::query(&format!(
            "UPDATE webhook_inbox SET state = $2, attempts = attempts + 1, next_attempt_at = $3, last_error = $4, \
             claimed_by = NULL, \
             body = CASE WHEN $2 = 'failed' AND topic IN ({PERSONAL_TOPICS}) THEN NULL ELSE body END \
             WHERE webhook_id = $1 AND (claimed_by IS NULL OR claimed_by = $5)"
        ))
        .bind(webhook_id)
        .bind(state)
        .bind(next)
        .bind(error)
        .bind(self.replica())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn postpone_delivery(
        &self,
        webhook_id: &str,
        error: &str,
        retry_in_ms: i64,
    ) -> Result<(), AppError> {
        sqlx::query(
            "UPDATE webhook_inbox SET next_attempt_at = $2, last_error = $3, claimed_by = NULL \
             WHERE webhook_id = $1 AND state = 'pending' AND (claimed_by IS NULL OR claimed_by = $4)",
        )
        .bind(webhook_id)
        .bind(self.now() + retry_in_ms)
        .bind(error)
        .bind(self.replica())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn failed_deliveries(
        &self,
        shop: &ShopDomain,
        limit: i64,
    ) -> Result<Vec<FailedDelivery>, AppError> {
        let rows = sqlx::query(
            "SELECT webhook_id, topic, attempts, last_error, received_at, \
             CAST(CASE WHEN body IS NULL THEN 0 ELSE 1 END AS BIGINT) FROM webhook_inbox \
             WHERE shop_domain = $1 AND state = 'failed' ORDER BY received_at DESC LIMIT $2",
        )
        .bind(shop.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FailedDelivery {
                    webhook_id: row.try_get(0)?,
                    topic: row.try_get(1)?,
                    attempts: row.try_get(2)?,
                    last_error: row.try_get(3)?,
                    received_at_ms: row.try_get(4)?,
                    retryable: row.try_get::<i64, _>(5)? == 1,
                })
            })
            .collect()
    }

    async fn retry_delivery(&self, shop: &ShopDomain, webhook_id: &str) -> Result<Retry, AppError> {
        let queued = sqlx::query(
            "UPDATE webhook_inbox SET state = 'pending', next_attempt_at = $3, claimed_by = NULL \
             WHERE shop_domain = $1 AND webhook_id = $2 AND state = 'failed' AND body IS NOT NULL",
        )
        .bind(shop.as_str())
        .bind(webhook_id)
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        if queued.rows_affected() == 1 {
            return Ok(Retry::Queued);
        }
        let known =
            sqlx::query("SELECT 1 FROM webhook_inbox WHERE shop_domain = $1 AND webhook_id = $2")
                .bind(shop.as_str())
                .bind(webhook_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(if known.is_some() {
            Retry::NotRetryable
        } else {
            Retry::Unknown
        })
    }

    async fn inbox_counts(&self, shop: Option<&ShopDomain>) -> Result<InboxCounts, AppError> {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) FROM webhook_inbox WHERE ($1 IS NULL OR shop_domain = $1) GROUP BY state",
        )
        .bind(shop.map(|s| s.as_str().to_owned()))
        .fetch_all(&self.pool)
        .await?;
        let mut counts = InboxCounts::default();
        for row in rows {
            let n: i64 = row.try_get(1)?;
            match row.try_get::<String, _>(0)?.as_str() {
                "pending" => counts.pending = n,
                "applied" => counts.applied = n,
                _ => counts.failed = n,
            }
        }
        Ok(counts)
    }

    async fn prune_inbox(&self, applied_before_ms: i64) -> Result<u64, AppError> {
        let result = sqlx::query(
            "UPDATE webhook_inbox SET body = NULL WHERE state = 'applied' AND applied_at < $1 AND body IS NOT NULL",
        )
        .bind(applied_before_ms)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }
}

/// A row as the worker needs it; one it cannot read is handed back to be parked.
fn due_of(row: &AnyRow) -> Result<DueDelivery, AppError> {
    let webhook_id: String = row.try_get(0)?;
    let topic: String = row.try_get(2)?;
    let Some(topic) = Topic::parse(&topic) else {
        return Ok(DueDelivery::Unreadable {
            webhook_id,
            reason: "unknown topic".into(),
        });
    };
    let Ok(shop) = ShopDomain::parse(&row.try_get::<String, _>(1)?) else {
        return Ok(DueDelivery::Unreadable {
            webhook_id,
            reason: "invalid shop domain".into(),
        });
    };
    Ok(DueDelivery::Ready(PendingDelivery {
        webhook_id,
        shop,
        topic,
        triggered_at: row.try_get(3)?,
        body: row.try_get::<Option<String>, _>(4)?.unwrap_or_default(),
        attempts: row.try_get(5)?,
    }))
}
