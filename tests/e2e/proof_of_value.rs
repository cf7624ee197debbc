//! What Kindred earned and how a merchant steers it, on the real yoga-store products through
//! the fake Shopify: a click then an order within the window is attributed (outside it, not;
//! a refund subtracts; another shop's orders never count); an A/B experiment needs the paid
//! plan, which the merchant buys through Shopify's Billing API; the embedded admin's
//! session tokens see their own shop only.

use axum::http::{Method, StatusCode};
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use kindred::domain::ShopDomain;
use kindred::shopify::webhooks::Topic;
use kindred::stores::prelude::*;
use kindred::stores::InboxDelivery;

use crate::common::{databases, error_code, TestApp};
use crate::fake_shopify::{capture, FakeShopify};
use crate::purchases::wait_for_orders;
use crate::retail_orders::on_sale;
use crate::shopify_app::{admin_session, deliver_and_apply, install};

const SHOP: &str = "yoga-proof.myshopify.com";
const OTHER: &str = "yoga-elsewhere.myshopify.com";
const CLIENT: &str = "proof-shopper-1";

fn time(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A click on a Kindred shelf, `hours_ago`.
fn click(product: &Value, strategy: &str, hours_ago: i64) -> Value {
    json!({"type": "recommendation_clicked", "client_id": CLIENT, "product_id": product["id"].to_string(),
        "strategy": strategy, "placement": "product", "occurred_at": time(Utc::now() - Duration::hours(hours_ago))})
}

/// An order of the browser, as Shopify's order webhooks carry it: `(product, units)` lines
/// at the product's price.
fn order(id: u64, hours_ago: i64, lines: &[(&Value, u32)]) -> Value {
    let at = time(Utc::now() - Duration::hours(hours_ago));
    let lines: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (product, units))| {
            let variant = &product["variants"][0];
            json!({"id": id * 10 + i as u64, "product_id": product["id"], "variant_id": variant["id"],
                "quantity": units, "current_quantity": units, "price": variant["price"], "total_discount": "0.00"})
        })
        .collect();
    json!({"id": id, "created_at": at, "updated_at": at, "cancelled_at": null, "financial_status": "paid",
        "test": false, "currency": "EUR", "customer": null,
        "note_attributes": [{"name": "_kindred_client_id", "value": CLIENT}],
        "line_items": lines, "refunds": []})
}

