//! What the benchmarks that run the server as its own process share: a server installed on
//! a fresh database, and many senders of webhook deliveries. Included by those benchmarks
//! beside `tests/e2e/kindred_process.rs` and `tests/e2e/fake_shopify.rs`.

use std::path::Path;

use crate::kindred_process::{send, Delivery, KindredServer, ServerEnv};

/// A benchmark's server on a fresh database (SQLite in `work`, or a new database on the
/// PostgreSQL server of `postgres_admin_url`), installed by OAuth on `shop`; its client
/// keeps `senders` connections.
pub async fn installed_server(
    fake: &crate::fake_shopify::FakeShopify,
    shop: &str,
    work: &Path,
    postgres_admin_url: Option<&str>,
    senders: usize,
) -> (KindredServer, ServerEnv, reqwest::Client) {
    installed_server_with(fake, shop, work, postgres_admin_url, senders, &[]).await
}

/// `installed_server` with more settings for the server (`extra`, which win).
pub async fn installed_server_with(
    fake: &crate::fake_shopify::FakeShopify,
    shop: &str,
    work: &Path,
    postgres_admin_url: Option<&str>,
    senders: usize,
    extra: &[(&str, &str)],
) -> (KindredServer, ServerEnv, reqwest::Client) {
    let database_url = match postgres_admin_url {
        None => format!("sqlite://{}?mode=rwc", work.join("kindred.db").display()),
        Some(admin_url) => crate::kindred_process::fresh_postgres_database(admin_url).await,
    };
    let env = ServerEnv {
        binary: env!("CARGO_BIN_EXE_kindred").into(),
        data_dir: work.to_owned(),
        database_url,
        admin_template: fake.admin_template(),
        admin_key: kindred::stores::generate_key(kindred::stores::KeyScope::Admin),
        extra: extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(senders)
        .build()
        .unwrap();
    let server = KindredServer::start(&env, &client).await;
    server.install(&client, shop).await;
    (server, env, client)
}

/// Sends every delivery from `senders` concurrent senders; returns when all are acknowledged.
pub async fn send_all(
    client: &reqwest::Client,
    base: &str,
    shop: &str,
    deliveries: std::sync::Arc<Vec<Delivery>>,
    senders: usize,
) {
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let (client, base, shop, deliveries, next) = (
                client.clone(),
                base.to_owned(),
                shop.to_owned(),
                deliveries.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(delivery) = deliveries.get(n) else {
                        break;
                    };
                    assert!(send(&client, &base, &shop, delivery).await);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

/// Runs `run` on SQLite, then on PostgreSQL when `KINDRED_BENCH_DATABASE_URL` (or
/// `KINDRED_TEST_DATABASE_URL`) names a server, on a two-thread runtime: each run's row.
pub fn on_each_database<R, F>(run: impl Fn(&'static str, Option<String>) -> F) -> Vec<R>
where
    F: std::future::Future<Output = R>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let postgres = postgres_admin_url();
    let mut rows = vec![runtime.block_on(run("SQLite", None))];
    match postgres {
        Some(url) => rows.push(runtime.block_on(run("PostgreSQL", Some(url)))),
        None => eprintln!(
            "PostgreSQL skipped: set KINDRED_BENCH_DATABASE_URL (scripts/postgres-for-tests.sh prints one)"
        ),
    }
    rows
}

/// A new storefront key of `shop`, made with the admin key.
pub async fn storefront_key(
    client: &reqwest::Client,
    server: &KindredServer,
    env: &ServerEnv,
    shop: &str,
) -> String {
    let body: serde_json::Value = client
        .post(format!("{}/api/v1/shops/{shop}/keys", server.base))
        .bearer_auth(&env.admin_key)
        .json(&serde_json::json!({ "scope": "storefront" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["key"]
        .as_str()
        .unwrap_or_else(|| panic!("no key: {body}"))
        .to_owned()
}

/// The PostgreSQL server a benchmark may use, from `KINDRED_BENCH_DATABASE_URL` (or the
/// tests' `KINDRED_TEST_DATABASE_URL`); none set, the benchmark runs on SQLite only.
pub fn postgres_admin_url() -> Option<String> {
    ["KINDRED_BENCH_DATABASE_URL", "KINDRED_TEST_DATABASE_URL"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}
