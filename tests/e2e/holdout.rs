//! The holdout measures what Kindred adds, on a simulated storefront with a known answer:
//! shoppers of the real yoga-store catalogue ask the storefront API for a shelf; those it
//! shows one to buy with a probability raised by a known lift; the holdout's answer, read
//! back through the report API, must recover that lift within its interval, and a run with
//! no lift must not claim one.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use kindred::domain::{ClientId, ShopDomain};
use kindred::events::{EventKind, EventSource, ShopperEvent};
use kindred::purchases::{Order, OrderLine, OrderSource};
use kindred::stores::prelude::*;

use crate::common::{databases, TestApp, YOGA_2026_01_13};
use crate::fake_shopify::capture;
use crate::retail_orders::on_sale;

const LIFTED: &str = "yoga-lifted.myshopify.com";
const FLAT: &str = "yoga-flat.myshopify.com";
const SHOPPERS: usize = 3_000;
const BASE_CONVERSION: f64 = 0.5;
const TRUE_LIFT: f64 = 0.5;
/// Each run draws a new holdout salt, so a new split of the same shoppers: the checks allow
/// four standard errors (a false failure about once in 16,000 runs), where the 95% interval
/// would miss the truth one run in twenty.
const STANDARD_ERRORS: f64 = 4.0;

/// The lift's log ratio and its standard error, read back from the 95% interval.
fn log_lift(lift: &Value) -> (f64, f64) {
    let log = |key: &str| (1.0 + lift[key].as_f64().unwrap()).ln();
    (
        log("estimate"),
        (log("high") - log("low")) / (2.0 * 1.959_964),
    )
}

/// What one shop's storefront did: each shopper's arm as the API told it, and what was
/// shown.
struct Run {
    shown: usize,
    held_out: usize,
}

