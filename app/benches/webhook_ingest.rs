//! Webhook benchmark, run by `cargo bench -p kindred --bench webhook_ingest`.
//!
//! The release `kindred` binary runs as its own process, installed as a Shopify app by
//! OAuth against the local fake Shopify, which serves the real yoga-store catalogue
//! (2026-01-13, 508 products) for the install's bulk sync. Then, with the webhook inbox on
//! SQLite and (when `KINDRED_BENCH_DATABASE_URL` or `KINDRED_TEST_DATABASE_URL` names a
//! PostgreSQL server) on PostgreSQL:
//!
//! 1. acknowledgement latency: signed `products/update` deliveries sent one at a time;
//!    each is verified and committed to the inbox before the 200 comes back;
//! 2. sustained rate: 16 concurrent senders; deliveries acknowledged per second, and
//!    deliveries applied per second until the inbox is drained;
//! 3. freshness: a `products/update` that rewrites a product's text, timed from sending
//!    until the similar-products API answers with the new vector (the product turns up
//!    among the neighbours of the product whose text it took, with cosine ~1).

#[allow(dead_code)]
#[path = "../../tests/e2e/fake_shopify.rs"]
mod fake_shopify;
#[allow(dead_code)]
#[path = "../../tests/e2e/kindred_process.rs"]
mod kindred_process;
#[path = "support/server.rs"]
#[allow(dead_code)]
mod server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use fake_shopify::{capture, webhook_body, FakeShopify};
use kindred_process::{send, Delivery, KindredServer, ServerEnv};

const SHOP: &str = "bench-webhooks.myshopify.com";
const SEQUENTIAL: usize = 1_000;
const CONCURRENT: usize = 4_000;
const SENDERS: usize = 16;
const FRESHNESS_RUNS: usize = 15;

struct Row {
    inbox: &'static str,
    ack_p50_ms: f64,
    ack_p99_ms: f64,
    acks_per_s: f64,
    applied_per_s: f64,
    fresh_p50_ms: f64,
    fresh_max_ms: f64,
}

fn main() {
    let rows = server::on_each_database(run);

    println!("\n## Shopify webhooks: acknowledgement, sustained rate, update to searchable\n");
    println!(
        "| Inbox | ack p50 | ack p99 | acknowledged/s ({SENDERS} senders) | applied/s | update -> searchable p50 | max |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {:.2} ms | {:.2} ms | {:.0} | {:.0} | {:.0} ms | {:.0} ms |",
            r.inbox,
            r.ack_p50_ms,
            r.ack_p99_ms,
            r.acks_per_s,
            r.applied_per_s,
            r.fresh_p50_ms,
            r.fresh_max_ms
        );
    }
    println!(
        "\n{SEQUENTIAL} sequential deliveries for latency, {CONCURRENT} concurrent for the rate, \
         {FRESHNESS_RUNS} text rewrites for freshness; catalogue: 508 real products."
    );
}

