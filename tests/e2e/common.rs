//! The test harness: a fresh app per test (own data folder, own database), one shared model.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use tower::ServiceExt;

use base64::Engine;
use clap::Parser;
use kindred::app::App;
use kindred::catalog::read_catalogue;
use kindred::catalog::service::{CatalogService, IngestReport};
use kindred::clock::Clock;
use kindred::config::{Cli, Settings};
use kindred::domain::ShopDomain;
use kindred::progress::Silent;
use kindred::shopify::ShopifyService;
use kindred::startup::{LoadedModel, Parts};
use kindred::storage::SqlStore;
use kindred::stores::prelude::*;
use kindred::stores::{generate_key, KeyOrigin, KeyScope};
use kindred_embedder::{default_model_dir, BertEmbedder, DevicePreference, EmbedError, Embedder};
use kindred_retriever::exact_batched::ExactDevice;

pub use crate::kindred_process::{collection_of, qdrant_url};

pub use crate::fake_shopify::shared_data;

pub const YOGA_2026_01_13: &str = "catalogs/yoga-stores/2026-01-13";

/// The key the test apps sign customer tokens with.
pub const IDENTITY_KEY: &[u8; 32] = b"kindred-tests-customer-token-key";

/// The real model, with the vectors of texts already seen kept, so the many tests that
/// import the same real catalogue pay for its embedding once.
struct MemoisedModel {
    inner: BertEmbedder,
    seen: Mutex<HashMap<String, Vec<f32>>>,
}

impl Embedder for MemoisedModel {
    fn dimension(&self) -> usize {
        self.inner.dimension()
    }
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let missing: Vec<String> = {
            let seen = self.seen.lock().unwrap();
            let mut missing: Vec<String> = texts
                .iter()
                .filter(|t| !seen.contains_key(*t))
                .cloned()
                .collect();
            missing.sort();
            missing.dedup();
            missing
        };
        if !missing.is_empty() {
            let vectors = self.inner.embed(&missing)?;
            self.seen
                .lock()
                .unwrap()
                .extend(missing.into_iter().zip(vectors));
        }
        let seen = self.seen.lock().unwrap();
        Ok(texts.iter().map(|t| seen[t].clone()).collect())
    }
}

pub fn model() -> Arc<dyn Embedder> {
    static MODEL: OnceLock<Arc<dyn Embedder>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let dir = default_model_dir();
            let inner =
                BertEmbedder::load(&dir, DevicePreference::Cpu, 2_048).unwrap_or_else(|err| {
                    panic!(
                        "the model is needed at {} ({err}); run scripts/fetch-model.sh",
                        dir.display()
                    )
                });
            Arc::new(MemoisedModel {
                inner,
                seen: Mutex::default(),
            })
        })
        .clone()
}

/// The databases every storage-touching test runs against.
pub fn databases() -> Vec<Database> {
    let mut dbs = vec![Database::Sqlite];
    match std::env::var("KINDRED_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => dbs.push(Database::Postgres(url)),
        _ => {
            // Straight to stderr: the test harness would swallow eprintln! of a passing test.
            let _ = writeln!(
                std::io::stderr(),
                "PostgreSQL runs skipped: KINDRED_TEST_DATABASE_URL is not set (scripts/test.sh sets it)"
            );
        }
    }
    dbs
}

#[derive(Debug, Clone)]
pub enum Database {
    Sqlite,
    Postgres(String),
}

pub struct TestApp {
    pub router: Router,
    pub catalog: CatalogService,
    pub recommender: kindred::recommend::Recommender,
    pub store: SqlStore,
    pub admin_key: String,
    pub database_url: String,
    pub shopify: ShopifyService,
    /// Admin URL template of the (fake) Shopify this app talks to.
    pub shopify_admin: String,
    /// The clock it was given, which its replicas share.
    clock: Option<Arc<dyn Clock>>,
    /// Last, so it is removed after everything that has files in it is closed.
    pub data_dir: tempfile::TempDir,
}

/// The settings of a test app, as `kindred serve` would read them: its own folder and
/// database, the fake Shopify, and limits a test can reach. With `QDRANT_URL` set, its
/// vectors go to that server in a collection of its own (test apps share shop names).
fn settings(data_dir: &Path, database_url: &str, shopify_admin: &str) -> Settings {
    let identity_key = base64::engine::general_purpose::STANDARD.encode(IDENTITY_KEY);
    let dir = data_dir.display().to_string();
    let args = [
        "kindred",
        "--data-dir",
        &dir,
        "--database-url",
        database_url,
        "--shopify-api-key",
        crate::fake_shopify::CLIENT_ID,
        "--shopify-api-secret",
        crate::fake_shopify::SECRET,
        "--shopify-scopes",
        "read_products,read_inventory",
        "--app-url",
        "https://kindred.test",
        "--shopify-admin-url",
        shopify_admin,
        "--bulk-poll-secs",
        "0.2",
        "--events-per-minute",
        "600",
        "--key-requests-per-minute",
        "6000",
        "--client-requests-per-minute",
        "600",
        "--proxy-requests-per-minute",
        "1200",
        "--identity-key",
        &identity_key,
        "--max-body-bytes",
        "1048576",
        "--max-webhook-body-bytes",
        "262144",
        "--max-storefront-body-bytes",
        "65536",
        "--request-timeout-secs",
        "30",
        // Leases and claims of a replica that died pass on within a test's patience.
        "--lease-secs",
        "2",
        "--client-ip-header",
        "x-test-client",
        // Tests that measure the holdout turn it on; the rest see every shopper served.
        "--default-holdout-percent",
        "0",
        "migrate",
    ];
    let mut settings = Cli::try_parse_from(args).unwrap().settings;
    settings.qdrant_url = qdrant_url();
    settings.qdrant_collection = collection_of(data_dir.as_ref());
    settings
}

