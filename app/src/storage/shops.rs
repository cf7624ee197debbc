//! Shops and their settings in the database, and deleting every row of one.

use async_trait::async_trait;
use sqlx::Row;

use super::{SqlStore, SHOP_TABLES};
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::stores::ShopStore;

#[async_trait]
impl ShopStore for SqlStore {
    async fn ensure_shop(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        let result = sqlx::query("INSERT INTO shops (domain, created_at) VALUES ($1, $2) ON CONFLICT (domain) DO NOTHING")
            .bind(shop.as_str())
            .bind(self.now())
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn shop_exists(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        let row = sqlx::query("SELECT 1 FROM shops WHERE domain = $1")
            .bind(shop.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    async fn list_shops(&self) -> Result<Vec<(String, i64)>, AppError> {
        let rows = sqlx::query(
            "SELECT s.domain, COUNT(p.product_id) AS n FROM shops s LEFT JOIN products p ON p.shop_domain = s.domain \
             GROUP BY s.domain ORDER BY s.domain",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
            .collect()
    }

    async fn allowed_origins(&self, shop: &ShopDomain) -> Result<Vec<String>, AppError> {
        let rows = sqlx::query(
            "SELECT origin FROM shop_allowed_origins WHERE shop_domain = $1 ORDER BY origin",
        )
        .bind(shop.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn replace_allowed_origins(
        &self,
        shop: &ShopDomain,
        origins: &[String],
    ) -> Result<(), AppError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM shop_allowed_origins WHERE shop_domain = $1")
            .bind(shop.as_str())
            .execute(&mut *tx)
            .await?;
        let now = self.now();
        for origin in origins {
            sqlx::query(
                "INSERT INTO shop_allowed_origins (shop_domain, origin, created_at) VALUES ($1, $2, $3)",
            )
            .bind(shop.as_str())
            .bind(origin)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn shop_rules(&self, shop: &ShopDomain) -> Result<Option<String>, AppError> {
        let row = sqlx::query("SELECT rules FROM shop_rules WHERE shop_domain = $1")
            .bind(shop.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get(0)).transpose().map_err(Into::into)
    }

    async fn put_shop_rules(&self, shop: &ShopDomain, rules: &str) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO shop_rules (shop_domain, rules, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (shop_domain) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at",
        )
        .bind(shop.as_str())
        .bind(rules)
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_shop(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        let mut tx = self.pool.begin().await?;
        self.allow_long_statements(&mut tx).await?;
        // Explicit deletes, children first, so the result does not depend on SQLite's
        // foreign-key pragma.
        for (table, column) in SHOP_TABLES {
            sqlx::query(&format!("DELETE FROM {table} WHERE {column} = $1"))
                .bind(shop.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let deleted = sqlx::query("DELETE FROM shops WHERE domain = $1")
            .bind(shop.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn rows_of_shop(&self, shop: &ShopDomain) -> Result<i64, AppError> {
        let mut total = 0;
        for (table, column) in SHOP_TABLES.iter().chain([&("shops", "domain")]) {
            let row = sqlx::query(&format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1"))
                .bind(shop.as_str())
                .fetch_one(&self.pool)
                .await?;
            total += row.try_get::<i64, _>(0)?;
        }
        Ok(total)
    }

    async fn ping(&self) -> Result<(), AppError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
