//! Catalogue sync state, the reconciliation watermark and product tombstones in the database.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::SqlStore;
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::stores::{OrderSyncRow, SyncRow, SyncState, SyncStore};

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
        let rows = self
            .rows_among_ids(
                "SELECT product_id FROM product_tombstones WHERE shop_domain = $1",
                "product_id",
                shop,
                ids,
            )
            .await?;
        rows.iter()
            .map(|row| Ok(row.try_get::<i64, _>(0)? as u64))
            .collect()
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
        self.request_bulk(BulkTable::Catalogue, shop).await
    }

    async fn unfinished_syncs(&self) -> Result<Vec<ShopDomain>, AppError> {
        self.unfinished_bulks(BulkTable::Catalogue).await
    }

    async fn sync_started(&self, shop: &ShopDomain, operation_id: &str) -> Result<(), AppError> {
        self.bulk_started(BulkTable::Catalogue, shop, operation_id)
            .await
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
        self.bulk_failed(BulkTable::Catalogue, shop, error).await
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

    async fn order_sync_state(&self, shop: &ShopDomain) -> Result<Option<OrderSyncRow>, AppError> {
        let row = sqlx::query(
            "SELECT state, operation_id, requested_at, finished_at, objects, orders, last_error \
             FROM order_syncs WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(OrderSyncRow {
                state: sync_state_of(&row.try_get::<String, _>(0)?)?,
                operation_id: row.try_get(1)?,
                requested_at: row.try_get(2)?,
                finished_at: row.try_get(3)?,
                objects: row.try_get(4)?,
                orders: row.try_get(5)?,
                last_error: row.try_get(6)?,
            })
        })
        .transpose()
    }

    async fn request_order_sync(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        self.request_bulk(BulkTable::Orders, shop).await
    }

    async fn unfinished_order_syncs(&self) -> Result<Vec<ShopDomain>, AppError> {
        self.unfinished_bulks(BulkTable::Orders).await
    }

    async fn order_sync_started(
        &self,
        shop: &ShopDomain,
        operation_id: &str,
    ) -> Result<(), AppError> {
        self.bulk_started(BulkTable::Orders, shop, operation_id)
            .await
    }

    async fn order_sync_progress(
        &self,
        shop: &ShopDomain,
        state: SyncState,
        objects: i64,
        orders: i64,
    ) -> Result<(), AppError> {
        sqlx::query(
            "UPDATE order_syncs SET state = $2, objects = $3, orders = $4 WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .bind(state.as_str())
        .bind(objects)
        .bind(orders)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn order_sync_finished(
        &self,
        shop: &ShopDomain,
        error: Option<&str>,
    ) -> Result<(), AppError> {
        match error {
            Some(error) => self.bulk_failed(BulkTable::Orders, shop, error).await,
            None => {
                sqlx::query(
                    "UPDATE order_syncs SET state = 'completed', finished_at = $2, last_error = NULL \
                     WHERE shop_domain = $1",
                )
                .bind(shop.as_str())
                .bind(self.now())
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }
    }
}

/// The tables that track a bulk read per shop: the catalogue's and the order history's.
#[derive(Debug, Clone, Copy)]
pub(super) enum BulkTable {
    Catalogue,
    Orders,
}

impl BulkTable {
    fn name(self) -> &'static str {
        match self {
            Self::Catalogue => "catalogue_syncs",
            Self::Orders => "order_syncs",
        }
    }

    /// The counters a new request starts from zero.
    fn counters(self) -> &'static str {
        match self {
            Self::Catalogue => "objects = 0, products = 0, deleted = 0",
            Self::Orders => "objects = 0, orders = 0",
        }
    }
}

/// Bulk read states both tables share.
impl SqlStore {
    pub(super) async fn request_bulk(
        &self,
        table: BulkTable,
        shop: &ShopDomain,
    ) -> Result<bool, AppError> {
        let (name, counters) = (table.name(), table.counters());
        let sql = format!(
            "INSERT INTO {name} (shop_domain, state, requested_at) VALUES ($1, 'requested', $2) \
             ON CONFLICT (shop_domain) DO UPDATE SET state = 'requested', operation_id = NULL, \
             requested_at = excluded.requested_at, last_error = NULL, {counters} \
             WHERE {name}.state NOT IN ('requested', 'running', 'ingesting')"
        );
        let result = sqlx::query(&sql)
            .bind(shop.as_str())
            .bind(self.now())
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    pub(super) async fn unfinished_bulks(
        &self,
        table: BulkTable,
    ) -> Result<Vec<ShopDomain>, AppError> {
        let sql = format!(
            "SELECT shop_domain FROM {} WHERE state IN ('requested', 'running', 'ingesting')",
            table.name()
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| ShopDomain::parse(&r.try_get::<String, _>(0)?))
            .collect()
    }

    pub(super) async fn bulk_started(
        &self,
        table: BulkTable,
        shop: &ShopDomain,
        operation_id: &str,
    ) -> Result<(), AppError> {
        let sql = format!(
            "UPDATE {} SET state = 'running', operation_id = $2 WHERE shop_domain = $1",
            table.name()
        );
        sqlx::query(&sql)
            .bind(shop.as_str())
            .bind(operation_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn bulk_failed(
        &self,
        table: BulkTable,
        shop: &ShopDomain,
        error: &str,
    ) -> Result<(), AppError> {
        let sql = format!(
            "UPDATE {} SET state = 'failed', finished_at = $2, last_error = $3 WHERE shop_domain = $1",
            table.name()
        );
        sqlx::query(&sql)
            .bind(shop.as_str())
            .bind(self.now())
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

pub(super) fn sync_state_of(raw: &str) -> Result<SyncState, AppError> {
    SyncState::parse(raw).ok_or_else(|| AppError::Storage(format!("unknown sync state `{raw}`")))
}

fn sync_of(row: &AnyRow) -> Result<SyncRow, AppError> {
    Ok(SyncRow {
        state: sync_state_of(&row.try_get::<String, _>(0)?)?,
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
