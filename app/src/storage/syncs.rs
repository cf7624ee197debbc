//! Catalogue sync state, the reconciliation watermark and product tombstones in the database.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{numbered_placeholders, SqlStore, IDS_PER_STATEMENT};
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::stores::{SyncRow, SyncState, SyncStore};

#[async_trait]
impl SyncStore for SqlStore {
    async fn add_tombstone(&self, shop: &ShopDomain, product_id: u64) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO product_tombstones (shop_domain, product_id, deleted_at) VALUES ($1, $2, $3) \
             ON CONFLICT (shop_domain, product_id) DO NOTHING",
        )
        .bind(shop.as_str())
        .bind(product_id as i64)
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn tombstoned(&self, shop: &ShopDomain, ids: &[u64]) -> Result<Vec<u64>, AppError> {
        let mut found = Vec::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "SELECT product_id FROM product_tombstones WHERE shop_domain = $1 AND product_id IN ({})",
                numbered_placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(shop.as_str());
            for id in chunk {
                query = query.bind(*id as i64);
            }
            for row in query.fetch_all(&self.pool).await? {
                found.push(row.try_get::<i64, _>(0)? as u64);
            }
        }
        Ok(found)
    }

    async fn sync_state(&self, shop: &ShopDomain) -> Result<Option<SyncRow>, AppError> {
        let row = sqlx::query(
            "SELECT state, operation_id, requested_at, finished_at, objects, products, deleted, last_error, \
             reconciled_until, reconciled_at FROM catalogue_syncs WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(sync_of).transpose()
    }

    async fn request_sync(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        let result = sqlx::query(
            "INSERT INTO catalogue_syncs (shop_domain, state, requested_at) VALUES ($1, 'requested', $2) \
             ON CONFLICT (shop_domain) DO UPDATE SET state = 'requested', operation_id = NULL, \
             requested_at = excluded.requested_at, last_error = NULL, objects = 0, products = 0, deleted = 0 \
             WHERE catalogue_syncs.state NOT IN ('requested', 'running', 'ingesting')",
        )
        .bind(shop.as_str())
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn unfinished_syncs(&self) -> Result<Vec<ShopDomain>, AppError> {
        let rows = sqlx::query(
            "SELECT shop_domain FROM catalogue_syncs WHERE state IN ('requested', 'running', 'ingesting')",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| ShopDomain::parse(&r.try_get::<String, _>(0)?))
            .collect()
    }

    async fn sync_started(&self, shop: &ShopDomain, operation_id: &str) -> Result<(), AppError> {
        sqlx::query("UPDATE catalogue_syncs SET state = 'running', operation_id = $2 WHERE shop_domain = $1")
            .bind(shop.as_str())
            .bind(operation_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn sync_progress(
        &self,
        shop: &ShopDomain,
        state: SyncState,
        objects: i64,
        products: i64,
    ) -> Result<(), AppError> {
        sqlx::query(
            "UPDATE catalogue_syncs SET state = $2, objects = $3, products = $4 WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .bind(state.as_str())
        .bind(objects)
        .bind(products)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn sync_completed(
        &self,
        shop: &ShopDomain,
        deleted: i64,
        watermark: Option<&str>,
    ) -> Result<(), AppError> {
        sqlx::query(
            "UPDATE catalogue_syncs SET state = 'completed', finished_at = $2, deleted = $3, last_error = NULL, \
             reconciled_until = COALESCE($4, reconciled_until), reconciled_at = $2 WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .bind(self.now())
        .bind(deleted)
        .bind(watermark)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn sync_failed(&self, shop: &ShopDomain, error: &str) -> Result<(), AppError> {
        sqlx::query(
            "UPDATE catalogue_syncs SET state = 'failed', finished_at = $2, last_error = $3 WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .bind(self.now())
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn save_watermark(&self, shop: &ShopDomain, watermark: &str) -> Result<(), AppError> {
        sqlx::query(
            "UPDATE catalogue_syncs SET reconciled_until = $2, reconciled_at = $3 WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .bind(watermark)
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn products_written_before(
        &self,
        shop: &ShopDomain,
        before_ms: i64,
    ) -> Result<Vec<u64>, AppError> {
        let rows = sqlx::query(
            "SELECT product_id FROM products WHERE shop_domain = $1 AND updated_at < $2 ORDER BY product_id",
        )
        .bind(shop.as_str())
        .bind(before_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<i64, _>(0)? as u64))
            .collect()
    }
}

fn sync_of(row: &AnyRow) -> Result<SyncRow, AppError> {
    Ok(SyncRow {
        state: {
            let raw: String = row.try_get(0)?;
            SyncState::parse(&raw)
                .ok_or_else(|| AppError::Storage(format!("unknown sync state `{raw}`")))?
        },
        operation_id: row.try_get(1)?,
        requested_at: row.try_get(2)?,
        finished_at: row.try_get(3)?,
        objects: row.try_get(4)?,
        products: row.try_get(5)?,
        deleted: row.try_get(6)?,
        last_error: row.try_get(7)?,
        reconciled_until: row.try_get(8)?,
        reconciled_at: row.try_get(9)?,
    })
}