fn price(product: &Value) -> f64 {
    product["variants"][0]["price"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn report(app: &TestApp, shop: &str, key: &str) -> Value {
    let (status, body) = app
        .get(&format!("/api/v1/shops/{shop}/report?days=7"), key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The report's row of a strategy on product pages.
fn row<'a>(report: &'a Value, strategy: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["strategy"] == strategy && r["placement"] == "product")
        .unwrap_or_else(|| panic!("no {strategy} row: {report}"))
}

/// The fake Shopify with `count` on-sale yoga-store products in both shops, and the app
/// installed in both, their order histories read.
async fn two_installed_shops(
    db: &crate::common::Database,
    count: usize,
) -> (FakeShopify, TestApp, Vec<Value>) {
    let fake = FakeShopify::start().await;
    let products: Vec<Value> = on_sale(&capture("2026-01-13"))
        .into_iter()
        .take(count)
        .cloned()
        .collect();
    fake.set_products(SHOP, &products);
    fake.set_products(OTHER, &products);
    let app = TestApp::spawn_with_shopify(db, &fake.admin_template()).await;
    install(&app, SHOP).await;
    install(&app, OTHER).await;
    wait_for_orders(&app, SHOP).await;
    wait_for_orders(&app, OTHER).await;
    (fake, app, products)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_then_an_order_in_the_window_is_attributed_and_a_refund_subtracts() {
    for db in databases() {
        let (_fake, app, products) = two_installed_shops(&db, 40).await;
        let (mat, strap, block) = (&products[0], &products[1], &products[2]);
        let key = app.storefront_key(SHOP).await;
        let merchant = app.merchant_key(SHOP).await;
        let other_merchant = app.merchant_key(OTHER).await;

        // Shown three products, clicked the mat 2 hours ago and the strap 30 hours ago.
        let shown: Vec<Value> = [mat, strap, block]
            .iter()
            .map(|p| json!({"type": "recommendation_viewed", "client_id": CLIENT, "product_id": p["id"].to_string(),
                "strategy": "similar", "placement": "product", "occurred_at": time(Utc::now() - Duration::hours(31))}))
            .collect();
        let (status, body) = app.send_events(&key, json!(shown)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app
            .send_events(
                &key,
                json!([click(mat, "similar", 2), click(strap, "similar", 30)]),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // An hour ago the browser bought two mats, a strap and a block.
        let bought = order(9_100_000_000_001, 1, &[(mat, 2), (strap, 1), (block, 1)]);
        deliver_and_apply(&app, "/webhooks", "orders/create", SHOP, &bought).await;
        // The same browser bought a mat in another shop: that order is the other shop's.
        let elsewhere = order(9_100_000_000_002, 1, &[(mat, 1)]);
        deliver_and_apply(&app, "/webhooks", "orders/create", OTHER, &elsewhere).await;

        let first = report(&app, SHOP, &merchant).await;
        let similar = row(&first, "similar");
        assert_eq!(similar["shown"], 3);
        assert_eq!(similar["clicked"], 2);
        // Only the mats: the strap's click is 29 hours before the order, past the 24-hour window.
        assert_eq!(similar["attributed_units"], 2, "{first}");
        assert_eq!(similar["attributed_orders"], 1);
        let mats = 2.0 * price(mat);
        assert!(
            (similar["attributed_revenue"].as_f64().unwrap() - mats).abs() < 0.005,
            "{first}"
        );
        assert_eq!(first["currency"], "EUR");
        assert_eq!(first["window_hours"], 24);
        let with = &first["orders"]["with_recommendations"];
        assert_eq!(with["orders"], 1);
        let whole = 2.0 * price(mat) + price(strap) + price(block);
        assert!(
            (with["aov"].as_f64().unwrap() - whole).abs() < 0.005,
            "{first}"
        );
        let other = report(&app, OTHER, &other_merchant).await;
        assert!(other["rows"].as_array().unwrap().is_empty(), "{other}");
        assert_eq!(other["orders"]["with_recommendations"]["orders"], 0);
        assert_eq!(other["orders"]["without"]["orders"], 1);

        // A 48-hour window reaches the strap's click.
        let (status, settings) = app
            .request(
                Method::PUT,
                &format!("/api/v1/shops/{SHOP}/settings"),
                Some(&merchant),
                Some(
                    json!({"attribution_window_hours": 48})
                        .to_string()
                        .into_bytes(),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{settings}");
        let wider = report(&app, SHOP, &merchant).await;
        assert_eq!(row(&wider, "similar")["attributed_units"], 3, "{wider}");

        // One of the two mats is refunded: its revenue comes off.
        let refund = json!({"id": 9_100_000_000_077u64, "order_id": bought["id"], "created_at": time(Utc::now()),
            "refund_line_items": [{"id": 1, "line_item_id": bought["line_items"][0]["id"], "quantity": 1,
                "line_item": bought["line_items"][0]}]});
        deliver_and_apply(&app, "/webhooks", "refunds/create", SHOP, &refund).await;
        let refunded = report(&app, SHOP, &merchant).await;
        let similar = row(&refunded, "similar");
        assert_eq!(similar["attributed_units"], 2, "{refunded}");
        let left = price(mat) + price(strap);
        assert!(
            (similar["attributed_revenue"].as_f64().unwrap() - left).abs() < 0.005,
            "{refunded}"
        );

        // Cancelled, it earned nothing.
        let mut cancelled = bought.clone();
        cancelled["cancelled_at"] = json!(time(Utc::now()));
        cancelled["updated_at"] = json!(time(Utc::now() + Duration::minutes(1)));
        cancelled["financial_status"] = json!("refunded");
        deliver_and_apply(&app, "/webhooks", "orders/cancelled", SHOP, &cancelled).await;
        let after = report(&app, SHOP, &merchant).await;
        assert_eq!(row(&after, "similar")["attributed_revenue"], 0.0, "{after}");
        assert_eq!(after["orders"]["with_recommendations"]["orders"], 0);

        // Another shop's key reads none of it.
        let (status, body) = app
            .get(&format!("/api/v1/shops/{SHOP}/report"), &other_merchant)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (status, body) = app
            .get(&format!("/api/v1/shops/{SHOP}/report?days=0"), &merchant)
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{body}"
        );
    }
}

/// A request of the embedded admin of `shop` (its App Bridge session token).
async fn admin(
    app: &TestApp,
    shop: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let headers = [("authorization", format!("Bearer {}", admin_session(shop)))];
    let (status, _, answer) = app
        .request_with_headers(
            method,
            path,
            None,
            &headers,
            body.map(|b| b.to_string().into_bytes()),
        )
        .await;
    (status, answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_experiment_needs_the_paid_plan_bought_through_shopify_and_splits_shoppers_by_arm() {
    let db = databases().remove(0);
    let (fake, app, products) = two_installed_shops(&db, 40).await;

    let new = json!({"name": "Similar or trending on product pages", "placement": "product",
        "arms": [{"name": "a", "weight": 1, "strategy": "similar"}, {"name": "b", "weight": 1, "strategy": "trending"}]});
    let (status, experiment) = admin(
        &app,
        SHOP,
        Method::POST,
        "/app/api/experiments",
        Some(new.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{experiment}");
    let id = experiment["id"].as_str().unwrap().to_owned();
    assert_eq!(experiment["status"], "draft");
    let (status, refused) = admin(
        &app,
        SHOP,
        Method::POST,
        &format!("/app/api/experiments/{id}/start"),
        None,
    )
    .await;
    assert_eq!(
        (status, error_code(&refused)),
        (StatusCode::PAYMENT_REQUIRED, "plan_limit"),
        "{refused}"
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Growth"),
        "{refused}"
    );

    // The merchant chooses Growth: Shopify's approval page, a test charge (development store).
    let (status, billing) = admin(&app, SHOP, Method::GET, "/app/api/billing", None).await;
    assert_eq!(
        (status, &billing["plan"]),
        (StatusCode::OK, &json!("free")),
        "{billing}"
    );
    let (status, chosen) = admin(
        &app,
        SHOP,
        Method::POST,
        "/app/api/billing/subscribe",
        Some(json!({"plan": "growth"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{chosen}");
    assert!(
        chosen["confirmation_url"]
            .as_str()
            .unwrap()
            .contains("confirm_recurring_application_charge"),
        "{chosen}"
    );
    let charges = fake.subscriptions(SHOP);
    assert_eq!(
        (charges.len(), &charges[0]["test"], &charges[0]["name"]),
        (1, &json!(true), &json!("Kindred Growth"))
    );
    // Not approved yet: still free.
    let (_, billing) = admin(&app, SHOP, Method::GET, "/app/api/billing", None).await;
    assert_eq!(billing["plan"], "free");
    fake.approve_subscriptions(SHOP);
    let (status, headers, _) = app
        .request_with_headers(
            Method::GET,
            &format!("/app/billing/return?shop={SHOP}&charge_id=1"),
            None,
            &[],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers["location"].to_str().unwrap().ends_with("#billing"),
        "{headers:?}"
    );
    let (_, billing) = admin(&app, SHOP, Method::GET, "/app/api/billing", None).await;
    assert_eq!(billing["plan"], "growth", "{billing}");

    let (status, started) = admin(
        &app,
        SHOP,
        Method::POST,
        &format!("/app/api/experiments/{id}/start"),
        None,
    )
    .await;
    assert_eq!(
        (status, &started["status"]),
        (StatusCode::OK, &json!("running")),
        "{started}"
    );
    // A second experiment on the same shelves would put a shopper in two arms.
    let (_, second) = admin(&app, SHOP, Method::POST, "/app/api/experiments", Some(new)).await;
    let (status, body) = admin(
        &app,
        SHOP,
        Method::POST,
        &format!(
            "/app/api/experiments/{}/start",
            second["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // Each shopper gets their arm's strategy, the same on every request; other shelves are not in it.
    let key = app.storefront_key(SHOP).await;
    let mat = products[0]["id"].to_string();
    let mut arms = std::collections::BTreeMap::new();
    for n in 0..40 {
        let client = format!("ab-shopper-{n}");
        let ask = |placement: &str| {
            format!("/api/v1/recommendations?strategy=new_arrivals&product_id={mat}&placement={placement}&client_id={client}")
        };
        let (status, answer) = app.get(&ask("product"), &key).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let arm = answer["experiment"]["arm"].as_str().unwrap().to_owned();
        assert_eq!(answer["experiment"]["id"], json!(id));
        let expected = if arm == "a" { "similar" } else { "trending" };
        assert_eq!(answer["strategy"], expected, "{answer}");
        let (_, again) = app.get(&ask("product"), &key).await;
        assert_eq!(again["experiment"]["arm"], json!(arm));
        let (_, cart) = app.get(&ask("cart"), &key).await;
        assert!(cart.get("experiment").is_none(), "{cart}");
        *arms.entry(arm).or_insert(0) += 1;
    }
    assert_eq!(arms.len(), 2, "{arms:?}");
    let (status, results) = admin(
        &app,
        SHOP,
        Method::GET,
        &format!("/app/api/experiments/{id}/results"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{results}");
    assert_eq!(results["control_arm"], "a");
    assert!(
        results["verdict"]
            .as_str()
            .unwrap()
            .contains("Not enough data"),
        "{results}"
    );

    // Another shop's admin sees only its own holdout, and not this experiment.
    let (_, theirs) = admin(&app, OTHER, Method::GET, "/app/api/experiments", None).await;
    assert_eq!(
        theirs["experiments"].as_array().unwrap().len(),
        1,
        "{theirs}"
    );
    let (status, _) = admin(
        &app,
        OTHER,
        Method::GET,
        &format!("/app/api/experiments/{id}/results"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = admin(
        &app,
        OTHER,
        Method::POST,
        &format!("/app/api/experiments/{id}/stop"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, stopped) = admin(
        &app,
        SHOP,
        Method::POST,
        &format!("/app/api/experiments/{id}/stop"),
        None,
    )
    .await;
    assert_eq!(
        (status, &stopped["status"]),
        (StatusCode::OK, &json!("stopped")),
        "{stopped}"
    );
    let (_, after) = app
        .get(&format!("/api/v1/recommendations?strategy=new_arrivals&placement=product&client_id=ab-shopper-1"), &key)
        .await;
    assert!(after.get("experiment").is_none(), "{after}");

    // Back to Free: Shopify's charge is cancelled.
    let (status, body) = admin(
        &app,
        SHOP,
        Method::POST,
        "/app/api/billing/subscribe",
        Some(json!({"plan": "free"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(fake.subscriptions(SHOP)[0]["status"], "CANCELLED");
    let (_, billing) = admin(&app, SHOP, Method::GET, "/app/api/billing", None).await;
    assert_eq!(billing["plan"], "free");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_page_lists_failed_deliveries_and_retries_them() {
    let db = databases().remove(0);
    let (_fake, app, _products) = two_installed_shops(&db, 5).await;
    let shop = ShopDomain::parse(SHOP).unwrap();
    let body = crate::fake_shopify::sample_payload("products_update.json", SHOP);
    let delivery = InboxDelivery {
        webhook_id: "wh-failed-1".into(),
        event_key: None,
        shop: shop.clone(),
        topic: Topic::parse("products/update").unwrap(),
        api_version: Some("2025-10".into()),
        triggered_at: None,
        body: body.to_string(),
    };
    assert!(app.store.enqueue_delivery(&delivery).await.unwrap());
    app.store
        .mark_attempt_failed("wh-failed-1", "the model was not loaded", None)
        .await
        .unwrap();
    let (status, failed) = admin(&app, SHOP, Method::GET, "/app/api/webhooks/failed", None).await;
    assert_eq!(status, StatusCode::OK, "{failed}");
    let listed = &failed["deliveries"][0];
    assert_eq!(
        (listed["webhook_id"].as_str(), listed["retryable"].as_bool()),
        (Some("wh-failed-1"), Some(true)),
        "{failed}"
    );
    // Another shop cannot see or retry it.
    let (_, theirs) = admin(&app, OTHER, Method::GET, "/app/api/webhooks/failed", None).await;
    assert!(theirs["deliveries"].as_array().unwrap().is_empty());
    let (status, _) = admin(
        &app,
        OTHER,
        Method::POST,
        "/app/api/webhooks/wh-failed-1/retry",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, retried) = admin(
        &app,
        SHOP,
        Method::POST,
        "/app/api/webhooks/wh-failed-1/retry",
        None,
    )
    .await;
    assert_eq!(
        (status, &retried["state"]),
        (StatusCode::OK, &json!("pending")),
        "{retried}"
    );
    assert_eq!(
        app.store.inbox_counts(Some(&shop)).await.unwrap().pending,
        1
    );
    let (status, _) = admin(
        &app,
        SHOP,
        Method::POST,
        "/app/api/webhooks/wh-failed-1/retry",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}
