//! Kindred as its own process, configured as a Shopify app against a (fake) Shopify: started,
//! killed, stopped, installed over HTTP and fed webhooks. Shared by the replay test and the
//! webhook benchmark.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fake_shopify::{callback_query, state_of, webhook_headers, CLIENT_ID, SECRET};

/// What every start of the server shares: its folders, database and Shopify.
pub struct ServerEnv {
    pub binary: PathBuf,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub admin_template: String,
    pub admin_key: String,
    /// More settings for this server (a replica's name, a short lease).
    pub extra: Vec<(String, String)>,
}

/// A Kindred server process on its own port.
pub struct KindredServer {
    child: Child,
    pub base: String,
}

impl KindredServer {
    pub async fn start(env: &ServerEnv, client: &reqwest::Client) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(env.data_dir.join("server.log"))
            .unwrap();
        let mut command = Command::new(&env.binary);
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::var("HOME").unwrap_or_default())
            .env("KINDRED_LISTEN", format!("127.0.0.1:{port}"))
            .env("KINDRED_DATA_DIR", &env.data_dir)
            .env("DATABASE_URL", &env.database_url)
            .env("KINDRED_MODEL_DIR", kindred_embedder::default_model_dir())
            .env("KINDRED_DEVICE", "cpu")
            .env("KINDRED_ADMIN_KEY", &env.admin_key)
            .env("SHOPIFY_API_KEY", CLIENT_ID)
            .env("SHOPIFY_API_SECRET", SECRET)
            .env("KINDRED_APP_URL", &base)
            .env("KINDRED_SHOPIFY_ADMIN_URL", &env.admin_template)
            .env("KINDRED_BULK_POLL_SECS", "1")
            .env("KINDRED_DEFAULT_HOLDOUT_PERCENT", "0")
            .env("KINDRED_LOG_FORMAT", "json")
            .env("RUST_LOG", "info,qdrant_edge=warn")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log));
        if let Some(url) = qdrant_url() {
            command
                .env("QDRANT_URL", url)
                .env("KINDRED_QDRANT_COLLECTION", collection_of(&env.data_dir));
        }
        // Last, so a replica's own settings win.
        command.envs(env.extra.iter().map(|(k, v)| (k, v)));
        let child = command.spawn().unwrap();
        let server = Self { child, base };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(response) = client.get(format!("{}/ready", server.base)).send().await {
                if response.status().is_success() {
                    return server;
                }
            }
            assert!(
                Instant::now() < deadline,
                "server did not become ready:\n{}",
                log_tail(&env.data_dir)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The server's Prometheus exposition.
    pub async fn metrics(&self, client: &reqwest::Client) -> String {
        let response = client.get(format!("{}/metrics", self.base)).send().await;
        response.unwrap().text().await.unwrap()
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, and wait for the graceful stop.
    pub fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "server exited with {exit}");
    }

    /// Installs the app for `shop` the way a merchant does (authorization code grant).
    pub async fn install(&self, client: &reqwest::Client, shop: &str) {
        let response = client
            .get(format!("{}/auth?shop={shop}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        let state = state_of(response.headers()["location"].to_str().unwrap());
        let response = client
            .get(format!(
                "{}/auth/callback?{}",
                self.base,
                callback_query(shop, &state)
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            303,
            "{}",
            response.text().await.unwrap_or_default()
        );
    }

    /// The shop's Shopify status (install, sync, inbox counts), as operators see it.
    pub async fn shop_status(
        &self,
        client: &reqwest::Client,
        env: &ServerEnv,
        shop: &str,
    ) -> Value {
        client
            .get(format!("{}/api/v1/shops/{shop}/shopify", self.base))
            .bearer_auth(&env.admin_key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Polls the shop's status until `done` holds; fails on a failed sync.
    pub async fn wait_for(
        &self,
        client: &reqwest::Client,
        env: &ServerEnv,
        shop: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(900);
        loop {
            let status = self.shop_status(client, env, shop).await;
            if done(&status) {
                return status;
            }
            assert_ne!(status["sync"]["state"], "failed", "{status}");
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {status}\n{}",
                log_tail(&env.data_dir)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A new, empty PostgreSQL database on the server of `admin_url`; returns its URL.
pub async fn fresh_postgres_database(admin_url: &str) -> String {
    use sqlx::{Connection, Executor};
    let name = format!("kindred_test_{:016x}", rand::random::<u64>());
    let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap();
    format!("{base}/{name}")
}

/// The last lines of the server's log, for failure messages.
pub fn log_tail(data_dir: &Path) -> String {
    let log = std::fs::read_to_string(data_dir.join("server.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// One webhook delivery as Shopify would send it.
#[derive(Clone)]
pub struct Delivery {
    pub topic: &'static str,
    pub webhook_id: String,
    pub event_id: String,
    pub body: Vec<u8>,
}

/// Deliveries in the order Shopify makes of them: roughly as sent, never reliably. Each may
/// overtake up to `reach` of those ahead, and `retries` of them arrive again anywhere, every
/// second one under a new webhook id (the same event delivered twice).
pub fn disorder(
    traffic: Vec<Delivery>,
    rng: &mut impl rand::Rng,
    reach: usize,
    retries: usize,
) -> Vec<Delivery> {
    use rand::seq::IndexedRandom;
    let mut keyed: Vec<(usize, Delivery)> = traffic
        .into_iter()
        .enumerate()
        .map(|(i, d)| (i + rng.random_range(0..reach), d))
        .collect();
    keyed.sort_by_key(|(k, _)| *k);
    let mut traffic: Vec<Delivery> = keyed.into_iter().map(|(_, d)| d).collect();
    let again: Vec<Delivery> = traffic.choose_multiple(rng, retries).cloned().collect();
    for (n, mut duplicate) in again.into_iter().enumerate() {
        if n % 2 == 1 {
            duplicate.webhook_id = format!("{}-again", duplicate.webhook_id);
        }
        let at = rng.random_range(0..traffic.len());
        traffic.insert(at, duplicate);
    }
    traffic
}

/// Sends a delivery to `base`; true when the app acknowledged it (Shopify retries otherwise).
/// Any answer but a 2xx fails: these deliveries are all well-formed.
pub async fn send(client: &reqwest::Client, base: &str, shop: &str, delivery: &Delivery) -> bool {
    let mut request = client
        .post(format!("{base}/webhooks"))
        .body(delivery.body.clone());
    for (name, value) in webhook_headers(
        delivery.topic,
        shop,
        &delivery.webhook_id,
        &delivery.event_id,
        &delivery.body,
    ) {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert!(
                status.is_success(),
                "{} {}: {status} {body}",
                delivery.topic,
                delivery.webhook_id
            );
            true
        }
        Err(_) => false, // the app is down: Shopify keeps the delivery and retries
    }
}

/// A test app's collection on the Qdrant server: named after its data folder, so a restart
/// finds its vectors again and no two apps share one.
pub fn collection_of(data_dir: &Path) -> String {
    let name: String = data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    format!("kindred_test_{name}")
}

/// The Qdrant server the suites run against, when one is given; the embedded engine else.
pub fn qdrant_url() -> Option<String> {
    std::env::var("QDRANT_URL")
        .ok()
        .filter(|url| !url.is_empty())
}
