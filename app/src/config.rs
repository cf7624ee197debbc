//! Typed configuration: every setting is a CLI flag with an environment variable behind it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::shopify::Secret;

/// Kindred: AI product recommendations for Shopify and headless shops.
#[derive(Debug, Parser)]
#[command(name = "kindred", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Import a catalogue file or folder (storefront products.json, Admin/webhook JSON, CSV) into a shop.
    Import(ImportArgs),
    /// Manage shops and their storefront keys.
    #[command(subcommand)]
    Shop(ShopCommand),
    /// Create an admin key for the write endpoints; the key is printed once and stored hashed.
    AdminKey {
        /// Use this key instead of generating one (e.g. from a secret manager).
        #[arg(long, env = "KINDRED_NEW_ADMIN_KEY", hide_env_values = true)]
        key: Option<String>,
    },
    /// List and revoke keys (a shop's, or the admin keys).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Re-embed and re-index every product whose vector is missing or stale.
    Reindex {
        #[arg(long)]
        shop: Option<String>,
        /// Re-embed everything, not only what is missing or stale (after changing the model).
        #[arg(long)]
        force: bool,
    },
    /// Build the approximate-nearest-neighbour index now (the server also does this in the background).
    Optimize,
    /// Compute every product's similar-products list by exact search over the whole
    /// catalogue (on the GPU in a CUDA build) and store it; the server serves from these
    /// lists and builds them itself once a catalogue has been quiet.
    SimilarLists {
        #[arg(long)]
        shop: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Offline evaluation of the recommendation strategies on real interaction data;
    /// prints a markdown table (deterministic: same data, same table).
    Eval {
        /// Folder holding `online-retail/` and `diginetica-sample/`.
        #[arg(long, default_value = "../shared/data/interactions")]
        data: std::path::PathBuf,
        /// Skip the embedding model (content-only rows become n/a).
        #[arg(long)]
        no_content: bool,
        /// Evaluate search instead (NDCG@10 of lexical, semantic and hybrid on queries made
        /// from the real catalogues).
        #[arg(long)]
        search: bool,
        /// Folder holding `yoga-stores/` and `admin-format/` (with `--search`).
        #[arg(long, default_value = "../shared/data/catalogs")]
        catalogs: std::path::PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KINDRED_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Shop domain, e.g. `demo-yoga.myshopify.com`; the shop is created if it does not exist.
    #[arg(long)]
    pub shop: String,
    /// A file or a folder of files (`*.json`, `*.jsonl`, `*.csv`; names starting with `_` are skipped).
    pub path: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ShopCommand {
    /// Create a shop (if needed) and a storefront key for it; the key is printed once.
    CreateKey {
        #[arg(long)]
        shop: String,
        /// Use this key instead of generating one (refused if it is already in use).
        #[arg(long)]
        key: Option<String>,
        /// A merchant key (secret, for the shop's server) instead of a storefront key.
        #[arg(long)]
        merchant: bool,
    },
    /// List shops with their product counts.
    List,
    /// Print the id and title of the shop's products whose title contains the text.
    FindProduct {
        #[arg(long)]
        shop: String,
        #[arg(long)]
        title: String,
    },
    /// Delete a shop and everything it owns: rows, keys and vectors.
    Delete {
        #[arg(long)]
        shop: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Every key of a shop, or the admin keys without `--shop`: id, scope, shop, origin, state.
    List {
        #[arg(long)]
        shop: Option<String>,
    },
    /// Revoke a key by its id (as `list` prints it).
    Revoke {
        /// The shop whose key it is; leave out for an admin key.
        #[arg(long)]
        shop: Option<String>,
        key_id: String,
    },
}

/// Settings shared by every command.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Folder for the embedded database and vector store.
    #[arg(long, env = "KINDRED_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
    /// Database URL (`postgres://…` or `sqlite://…`); defaults to SQLite in the data folder.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
    /// Qdrant server URL; when unset the embedded engine stores vectors in the data folder.
    #[arg(long, env = "QDRANT_URL", global = true)]
    pub qdrant_url: Option<String>,
    /// API key for the Qdrant server.
    #[arg(long, env = "QDRANT_API_KEY", hide_env_values = true, global = true)]
    pub qdrant_api_key: Option<String>,
    /// Collection used on a Qdrant server.
    #[arg(
        long,
        env = "KINDRED_QDRANT_COLLECTION",
        default_value = "kindred_products",
        global = true
    )]
    pub qdrant_collection: String,
    /// How long to wait at start for a Qdrant server that cannot be reached (down or
    /// restarting), retrying with backoff, before giving up.
    #[arg(
        long,
        env = "KINDRED_INDEX_WAIT_SECS",
        default_value_t = 300,
        global = true
    )]
    pub index_wait_secs: u64,
    /// Sentence-embedding model folder; defaults to the cache that `scripts/fetch-model.sh` fills.
    #[arg(long, env = "KINDRED_MODEL_DIR", global = true)]
    pub model_dir: Option<PathBuf>,
    /// Where to run the model: auto (CUDA when built with it and present), cpu or cuda.
    #[arg(long, env = "KINDRED_DEVICE", default_value = "auto", global = true)]
    pub device: String,
    /// Most tokens (batch size x longest sequence) in one model batch.
    #[arg(
        long,
        env = "KINDRED_MAX_BATCH_TOKENS",
        default_value_t = 2_048,
        global = true
    )]
    pub max_batch_tokens: usize,
    /// Vector instructions of the CPU kernels: auto (the widest the processor has: AVX-512,
    /// else AVX2, else scalar), or avx512, avx2 or scalar to hold them to one.
    #[arg(
        long,
        env = "KINDRED_CPU_INSTRUCTIONS",
        default_value = "auto",
        global = true
    )]
    pub cpu_instructions: String,
    /// Precision of the CPU kernels' projections: f32 (the model's own answers) or int8
    /// (opt-in: several times faster on processors with AVX-512 VNNI, vectors within about
    /// 0.998 cosine of f32; switching re-embeds the catalogue, since the model id changes).
    #[arg(
        long,
        env = "KINDRED_CPU_PRECISION",
        default_value = "f32",
        global = true
    )]
    pub cpu_precision: String,
    /// Admin key accepted by the write endpoints; stored only as a hash.
    #[arg(long, env = "KINDRED_ADMIN_KEY", hide_env_values = true, global = true)]
    pub admin_key: Option<String>,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "KINDRED_MAX_BODY_BYTES", default_value_t = 16 * 1024 * 1024, global = true)]
    pub max_body_bytes: usize,
    /// Largest body a shopper's browser may send (events through the public key or the App
    /// Proxy), in bytes; a batch of 100 ordinary events is a few kilobytes.
    #[arg(long, env = "KINDRED_MAX_STOREFRONT_BODY_BYTES", default_value_t = 256 * 1024, global = true)]
    pub max_storefront_body_bytes: usize,
    /// Seconds between background ANN index builds when vectors changed.
    #[arg(
        long,
        env = "KINDRED_OPTIMIZE_INTERVAL_SECS",
        default_value_t = 30,
        global = true
    )]
    pub optimize_interval_secs: u64,
    /// Seconds a shop's catalogue must be unchanged before the server computes its stored
    /// similar-products lists; 0 turns that job off (the ANN index then answers everything).
    #[arg(
        long,
        env = "KINDRED_SIMILAR_LISTS_QUIET_SECS",
        default_value_t = 60,
        global = true
    )]
    pub similar_lists_quiet_secs: u64,
    /// Largest webhook body accepted, in bytes.
    #[arg(long, env = "KINDRED_MAX_WEBHOOK_BODY_BYTES", default_value_t = 2 * 1024 * 1024, global = true)]
    pub max_webhook_body_bytes: usize,
    /// The Shopify app's client id (API key). Shopify features are off without it.
    #[arg(long, env = "SHOPIFY_API_KEY", global = true)]
    pub shopify_api_key: Option<String>,
    /// The Shopify app's client secret.
    #[arg(
        long,
        env = "SHOPIFY_API_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub shopify_api_secret: Option<Secret>,
    /// The previous client secret, accepted for signatures while a rotation is under way.
    #[arg(
        long,
        env = "SHOPIFY_API_SECRET_PREVIOUS",
        hide_env_values = true,
        global = true
    )]
    pub shopify_api_secret_previous: Option<Secret>,
    /// Access scopes asked for at install (keep in step with shopify.app.toml).
    #[arg(
        long,
        env = "SHOPIFY_SCOPES",
        default_value = "read_products,read_inventory,read_orders,write_app_proxy,write_pixels,read_customer_events",
        global = true
    )]
    pub shopify_scopes: String,
    /// Public URL of this server (for the OAuth redirect), e.g. `https://kindred.example.com`.
    #[arg(long, env = "KINDRED_APP_URL", global = true)]
    pub app_url: Option<String>,
    /// Admin API base URL of a shop; `{shop}` is replaced by its domain. Tests point it at a fake Shopify.
    #[arg(
        long,
        env = "KINDRED_SHOPIFY_ADMIN_URL",
        default_value = "https://{shop}",
        global = true
    )]
    pub shopify_admin_url: String,
    /// Key that seals Shopify tokens at rest: base64 of 32 bytes. Default: a key file created in the data folder.
    #[arg(long, env = "KINDRED_TOKEN_KEY", hide_env_values = true, global = true)]
    pub token_key: Option<Secret>,
    /// Seconds between polls of a running bulk operation (the finish webhook cuts the wait
    /// short); fractions allowed, at least 0.1.
    #[arg(
        long,
        env = "KINDRED_BULK_POLL_SECS",
        default_value_t = 10.0,
        global = true
    )]
    pub bulk_poll_secs: f64,
    /// Shopper events a shop may send per minute (`POST /api/v1/events`; 429 beyond it).
    #[arg(
        long,
        env = "KINDRED_EVENTS_PER_MINUTE",
        default_value_t = 12_000,
        global = true
    )]
    pub events_per_minute: u32,
    /// Requests per minute one storefront key may make, all its clients together (429 with
    /// `Retry-After` beyond it).
    #[arg(
        long,
        env = "KINDRED_KEY_REQUESTS_PER_MINUTE",
        default_value_t = 60_000,
        global = true
    )]
    pub key_requests_per_minute: u32,
    /// Requests per minute one client address may make with one storefront key, so one
    /// browser or script cannot spend the budget every shopper of the key shares.
    #[arg(
        long,
        env = "KINDRED_CLIENT_REQUESTS_PER_MINUTE",
        default_value_t = 300,
        global = true
    )]
    pub client_requests_per_minute: u32,
    /// Header in which a trusted proxy in front of Kindred puts the client's address
    /// (e.g. `x-forwarded-for`: its last entry is used); unset, the socket's peer address.
    #[arg(long, env = "KINDRED_CLIENT_IP_HEADER", global = true)]
    pub client_ip_header: Option<String>,
    /// Seconds a request may take before it is answered 503.
    #[arg(
        long,
        env = "KINDRED_REQUEST_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub request_timeout_secs: u64,
    /// Key that signs customer tokens (headless storefronts): base64 of 32 bytes; every
    /// replica needs the same. Default: a key file created in the data folder.
    #[arg(
        long,
        env = "KINDRED_IDENTITY_KEY",
        hide_env_values = true,
        global = true
    )]
    pub identity_key: Option<Secret>,
    /// Requests per minute a shop's storefront may make through the App Proxy.
    #[arg(
        long,
        env = "KINDRED_PROXY_REQUESTS_PER_MINUTE",
        default_value_t = 30_000,
        global = true
    )]
    pub proxy_requests_per_minute: u32,
    /// Days shopper events are kept.
    #[arg(
        long,
        env = "KINDRED_EVENT_RETENTION_DAYS",
        default_value_t = 90,
        global = true
    )]
    pub event_retention_days: u32,
    /// The holdout a shop starts with, in percent of its shoppers (they get the control, and
    /// measure what Kindred adds); 0 starts shops without one. The merchant changes it in
    /// the admin.
    #[arg(
        long,
        env = "KINDRED_DEFAULT_HOLDOUT_PERCENT",
        default_value_t = 5.0,
        global = true
    )]
    pub default_holdout_percent: f64,
    /// This process's name to the other replicas on the same database (a pod's name, say):
    /// the holder of its leases and inbox claims. Must differ between replicas; by default
    /// the host name, the process id and a random part.
    #[arg(long, env = "KINDRED_REPLICA_ID", global = true)]
    pub replica_id: Option<String>,
    /// Seconds a replica's claim on webhook deliveries and its job leases run unrenewed:
    /// how long the work of a replica that died waits before another replica takes it.
    #[arg(long, env = "KINDRED_LEASE_SECS", default_value_t = 30, global = true)]
    pub lease_secs: u64,
    /// Seconds between reconciliation passes (products updated since the last pass).
    #[arg(
        long,
        env = "KINDRED_RECONCILE_INTERVAL_SECS",
        default_value_t = 900,
        global = true
    )]
    pub reconcile_interval_secs: u64,
    /// Log format: `pretty` or `json`.
    #[arg(
        long,
        env = "KINDRED_LOG_FORMAT",
        default_value = "pretty",
        global = true
    )]
    pub log_format: String,
}

impl Settings {
    /// The database URL in use: the configured one, or a SQLite file in the data folder.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("kindred.db").display()
            ),
        }
    }

    pub fn token_key_path(&self) -> PathBuf {
        self.data_dir.join("token.key")
    }

    pub fn identity_key_path(&self) -> PathBuf {
        self.data_dir.join("identity.key")
    }

    pub fn vectors_dir(&self) -> PathBuf {
        self.data_dir.join("vectors")
    }

    /// How long claims and leases run unrenewed (at least a second).
    pub fn lease(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.lease_secs.max(1))
    }
}
