//! Orders as Shopify delivers them, to the whole app as its own process: the order history
//! read at install (and the app killed while Shopify runs that bulk operation: restarted, it
//! resumes the same one), then real baskets as order webhooks, with payments, refunds,
//! cancellations and deletions, sent with duplicates, reordering and a SIGKILL in the middle
//! (deliveries sent while it is down are retried after, as Shopify does). At the end
//! Kindred's purchases equal the fake's orders.

use rand::seq::{IndexedRandom, SliceRandom};
use rand::SeedableRng;
use serde_json::{json, Value};

use kindred::storage::SqlStore;

use crate::common::{databases, process_env, Database};
use crate::fake_shopify::{capture, FakeShopify};
use crate::kindred_process::{disorder, log_tail, send, Delivery, KindredServer};
use crate::purchases::{expected_purchases, stored_purchases};
use crate::retail_orders::{cancelled, refunded_first_line, retail_orders};

const SHOP: &str = "yoga-order-replay.myshopify.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_traffic_with_duplicates_reordering_and_a_kill_ends_equal_to_the_orders() {
    for db in databases() {
        replay(&db).await;
    }
}

fn delivery(topic: &'static str, n: usize, body: &Value) -> Delivery {
    Delivery {
        topic,
        webhook_id: format!("{topic}-{n}"),
        event_id: format!("event-{topic}-{n}"),
        body: serde_json::to_vec(body).unwrap(),
    }
}

async fn replay(db: &Database) {
    let fake = FakeShopify::start().await;
    let catalogue = capture("2026-01-13");
    fake.set_products(SHOP, &catalogue);
    let data_dir = tempfile::tempdir().unwrap();
    let (env, client) = process_env(db, &fake, data_dir.path()).await;
    // The history: real baskets under other order ids than the webhooks' below.
    let history: Vec<Value> = retail_orders(&catalogue, 10, chrono::Utc::now())
        .into_iter()
        .map(|mut order| {
            order["id"] = json!(order["id"].as_u64().unwrap() + 500_000);
            order
        })
        .collect();
    fake.set_orders(SHOP, &history);
    fake.set_hold_order_bulk(true);
    let server = KindredServer::start(&env, &client).await;
    server.install(&client, SHOP).await;
    server
        .wait_for(&client, &env, SHOP, "the order history's operation", |s| {
            s["order_sync"]["state"] == "running" && s["order_sync"]["operation_id"].is_string()
        })
        .await;
    server.kill();
    let server = KindredServer::start(&env, &client).await;
    fake.set_hold_order_bulk(false);
    server
        .wait_for(&client, &env, SHOP, "the order history", |s| {
            s["order_sync"]["state"] == "completed"
        })
        .await;
    assert_eq!(
        fake.order_bulk_runs(),
        1,
        "the read was resumed, not started again"
    );

    // The truth, in Shopify's order: each order created, then for some a payment update, a
    // refund (refunds/create and the order's update), a cancellation or a deletion.
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261201);
    let mut orders = retail_orders(&catalogue, 30, chrono::Utc::now());
    let mut traffic: Vec<Delivery> = Vec::new();
    for (n, order) in orders.clone().iter().enumerate() {
        traffic.push(delivery("orders/create", n, order));
        match n % 7 {
            1 => {
                let mut paid = order.clone();
                paid["updated_at"] = json!((chrono::Utc::now()).to_rfc3339());
                traffic.push(delivery("orders/updated", n, &paid));
                orders[n] = paid;
            }
            2 | 5 => {
                let (updated, refund) = refunded_first_line(order);
                traffic.push(delivery("refunds/create", n, &refund));
                traffic.push(delivery("orders/updated", n, &updated));
                orders[n] = updated;
            }
            3 => {
                let gone = cancelled(order);
                traffic.push(delivery("orders/cancelled", n, &gone));
                orders[n] = gone;
            }
            4 if n % 2 == 0 => {
                traffic.push(delivery("orders/delete", n, &json!({"id": order["id"]})));
                orders[n] = cancelled(order);
            }
            _ => {}
        }
    }
    let in_order = traffic.len();
    // Bounded reordering (a delivery may overtake up to ~40 ahead: updates before creates,
    // refunds before their order), retries, and the same event under another webhook id.
    let mut traffic = disorder(traffic, &mut rng, 40, 40);
    let late_creates: Vec<Delivery> = traffic
        .iter()
        .filter(|d| d.topic == "orders/create")
        .cloned()
        .collect::<Vec<_>>()
        .choose_multiple(&mut rng, 10)
        .map(|d| Delivery {
            webhook_id: format!("{}-late", d.webhook_id),
            ..d.clone()
        })
        .collect();
    traffic.extend(late_creates);
    traffic[in_order / 2..].shuffle(&mut rng);

    // Half, then SIGKILL; what is sent while the app is down fails and is sent again later.
    let half = traffic.len() / 2;
    for delivery in &traffic[..half] {
        assert!(send(&client, &server.base, SHOP, delivery).await);
    }
    server.kill();
    let mut retry = Vec::new();
    for delivery in &traffic[half..half + 10] {
        if !send(&client, "http://127.0.0.1:9", SHOP, delivery).await {
            retry.push(delivery.clone());
        }
    }
    assert_eq!(retry.len(), 10);
    let server = KindredServer::start(&env, &client).await;
    for delivery in retry.iter().chain(&traffic[half + 10..]) {
        assert!(send(&client, &server.base, SHOP, delivery).await);
    }
    let status = server
        .wait_for(&client, &env, SHOP, "the inbox to drain", |s| {
            s["webhooks"]["pending"] == 0
        })
        .await;
    assert_eq!(
        status["webhooks"]["failed"],
        0,
        "{status}\n{}",
        log_tail(data_dir.path())
    );
    server.stop();

    let store = SqlStore::connect(&env.database_url).await.unwrap();
    let got = stored_purchases(&store, SHOP).await;
    let want = expected_purchases(&[history, orders].concat());
    let differ: Vec<_> = want
        .iter()
        .filter(|(id, lines)| got.get(id) != Some(lines))
        .take(3)
        .collect();
    assert_eq!(got.len(), want.len(), "{db:?}: {differ:?}");
    assert!(differ.is_empty(), "{db:?}: {differ:?}");
}
