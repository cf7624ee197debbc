//! Precomputed "similar products" lists: written for a whole shop at once, read one product
//! at a time, and dropped whenever one of the shop's vectors changes (`mark_indexed`).

use async_trait::async_trait;
use sqlx::Row;

use super::{numbered_placeholders, SqlStore};
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::stores::{Neighbours, SimilarListStore};

/// Rows written per statement (well under both databases' bind-parameter limits).
const INSERT_CHUNK: usize = 500;

#[async_trait]
impl SimilarListStore for SqlStore {
    async fn replace_similar_lists(
        &self,
        shop: &ShopDomain,
        read_at: i64,
        lists: &[(u64, Neighbours)],
    ) -> Result<bool, AppError> {
        let mut tx = self.pool().begin().await?;
        let changed: i64 = sqlx::query(
            "SELECT COUNT(*) FROM products WHERE shop_domain = $1 \
             AND (updated_at >= $2 OR indexed_hash IS NULL OR indexed_hash <> content_hash)",
        )
        .bind(shop.as_str())
        .bind(read_at)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        if changed > 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM similar_lists WHERE shop_domain = $1")
            .bind(shop.as_str())
            .execute(&mut *tx)
            .await?;
        let built_at = self.now();
        for chunk in lists.chunks(INSERT_CHUNK) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", numbered_placeholders(4 * i + 1, 4)))
                .collect();
            let sql = format!(
                "INSERT INTO similar_lists (shop_domain, product_id, neighbours, built_at) VALUES {}",
                rows.join(", ")
            );
            let mut insert = sqlx::query(&sql);
            for (id, neighbours) in chunk {
                let json = serde_json::to_string(neighbours)
                    .map_err(|e| AppError::Internal(format!("encoding a list: {e}")))?;
                insert = insert
                    .bind(shop.as_str())
                    .bind(*id as i64)
                    .bind(json)
                    .bind(built_at);
            }
            insert.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn similar_list(
        &self,
        shop: &ShopDomain,
        product_id: u64,
    ) -> Result<Option<Neighbours>, AppError> {
        let row = sqlx::query(
            "SELECT neighbours FROM similar_lists WHERE shop_domain = $1 AND product_id = $2",
        )
        .bind(shop.as_str())
        .bind(product_id as i64)
        .fetch_optional(self.pool())
        .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let json: String = row.try_get(0)?;
                serde_json::from_str(&json).map(Some).map_err(|e| {
                    AppError::Internal(format!("stored similar list of {product_id}: {e}"))
                })
            }
        }
    }

    async fn similar_list_count(&self, shop: &ShopDomain) -> Result<u64, AppError> {
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM similar_lists WHERE shop_domain = $1")
            .bind(shop.as_str())
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        Ok(count as u64)
    }

    async fn shops_needing_similar_lists(
        &self,
        quiet_since: i64,
    ) -> Result<Vec<ShopDomain>, AppError> {
        let rows = sqlx::query(
            "SELECT p.shop_domain FROM products p \
             WHERE NOT EXISTS (SELECT 1 FROM similar_lists s WHERE s.shop_domain = p.shop_domain) \
             GROUP BY p.shop_domain \
             HAVING COUNT(*) > 1 AND MAX(p.updated_at) < $1 \
             AND SUM(CASE WHEN p.indexed_hash = p.content_hash THEN 0 ELSE 1 END) = 0 \
             ORDER BY p.shop_domain",
        )
        .bind(quiet_since)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|row| {
                let domain: String = row.try_get(0)?;
                ShopDomain::parse(&domain)
            })
            .collect()
    }
}
