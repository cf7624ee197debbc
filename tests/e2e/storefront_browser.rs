//! The storefront against Shopify's own tools and a real browser (the Node side lives in
//! `tests/storefront/`; `scripts/test.sh` installs it with `npm ci`):
//! - our App Proxy verifier gives the verdicts of Shopify's `@shopify/shopify-api` on queries
//!   that library judged (valid, tampered, stale, multi-value, wrong secret);
//! - Shopify's theme linter passes on the extension;
//! - headless Chromium loads a theme page with the block rendered from its Liquid, through a
//!   signing proxy that plays Shopify's storefront, against this server: the cards are the
//!   server's recommendations, nothing shifts, no console errors, and the server records the
//!   impressions, the click and the product view.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use kindred::domain::ShopDomain;
use kindred::shopify::app_proxy;
use kindred::shopify::{AppSecrets, Secret};
use kindred::stores::prelude::*;

use crate::common::{client, databases, TestApp};
use crate::fake_shopify::SECRET;

const SHOP: &str = "yoga-store.myshopify.com";
const MAT: &str = "4357742755898";

fn storefront_tools() -> PathBuf {
    crate::common::node_package("tests/storefront")
}

/// Runs a Node script of `tests/storefront`; its stdout, or a panic with everything it said.
pub(crate) fn node(script: &str, args: &[&str], env: &[(&str, String)]) -> String {
    let dir = storefront_tools();
    let output = Command::new("node")
        .arg(script)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(&dir)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "node {script} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn our_app_proxy_verifier_agrees_with_shopifys_library() {
    let secret = "kindred-proxy-agreement-secret";
    let document: Value =
        serde_json::from_str(&node("proxy-signature.mjs", &[secret], &[])).unwrap();
    let now = document["now"].as_i64().unwrap();
    let secrets = AppSecrets::new(Secret::new(secret), None);
    let cases = document["cases"].as_array().unwrap();
    let mut verdicts = HashMap::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let pairs: Vec<(String, String)> = case["query"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap().to_owned(),
                    p[1].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let library = case["library_valid"].as_bool().unwrap();
        let ours = app_proxy::verify(&secrets, &pairs, now);
        assert_eq!(
            ours.is_ok(),
            library,
            "{name}: library says {library}, we say {ours:?}"
        );
        verdicts.insert(name.to_owned(), library);
    }
    // The library judged both ways, on the kinds of query the issue names.
    assert!(
        verdicts.values().any(|v| *v) && verdicts.values().any(|v| !*v),
        "{verdicts:?}"
    );
    for kind in ["valid", "tampered", "stale", "multi"] {
        assert!(
            verdicts.keys().any(|k| k.contains(kind)),
            "no {kind} case in {verdicts:?}"
        );
    }
}

/// The Node tests of the extensions: our signing against Shopify's library and example, the
/// theme extension's files and rendering, and the web pixel fed Shopify's standard events.
#[test]
fn the_extensions_node_tests_pass() {
    let out = node(
        "--test",
        &["signature.test.mjs", "extension.test.mjs", "pixel.test.mjs"],
        &[],
    );
    assert!(out.contains("# fail 0"), "{out}");
    assert!(!out.contains("# pass 0"), "{out}");
}

