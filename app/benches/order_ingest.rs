//! Order benchmark, run by `cargo bench -p kindred --bench order_ingest`.
//!
//! The release `kindred` binary runs as its own process, installed as a Shopify app by
//! OAuth against the local fake Shopify (the real yoga-store catalogue, 508 products), on
//! SQLite and (when `KINDRED_BENCH_DATABASE_URL` or `KINDRED_TEST_DATABASE_URL` names a
//! PostgreSQL server) on PostgreSQL. The orders are real baskets: Online Retail's repeat
//! customers' invoices as orders of the catalogue's products, repeated under new order and
//! customer ids to the sizes below.
//!
//! 1. order history: the bulk read of `BULK_ORDERS` orders, timed from the moment Kindred
//!    has the file until every order is stored (Shopify's own run time is not Kindred's);
//! 2. order webhooks: `WEBHOOK_ORDERS` signed `orders/create` deliveries from 16 senders:
//!    acknowledged per second, and applied per second until the inbox is drained;
//! 3. freshness: from sending one `orders/create` (a new buyer's order of a product and one
//!    of its co-purchase partners) until the buyer's `buy_again` names what they bought, and
//!    until `complementary` for the product answers with the pair's new count.

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

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use fake_shopify::{capture, FakeShopify};
use kindred_process::{send, Delivery, KindredServer};

const SHOP: &str = "bench-orders.myshopify.com";
const BULK_ORDERS: usize = 20_000;
const WEBHOOK_ORDERS: usize = 4_000;
const SENDERS: usize = 16;
const FRESHNESS_RUNS: usize = 10;

struct Row {
    database: &'static str,
    bulk_per_s: f64,
    acks_per_s: f64,
    applied_per_s: f64,
    buy_again_p50_ms: f64,
    buy_again_max_ms: f64,
    together_p50_ms: f64,
    together_max_ms: f64,
}

fn main() {
    let rows = server::on_each_database(run);
    println!("\n## Orders: history read, webhooks, order to changed answer\n");
    println!(
        "| Database | history read, orders/s | webhooks acknowledged/s ({SENDERS} senders) | applied/s | orders/create -> buy_again p50 | max | -> complementary p50 | max |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms |",
            r.database,
            r.bulk_per_s,
            r.acks_per_s,
            r.applied_per_s,
            r.buy_again_p50_ms,
            r.buy_again_max_ms,
            r.together_p50_ms,
            r.together_max_ms
        );
    }
    println!(
        "\n{BULK_ORDERS} orders in the history read, {WEBHOOK_ORDERS} by webhook, {FRESHNESS_RUNS} \
         fresh orders timed; real baskets on 508 real products; {}.",
        kindred_embedder::host_description()
    );
}