async fn run(inbox: &'static str, postgres_admin_url: Option<String>) -> Row {
    let fake = FakeShopify::start().await;
    let products = capture("2026-01-13");
    fake.set_products(SHOP, &products);
    let work = tempfile::tempdir().unwrap();
    let (server, env, client) = server::installed_server(
        &fake,
        SHOP,
        work.path(),
        postgres_admin_url.as_deref(),
        SENDERS,
    )
    .await;
    server
        .wait_for(&client, &env, SHOP, "the install's sync", |s| {
            s["sync"]["state"] == "completed"
        })
        .await;
    let key = storefront_key(&client, &server, &env).await;

    // Price changes, each a newer version: the common delivery, applied as a payload update.
    let mut version = 0u64;
    let mut price_update = |n: usize| {
        version += 1;
        let mut product = products[n % products.len()].clone();
        let cents = 1_000 + (version % 9_000);
        for variant in product["variants"].as_array_mut().unwrap() {
            variant["price"] = json!(format!("{}.{:02}", cents / 100, cents % 100));
        }
        product["updated_at"] = json!(updated_at(version));
        Delivery {
            topic: "products/update",
            webhook_id: format!("bench-{version}"),
            event_id: format!("bench-event-{version}"),
            body: serde_json::to_vec(&webhook_body(&product)).unwrap(),
        }
    };

    // 1. Acknowledgement latency, one delivery at a time.
    let mut latencies = Vec::with_capacity(SEQUENTIAL);
    for n in 0..SEQUENTIAL {
        let delivery = price_update(n);
        let started = Instant::now();
        assert!(send(&client, &server.base, SHOP, &delivery).await);
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    drain(&client, &server, &env).await;

    // 2. Sustained: many senders at once; then until everything is applied.
    let deliveries: Arc<Vec<Delivery>> = Arc::new((0..CONCURRENT).map(&mut price_update).collect());
    let started = Instant::now();
    server::send_all(&client, &server.base, SHOP, deliveries, SENDERS).await;
    let acked = started.elapsed().as_secs_f64();
    drain(&client, &server, &env).await;
    let applied = started.elapsed().as_secs_f64();

    // 3. Freshness: product `a` takes product `b`'s text; its new vector is searchable when
    //    the similar-products API finds `a` next to `b` with cosine ~1.
    let mut fresh = Vec::new();
    let mut pair = 0;
    while fresh.len() < FRESHNESS_RUNS {
        pair += 1;
        let (a, b) = (
            &products[(pair * 37) % products.len()],
            &products[(pair * 53 + 11) % products.len()],
        );
        let (a_id, b_id) = (a["id"].as_u64().unwrap(), b["id"].as_u64().unwrap());
        let available = |p: &Value| {
            p["variants"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["available"] == true)
        };
        if a_id == b_id
            || !available(a)
            || !available(b)
            || twin_of(&client, &server, &key, b_id, a_id).await
        {
            continue;
        }
        version += 1;
        let mut rewritten = a.clone();
        for field in [
            "title",
            "body_html",
            "tags",
            "product_type",
            "vendor",
            "options",
        ] {
            rewritten[field] = b[field].clone();
        }
        rewritten["updated_at"] = json!(updated_at(version));
        let delivery = Delivery {
            topic: "products/update",
            webhook_id: format!("bench-fresh-{version}"),
            event_id: format!("bench-fresh-event-{version}"),
            body: serde_json::to_vec(&webhook_body(&rewritten)).unwrap(),
        };
        let started = Instant::now();
        assert!(send(&client, &server.base, SHOP, &delivery).await);
        let deadline = started + Duration::from_secs(60);
        while !twin_of(&client, &server, &key, b_id, a_id).await {
            assert!(
                Instant::now() < deadline,
                "the rewritten product never became searchable"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        fresh.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    server.stop();

    latencies.sort_by(f64::total_cmp);
    fresh.sort_by(f64::total_cmp);
    Row {
        inbox,
        ack_p50_ms: percentile(&latencies, 0.50),
        ack_p99_ms: percentile(&latencies, 0.99),
        acks_per_s: CONCURRENT as f64 / acked,
        applied_per_s: CONCURRENT as f64 / applied,
        fresh_p50_ms: percentile(&fresh, 0.50),
        fresh_max_ms: *fresh.last().unwrap(),
    }
}

/// Versions count up from the capture's dates, a second apart, so each is newer.
fn updated_at(version: u64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2026-02-01T00:00:00Z").unwrap();
    (base + chrono::Duration::seconds(version as i64)).to_rfc3339()
}

async fn drain(client: &reqwest::Client, server: &KindredServer, env: &ServerEnv) {
    server
        .wait_for(client, env, SHOP, "the inbox to drain", |s| {
            s["webhooks"]["pending"] == 0
        })
        .await;
}

/// Whether `twin` is among the neighbours of `id` with the same text (cosine ~1).
async fn twin_of(
    client: &reqwest::Client,
    server: &KindredServer,
    key: &str,
    id: u64,
    twin: u64,
) -> bool {
    let Ok(response) = client
        .get(format!(
            "{}/api/v1/products/{id}/similar?limit=5",
            server.base
        ))
        .bearer_auth(key)
        .send()
        .await
    else {
        return false;
    };
    let body: Value = response.json().await.unwrap_or_default();
    body["recommendations"].as_array().is_some_and(|items| {
        items.iter().any(|item| {
            item["id"].as_str() == Some(twin.to_string().as_str())
                && item["score"].as_f64().is_some_and(|score| score > 0.999)
        })
    })
}

async fn storefront_key(
    client: &reqwest::Client,
    server: &KindredServer,
    env: &ServerEnv,
) -> String {
    let body: Value = client
        .post(format!("{}/api/v1/shops", server.base))
        .bearer_auth(&env.admin_key)
        .json(&json!({ "shop": SHOP }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["storefront_key"].as_str().unwrap().to_owned()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
