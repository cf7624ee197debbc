//! Shops and their API keys. Keys are random and long, so a plain SHA-256 is a safe hash
//! at rest, and lookups by hash leak nothing about the key through timing.

use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::stores::{
    generate_key, hash_key, key_id, KeyGrant, KeyInfo, KeyOrigin, KeyScope, KeyStore,
};

#[async_trait]
impl KeyStore for SqlStore {
    async fn add_key(
        &self,
        key: &str,
        scope: KeyScope,
        shop: Option<&ShopDomain>,
        origin: KeyOrigin,
    ) -> Result<KeyInfo, AppError> {
        if key.len() < 16
            || key.len() > 256
            || key.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(AppError::InvalidInput(
                "keys must be 16 to 256 characters without spaces".into(),
            ));
        }
        if (scope == KeyScope::Admin) != shop.is_none() {
            return Err(AppError::InvalidInput(
                "admin keys belong to no shop; every other key to one".into(),
            ));
        }
        let now = self.now();
        let inserted = sqlx::query(
            "INSERT INTO api_keys (key_hash, key_id, scope, shop_domain, origin, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key_hash) DO NOTHING",
        )
        .bind(hash_key(key))
        .bind(key_id(key))
        .bind(scope.as_str())
        .bind(shop.map(|s| s.as_str().to_owned()))
        .bind(origin.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 0 {
            let again = origin == KeyOrigin::Environment
                && self.key_row(key).await?.is_some_and(|k| {
                    k.origin == KeyOrigin::Environment && k.scope == KeyScope::Admin
                });
            if !again {
                return Err(AppError::KeyExists);
            }
            // The environment's key is current again, even if it was revoked earlier.
            sqlx::query("UPDATE api_keys SET revoked_at = NULL WHERE key_hash = $1")
                .bind(hash_key(key))
                .execute(&self.pool)
                .await?;
        }
        self.key_row(key)
            .await?
            .ok_or_else(|| AppError::Internal("a key just stored is missing".into()))
    }

    async fn issue_key(
        &self,
        scope: KeyScope,
        shop: Option<&ShopDomain>,
    ) -> Result<(String, KeyInfo), AppError> {
        let key = generate_key(scope);
        let info = self
            .add_key(&key, scope, shop, KeyOrigin::Generated)
            .await?;
        Ok((key, info))
    }

    async fn set_environment_admin_key(&self, key: &str) -> Result<u64, AppError> {
        self.add_key(key, KeyScope::Admin, None, KeyOrigin::Environment)
            .await?;
        let revoked = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE origin = 'environment' AND scope = 'admin' \
             AND key_hash <> $2 AND revoked_at IS NULL",
        )
        .bind(self.now())
        .bind(hash_key(key))
        .execute(&self.pool)
        .await?;
        Ok(revoked.rows_affected())
    }

    async fn list_keys(&self, shop: Option<&ShopDomain>) -> Result<Vec<KeyInfo>, AppError> {
        let rows = match shop {
            Some(shop) => {
                sqlx::query(&format!(
                    "{KEY_COLUMNS} WHERE shop_domain = $1 ORDER BY created_at, key_id"
                ))
                .bind(shop.as_str())
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "{KEY_COLUMNS} WHERE shop_domain IS NULL ORDER BY created_at, key_id"
                ))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(key_info).collect()
    }

    async fn revoke_key(
        &self,
        shop: Option<&ShopDomain>,
        key_id: &str,
    ) -> Result<Option<KeyInfo>, AppError> {
        let condition = match shop {
            Some(_) => "shop_domain = $3",
            None => "shop_domain IS NULL",
        };
        let query = format!(
            "UPDATE api_keys SET revoked_at = $1 WHERE key_id = $2 AND {condition} AND revoked_at IS NULL"
        );
        let mut update = sqlx::query(&query).bind(self.now()).bind(key_id);
        if let Some(shop) = shop {
            update = update.bind(shop.as_str());
        }
        update.execute(&self.pool).await?;
        Ok(self
            .list_keys(shop)
            .await?
            .into_iter()
            .find(|k| k.key_id == key_id))
    }

    async fn find_key(&self, key: &str) -> Result<Option<KeyGrant>, AppError> {
        let row = sqlx::query(
            "SELECT scope, shop_domain FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash_key(key))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let scope: String = row.try_get(0)?;
        let shop: Option<String> = row.try_get(1)?;
        Ok(match (KeyScope::parse(&scope), shop) {
            (Some(KeyScope::Admin), _) => Some(KeyGrant::Admin),
            (Some(KeyScope::Merchant), Some(shop)) => {
                Some(KeyGrant::Merchant(ShopDomain::parse(&shop)?))
            }
            (Some(KeyScope::Storefront), Some(shop)) => {
                Some(KeyGrant::Storefront(ShopDomain::parse(&shop)?))
            }
            _ => None,
        })
    }
}

impl SqlStore {
    async fn key_row(&self, key: &str) -> Result<Option<KeyInfo>, AppError> {
        let row = sqlx::query(&format!("{KEY_COLUMNS} WHERE key_hash = $1"))
            .bind(hash_key(key))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key_info).transpose()
    }
}

const KEY_COLUMNS: &str =
    "SELECT key_id, scope, shop_domain, origin, created_at, revoked_at FROM api_keys";

fn key_info(row: &sqlx::any::AnyRow) -> Result<KeyInfo, AppError> {
    let scope: String = row.try_get(1)?;
    let origin: String = row.try_get(3)?;
    Ok(KeyInfo {
        key_id: row.try_get(0)?,
        scope: KeyScope::parse(&scope)
            .ok_or_else(|| AppError::Internal(format!("stored key scope `{scope}`")))?,
        shop: row.try_get(2)?,
        origin: KeyOrigin::parse(&origin)
            .ok_or_else(|| AppError::Internal(format!("stored key origin `{origin}`")))?,
        created_at_ms: row.try_get(4)?,
        revoked_at_ms: row.try_get(5)?,
    })
}
