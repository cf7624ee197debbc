//! Shared interaction models in one table, one row per shop.

use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::stores::{ModelStore, StoredModels};

#[async_trait]
impl ModelStore for SqlStore {
    async fn models_built_at(&self, shop: &ShopDomain) -> Result<Option<i64>, AppError> {
        let row = sqlx::query("SELECT built_at FROM interaction_models WHERE shop_domain = $1")
            .bind(shop.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    async fn stored_models(&self, shop: &ShopDomain) -> Result<Option<StoredModels>, AppError> {
        let row =
            sqlx::query("SELECT built_at, models FROM interaction_models WHERE shop_domain = $1")
                .bind(shop.as_str())
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| {
            Ok(StoredModels {
                built_at: r.try_get(0)?,
                models: r.try_get(1)?,
            })
        })
        .transpose()
    }

    async fn training_log(&self, shop: &ShopDomain) -> Result<Option<Vec<u8>>, AppError> {
        let row = sqlx::query("SELECT training_log FROM interaction_models WHERE shop_domain = $1")
            .bind(shop.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    async fn put_models(
        &self,
        shop: &ShopDomain,
        built_at: i64,
        models: &[u8],
        training_log: &[u8],
    ) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO interaction_models (shop_domain, built_at, models, training_log) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (shop_domain) DO UPDATE SET \
             built_at = excluded.built_at, models = excluded.models, training_log = excluded.training_log",
        )
        .bind(shop.as_str())
        .bind(built_at)
        .bind(models)
        .bind(training_log)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_models(&self, shop: &ShopDomain) -> Result<(), AppError> {
        sqlx::query("DELETE FROM interaction_models WHERE shop_domain = $1")
            .bind(shop.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
