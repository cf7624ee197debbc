//! Serving benchmark for a busy shop, run by `cargo bench -p kindred --bench serving_load`.
//!
//! The shop: the real yoga-store catalogue in 20 colourways (10,160 products), 12,000 real
//! baskets as its order history (Online Retail's invoices as orders of those products), and
//! 1,000 browsers who viewed the products of a real basket each. The release `kindred` runs
//! as its own process, installed by OAuth against the fake Shopify, on PostgreSQL when
//! `KINDRED_BENCH_DATABASE_URL` or `KINDRED_TEST_DATABASE_URL` names a server (SQLite
//! otherwise), with its vectors in the embedded engine or on the Qdrant server of
//! `QDRANT_URL`. This process is the load generator.
//!
//! 1. for-you, open loop at 200 req/s for 30 s, while the shop lives: 50 shopper events a
//!    second and an `orders/create` webhook every 2 s (each makes the shop's models old, so
//!    they are rebuilt in the background while requests are served);
//! 2. similar products, open loop at 1,000 req/s for 20 s;
//! 3. with a Qdrant server: a second replica on the same database and collection, the same
//!    for-you load spread over both, and closed-loop throughput against one and against two.

#[allow(dead_code)]
#[path = "../../tests/e2e/fake_shopify.rs"]
mod fake_shopify;
#[allow(dead_code)]
#[path = "../../tests/e2e/kindred_process.rs"]
mod kindred_process;
#[path = "support/orders.rs"]
#[allow(dead_code)]
mod orders;
#[allow(dead_code)]
#[path = "../../tests/e2e/retail_orders.rs"]
mod retail_orders;
#[path = "support/server.rs"]
#[allow(dead_code)]
mod server;
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use fake_shopify::{capture, FakeShopify};
use kindred_process::{collection_of, send, Delivery, KindredServer, ServerEnv};
use support::load::{closed_loop, open_loop, Sampled};
use support::{env_or, machine, percentile, percentiles};

const SHOP: &str = "bench-serving.myshopify.com";
const ORDERS: usize = 12_000;
const BROWSERS: usize = 1_000;
const UNLIMITED: &str = "100000000";

type Http = Arc<Client<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>>>;

struct Row {
    what: String,
    sampled: Sampled,
    builds: String,
}

fn main() {
    let for_you_rate = env_or("KINDRED_BENCH_FOR_YOU_RATE", 200);
    let similar_rate = env_or("KINDRED_BENCH_SIMILAR_RATE", 1_000);
    let seconds = env_or("KINDRED_BENCH_SECONDS", 30);
    // One thread drives the load: the server's two cores are the ones measured.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let postgres = server::postgres_admin_url();
    let database = if postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let index = if kindred_process::qdrant_url().is_some() {
        "Qdrant server"
    } else {
        "embedded Qdrant"
    };
    let rows = runtime.block_on(run(postgres, for_you_rate, similar_rate, seconds));
    println!("\n## Serving a busy shop: for-you and similar under load ({database}, {index})\n");
    println!("| load | achieved | errors | p50 / p90 / p99 / max | model builds meanwhile |");
    println!("|---|---|---|---|---|");
    for row in &rows {
        let (latencies, rps, errors) = &row.sampled;
        println!(
            "| {} | {rps:.0} req/s | {errors} | {} | {} |",
            row.what,
            percentiles(latencies),
            row.builds
        );
    }
    println!(
        "\n10,160 products, {ORDERS} orders, {BROWSERS} browsing shoppers; {}.",
        machine()
    );
    let verdict = |row: &Row, p99_ms: u64, max_ms: Option<u64>| {
        let (latencies, _, errors) = &row.sampled;
        let p99 = percentile(latencies, 0.99) < Duration::from_millis(p99_ms);
        let max = max_ms.is_none_or(|ms| {
            latencies.last().copied().unwrap_or_default() < Duration::from_millis(ms)
        });
        if p99 && max && errors.total() == 0 {
            "met"
        } else {
            "NOT met"
        }
    };
    println!(
        "targets: for-you p99 < 20 ms and max < 100 ms at {for_you_rate} req/s -> {}; similar p99 < 5 ms at {similar_rate} req/s -> {}",
        verdict(&rows[0], 20, Some(100)),
        verdict(&rows[1], 5, None)
    );
}

