//! Relational storage with sqlx: SQLite (the embedded default) or PostgreSQL, one portable
//! SQL dialect through sqlx's `Any` driver, and one set of migrations for both.

mod events;
mod inbox;
mod installs;
mod keys;
mod leases;
mod models;
mod orders;
mod privacy;
mod products;
mod proof;
mod shops;
mod similar;
mod syncs;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyRow;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection, Executor};

use crate::clock::{self, Clock};
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::stores::Stores;

/// Every table holding a shop's rows, with its shop column. A new table of shop data must
/// be listed here, or deleting a shop (and Shopify's `shop/redact`) would leave it behind.
const SHOP_TABLES: [(&str, &str); 20] = [
    ("interaction_models", "shop_domain"),
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
    ("orders", "shop_domain"),
    ("order_refunds", "shop_domain"),
    ("order_syncs", "shop_domain"),
    ("web_pixels", "shop_domain"),
    ("shop_settings", "shop_domain"),
    ("experiments", "shop_domain"),
    ("shop_plans", "shop_domain"),
];

/// Ids bound in one `IN (…)` list. Databases cap bound parameters (SQLite at 32,766), and
/// it bounds each statement's text, which the slow-statement log prints whole (about 3 KB).
const IDS_PER_STATEMENT: usize = 500;

/// `$first, $first+1, …`: `count` numbered placeholders (both databases read `$n` through
/// the Any driver).
fn numbered_placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl SqlStore {
    /// The rows `select` reads (a query whose `WHERE` takes the shop's domain as `$1` and
    /// can go on with `AND`) whose `column` is one of `ids`, in statements of at most
    /// `IDS_PER_STATEMENT` ids.
    async fn rows_among_ids(
        &self,
        select: &str,
        column: &str,
        shop: &ShopDomain,
        ids: &[u64],
    ) -> Result<Vec<AnyRow>, AppError> {
        let mut rows = Vec::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "{select} AND {column} IN ({})",
                numbered_placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(shop.as_str());
            for id in chunk {
                query = query.bind(*id as i64);
            }
            rows.extend(query.fetch_all(&self.pool).await?);
        }
        Ok(rows)
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// The database behind every store trait.
#[derive(Clone, Debug)]
pub struct SqlStore {
    pool: AnyPool,
    is_postgres: bool,
    /// Stamps rows (received, created, expires) and reads windows back.
    clock: Arc<dyn Clock>,
    /// Who this process is to other replicas on the same database: the holder of its
    /// leases and inbox claims.
    replica: Arc<str>,
}

/// SQLite is one process's file: its writers queue behind each other (imports, webhooks),
/// so they may wait longer than a PostgreSQL lock would.
const SQLITE_BUSY_MS: u64 = 5_000;

/// How long the database may keep a request waiting, all together below Shopify's 5-second
/// webhook deadline: a free connection, one statement and one lock wait (PostgreSQL).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
const STATEMENT_TIMEOUT_MS: u64 = 3_000;
const LOCK_TIMEOUT_MS: u64 = 2_000;

impl SqlStore {
    /// Connects (creating a SQLite file when needed) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, AppError> {
        sqlx::any::install_default_drivers();
        let is_sqlite = url.starts_with("sqlite:");
        if is_sqlite {
            create_sqlite_parent_dir(url)?;
        }
        let options = AnyConnectOptions::from_str(url)?;
        // Migrations on a connection of their own, without the statement limit: building an
        // index over a large table may take minutes, once.
        {
            let mut conn = sqlx::AnyConnection::connect_with(&options).await?;
            MIGRATOR.run(&mut conn).await?;
            conn.close().await?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if is_sqlite { 4 } else { 16 })
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if is_sqlite {
                        // WAL lets readers run beside the one writer; the timeout makes
                        // writers wait for each other instead of failing. FULL syncs each
                        // commit: an acknowledged webhook survives a power cut, not just a crash.
                        conn.execute(
                            format!(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                 PRAGMA busy_timeout = {SQLITE_BUSY_MS}; PRAGMA foreign_keys = ON;"
                            )
                            .as_str(),
                        )
                        .await?;
                    } else {
                        // A statement or lock wait past these is cancelled, so a request
                        // answers (503, JSON) before Shopify's 5 s webhook deadline instead of
                        // hanging on a locked table.
                        conn.execute(
                            format!(
                                "SET statement_timeout = {STATEMENT_TIMEOUT_MS}; SET lock_timeout = {LOCK_TIMEOUT_MS}; \
                                 SET idle_in_transaction_session_timeout = 60000;"
                            )
                            .as_str(),
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            is_postgres: !is_sqlite,
            clock: clock::system(),
            replica: default_replica_id().into(),
        })
    }

    /// The same database, its leases and claims held in the name of `replica`.
    pub fn with_replica(self, replica: &str) -> Self {
        Self {
            replica: replica.into(),
            ..self
        }
    }

    /// The same database, telling time by `clock`.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// Every store the domain uses, all served by this database, on its clock.
    pub fn stores(&self) -> Stores {
        Stores::all_in(Arc::new(self.clone()), self.clock.clone())
    }

    fn now(&self) -> i64 {
        self.clock.now_millis()
    }

    /// A transaction that reads before it writes. SQLite's default transaction takes the
    /// write lock only at its first write, and a reader that another writer overtook in the
    /// meantime cannot wait for it (`database is locked` at once, whatever the busy timeout):
    /// such transactions take the lock when they begin, and wait for it there.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, AppError> {
        Ok(if self.is_postgres {
            self.pool.begin().await?
        } else {
            self.pool.begin_with("BEGIN IMMEDIATE").await?
        })
    }

    /// Inside a transaction of background work that may rightly run long (a shop's whole
    /// deletion), lifts the request statement limit for that transaction only.
    pub(crate) async fn allow_long_statements(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ) -> Result<(), AppError> {
        if self.is_postgres {
            sqlx::query("SET LOCAL statement_timeout = 600000")
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// The host, the process and a random part: unique per start, and telling an operator which
/// machine and process held a lease or applied a delivery.
fn default_replica_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "kindred".to_owned());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
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

/// Database errors reach the domain as words, sorted into "not now" and "wrong".
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        if database_unavailable(&err) {
            Self::StorageUnavailable(err.to_string())
        } else {
            Self::Storage(err.to_string())
        }
    }
}

impl From<sqlx::migrate::MigrateError> for AppError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        Self::Storage(format!("migration: {err}"))
    }
}

/// Whether a database error says "not now" rather than "wrong": no connection could be had
/// in time, the server is gone, or a statement or lock wait ran past its timeout
/// (PostgreSQL's `query_canceled` and `lock_not_available`; SQLite's busy and locked).
fn database_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => matches!(
            db.code().as_deref(),
            Some("57014" | "55P03" | "57P01" | "57P03" | "5" | "6")
        ),
        _ => false,
    }
}