#[test]
fn the_theme_extension_passes_shopifys_theme_check() {
    node("theme-check.mjs", &[], &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shoppers_see_the_block_in_a_real_browser_and_the_server_records_what_they_do() {
    let app = TestApp::spawn(&databases()[0]).await;
    app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
    let key = app.storefront_key(SHOP).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/storefront");
    std::fs::create_dir_all(&artifacts).unwrap();
    // The stand-in storefront sells the catalogue the server imported, as Shopify would: the
    // proxy's Liquid cards read their products from it (`all_products`).
    let catalogue = crate::fake_shopify::shared_data("catalogs/yoga-stores/2026-01-13");
    let screenshot = artifacts.join("product-page.png");
    let market_screenshot = artifacts.join("product-page-fr.png");
    let cart_screenshot = artifacts.join("cart-drawer.png");
    let env = vec![
        ("KINDRED_URL", format!("http://{address}")),
        ("KINDRED_PROXY_SECRET", SECRET.to_owned()),
        ("SHOP", SHOP.to_owned()),
        ("PRODUCT_ID", MAT.to_owned()),
        ("PRODUCT_JSON", catalogue.display().to_string()),
        ("SCREENSHOT", screenshot.display().to_string()),
        ("MARKET_SCREENSHOT", market_screenshot.display().to_string()),
        ("CART_SCREENSHOT", cart_screenshot.display().to_string()),
        ("BLOCK", "1".to_owned()),
    ];
    let stdout = tokio::task::spawn_blocking(move || node("storefront.mjs", &[], &env))
        .await
        .unwrap();
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("the browser run printed no summary ({e}):\n{stdout}"));

    // The cards are exactly what the server recommends for this product.
    let cards: Vec<String> = summary["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(cards.len() >= 4, "{summary}");
    let (status, expected) = app
        .get(
            &format!(
                "/api/v1/recommendations/similar?product_id={MAT}&limit={}",
                cards.len()
            ),
            &key,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let expected: Vec<&str> = expected["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(cards, expected);
    assert!(
        summary["cls"].as_f64().unwrap() < 0.01,
        "layout shift: {summary}"
    );
    assert_eq!(summary["console_errors"], json!([]), "{summary}");
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 10_000);

    // The same page in the French market: the server's products, shown as that market shows
    // them (euros, French titles, `/fr` links), which the browser run checked card by card.
    let market = &summary["market"];
    let market_cards: Vec<&str> = market["cards"]
        .as_array()
        .unwrap_or_else(|| panic!("no market run: {summary}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(market_cards, expected, "{market}");
    assert_eq!(market["currency"], "EUR", "{market}");
    assert!(market["cards"].as_array().unwrap().iter().all(|c| c["url"]
        .as_str()
        .unwrap()
        .starts_with("/fr-fr/products/")
        && c["price"].as_str().unwrap().contains('€')));
    assert!(std::fs::metadata(&market_screenshot).unwrap().len() > 10_000);

    // The cart: the drawer's shelf and the cart page's offered what goes with the cart, never
    // what it held, and each card's button put its product in the cart.
    let cart = &summary["cart"];
    let in_cart: Vec<&str> = cart["cart"]
        .as_array()
        .unwrap_or_else(|| panic!("no cart run: {summary}"))
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    assert_eq!(in_cart.len(), 3, "{cart}");
    for surface in ["drawer", "cart_page"] {
        let added = cart[surface]["added"].as_str().unwrap();
        assert!(in_cart.contains(&added), "{cart}");
        assert!(!cart[surface]["after"]
            .as_array()
            .unwrap()
            .contains(&json!(added)));
    }
    assert!(cart["drawer"]["cls"].as_f64().unwrap() < 0.01, "{cart}");
    assert!(std::fs::metadata(&cart_screenshot).unwrap().len() > 10_000);

    // What the shopper did reached the server: the view of the product page, the cards seen,
    // the card clicked.
    let (status, performance) = app
        .request(
            Method::GET,
            &format!("/api/v1/shops/{SHOP}/recommendations/performance"),
            Some(&app.admin_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let similar = performance["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["strategy"] == "similar")
        .unwrap_or_else(|| panic!("no similar impressions recorded: {performance}"));
    assert!(
        similar["impressions"].as_i64().unwrap() >= 1,
        "{performance}"
    );
    assert_eq!(similar["clicks"].as_i64(), Some(1), "{performance}");
    // The cart shelves' adds count as their strategy's clicks (complementary, or its fallback).
    let cart_clicks: i64 = performance["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            ["complementary", "trending", "new_arrivals"]
                .contains(&s["strategy"].as_str().unwrap_or_default())
        })
        .map(|s| s["clicks"].as_i64().unwrap_or(0))
        .sum();
    assert!(cart_clicks >= 2, "{performance}");
    let shop = ShopDomain::parse(SHOP).unwrap();
    let viewed = app
        .store
        .daily_product_interest(&shop, 0)
        .await
        .unwrap()
        .into_iter()
        .any(|(product, _, _)| product.to_string() == MAT);
    assert!(viewed, "the tracking embed's product view was not recorded");

    // Consent (Shopify's Customer Privacy API): refused, nothing was sent or stored and the
    // cards still came; unanswered, the same until the shopper agreed, then the page's events.
    let consent = &summary["consent"];
    for state in [&consent["refused"], &consent["unanswered"]["before"]] {
        assert_eq!(state["event_posts"], 0, "{consent}");
        assert_eq!(state["local_storage"], json!([]), "{consent}");
        assert!(state["recommendation_client_id"].is_null(), "{consent}");
        assert!(state["cards"].as_u64().unwrap() >= 4, "{consent}");
    }
    let late = consent["unanswered"]["after"]["client_id"]
        .as_str()
        .unwrap();
    assert_eq!(
        app.store
            .client_events(&shop, &client(late))
            .await
            .unwrap()
            .len(),
        consent["unanswered"]["after"]["events"]["product_viewed"]
            .as_u64()
            .unwrap() as usize,
        "{consent}"
    );

    // A purchase joins the browsing session: the embed put its id into the cart, the order
    // carries it as a custom attribute, and that browser's history holds both.
    let given = &consent["given"];
    let browser = given["client_id"].as_str().unwrap();
    assert_eq!(given["cart_attribute"], browser, "{consent}");
    assert!(!app
        .store
        .client_events(&shop, &client(browser))
        .await
        .unwrap()
        .is_empty());
    let bought = cards[0].clone();
    let order = json!({
        "id": 6_300_000_000_001u64, "created_at": chrono::Utc::now().to_rfc3339(),
        "updated_at": chrono::Utc::now().to_rfc3339(), "financial_status": "paid", "currency": "EUR",
        "customer": null, "note_attributes": [{"name": "_kindred_client_id", "value": browser}],
        "line_items": [{"id": 1, "product_id": bought, "quantity": 1, "price": "88.00"}],
    });
    let order = kindred::shopify::orders::payload::order_from_webhook(&order).unwrap();
    app.store
        .upsert_orders(&shop, &[order], kindred::purchases::OrderSource::Webhook)
        .await
        .unwrap();
    let (status, again) = app
        .get(
            &format!("/api/v1/recommendations/buy-again?client_id={browser}"),
            &key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["recommendations"][0]["id"], json!(bought), "{again}");
    let (_, viewed) = app
        .get(
            &format!("/api/v1/recommendations/recently-viewed?client_id={browser}"),
            &key,
        )
        .await;
    assert!(
        !viewed["recommendations"].as_array().unwrap().is_empty(),
        "{viewed}"
    );
}
