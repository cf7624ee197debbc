//! Shops and their API keys. Keys are random and long, so a plain SHA-256 is a safe hash
//! at rest, and lookups by hash leak nothing about the key through timing.

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{now_millis, SqlStore};
use crate::domain::ShopDomain;
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyScope {
    /// Write and import endpoints of every shop, and operator tasks.
    Admin,
    /// Read endpoints of one shop.
    Storefront,
}

impl KeyScope {
    fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Storefront => "storefront",
        }
    }
}

/// What a presented key allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyGrant {
    Admin,
    Storefront(ShopDomain),
}

/// A new random key: a readable prefix and 256 bits of randomness.
pub fn generate_key(scope: KeyScope) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let prefix = match scope {
        KeyScope::Admin => "kdr_admin_",
        KeyScope::Storefront => "kdr_sf_",
    };
    format!("{prefix}{}", hex::encode(bytes))
}

pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl SqlStore {
    /// Creates the shop if it is new; returns whether it was created.
    pub async fn ensure_shop(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        let result = sqlx::query("INSERT INTO shops (domain, created_at) VALUES ($1, $2) ON CONFLICT (domain) DO NOTHING")
            .bind(shop.as_str())
            .bind(now_millis())
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn shop_exists(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        let row = sqlx::query("SELECT 1 FROM shops WHERE domain = $1")
            .bind(shop.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Every shop with its product count, by domain.
    pub async fn list_shops(&self) -> Result<Vec<(String, i64)>, AppError> {
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

    /// The origins a shop's headless frontends are served from, sorted.
    pub async fn allowed_origins(&self, shop: &ShopDomain) -> Result<Vec<String>, AppError> {
        let rows = sqlx::query(
            "SELECT origin FROM shop_allowed_origins WHERE shop_domain = $1 ORDER BY origin",
        )
        .bind(shop.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Replaces the shop's allowed origins (already normalised) in one transaction.
    pub async fn replace_allowed_origins(
        &self,
        shop: &ShopDomain,
        origins: &[String],
    ) -> Result<(), AppError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM shop_allowed_origins WHERE shop_domain = $1")
            .bind(shop.as_str())
            .execute(&mut *tx)
            .await?;
        let now = now_millis();
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

    /// The shop's merchandising rules as stored (JSON), if it has any.
    pub async fn shop_rules(&self, shop: &ShopDomain) -> Result<Option<String>, AppError> {
        let row = sqlx::query("SELECT rules FROM shop_rules WHERE shop_domain = $1")
            .bind(shop.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get(0)).transpose().map_err(Into::into)
    }

    pub async fn put_shop_rules(&self, shop: &ShopDomain, rules: &str) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO shop_rules (shop_domain, rules, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (shop_domain) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at",
        )
        .bind(shop.as_str())
        .bind(rules)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Stores the hash of `key` with its scope; the shop must exist for a storefront key.
    pub async fn add_key(&self, key: &str, shop: Option<&ShopDomain>) -> Result<(), AppError> {
        let scope = if shop.is_some() {
            KeyScope::Storefront
        } else {
            KeyScope::Admin
        };
        if key.len() < 16 {
            return Err(AppError::InvalidInput(
                "keys must be at least 16 characters".into(),
            ));
        }
        sqlx::query(
            "INSERT INTO api_keys (key_hash, scope, shop_domain, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key_hash) DO NOTHING",
        )
        .bind(hash_key(key))
        .bind(scope.as_str())
        .bind(shop.map(|s| s.as_str().to_owned()))
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// What the key allows, if it is known.
    pub async fn find_key(&self, key: &str) -> Result<Option<KeyGrant>, AppError> {
        let row = sqlx::query("SELECT scope, shop_domain FROM api_keys WHERE key_hash = $1")
            .bind(hash_key(key))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let scope: String = row.try_get(0)?;
        let shop: Option<String> = row.try_get(1)?;
        Ok(match (scope.as_str(), shop) {
            ("admin", _) => Some(KeyGrant::Admin),
            ("storefront", Some(shop)) => Some(KeyGrant::Storefront(ShopDomain::parse(&shop)?)),
            _ => None,
        })
    }
}
