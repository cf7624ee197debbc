//! The catalogue table. Each row keeps the normalised product, the hash of its embedded
//! text, and which hash is in the vector index, so restarts and re-imports pick up exactly
//! the work that is left.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::SqlStore;
use crate::domain::{Product, ShopDomain};
use crate::error::AppError;
use crate::stores::{IndexState, ProductRow, ProductStore};

#[async_trait]
impl ProductStore for SqlStore {
    async fn index_states(&self, shop: &ShopDomain) -> Result<HashMap<u64, IndexState>, AppError> {
        let rows = sqlx::query(
            "SELECT product_id, document, content_hash, indexed_hash, payload_stale FROM products WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let state = IndexState {
                    document: row.try_get(1)?,
                    content_hash: row.try_get(2)?,
                    indexed_hash: row.try_get(3)?,
                    payload_stale: row.try_get::<i64, _>(4)? != 0,
                };
                Ok((row.try_get::<i64, _>(0)? as u64, state))
            })
            .collect()
    }

    async fn upsert_products(
        &self,
        shop: &ShopDomain,
        rows: &[ProductRow],
    ) -> Result<(), AppError> {
        let mut tx = self.pool.begin().await?;
        let now = self.now();
        for row in rows {
            let p = &row.product;
            sqlx::query(
                "INSERT INTO products (shop_domain, product_id, handle, title, status, available, price_cents, document, \
                 content_hash, indexed_hash, payload_stale, updated_at, published_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, 1, $10, $11) \
                 ON CONFLICT (shop_domain, product_id) DO UPDATE SET handle = excluded.handle, title = excluded.title, \
                 status = excluded.status, available = excluded.available, price_cents = excluded.price_cents, \
                 document = excluded.document, content_hash = excluded.content_hash, payload_stale = 1, \
                 updated_at = excluded.updated_at, published_at = excluded.published_at",
            )
            .bind(shop.as_str())
            .bind(p.id as i64)
            .bind(&p.handle)
            .bind(&p.title)
            .bind(p.status.as_str())
            .bind(i64::from(p.available))
            .bind(p.price_cents)
            .bind(&row.document)
            .bind(&row.content_hash)
            .bind(now)
            .bind(p.published_at_ms())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn mark_indexed(
        &self,
        shop: &ShopDomain,
        indexed: &[(u64, String)],
        vectors_written: bool,
    ) -> Result<(), AppError> {
        let mut tx = self.pool.begin().await?;
        if vectors_written {
            sqlx::query("DELETE FROM similar_lists WHERE shop_domain = $1")
                .bind(shop.as_str())
                .execute(&mut *tx)
                .await?;
        }
        for (id, hash) in indexed {
            sqlx::query(
                "UPDATE products SET content_hash = $1, indexed_hash = $1, payload_stale = 0 \
                 WHERE shop_domain = $2 AND product_id = $3",
            )
            .bind(hash)
            .bind(shop.as_str())
            .bind(*id as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn products_needing_index(
        &self,
        shop: &ShopDomain,
        limit: i64,
    ) -> Result<Vec<(Product, bool)>, AppError> {
        let rows = sqlx::query(
            "SELECT document, CAST(CASE WHEN indexed_hash = content_hash THEN 1 ELSE 0 END AS BIGINT) FROM products \
             WHERE shop_domain = $1 AND (indexed_hash IS NULL OR indexed_hash <> content_hash OR payload_stale = 1) \
             ORDER BY product_id LIMIT $2",
        )
        .bind(shop.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((document_of(row)?, row.try_get::<i64, _>(1)? != 0)))
            .collect()
    }

    async fn get_product(&self, shop: &ShopDomain, id: u64) -> Result<Option<Product>, AppError> {
        let row =
            sqlx::query("SELECT document FROM products WHERE shop_domain = $1 AND product_id = $2")
                .bind(shop.as_str())
                .bind(id as i64)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(document_of).transpose()
    }

    async fn products_by_id(
        &self,
        shop: &ShopDomain,
        ids: &[u64],
    ) -> Result<HashMap<u64, Product>, AppError> {
        Ok(self
            .get_products(shop, ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect())
    }

    async fn get_products(&self, shop: &ShopDomain, ids: &[u64]) -> Result<Vec<Product>, AppError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .rows_among_ids(
                "SELECT document FROM products WHERE shop_domain = $1",
                "product_id",
                shop,
                ids,
            )
            .await?;
        let mut by_id: HashMap<u64, Product> = HashMap::with_capacity(rows.len());
        for row in &rows {
            let product = document_of(row)?;
            by_id.insert(product.id, product);
        }
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    async fn product_titles(
        &self,
        shop: &ShopDomain,
        ids: &[u64],
    ) -> Result<HashMap<u64, String>, AppError> {
        let rows = self
            .rows_among_ids(
                "SELECT product_id, title FROM products WHERE shop_domain = $1",
                "product_id",
                shop,
                ids,
            )
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get::<i64, _>(0)? as u64, row.try_get(1)?)))
            .collect()
    }

    async fn newest_products(
        &self,
        shop: &ShopDomain,
        limit: usize,
    ) -> Result<Vec<Product>, AppError> {
        let rows = sqlx::query(
            "SELECT document FROM products WHERE shop_domain = $1 AND status = 'active' AND available = 1 \
             ORDER BY CASE WHEN published_at IS NULL THEN 1 ELSE 0 END, published_at DESC, product_id DESC LIMIT $2",
        )
        .bind(shop.as_str())
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(document_of).collect()
    }

    async fn find_products_by_title(
        &self,
        shop: &ShopDomain,
        text: &str,
    ) -> Result<Vec<(u64, String)>, AppError> {
        let pattern = format!(
            "%{}%",
            text.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let rows = sqlx::query(
            "SELECT product_id, title FROM products WHERE shop_domain = $1 AND LOWER(title) LIKE $2 ESCAPE '\\' \
             ORDER BY product_id LIMIT 100",
        )
        .bind(shop.as_str())
        .bind(pattern)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>(0)? as u64, r.try_get(1)?)))
            .collect()
    }

    async fn mark_all_stale(&self, shop: &ShopDomain) -> Result<u64, AppError> {
        let result = sqlx::query("UPDATE products SET indexed_hash = NULL WHERE shop_domain = $1")
            .bind(shop.as_str())
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    async fn delete_product(&self, shop: &ShopDomain, id: u64) -> Result<bool, AppError> {
        let result = sqlx::query("DELETE FROM products WHERE shop_domain = $1 AND product_id = $2")
            .bind(shop.as_str())
            .bind(id as i64)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn catalogue_counts(&self, shop: &ShopDomain) -> Result<(i64, i64), AppError> {
        let row = sqlx::query(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN indexed_hash = content_hash AND payload_stale = 0 THEN 1 ELSE 0 END), 0) \
             FROM products WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    async fn indexed_products(&self, shop: &ShopDomain) -> Result<(Vec<u64>, usize), AppError> {
        let rows = sqlx::query(
            "SELECT product_id, CAST(CASE WHEN indexed_hash = content_hash THEN 1 ELSE 0 END AS BIGINT) \
             FROM products WHERE shop_domain = $1 ORDER BY product_id",
        )
        .bind(shop.as_str())
        .fetch_all(self.pool())
        .await?;
        let (mut ids, mut waiting) = (Vec::with_capacity(rows.len()), 0);
        for row in rows {
            if row.try_get::<i64, _>(1)? == 1 {
                ids.push(row.try_get::<i64, _>(0)? as u64);
            } else {
                waiting += 1;
            }
        }
        Ok((ids, waiting))
    }

    async fn on_sale_products(&self, shop: &ShopDomain) -> Result<Vec<u64>, AppError> {
        let rows = sqlx::query(
            "SELECT product_id FROM products WHERE shop_domain = $1 AND status = 'active' AND available = 1",
        )
        .bind(shop.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|row| Ok(row.try_get::<i64, _>(0)? as u64))
            .collect()
    }
}

fn document_of(row: &AnyRow) -> Result<Product, AppError> {
    let document: String = row.try_get(0)?;
    serde_json::from_str(&document)
        .map_err(|err| AppError::Storage(format!("stored product document: {err}")))
}
