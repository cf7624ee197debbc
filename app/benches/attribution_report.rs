//! Attribution report benchmark, run by `cargo bench -p kindred --bench attribution_report`.
//!
//! A shop with 90 days of a busy storefront: 100,000 orders (one to three of the real
//! yoga-store products each, at their prices, placed by 40,000 browsers), 500,000
//! impressions and 150,000 clicks on Kindred's shelves across four strategies and three
//! placements, and the cart additions that followed a fifth of the clicks. Times the whole
//! report the admin's dashboard asks for (`Proof::report`, 90 days: shelf activity per day,
//! clicks, orders, attribution, and the holdout's verdict over the same visitors), on SQLite
//! and (when `KINDRED_BENCH_DATABASE_URL` or `KINDRED_TEST_DATABASE_URL` names a PostgreSQL
//! server) on PostgreSQL.

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
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use kindred::clock::SystemClock;
use kindred::domain::{ClientId, ShopDomain};
use kindred::events::{EventKind, EventSource, ShopperEvent};
use kindred::proof::Proof;
use kindred::purchases::{Order, OrderLine, OrderSource};
use kindred::storage::SqlStore;
use kindred::stores::prelude::*;
use kindred::stores::Stores;

const SHOP: &str = "bench-report.myshopify.com";
const DAYS: i64 = 90;
const ORDERS: usize = 100_000;
const BROWSERS: usize = 40_000;
const IMPRESSIONS: usize = 500_000;
const CLICKS: usize = 150_000;
const RUNS: usize = 5;
const DAY_MS: i64 = 86_400_000;
const STRATEGIES: [&str; 4] = ["similar", "for_you", "complementary", "trending"];
const PLACEMENTS: [&str; 3] = ["product", "cart", "index"];

struct Row {
    database: &'static str,
    load_s: f64,
    p50_ms: f64,
    max_ms: f64,
    attributed: u64,
}

fn main() {
    let rows = server::on_each_database(run);
    println!(
        "\n## Attribution report: 90 days, 100,000 orders, 500,000 impressions, 150,000 clicks\n"
    );
    println!("| Database | data loaded in | report p50 | max | orders with an attributed line |");
    println!("|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {:.0} s | {:.0} ms | {:.0} ms | {} |",
            r.database, r.load_s, r.p50_ms, r.max_ms, r.attributed
        );
    }
}

async fn run(database: &'static str, postgres: Option<String>) -> Row {
    let dir = tempfile::tempdir().unwrap();
    let url = match postgres {
        Some(admin) => kindred_process::fresh_postgres_database(&admin).await,
        None => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        ),
    };
    let store = Arc::new(SqlStore::connect(&url).await.unwrap());
    let shop = ShopDomain::parse(SHOP).unwrap();
    store.ensure_shop(&shop).await.unwrap();
    let started = Instant::now();
    load(&store, &shop).await;
    let load_s = started.elapsed().as_secs_f64();
    let stores = Stores::all_in(store, Arc::new(SystemClock));
    let proof = Proof::new(stores, 90, 500);
    let mut times = Vec::new();
    let mut attributed = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let (report, _holdout) = proof.report(&shop, DAYS).await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        attributed = report.orders["with_recommendations"].orders;
    }
    times.sort_by(f64::total_cmp);
    eprintln!(
        "{database}: loaded in {load_s:.0} s, report p50 {:.0} ms, max {:.0} ms",
        times[RUNS / 2],
        times[RUNS - 1]
    );
    Row {
        database,
        load_s,
        p50_ms: times[RUNS / 2],
        max_ms: times[RUNS - 1],
        attributed,
    }
}

