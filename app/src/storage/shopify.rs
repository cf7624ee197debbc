//! The Shopify side of a shop in the database: install and (sealed) tokens, OAuth nonces,
//! product tombstones, catalogue sync state and privacy exports (the webhook inbox:
//! `inbox`).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{now_millis, numbered_placeholders, SqlStore, IDS_PER_STATEMENT};
use crate::domain::ShopDomain;
use crate::error::AppError;

/// Nonces kept per shop, and in all, however often installs are started.
const OAUTH_STATES_PER_SHOP: i64 = 10;
const OAUTH_STATES_KEPT: i64 = 100_000;

/// A shop's install as stored; tokens are still sealed.
#[derive(Debug, Clone)]
pub struct InstallRow {
    pub scopes: String,
    pub access_token: Option<String>,
    pub access_expires_at: Option<i64>,
    pub refresh_token: Option<String>,
    pub refresh_expires_at: Option<i64>,
    pub uninstalled_at: Option<i64>,
}

impl InstallRow {
    pub fn active(&self) -> bool {
        self.uninstalled_at.is_none()
    }
}

/// Sealed tokens to store after an install, a token exchange or a refresh.
#[derive(Debug, Clone)]
pub struct SealedGrant {
    pub scopes: String,
    pub access_token: String,
    pub access_expires_at: Option<i64>,
    pub refresh_token: Option<String>,
    pub refresh_expires_at: Option<i64>,
}

/// Catalogue sync state of one shop.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SyncRow {
    pub state: String,
    pub operation_id: Option<String>,
    pub requested_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub objects: i64,
    pub products: i64,
    pub deleted: i64,
    pub last_error: Option<String>,
    pub reconciled_until: Option<String>,
    pub reconciled_at: Option<i64>,
}

impl SqlStore {
    // ---- installs and tokens -------------------------------------------------------------