async fn run(
    postgres: Option<String>,
    for_you_rate: u64,
    similar_rate: u64,
    seconds: u64,
) -> Vec<Row> {
    let fake = FakeShopify::start().await;
    let catalogue: Vec<Value> = capture("2026-01-13")
        .iter()
        .flat_map(support::colourways)
        .collect();
    fake.set_products(SHOP, &catalogue);
    let history = orders::repeated_orders(&catalogue, ORDERS, 8_000_000_000_000);
    fake.set_orders(SHOP, &history);
    let work = tempfile::tempdir().unwrap();
    let extra = [
        ("KINDRED_KEY_REQUESTS_PER_MINUTE", UNLIMITED),
        ("KINDRED_CLIENT_REQUESTS_PER_MINUTE", UNLIMITED),
        ("KINDRED_EVENTS_PER_MINUTE", UNLIMITED),
        ("KINDRED_REPLICA_ID", "replica-1"),
        ("RUST_LOG", "warn,qdrant_edge=error"),
    ];
    let (first, env, client) =
        server::installed_server_with(&fake, SHOP, work.path(), postgres.as_deref(), 16, &extra)
            .await;
    first
        .wait_for(
            &client,
            &env,
            SHOP,
            "the catalogue and order history",
            |s| {
                s["sync"]["state"] == "completed"
                    && s["order_sync"]["state"] == "completed"
                    && s["products"] == s["indexed"]
            },
        )
        .await;
    let key = server::storefront_key(&client, &first, &env, SHOP).await;
    browse(&client, &first.base, &key, &history).await;

    let http: Http = Arc::new(Client::builder(TokioExecutor::new()).build_http());
    let one = [first.base.clone()];
    let for_you = |bases: &[String]| {
        let bases = bases.to_vec();
        move |i: usize| {
            let browser = (i * 7919) % BROWSERS;
            format!(
                "{}/api/v1/recommendations/for-you?client_id=browser-{browser}&limit=10",
                bases[i % bases.len()]
            )
        }
    };
    // Warm the connections and the shop's models (the first request starts their build).
    open_loop(&http, &key, &for_you(&one), 50, 2).await;
    wait_for_models(&client, &first).await;

    let mut rows = Vec::new();
    let servers = [&first];
    let before = builds(&client, &servers).await;
    let fresh = orders::repeated_orders(&catalogue, 100, 8_500_000_000_000);
    let sampled = with_live_shop(&client, &first.base, &key, fresh, async {
        open_loop(&http, &key, &for_you(&one), for_you_rate, seconds).await
    })
    .await;
    rows.push(Row {
        what: format!("for-you, open loop {for_you_rate} req/s, live events and orders, 1 replica"),
        sampled,
        builds: builds_since(&before, &builds(&client, &servers).await),
    });

    let ids: Vec<u64> = catalogue
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    let similar = move |i: usize| {
        let id = ids[(i * 7919) % ids.len()];
        format!("{}/api/v1/products/{id}/similar?limit=10", one[0])
    };
    open_loop(&http, &key, &similar, 200, 2).await;
    rows.push(Row {
        what: format!("similar, open loop {similar_rate} req/s, 1 replica"),
        sampled: open_loop(&http, &key, &similar, similar_rate, 20).await,
        builds: "-".into(),
    });

    if kindred_process::qdrant_url().is_some() {
        rows.extend(
            two_replicas(
                &client,
                &http,
                &env,
                &first,
                &key,
                &catalogue,
                for_you_rate,
                seconds,
                &for_you,
            )
            .await,
        );
    }
    first.stop();
    rows
}

/// A second replica beside `first`, the for-you load over both, and peak throughput of one
/// and of two.
#[allow(clippy::too_many_arguments)]
async fn two_replicas<F, R>(
    client: &reqwest::Client,
    http: &Http,
    env: &ServerEnv,
    first: &KindredServer,
    key: &str,
    catalogue: &[Value],
    rate: u64,
    seconds: u64,
    for_you: &F,
) -> Vec<Row>
where
    F: Fn(&[String]) -> R,
    R: Fn(usize) -> String,
{
    let second_dir = env.data_dir.join("replica-2");
    std::fs::create_dir_all(&second_dir).unwrap();
    let mut second_env = ServerEnv {
        binary: env.binary.clone(),
        data_dir: second_dir,
        database_url: env.database_url.clone(),
        admin_template: env.admin_template.clone(),
        admin_key: env.admin_key.clone(),
        extra: env.extra.clone(),
    };
    second_env
        .extra
        .push(("KINDRED_REPLICA_ID".into(), "replica-2".into()));
    second_env.extra.push((
        "KINDRED_QDRANT_COLLECTION".into(),
        collection_of(&env.data_dir),
    ));
    let second = KindredServer::start(&second_env, client).await;
    let one = [first.base.clone()];
    let both = [first.base.clone(), second.base.clone()];
    open_loop(http, key, &for_you(&both), 50, 2).await;
    let servers = [first, &second];
    let before = builds(client, &servers).await;
    let fresh = orders::repeated_orders(catalogue, 100, 8_600_000_000_000);
    let sampled = with_live_shop(client, &first.base, key, fresh, async {
        open_loop(http, key, &for_you(&both), rate, seconds).await
    })
    .await;
    let mut rows = vec![Row {
        what: format!("for-you, open loop {rate} req/s, live events and orders, 2 replicas"),
        sampled,
        builds: builds_since(&before, &builds(client, &servers).await),
    }];
    for (name, bases) in [("1 replica", &one[..]), ("2 replicas", &both[..])] {
        let before = builds(client, &servers).await;
        rows.push(Row {
            what: format!("for-you, closed loop 16 connections, {name}"),
            sampled: closed_loop(http, key, &for_you(bases), 16, 10).await,
            builds: builds_since(&before, &builds(client, &servers).await),
        });
    }
    second.stop();
    rows
}

