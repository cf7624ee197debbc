//! Leases in one table: taken when free or lapsed, renewed by their holder, let go at the end.

use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use crate::error::AppError;
use crate::stores::LeaseStore;

#[async_trait]
impl LeaseStore for SqlStore {
    async fn try_hold(&self, name: &str, ttl_ms: i64) -> Result<bool, AppError> {
        let now = self.now();
        // One statement, so two replicas racing for a free lease cannot both win: the row
        // is inserted once, and changed only by its holder or after it lapsed.
        let held = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= $4",
        )
        .bind(name)
        .bind(self.replica())
        .bind(now + ttl_ms)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(held.rows_affected() == 1)
    }

    async fn release(&self, name: &str) -> Result<(), AppError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(self.replica())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn live_leases(&self, prefix: &str) -> Result<u64, AppError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM leases WHERE substr(name, 1, length($1)) = $1 AND expires_at > $2",
        )
        .bind(prefix)
        .bind(self.now())
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0))
    }

    fn replica(&self) -> &str {
        &self.replica
    }
}