    /// Records an install (or a re-install, or new tokens) and makes the shop active again.
    pub async fn save_install(
        &self,
        shop: &ShopDomain,
        grant: &SealedGrant,
    ) -> Result<(), AppError> {
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
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn install(&self, shop: &ShopDomain) -> Result<Option<InstallRow>, AppError> {
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

    /// Active installs, by domain.
    pub async fn active_installs(&self) -> Result<Vec<ShopDomain>, AppError> {
        let rows = sqlx::query(
            "SELECT shop_domain FROM shopify_installs WHERE uninstalled_at IS NULL ORDER BY shop_domain",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| ShopDomain::parse(&r.try_get::<String, _>(0)?))
            .collect()
    }

    /// app/uninstalled: tokens revoked, storefront keys removed, data kept until shop/redact.
    pub async fn mark_uninstalled(&self, shop: &ShopDomain) -> Result<(), AppError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE shopify_installs SET access_token = NULL, access_expires_at = NULL, refresh_token = NULL, \
             refresh_expires_at = NULL, uninstalled_at = $2 WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM api_keys WHERE shop_domain = $1")
            .bind(shop.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- OAuth nonces --------------------------------------------------------------------

    pub async fn save_oauth_state(&self, shop: &ShopDomain, nonce: &str) -> Result<(), AppError> {
        // Old nonces are dropped on the way: an abandoned install leaves nothing behind for long.
        sqlx::query("DELETE FROM oauth_states WHERE created_at < $1")
            .bind(now_millis() - 24 * 3600 * 1000)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO oauth_states (nonce, shop_domain, created_at) VALUES ($1, $2, $3)",
        )
        .bind(nonce)
        .bind(shop.as_str())
        .bind(now_millis())
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

    /// Uses up a nonce issued for this shop no longer than `max_age_ms` ago; false when there is none.
    pub async fn take_oauth_state(
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
        .bind(now_millis() - max_age_ms)
        .execute(&self.pool)
        .await?;
        Ok(deleted.rows_affected() == 1)
    }

    // ---- tombstones ----------------------------------------------------------------------

    pub async fn add_tombstone(&self, shop: &ShopDomain, product_id: u64) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO product_tombstones (shop_domain, product_id, deleted_at) VALUES ($1, $2, $3) \
             ON CONFLICT (shop_domain, product_id) DO NOTHING",
        )
        .bind(shop.as_str())
        .bind(product_id as i64)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Which of `ids` were deleted in Shopify.
    pub async fn tombstoned(&self, shop: &ShopDomain, ids: &[u64]) -> Result<Vec<u64>, AppError> {
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

    // ---- catalogue sync ------------------------------------------------------------------

    pub async fn sync_state(&self, shop: &ShopDomain) -> Result<Option<SyncRow>, AppError> {
        let row = sqlx::query(
            "SELECT state, operation_id, requested_at, finished_at, objects, products, deleted, last_error, \
             reconciled_until, reconciled_at FROM catalogue_syncs WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(sync_of).transpose()
    }

    /// Asks for a bulk sync; a sync already under way is left alone. True when newly requested.
    pub async fn request_sync(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        let result = sqlx::query(
            "INSERT INTO catalogue_syncs (shop_domain, state, requested_at) VALUES ($1, 'requested', $2) \
             ON CONFLICT (shop_domain) DO UPDATE SET state = 'requested', operation_id = NULL, \
             requested_at = excluded.requested_at, last_error = NULL, objects = 0, products = 0, deleted = 0 \
             WHERE catalogue_syncs.state NOT IN ('requested', 'running', 'ingesting')",
        )
        .bind(shop.as_str())
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Shops with a sync that was requested or under way: after a restart these resume.
    pub async fn unfinished_syncs(&self) -> Result<Vec<ShopDomain>, AppError> {
        let rows = sqlx::query(
            "SELECT shop_domain FROM catalogue_syncs WHERE state IN ('requested', 'running', 'ingesting')",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| ShopDomain::parse(&r.try_get::<String, _>(0)?))
            .collect()
    }

    pub async fn sync_started(
        &self,
        shop: &ShopDomain,
        operation_id: &str,
    ) -> Result<(), AppError> {
        sqlx::query("UPDATE catalogue_syncs SET state = 'running', operation_id = $2 WHERE shop_domain = $1")
            .bind(shop.as_str())
            .bind(operation_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn sync_progress(
        &self,
        shop: &ShopDomain,
        state: &str,
        objects: i64,
        products: i64,
    ) -> Result<(), AppError> {
        sqlx::query(
            "UPDATE catalogue_syncs SET state = $2, objects = $3, products = $4 WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .bind(state)
        .bind(objects)
        .bind(products)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The sync finished; `watermark` is the newest `updatedAt` it saw (reconciliation starts there).
    pub async fn sync_completed(
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
        .bind(now_millis())
        .bind(deleted)
        .bind(watermark)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn sync_failed(&self, shop: &ShopDomain, error: &str) -> Result<(), AppError> {
        sqlx::query(
            "UPDATE catalogue_syncs SET state = 'failed', finished_at = $2, last_error = $3 WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .bind(now_millis())
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn save_watermark(&self, shop: &ShopDomain, watermark: &str) -> Result<(), AppError> {
        sqlx::query(
            "UPDATE catalogue_syncs SET reconciled_until = $2, reconciled_at = $3 WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .bind(watermark)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Ids of the shop's products last written before `before_ms` (candidates for deletion
    /// after a full sync that did not return them).
    pub async fn products_written_before(
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

    // ---- privacy -------------------------------------------------------------------------

    pub async fn save_customer_export(
        &self,
        shop: &ShopDomain,
        customer_id: u64,
        request_id: &str,
        data: &str,
    ) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO customer_data_exports (shop_domain, customer_id, request_id, requested_at, data) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (shop_domain, request_id) DO UPDATE SET data = excluded.data",
        )
        .bind(shop.as_str())
        .bind(customer_id as i64)
        .bind(request_id)
        .bind(now_millis())
        .bind(data)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Drops data-request exports older than the retention window (the data they copy is
    /// gone by then too); returns how many.
    pub async fn prune_customer_exports(&self, requested_before_ms: i64) -> Result<u64, AppError> {
        let result = sqlx::query("DELETE FROM customer_data_exports WHERE requested_at < $1")
            .bind(requested_before_ms)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    /// The shop's data-request exports, newest first: (customer id, request id, requested at, data).
    pub async fn customer_exports(
        &self,
        shop: &ShopDomain,
    ) -> Result<Vec<(u64, String, i64, String)>, AppError> {
        let rows = sqlx::query(
            "SELECT customer_id, request_id, requested_at, data FROM customer_data_exports \
             WHERE shop_domain = $1 ORDER BY requested_at DESC",
        )
        .bind(shop.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<i64, _>(0)? as u64,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                ))
            })
            .collect()
    }

    /// customers/redact: everything Kindred holds about one customer of one shop.
    pub async fn redact_customer(
        &self,
        shop: &ShopDomain,
        customer_id: u64,
    ) -> Result<u64, AppError> {
        let mut tx = self.pool.begin().await?;
        self.allow_long_statements(&mut tx).await?;
        let exports = sqlx::query(
            "DELETE FROM customer_data_exports WHERE shop_domain = $1 AND customer_id = $2",
        )
        .bind(shop.as_str())
        .bind(customer_id as i64)
        .execute(&mut *tx)
        .await?;
        // Their events, and those of every browser they used while logged in.
        let events = sqlx::query(super::events::DELETE_CUSTOMER_EVENTS)
            .bind(shop.as_str())
            .bind(customer_id as i64)
            .execute(&mut *tx)
            .await?;
        // Privacy deliveries' bodies (which name the customer) are cleared as each is
        // applied (`mark_applied`).
        tx.commit().await?;
        Ok(exports.rows_affected() + events.rows_affected())
    }
}

fn sync_of(row: &AnyRow) -> Result<SyncRow, AppError> {
    Ok(SyncRow {
        state: row.try_get(0)?,
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
