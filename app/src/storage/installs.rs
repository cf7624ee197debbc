//! Installs in the database: (sealed) tokens, OAuth nonces and the shop's web pixel.

use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::stores::{InstallRow, InstallStore, PixelRow, SealedGrant, ShopStore};

/// Nonces kept per shop, and in all, however often installs are started.
const OAUTH_STATES_PER_SHOP: i64 = 10;
const OAUTH_STATES_KEPT: i64 = 100_000;

#[async_trait]
impl InstallStore for SqlStore {
    /// Records an install (or a re-install, or new tokens) and makes the shop active again.
    async fn save_install(&self, shop: &ShopDomain, grant: &SealedGrant) -> Result<(), AppError> {
        self.ensure_shop(shop).await?;
        sqlx::query(
            "INSERT INTO shopify_installs (shop_domain, scopes, access_token, access_expires_at, refresh_token, \
             refresh_expires_at, installed_at, uninstalled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL) \
             ON CONFLICT (shop_domain) DO UPDATE SET scopes = excluded.scopes, access_token = excluded.access_token, \
             access_expires_at = excluded.access_expires_at, refresh_token = excluded.refresh_token, \
             refresh_expires_at = excluded.refresh_expires_at, uninstalled_at = NULL",
        )
        .bind(shop.as_str())
        .bind(&grant.scopes)
        .bind(&grant.access_token)
        .bind(grant.access_expires_at)
        .bind(&grant.refresh_token)
        .bind(grant.refresh_expires_at)
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn install(&self, shop: &ShopDomain) -> Result<Option<InstallRow>, AppError> {
        let row = sqlx::query(
            "SELECT scopes, access_token, access_expires_at, refresh_token, refresh_expires_at, uninstalled_at \
             FROM shopify_installs WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(InstallRow {
                scopes: r.try_get(0)?,
                access_token: r.try_get(1)?,
                access_expires_at: r.try_get(2)?,
                refresh_token: r.try_get(3)?,
                refresh_expires_at: r.try_get(4)?,
                uninstalled_at: r.try_get(5)?,
            })
        })
        .transpose()
    }

    async fn active_installs(&self) -> Result<Vec<ShopDomain>, AppError> {
        let rows = sqlx::query(
            "SELECT shop_domain FROM shopify_installs WHERE uninstalled_at IS NULL ORDER BY shop_domain",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| ShopDomain::parse(&r.try_get::<String, _>(0)?))
            .collect()
    }

    async fn mark_uninstalled(&self, shop: &ShopDomain) -> Result<(), AppError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE shopify_installs SET access_token = NULL, access_expires_at = NULL, refresh_token = NULL, \
             refresh_expires_at = NULL, uninstalled_at = $2 WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .bind(self.now())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM api_keys WHERE shop_domain = $1")
            .bind(shop.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn save_oauth_state(&self, shop: &ShopDomain, nonce: &str) -> Result<(), AppError> {
        // Old nonces are dropped on the way: an abandoned install leaves nothing behind for long.
        sqlx::query("DELETE FROM oauth_states WHERE created_at < $1")
            .bind(self.now() - 24 * 3600 * 1000)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO oauth_states (nonce, shop_domain, created_at) VALUES ($1, $2, $3)",
        )
        .bind(nonce)
        .bind(shop.as_str())
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        // `/auth` is unauthenticated: however often it is called, a shop keeps only its
        // newest few nonces (a merchant retrying still completes with the latest), and the
        // table its newest hundred thousand.
        sqlx::query(
            "DELETE FROM oauth_states WHERE shop_domain = $1 AND nonce NOT IN \
             (SELECT nonce FROM oauth_states WHERE shop_domain = $1 \
              ORDER BY created_at DESC, nonce LIMIT $2)",
        )
        .bind(shop.as_str())
        .bind(OAUTH_STATES_PER_SHOP)
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "DELETE FROM oauth_states WHERE created_at < \
             (SELECT created_at FROM oauth_states ORDER BY created_at DESC LIMIT 1 OFFSET $1)",
        )
        .bind(OAUTH_STATES_KEPT)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn take_oauth_state(
        &self,
        shop: &ShopDomain,
        nonce: &str,
        max_age_ms: i64,
    ) -> Result<bool, AppError> {
        let deleted = sqlx::query(
            "DELETE FROM oauth_states WHERE nonce = $1 AND shop_domain = $2 AND created_at >= $3",
        )
        .bind(nonce)
        .bind(shop.as_str())
        .bind(self.now() - max_age_ms)
        .execute(&self.pool)
        .await?;
        Ok(deleted.rows_affected() == 1)
    }

    async fn web_pixel(&self, shop: &ShopDomain) -> Result<Option<PixelRow>, AppError> {
        let row = sqlx::query("SELECT pixel_id, key_id FROM web_pixels WHERE shop_domain = $1")
            .bind(shop.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(PixelRow {
                pixel_id: row.try_get(0)?,
                key_id: row.try_get(1)?,
            })
        })
        .transpose()
    }

    async fn save_web_pixel(&self, shop: &ShopDomain, pixel: &PixelRow) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO web_pixels (shop_domain, pixel_id, key_id, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (shop_domain) DO UPDATE SET pixel_id = excluded.pixel_id, \
             key_id = excluded.key_id, updated_at = excluded.updated_at",
        )
        .bind(shop.as_str())
        .bind(&pixel.pixel_id)
        .bind(&pixel.key_id)
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
