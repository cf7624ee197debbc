//! Relational storage with sqlx: SQLite (the embedded default) or PostgreSQL, one portable
//! SQL dialect through sqlx's `Any` driver, and one set of migrations for both.

mod events;
mod keys;
mod products;
mod shopify;
mod similar;

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};

use crate::domain::ShopDomain;

use crate::error::AppError;
pub use keys::{generate_key, hash_key, KeyGrant, KeyScope};
pub use products::{IndexState, ProductRow};
pub use shopify::{InboxCounts, InboxDelivery, InstallRow, PendingDelivery, SealedGrant, SyncRow};
pub use similar::Neighbours;

/// Every table holding a shop's rows, with its shop column. A new table of shop data must
/// be listed here, or deleting a shop (and Shopify's `shop/redact`) would leave it behind.
const SHOP_TABLES: [(&str, &str); 12] = [
    ("products", "shop_domain"),
    ("api_keys", "shop_domain"),
    ("shopify_installs", "shop_domain"),
    ("oauth_states", "shop_domain"),
    ("product_tombstones", "shop_domain"),
    ("catalogue_syncs", "shop_domain"),
    ("customer_data_exports", "shop_domain"),
    ("webhook_inbox", "shop_domain"),
    ("shopper_events", "shop_domain"),
    ("shop_allowed_origins", "shop_domain"),
    ("shop_rules", "shop_domain"),
    ("similar_lists", "shop_domain"),
];

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// The database behind every store trait.
#[derive(Clone, Debug)]
pub struct SqlStore {
    pool: AnyPool,
}

impl SqlStore {
    /// Connects (creating a SQLite file when needed) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, AppError> {
        sqlx::any::install_default_drivers();
        let is_sqlite = url.starts_with("sqlite:");
        if is_sqlite {
            create_sqlite_parent_dir(url)?;
        }
        let options = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if is_sqlite { 4 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if is_sqlite {
                        // WAL lets readers run beside the one writer; the timeout makes
                        // writers wait for each other instead of failing. FULL syncs each
                        // commit: an acknowledged webhook survives a power cut, not just a crash.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// Deletes every row of the shop, in every table, in one transaction. Returns whether
    /// the shop existed.
    pub async fn delete_shop(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        let mut tx = self.pool.begin().await?;
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

    /// Rows of the shop left anywhere, the shop's own row included (a deleted shop has none).
    pub async fn rows_of_shop(&self, shop: &ShopDomain) -> Result<i64, AppError> {
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

    /// Readiness: the database answers a query.
    pub async fn ping(&self) -> Result<(), AppError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

fn create_sqlite_parent_dir(url: &str) -> Result<(), AppError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)?;
        }
    }
    Ok(())
}

pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
