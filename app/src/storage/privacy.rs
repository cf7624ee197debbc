//! Privacy in the database: data-request exports, and a customer's redaction.

use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use crate::domain::{CustomerId, ShopDomain};
use crate::error::AppError;
use crate::stores::PrivacyStore;

#[async_trait]
impl PrivacyStore for SqlStore {
    async fn save_customer_export(
        &self,
        shop: &ShopDomain,
        customer_id: CustomerId,
        request_id: &str,
        data: &str,
    ) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO customer_data_exports (shop_domain, customer_id, request_id, requested_at, data) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (shop_domain, request_id) DO UPDATE SET data = excluded.data",
        )
        .bind(shop.as_str())
        .bind(customer_id.0 as i64)
        .bind(request_id)
        .bind(self.now())
        .bind(data)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn prune_customer_exports(&self, requested_before_ms: i64) -> Result<u64, AppError> {
        let result = sqlx::query("DELETE FROM customer_data_exports WHERE requested_at < $1")
            .bind(requested_before_ms)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    async fn customer_exports(
        &self,
        shop: &ShopDomain,
    ) -> Result<Vec<(u64, String, i64, String)>, AppError> {
        let rows = sqlx::query(
            "SELECT customer_id, request_id, requested_at, data FROM customer_data_exports \
             WHERE shop_domain = $1 ORDER BY requested_at DESC",
        )
        .bind(shop.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<i64, _>(0)? as u64,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                ))
            })
            .collect()
    }

    async fn redact_customer(
        &self,
        shop: &ShopDomain,
        customer_id: CustomerId,
    ) -> Result<u64, AppError> {
        let mut tx = self.pool.begin().await?;
        self.allow_long_statements(&mut tx).await?;
        let exports = sqlx::query(
            "DELETE FROM customer_data_exports WHERE shop_domain = $1 AND customer_id = $2",
        )
        .bind(shop.as_str())
        .bind(customer_id.0 as i64)
        .execute(&mut *tx)
        .await?;
        // Their events, and those of every browser they used while logged in.
        let events = sqlx::query(super::events::DELETE_CUSTOMER_EVENTS)
            .bind(shop.as_str())
            .bind(customer_id.0 as i64)
            .execute(&mut *tx)
            .await?;
        // The shop's shared models and training log were learnt from those events and
        // name their browsers: the next build starts again from what is left.
        sqlx::query("DELETE FROM interaction_models WHERE shop_domain = $1")
            .bind(shop.as_str())
            .execute(&mut *tx)
            .await?;
        // Privacy deliveries' bodies (which name the customer) are cleared as each is
        // applied (`mark_applied`).
        tx.commit().await?;
        Ok(exports.rows_affected() + events.rows_affected())
    }
}