/// Each browser views the products of one real basket (so the shop's sessions are real
/// co-views), in batches of the events API's limit.
async fn browse(client: &reqwest::Client, base: &str, key: &str, history: &[Value]) {
    let views: Vec<Value> = (0..BROWSERS)
        .flat_map(|b| {
            let order = &history[(b * 13) % history.len()];
            let lines = order["line_items"].as_array().cloned().unwrap_or_default();
            lines.into_iter().take(12).map(move |line| {
                json!({"type": "product_viewed", "client_id": format!("browser-{b}"), "product_id": line["product_id"]})
            })
        })
        .collect();
    for batch in views.chunks(100) {
        post_events(client, base, key, batch).await;
    }
}

async fn post_events(client: &reqwest::Client, base: &str, key: &str, events: &[Value]) {
    let response = client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(key)
        .json(&json!({ "events": events }))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap_or_default()
    );
}

/// Runs `load` while shoppers send 50 events a second and one of the `fresh` orders arrives
/// every 2 s.
async fn with_live_shop<T>(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    fresh: Vec<Value>,
    load: impl std::future::Future<Output = T>,
) -> T {
    let done = Arc::new(AtomicBool::new(false));
    let live = {
        let (client, base, key, done) = (
            client.clone(),
            base.to_owned(),
            key.to_owned(),
            done.clone(),
        );
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let mut n = 0usize;
            while !done.load(Ordering::Relaxed) {
                tick.tick().await;
                let product = fresh[n % fresh.len()]["line_items"][0]["product_id"].clone();
                let view = json!({"type": "product_viewed", "client_id": format!("browser-{}", n % BROWSERS), "product_id": product});
                post_events(&client, &base, &key, &[view]).await;
                if n % 100 == 0 {
                    let order = &fresh[(n / 100) % fresh.len()];
                    let delivery = Delivery {
                        topic: "orders/create",
                        webhook_id: format!("live-{}", order["id"]),
                        event_id: format!("live-event-{}", order["id"]),
                        body: serde_json::to_vec(order).unwrap(),
                    };
                    assert!(send(&client, &base, SHOP, &delivery).await);
                }
                n += 1;
            }
        })
    };
    let result = load.await;
    done.store(true, Ordering::Relaxed);
    live.await.unwrap();
    result
}

/// Waits until the shop's first model build is stored.
async fn wait_for_models(client: &reqwest::Client, server: &KindredServer) {
    for _ in 0..600 {
        if counter(
            &server.metrics(client).await,
            "kindred_interaction_trainings_total",
        ) >= 1.0
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the shop's models were never built");
}

/// Per replica: (models trained, builds of another replica loaded).
async fn builds(client: &reqwest::Client, servers: &[&KindredServer]) -> Vec<(f64, f64)> {
    let mut all = Vec::new();
    for server in servers {
        let text = server.metrics(client).await;
        all.push((
            counter(&text, "kindred_interaction_trainings_total"),
            counter(&text, "kindred_interaction_model_loads_total"),
        ));
    }
    all
}

fn builds_since(before: &[(f64, f64)], after: &[(f64, f64)]) -> String {
    before
        .iter()
        .zip(after)
        .enumerate()
        .map(|(n, (b, a))| {
            format!(
                "replica {}: {} trained, {} loaded",
                n + 1,
                a.0 - b.0,
                a.1 - b.1
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn counter(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter(|line| line.starts_with(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