/// Where apps that do not use a fake Shopify send Admin API calls: nothing listens there.
const NO_SHOPIFY: &str = "http://127.0.0.1:9/{shop}";

impl TestApp {
    pub async fn spawn(database: &Database) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let database_url = fresh_database(database, data_dir.path()).await;
        Self::open(data_dir, database_url, NO_SHOPIFY.to_owned()).await
    }

    /// A fresh app that tells time by `clock`.
    pub async fn spawn_with_clock(database: &Database, clock: Arc<dyn Clock>) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let database_url = fresh_database(database, data_dir.path()).await;
        Self::open_with_clock(data_dir, database_url, NO_SHOPIFY.to_owned(), Some(clock)).await
    }

    /// A fresh app whose Shopify is the given (fake) Admin URL template.
    pub async fn spawn_with_shopify(database: &Database, admin_template: &str) -> Self {
        let (data_dir, database_url, _) = Self::spawn(database).await.close().await;
        Self::open(data_dir, database_url, admin_template.to_owned()).await
    }

    /// Closes everything (the vector index with it) but the data folder and database.
    async fn close(self) -> (tempfile::TempDir, String, String) {
        let Self {
            data_dir,
            database_url,
            router,
            catalog,
            recommender,
            store,
            shopify,
            shopify_admin,
            ..
        } = self;
        drop((router, catalog, recommender, shopify));
        store.pool().close().await;
        (data_dir, database_url, shopify_admin)
    }

    /// Opens (or re-opens, after a "restart") the app on an existing data folder and database.
    pub async fn open(
        data_dir: tempfile::TempDir,
        database_url: String,
        shopify_admin: String,
    ) -> Self {
        Self::open_with_clock(data_dir, database_url, shopify_admin, None).await
    }

    async fn open_with_clock(
        data_dir: tempfile::TempDir,
        database_url: String,
        shopify_admin: String,
        clock: Option<Arc<dyn Clock>>,
    ) -> Self {
        Self::open_parts(data_dir, database_url, shopify_admin, clock, None).await
    }

    /// A fresh app on its clock whose vector index is the one given (a test double that can
    /// go away, say), and whose Shopify is the given (fake) Admin URL template.
    pub async fn spawn_with_index(
        database: &Database,
        admin_template: &str,
        clock: Arc<dyn Clock>,
        index: Arc<dyn kindred_retriever::VectorIndex>,
    ) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let url = fresh_database(database, data_dir.path()).await;
        let template = admin_template.to_owned();
        Self::open_parts(data_dir, url, template, Some(clock), Some(index)).await
    }

    /// Another replica of this app: the same database, vector index and clock, a folder of
    /// its own, its own name to the leases and inbox claims.
    pub async fn replica(&self) -> Self {
        let index = self.catalog.index().clone();
        let (data_dir, url) = (tempfile::tempdir().unwrap(), self.database_url.clone());
        let clock = self.clock.clone();
        Self::open_parts(
            data_dir,
            url,
            self.shopify_admin.clone(),
            clock,
            Some(index),
        )
        .await
    }

    async fn open_parts(
        data_dir: tempfile::TempDir,
        database_url: String,
        shopify_admin: String,
        clock: Option<Arc<dyn Clock>>,
        index: Option<Arc<dyn kindred_retriever::VectorIndex>>,
    ) -> Self {
        let settings = settings(data_dir.path(), &database_url, &shopify_admin);
        let parts = Parts {
            model: Some(LoadedModel {
                embedder: model(),
                exact_device: ExactDevice::cpu(),
            }),
            clock: clock.clone(),
            index,
        };
        let app = App::build_with(&settings, parts).await.unwrap();
        let store = app.components.store.clone();
        let admin_key = generate_key(KeyScope::Admin);
        store
            .add_key(&admin_key, KeyScope::Admin, None, KeyOrigin::Generated)
            .await
            .unwrap();
        Self {
            router: app.router(),
            catalog: app.components.catalog.clone(),
            recommender: app.components.recommender.clone(),
            shopify: app
                .shopify
                .clone()
                .expect("the test settings configure Shopify"),
            store,
            admin_key,
            database_url,
            data_dir,
            shopify_admin,
            clock,
        }
    }

    /// Closes everything but the data folder and database, and opens them again.
    pub async fn restart(self) -> Self {
        let (data_dir, database_url, shopify_admin) = self.close().await;
        Self::open(data_dir, database_url, shopify_admin).await
    }

    /// Waits for the shop's interaction models to be built from what is stored now (a
    /// request is answered at once with the models it finds, and only starts a build).
    pub async fn models_current(&self, shop: &str) {
        let shop = ShopDomain::parse(shop).unwrap();
        self.recommender.refresh_interactions(&shop).await.unwrap();
    }

    pub async fn import(&self, shop: &str, rel: &str) -> IngestReport {
        let catalogue = read_catalogue(&shared_data(rel)).unwrap();
        let shop = ShopDomain::parse(shop).unwrap();
        self.catalog
            .ingest(&shop, catalogue.products, &Silent)
            .await
            .unwrap()
    }

    pub async fn storefront_key(&self, shop: &str) -> String {
        let shop = ShopDomain::parse(shop).unwrap();
        self.store.ensure_shop(&shop).await.unwrap();
        let key = generate_key(KeyScope::Storefront);
        self.store
            .add_key(
                &key,
                KeyScope::Storefront,
                Some(&shop),
                KeyOrigin::Generated,
            )
            .await
            .unwrap();
        key
    }

    /// A new merchant key (secret, server-side) of the shop, created if needed.
    pub async fn merchant_key(&self, shop: &str) -> String {
        let shop = ShopDomain::parse(shop).unwrap();
        self.store.ensure_shop(&shop).await.unwrap();
        let key = generate_key(KeyScope::Merchant);
        self.store
            .add_key(&key, KeyScope::Merchant, Some(&shop), KeyOrigin::Generated)
            .await
            .unwrap();
        key
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let (status, _, body) = self
            .request_with_headers(method, path, key, &[], body)
            .await;
        (status, body)
    }

    /// A request with extra headers; returns the status, the response headers and the body.
    pub async fn request_with_headers(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        let mut builder = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        if let Some(key) = key {
            builder = builder.header("authorization", format!("Bearer {key}"));
        }
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        let request = builder
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let response_headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        (status, response_headers, json)
    }

    /// `POST /api/v1/events` with `{"events": events}`.
    pub async fn send_events(&self, key: &str, events: Value) -> (StatusCode, Value) {
        let body = serde_json::to_vec(&serde_json::json!({ "events": events })).unwrap();
        self.request(Method::POST, "/api/v1/events", Some(key), Some(body))
            .await
    }

    pub async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, Some(key), None).await
    }

    pub async fn similar(&self, key: &str, id: u64, query: &str) -> Vec<Value> {
        let (status, body) = self
            .get(&format!("/api/v1/products/{id}/similar?{query}"), key)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["recommendations"].as_array().unwrap().clone()
    }
}

