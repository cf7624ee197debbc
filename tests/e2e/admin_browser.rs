//! The embedded admin in headless Chromium (the Node side is `tests/storefront/admin.mjs`),
//! against this server installed in the fake Shopify with the real yoga-store catalogue and a
//! stand-in for App Bridge that signs session tokens: every page loads without errors, in
//! English, French and German, within Shopify's Web Vitals; a rule saved in the editor
//! changes the storefront's next answer; the preview equals the API; the charts render from
//! seeded data (screenshots kept in `target/admin/`); another shop's session sees nothing.

use std::path::Path;

use axum::http::{Method, StatusCode};
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::common::{databases, shelf_ids, TestApp};
use crate::fake_shopify::{capture, FakeShopify, CLIENT_ID, SECRET};
use crate::purchases::wait_for_orders;
use crate::shopify_app::{admin_session, deliver_and_apply, install};

const SHOP: &str = "yoga-admin.myshopify.com";
const OTHER: &str = "yoga-other-admin.myshopify.com";
const MAT: &str = "4357742755898";

fn time(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A week of shelf activity and one attributed order, so the dashboard has data to draw.
async fn seed(app: &TestApp, key: &str, shelf: &[u64], catalogue: &[Value]) {
    for day in 0..7 {
        let events: Vec<Value> = shelf
            .iter()
            .enumerate()
            .flat_map(|(i, product)| {
                let at = time(Utc::now() - Duration::days(day) - Duration::minutes(i as i64 + 5));
                let client = format!("admin-shopper-{day}");
                let mut events = vec![json!({"type": "recommendation_viewed", "client_id": client,
                    "product_id": product.to_string(), "strategy": "similar", "placement": "product", "occurred_at": at})];
                if i == 0 {
                    events.push(json!({"type": "recommendation_clicked", "client_id": client,
                        "product_id": product.to_string(), "strategy": "similar", "placement": "product", "occurred_at": at}));
                }
                events
            })
            .collect();
        let (status, body) = app.send_events(key, json!(events)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let product = catalogue
        .iter()
        .find(|p| p["id"].as_u64() == Some(shelf[0]))
        .unwrap();
    let at = time(Utc::now());
    let order = json!({"id": 9_300_000_000_001u64, "created_at": at, "updated_at": at, "cancelled_at": null,
        "financial_status": "paid", "test": false, "currency": "EUR", "customer": null,
        "note_attributes": [{"name": "_kindred_client_id", "value": "admin-shopper-0"}],
        "line_items": [{"id": 1, "product_id": product["id"], "variant_id": product["variants"][0]["id"], "quantity": 1,
            "current_quantity": 1, "price": product["variants"][0]["price"], "total_discount": "0.00"}], "refunds": []});
    deliver_and_apply(app, "/webhooks", "orders/create", SHOP, &order).await;
}

async fn similar_of_mat(app: &TestApp, key: &str) -> Vec<u64> {
    let (status, body) = app
        .get(
            &format!("/api/v1/recommendations/similar?product_id={MAT}&limit=8"),
            key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    shelf_ids(&body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merchants_run_kindred_from_the_embedded_admin_in_a_real_browser() {
    let fake = FakeShopify::start().await;
    let catalogue = capture("2026-01-13");
    fake.set_products(SHOP, &catalogue);
    // Nothing of its own: whatever product its admin showed would be a leak.
    fake.set_products(OTHER, &[]);
    let app = TestApp::spawn_with_shopify(&databases()[0], &fake.admin_template()).await;
    install(&app, SHOP).await;
    install(&app, OTHER).await;
    wait_for_orders(&app, SHOP).await;
    wait_for_orders(&app, OTHER).await;
    let key = app.storefront_key(SHOP).await;
    let merchant = app.merchant_key(SHOP).await;
    let before = similar_of_mat(&app, &key).await;
    assert!(before.len() >= 4, "{before:?}");
    seed(&app, &key, &before[..4], &catalogue).await;
    // The merchant is on Growth (experiments), bought through Shopify.
    let session = [("authorization", format!("Bearer {}", admin_session(SHOP)))];
    let (status, _, chosen) = app
        .request_with_headers(
            Method::POST,
            "/app/api/billing/subscribe",
            None,
            &session,
            Some(json!({"plan": "growth"}).to_string().into_bytes()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{chosen}");
    fake.approve_subscriptions(SHOP);
    let (status, _, _) = app
        .request_with_headers(
            Method::GET,
            &format!("/app/billing/return?shop={SHOP}"),
            None,
            &[],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/admin");
    std::fs::create_dir_all(&artifacts).unwrap();
    let excluded = before[0];
    let env = vec![
        ("KINDRED_URL", format!("http://{address}")),
        ("API_KEY", CLIENT_ID.to_owned()),
        ("API_SECRET", SECRET.to_owned()),
        ("SHOP", SHOP.to_owned()),
        ("OTHER_SHOP", OTHER.to_owned()),
        ("PICK_PRODUCT", MAT.to_owned()),
        ("EXCLUDE_PRODUCT", excluded.to_string()),
        ("ARTIFACT_DIR", artifacts.display().to_string()),
        ("LOCALES", "en,fr,de".to_owned()),
    ];
    let stdout = tokio::task::spawn_blocking(move || {
        crate::storefront_browser::node("admin.mjs", &[], &env)
    })
    .await
    .unwrap();
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("the admin run printed no summary ({e}):\n{stdout}"));
    std::fs::write(
        artifacts.join("summary.json"),
        serde_json::to_vec_pretty(&summary).unwrap(),
    )
    .unwrap();

    // The rule saved in the editor changes what shoppers are shown next.
    assert_eq!(summary["rule_saved"], true, "{summary}");
    let after = similar_of_mat(&app, &key).await;
    assert!(!after.contains(&excluded), "{after:?}");
    assert!(!after.is_empty());
    // The preview the merchant saw is the API's answer, shelf by shelf.
    let (status, served) = app
        .get(
            &format!("/api/v1/shops/{SHOP}/preview?product_id={MAT}&limit=8"),
            &merchant,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{served}");
    for shelf in served["shelves"].as_array().unwrap() {
        let strategy = shelf["strategy"].as_str().unwrap();
        let ids: Vec<String> = shelf_ids(shelf).iter().map(u64::to_string).collect();
        assert_eq!(
            summary["preview"][strategy],
            json!(ids),
            "{strategy}: {summary}"
        );
    }
    assert!(summary["experiment_id"].as_str().is_some(), "{summary}");
    // Every page and language within Shopify's admin limits (the script checks each too).
    for (page, vitals) in summary["pages"].as_object().unwrap() {
        assert!(
            vitals["lcp_ms"].as_f64().unwrap() < 2_500.0,
            "{page}: {vitals}"
        );
        assert!(vitals["cls"].as_f64().unwrap() < 0.1, "{page}: {vitals}");
        assert_eq!(vitals["console_errors"], 0, "{page}: {vitals}");
    }
    assert_eq!(
        summary["locales"].as_object().unwrap().len(),
        3,
        "{summary}"
    );
    for page in [
        "dashboard",
        "rules",
        "preview",
        "experiments",
        "settings",
        "billing",
    ] {
        let png = artifacts.join(format!("{page}.png"));
        assert!(
            std::fs::metadata(&png)
                .map(|m| m.len() > 10_000)
                .unwrap_or(false),
            "{}",
            png.display()
        );
    }
    // Another shop's session sees nothing of this one.
    let other = &summary["other_shop"];
    assert_eq!(other["shown"], 0, "{other}");
    assert_eq!(other["products_seen"], json!([]), "{other}");
}