/// Every shopper asks for a shelf through the storefront API, is seen (a product view),
/// and buys with `BASE_CONVERSION`, raised by `lift` when the answer showed a shelf.
async fn simulate(app: &TestApp, shop: &str, lift: f64, seed: u64) -> Run {
    let key = app.storefront_key(shop).await;
    let shop_domain = ShopDomain::parse(shop).unwrap();
    let catalogue = capture("2026-01-13");
    let products = on_sale(&catalogue);
    let mut rng = StdRng::seed_from_u64(seed);
    let now = chrono::Utc::now().timestamp_millis();
    let (mut events, mut orders) = (Vec::new(), Vec::new());
    let mut run = Run {
        shown: 0,
        held_out: 0,
    };
    for n in 0..SHOPPERS {
        let client = format!("sim-{seed}-{n}");
        let (status, _, answer) = app
            .request_with_headers(
                Method::GET,
                &format!("/api/v1/recommendations?strategy=new_arrivals&placement=product&limit=4&client_id={client}"),
                Some(&key),
                &[("x-test-client", format!("10.{}.{}.{}", n / 65536, (n / 256) % 256, n % 256))],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let held_out = answer["experiment"]["holdout"] == true;
        let shown = !answer["recommendations"].as_array().unwrap().is_empty();
        assert!(
            !(held_out && shown),
            "a held-out shopper was shown Kindred: {answer}"
        );
        run.held_out += usize::from(held_out);
        run.shown += usize::from(shown);
        let product = products[rng.random_range(0..products.len())];
        events.push(viewed(&client, product, now));
        let chance = BASE_CONVERSION * if shown { 1.0 + lift } else { 1.0 };
        if rng.random_bool(chance) {
            orders.push(order(
                orders.len() as u64,
                &client,
                &products,
                &mut rng,
                now,
            ));
        }
    }
    for batch in events.chunks(500) {
        app.store.insert_events(&shop_domain, batch).await.unwrap();
    }
    app.store
        .upsert_orders(&shop_domain, &orders, OrderSource::Webhook)
        .await
        .unwrap();
    run
}

fn viewed(client: &str, product: &Value, now: i64) -> ShopperEvent {
    ShopperEvent {
        event_id: format!("view-{client}"),
        client_id: ClientId::parse(client).unwrap(),
        customer_id: None,
        kind: EventKind::ProductViewed,
        product_id: product["id"].as_u64(),
        collection_id: None,
        search_query: None,
        line_items: Vec::new(),
        strategy: None,
        placement: None,
        occurred_at: now,
        source: Some(EventSource::Storefront),
        order_id: None,
        checkout_token: None,
    }
}

/// One to three real products at their real prices.
fn order(n: u64, client: &str, products: &[&Value], rng: &mut StdRng, now: i64) -> Order {
    let lines = (0..rng.random_range(1..=3u64))
        .map(|i| {
            let product = products[rng.random_range(0..products.len())];
            let variant = product["variants"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["available"] == true)
                .unwrap();
            OrderLine {
                line_id: n * 10 + i,
                product_id: product["id"].as_u64(),
                variant_id: variant["id"].as_u64(),
                quantity: 1,
                current_quantity: 1,
                unit_price: variant["price"].as_str().map(str::to_owned),
            }
        })
        .collect();
    Order::paid(7_000_000_000_000 + n, client, now, "EUR", lines)
}

async fn holdout_results(app: &TestApp, shop: &str, merchant: &str) -> Value {
    let (status, body) = app
        .get(
            &format!("/api/v1/shops/{shop}/experiments/holdout/results"),
            merchant,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_holdout_recovers_a_known_lift_and_claims_none_where_there_is_none() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(LIFTED, YOGA_2026_01_13).await;
        let mut merchants = BTreeMap::new();
        for shop in [LIFTED, FLAT] {
            let merchant = app.merchant_key(shop).await;
            // Half the shop held out, so 3,000 shoppers measure a 50% lift in CI time.
            let (status, settings) = app
                .request(
                    Method::PUT,
                    &format!("/api/v1/shops/{shop}/settings"),
                    Some(&merchant),
                    Some(json!({"holdout": {"enabled": true, "share_percent": 50, "control": "none"}}).to_string().into_bytes()),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{settings}");
            assert_eq!(settings["holdout"]["share_percent"], 50.0);
            merchants.insert(shop, merchant);
        }
        // The flat shop has no catalogue: without a lift, what a shelf shows does not matter.

        let lifted = simulate(&app, LIFTED, TRUE_LIFT, 11).await;
        let flat = simulate(&app, FLAT, 0.0, 12).await;
        // Every shopper not held out was shown a shelf.
        assert_eq!(lifted.shown + lifted.held_out, SHOPPERS);
        for run in [&lifted, &flat] {
            assert!((1_300..1_700).contains(&run.held_out), "{}", run.held_out);
        }

        let lifted = holdout_results(&app, LIFTED, &merchants[LIFTED]).await;
        let kindred = &lifted["arms"][0];
        assert_eq!(kindred["name"], "kindred");
        assert_eq!(lifted["control_arm"], "holdout");
        let visitors =
            kindred["visitors"].as_u64().unwrap() + lifted["arms"][1]["visitors"].as_u64().unwrap();
        assert_eq!(visitors, SHOPPERS as u64, "{lifted}");
        let lift = &kindred["revenue_per_visitor_lift"];
        let (estimate, error) = log_lift(lift);
        assert!(
            (estimate - (1.0 + TRUE_LIFT).ln()).abs() < STANDARD_ERRORS * error,
            "the estimate is far from the true lift: {lifted}"
        );
        assert!(
            lift["low"].as_f64().unwrap() > 0.0,
            "a 50% lift must show: {lifted}"
        );
        assert!(
            lifted["verdict"]
                .as_str()
                .unwrap()
                .starts_with("Kindred added "),
            "{lifted}"
        );
        assert_eq!(lifted["sample_ratio"]["mismatch"], false, "{lifted}");
        assert_eq!(lifted["currency"], "EUR");

        eprintln!("lifted: {}", lifted["verdict"]);
        let flat = holdout_results(&app, FLAT, &merchants[FLAT]).await;
        eprintln!("flat: {}", flat["verdict"]);
        let (estimate, error) = log_lift(&flat["arms"][0]["revenue_per_visitor_lift"]);
        assert!(
            estimate.abs() < STANDARD_ERRORS * error,
            "no lift, yet one is claimed: {flat}"
        );

        // The dashboard's report carries the same verdict.
        let (status, report) = app
            .get(
                &format!("/api/v1/shops/{LIFTED}/report?days=7"),
                &merchants[LIFTED],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["holdout"]["verdict"], lifted["verdict"]);
        assert_eq!(report["daily"].as_array().unwrap().len(), 7);
        let with = report["orders"]["with_recommendations"]["orders"]
            .as_u64()
            .unwrap();
        let without = report["orders"]["without"]["orders"].as_u64().unwrap();
        assert_eq!(with, 0, "no click, no attributed order");
        assert!(without > 500, "{report}");
    }
}