/// The setting of a server run as its own process against `fake`: a fresh database of the
/// kind `db` says (in `data_dir` for SQLite), and a client that follows no redirect.
pub async fn process_env(
    db: &Database,
    fake: &crate::fake_shopify::FakeShopify,
    data_dir: &Path,
) -> (crate::kindred_process::ServerEnv, reqwest::Client) {
    let env = crate::kindred_process::ServerEnv {
        binary: env!("CARGO_BIN_EXE_kindred").into(),
        data_dir: data_dir.to_owned(),
        database_url: fresh_database(db, data_dir).await,
        admin_template: fake.admin_template(),
        admin_key: kindred::stores::generate_key(kindred::stores::KeyScope::Admin),
        extra: Vec::new(),
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    (env, client)
}

/// A new, empty database: a SQLite file in `data_dir`, or a new PostgreSQL database.
pub async fn fresh_database(database: &Database, data_dir: &Path) -> String {
    match database {
        Database::Sqlite => format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("kindred.db").display()
        ),
        Database::Postgres(admin_url) => {
            crate::kindred_process::fresh_postgres_database(admin_url).await
        }
    }
}

/// The error body's stable code.
/// A Node package of the repository the tests drive (`rel` from the workspace root), its
/// development packages installed (`scripts/storefront-tools.sh` runs `npm ci` in each).
pub fn node_package(rel: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    assert!(
        dir.join("node_modules").is_dir(),
        "{rel}: its Node packages are not installed: run scripts/storefront-tools.sh"
    );
    dir
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error body: {body}"))
}

/// The product ids of a shelf (`{"recommendations": [{"id": "…"}, …]}`), in order.
pub fn shelf_ids(shelf: &Value) -> Vec<u64> {
    shelf["recommendations"]
        .as_array()
        .unwrap_or_else(|| panic!("not a shelf: {shelf}"))
        .iter()
        .map(|r| r["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// A client id, as the storefront script would send it.
pub fn client(id: &str) -> kindred::domain::ClientId {
    kindred::domain::ClientId::parse(id).unwrap()
}