async fn run(database: &'static str, postgres_admin_url: Option<String>) -> Row {
    let fake = FakeShopify::start().await;
    let catalogue = capture("2026-01-13");
    fake.set_products(SHOP, &catalogue);
    fake.set_orders(
        SHOP,
        &orders::repeated_orders(&catalogue, BULK_ORDERS, 7_000_000_000_000),
    );
    let work = tempfile::tempdir().unwrap();
    let (server, env, client) = server::installed_server(
        &fake,
        SHOP,
        work.path(),
        postgres_admin_url.as_deref(),
        SENDERS,
    )
    .await;

    // 1. The history read, from the file in hand to the last order stored.
    server
        .wait_for(&client, &env, SHOP, "the order history's file", |s| {
            s["order_sync"]["state"] == "ingesting" || s["order_sync"]["state"] == "completed"
        })
        .await;
    let started = Instant::now();
    let status = server
        .wait_for(&client, &env, SHOP, "the order history", |s| {
            s["order_sync"]["state"] == "completed"
        })
        .await;
    let bulk_secs = started.elapsed().as_secs_f64();
    // Read again: the status reads the order count before the sync state, so the answer
    // that first says "completed" may have counted before the last write.
    let _ = status;
    let status = server.shop_status(&client, &env, SHOP).await;
    assert_eq!(
        status["orders"],
        BULK_ORDERS,
        "{status}\n{}",
        kindred_process::log_tail(work.path())
    );
    let key = server::storefront_key(&client, &server, &env, SHOP).await;

    // 2. Order webhooks from many senders at once, then until every one is applied.
    let deliveries: Arc<Vec<Delivery>> = Arc::new(
        orders::repeated_orders(&catalogue, WEBHOOK_ORDERS, 7_100_000_000_000)
            .iter()
            .enumerate()
            .map(|(n, order)| Delivery {
                topic: "orders/create",
                webhook_id: format!("bench-order-{n}"),
                event_id: format!("bench-order-event-{n}"),
                body: serde_json::to_vec(order).unwrap(),
            })
            .collect(),
    );
    let started = Instant::now();
    server::send_all(&client, &server.base, SHOP, deliveries, SENDERS).await;
    let acked = started.elapsed().as_secs_f64();
    let status = server
        .wait_for(&client, &env, SHOP, "the inbox to drain", |s| {
            s["webhooks"]["pending"] == 0
        })
        .await;
    let applied = started.elapsed().as_secs_f64();
    let _ = status;
    let status = server.shop_status(&client, &env, SHOP).await;
    if status["orders"] != BULK_ORDERS + WEBHOOK_ORDERS {
        use kindred::stores::prelude::*;
        let store = kindred::storage::SqlStore::connect(&env.database_url)
            .await
            .unwrap();
        let shop = kindred::domain::ShopDomain::parse(SHOP).unwrap();
        let held: std::collections::HashSet<u64> = store
            .orders_since(&shop, 0)
            .await
            .unwrap()
            .orders
            .iter()
            .map(|o| o.id)
            .collect();
        let missing: Vec<u64> = (0..BULK_ORDERS as u64)
            .map(|n| 7_000_000_000_000 + n)
            .chain((0..WEBHOOK_ORDERS as u64).map(|n| 7_100_000_000_000 + n))
            .filter(|id| !held.contains(id))
            .take(20)
            .collect();
        panic!("orders missing: {missing:?}\n{status}");
    }

    // 3. One new buyer's order of a product and one of its partners: until their buy-again
    //    names it, and until complementary for the product answers otherwise than before
    //    (the pair's count went up; in a shop this busy one order moves scores, not ranks).
    let on_sale: Vec<u64> = retail_orders::on_sale(&catalogue)
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    let mut buy_again = Vec::new();
    let mut together = Vec::new();
    for run in 0..FRESHNESS_RUNS {
        let a = on_sale[(run * 97 + 13) % on_sale.len()];
        let before = bought_with(&client, &server, &key, a).await;
        let b = before
            .get(before.len() / 2)
            .map(|(id, _)| *id)
            .unwrap_or(on_sale[(run * 31 + 7) % on_sale.len()]);
        let buyer = format!("fresh-buyer-{run}");
        let id = 7_200_000_000_000 + run as u64;
        let now = chrono::Utc::now().to_rfc3339();
        let order = json!({
            "id": id, "created_at": now, "updated_at": now, "financial_status": "paid", "currency": "EUR",
            "customer": null, "note_attributes": [{"name": "_kindred_client_id", "value": buyer}],
            "checkout_token": format!("{id:032x}"), "test": false, "cancelled_at": null,
            "line_items": [
                {"id": id * 100, "product_id": a, "quantity": 1, "price": "10.00"},
                {"id": id * 100 + 1, "product_id": b, "quantity": 1, "price": "10.00"},
            ],
        });
        let delivery = Delivery {
            topic: "orders/create",
            webhook_id: format!("bench-fresh-{run}"),
            event_id: format!("bench-fresh-event-{run}"),
            body: serde_json::to_vec(&order).unwrap(),
        };
        let started = Instant::now();
        assert!(send(&client, &server.base, SHOP, &delivery).await);
        let deadline = started + Duration::from_secs(120);
        let (mut seen_again, mut seen_together) = (None, None);
        while seen_again.is_none() || seen_together.is_none() {
            assert!(Instant::now() < deadline, "the order never showed");
            if seen_again.is_none() {
                let shelf = get(
                    &client,
                    &server,
                    &key,
                    &format!("buy-again?client_id={buyer}&limit=5"),
                )
                .await;
                if ids(&shelf).contains(&a) {
                    seen_again = Some(started.elapsed().as_secs_f64() * 1000.0);
                }
            }
            if seen_together.is_none() && bought_with(&client, &server, &key, a).await != before {
                seen_together = Some(started.elapsed().as_secs_f64() * 1000.0);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        buy_again.extend(seen_again);
        together.extend(seen_together);
    }
    server.stop();
    buy_again.sort_by(f64::total_cmp);
    together.sort_by(f64::total_cmp);
    Row {
        database,
        bulk_per_s: BULK_ORDERS as f64 / bulk_secs,
        acks_per_s: WEBHOOK_ORDERS as f64 / acked,
        applied_per_s: WEBHOOK_ORDERS as f64 / applied,
        buy_again_p50_ms: percentile(&buy_again, 0.5),
        buy_again_max_ms: *buy_again.last().unwrap(),
        together_p50_ms: percentile(&together, 0.5),
        together_max_ms: *together.last().unwrap(),
    }
}

/// Complementary's co-purchase partners of a product, with their scores.
async fn bought_with(
    client: &reqwest::Client,
    server: &KindredServer,
    key: &str,
    product: u64,
) -> Vec<(u64, f64)> {
    let shelf = get(
        client,
        server,
        key,
        &format!("complementary?product_id={product}&limit=50"),
    )
    .await;
    shelf["recommendations"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|r| {
                    r["reason"]
                        .as_str()
                        .is_some_and(|r| r.starts_with("often bought with"))
                })
                .filter_map(|r| Some((r["id"].as_str()?.parse().ok()?, r["score"].as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

async fn get(client: &reqwest::Client, server: &KindredServer, key: &str, query: &str) -> Value {
    client
        .get(format!("{}/api/v1/recommendations/{query}", server.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or_default()
}

fn ids(shelf: &Value) -> Vec<u64> {
    shelf["recommendations"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|r| r["id"].as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