fn event(
    n: usize,
    kind: EventKind,
    client: usize,
    product: u64,
    at: i64,
    rng: &mut StdRng,
) -> ShopperEvent {
    let shelf = kind != EventKind::ProductAddedToCart;
    ShopperEvent {
        event_id: format!("e{n}"),
        client_id: ClientId::parse(&format!("browser-{client}")).unwrap(),
        customer_id: None,
        kind,
        product_id: Some(product),
        collection_id: None,
        search_query: None,
        line_items: Vec::new(),
        strategy: shelf.then(|| STRATEGIES[rng.random_range(0..STRATEGIES.len())].to_owned()),
        placement: shelf.then(|| PLACEMENTS[rng.random_range(0..PLACEMENTS.len())].to_owned()),
        occurred_at: at,
        source: Some(EventSource::AppProxy),
        order_id: None,
        checkout_token: None,
    }
}

/// Impressions, clicks (some followed by a cart addition and an order of the product an
/// hour later) and orders of the real catalogue over the last 90 days.
async fn load(store: &SqlStore, shop: &ShopDomain) {
    let catalogue = fake_shopify::capture("2026-01-13");
    let products: Vec<(u64, String)> = catalogue
        .iter()
        .map(|p| {
            (
                p["id"].as_u64().unwrap(),
                p["variants"][0]["price"]
                    .as_str()
                    .unwrap_or("10.00")
                    .to_owned(),
            )
        })
        .collect();
    let mut rng = StdRng::seed_from_u64(15);
    let now = chrono::Utc::now().timestamp_millis();
    let start = now - DAYS * DAY_MS;
    let mut batch = Vec::with_capacity(1_000);
    let mut n = 0;
    let flush = |batch: &mut Vec<ShopperEvent>| {
        let events = std::mem::take(batch);
        async move { store.insert_events(shop, &events).await.unwrap() }
    };
    for _ in 0..IMPRESSIONS {
        let (product, _) = &products[rng.random_range(0..products.len())];
        let at = rng.random_range(start..now);
        batch.push(event(
            n,
            EventKind::RecommendationViewed,
            rng.random_range(0..BROWSERS),
            *product,
            at,
            &mut rng,
        ));
        n += 1;
        if batch.len() == 1_000 {
            flush(&mut batch).await;
        }
    }
    let mut clicked: Vec<(usize, u64, i64)> = Vec::with_capacity(CLICKS);
    for _ in 0..CLICKS {
        let (product, _) = &products[rng.random_range(0..products.len())];
        let client = rng.random_range(0..BROWSERS);
        let at = rng.random_range(start..now - 3_600_000);
        batch.push(event(
            n,
            EventKind::RecommendationClicked,
            client,
            *product,
            at,
            &mut rng,
        ));
        n += 1;
        if rng.random_bool(0.2) {
            batch.push(event(
                n,
                EventKind::ProductAddedToCart,
                client,
                *product,
                at + 60_000,
                &mut rng,
            ));
            n += 1;
            clicked.push((client, *product, at));
        }
        if batch.len() >= 1_000 {
            flush(&mut batch).await;
        }
    }
    flush(&mut batch).await;
    let mut orders = Vec::with_capacity(ORDERS);
    for id in 0..ORDERS {
        // A third of the orders follow a click of one of their products.
        let followed = if id % 3 == 0 {
            clicked.get(id / 3)
        } else {
            None
        };
        let (client, first, at) = match followed {
            Some((client, product, at)) => (*client, Some(*product), at + 3_600_000),
            None => (
                rng.random_range(0..BROWSERS),
                None,
                rng.random_range(start..now),
            ),
        };
        let lines = (0..rng.random_range(1..=3u64))
            .map(|i| {
                let (product, price) = &products[rng.random_range(0..products.len())];
                let product = if i == 0 {
                    first.unwrap_or(*product)
                } else {
                    *product
                };
                OrderLine {
                    line_id: id as u64 * 10 + i,
                    product_id: Some(product),
                    variant_id: None,
                    quantity: 1,
                    current_quantity: 1,
                    unit_price: Some(price.clone()),
                }
            })
            .collect();
        orders.push(Order::paid(
            5_000_000_000_000 + id as u64,
            &format!("browser-{client}"),
            at,
            "EUR",
            lines,
        ));
    }
    for chunk in orders.chunks(2_000) {
        store
            .upsert_orders(shop, chunk, OrderSource::Bulk)
            .await
            .unwrap();
    }
}
