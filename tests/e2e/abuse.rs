//! The abuse suite: each attack that was once found against `kindred serve`, replayed, and
//! shown contained. Storage-touching cases run on SQLite and PostgreSQL.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use kindred::domain::ShopDomain;
use kindred::events::{parse_event, EventSource};
use kindred::stores::prelude::*;
use kindred::stores::{KeyOrigin, KeyScope};

use crate::common::{client, databases, error_code, TestApp, YOGA_2026_01_13};
use crate::fake_shopify::{sample_payload, FakeShopify};
use crate::shopify_app::{deliver, deliver_and_apply, install};
use crate::storefront::ids;
use kindred::domain::CustomerId;

const SHOP: &str = "abuse-shop.myshopify.com";
const OTHER: &str = "abuse-other.myshopify.com";
const MAT: &str = "4357742755898";
const LEGGINGS: &str = "6239910789300";
const BRA: &str = "6239914426548";

/// A request as one client (the test router takes the client address from `x-test-client`).
async fn as_client(app: &TestApp, client: &str, path: &str, key: &str) -> StatusCode {
    app.request_with_headers(
        Method::GET,
        path,
        Some(key),
        &[("x-test-client", client.to_owned())],
        None,
    )
    .await
    .0
}

/// Asks for a customer token of `shop` with `key`.
async fn mint(app: &TestApp, key: &str, shop: &str, customer: u64) -> (StatusCode, Value) {
    app.request(
        Method::POST,
        &format!("/api/v1/shops/{shop}/customer-tokens"),
        Some(key),
        Some(json!({ "customer_id": customer }).to_string().into_bytes()),
    )
    .await
}

async fn customer_token(app: &TestApp, merchant: &str, shop: &str, customer: u64) -> String {
    let (status, body) = mint(app, merchant, shop, customer).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["customer_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn made_up_methods_share_one_metrics_label() {
    let app = TestApp::spawn(&crate::common::Database::Sqlite).await;
    for n in 0..200 {
        let method =
            Method::from_bytes(format!("ODD{n:04}{}", "X".repeat(200)).as_bytes()).unwrap();
        let (status, _) = app.request(method, "/health", None, None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }
    let scrape = kindred::telemetry::metrics_handle().render();
    assert!(!scrape.contains("ODD0"), "a raw method became a label");
    assert!(
        scrape.contains("method=\"other\""),
        "{}",
        &scrape[..scrape.len().min(2000)]
    );
}

#[tokio::test]
async fn the_public_key_cannot_act_as_a_logged_in_customer() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, YOGA_2026_01_13).await;
        let public = app.storefront_key(SHOP).await;
        let merchant = app.merchant_key(SHOP).await;
        let shop = ShopDomain::parse(SHOP).unwrap();

        // The victim, customer 77, as the shop's server tells it.
        let genuine = json!([{"id": "v-1", "type": "product_viewed", "client_id": "victim-laptop",
            "customer_id": 77, "product_id": MAT}]);
        assert_eq!(app.send_events(&merchant, genuine).await.0, StatusCode::OK);

        // The attacker holds only the public key and claims to be customer 77.
        let every_product: Vec<Value> = app
            .store
            .on_sale_products(&shop)
            .await
            .unwrap()
            .into_iter()
            .take(100)
            .map(|id| json!({"product_id": id, "quantity": 1}))
            .collect();
        let forged = json!([
            {"id": "f-1", "type": "product_viewed", "client_id": "attacker", "customer_id": 77, "product_id": BRA},
            {"id": "f-2", "type": "checkout_completed", "client_id": "attacker", "customer_id": "77", "line_items": every_product},
            {"id": "f-3", "type": "search_submitted", "client_id": "attacker", "customer_id": 77, "query": "attacker search text"},
        ]);
        let (status, body) = app.send_events(&public, forged).await;
        assert_eq!(
            (status, body["accepted"].as_u64()),
            (StatusCode::OK, Some(3)),
            "{body}"
        );
        assert!(
            body["warnings"][0]
                .as_str()
                .unwrap()
                .contains("ignored on 3"),
            "{body}"
        );

        // Nothing of it is the victim's: history, export, shelves.
        let theirs = app
            .store
            .customer_export_events(&shop, CustomerId(77))
            .await
            .unwrap();
        assert_eq!(
            theirs
                .iter()
                .map(|e| e.event_id.as_str())
                .collect::<Vec<_>>(),
            ["v-1"],
            "{db:?}"
        );
        assert!(theirs
            .iter()
            .all(|e| e.source == Some(EventSource::Merchant)));
        let token = customer_token(&app, &merchant, SHOP, 77).await;
        let signed = [("x-kindred-customer-token", token.clone())];
        let (status, _, recent) = app
            .request_with_headers(
                Method::GET,
                "/api/v1/recommendations/recently-viewed",
                Some(&public),
                &signed,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{recent}");
        assert_eq!(ids(&recent), [MAT]);
        let (status, _, shelf) = app
            .request_with_headers(
                Method::GET,
                "/api/v1/recommendations/for-you?limit=5",
                Some(&public),
                &signed,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{shelf}");
        assert_eq!(
            ids(&shelf).len(),
            5,
            "the forged checkout emptied the shelf: {shelf}"
        );

        // A browser holding the victim's token speaks for the victim; a forged or foreign
        // token is refused outright.
        let batch = json!({"customer_token": token, "events": [
            {"id": "t-1", "type": "product_viewed", "client_id": "victim-phone", "product_id": LEGGINGS}]});
        let (status, body) = app
            .request(
                Method::POST,
                "/api/v1/events",
                Some(&public),
                Some(batch.to_string().into_bytes()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let held = app
            .store
            .customer_events(&shop, CustomerId(77))
            .await
            .unwrap();
        assert_eq!(held.len(), 2);
        app.import(OTHER, YOGA_2026_01_13).await;
        let other_merchant = app.merchant_key(OTHER).await;
        let foreign = customer_token(&app, &other_merchant, OTHER, 77).await;
        let last = if token.ends_with('A') { 'B' } else { 'A' };
        let tampered = format!("{}{last}", &token[..token.len() - 1]);
        for bad in [foreign, tampered, "kdr_ct_nonsense".to_owned()] {
            let (status, _, body) = app
                .request_with_headers(
                    Method::GET,
                    "/api/v1/recommendations/recently-viewed",
                    Some(&public),
                    &[("x-kindred-customer-token", bad)],
                    None,
                )
                .await;
            assert_eq!(
                (status, error_code(&body)),
                (StatusCode::UNAUTHORIZED, "invalid_customer_token")
            );
        }
        // Only the shop's own merchant key mints tokens for it.
        let (status, body) = mint(&app, &other_merchant, SHOP, 77).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::FORBIDDEN, "key_not_for_this_shop")
        );
        let (status, _) = mint(&app, &public, SHOP, 77).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_long_history_costs_what_a_short_one_does() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, YOGA_2026_01_13).await;
        let public = app.storefront_key(SHOP).await;
        let merchant = app.merchant_key(SHOP).await;
        let shop = ShopDomain::parse(SHOP).unwrap();
        // 33,000 views of distinct products: more than SQLite binds in one statement.
        let now = kindred::clock::Clock::now_millis(&kindred::clock::SystemClock);
        let mut events = Vec::new();
        for n in 0..33_000u64 {
            let raw = json!({"type": "product_viewed", "client_id": "hoarder", "customer_id": 91,
                "product_id": 1_000_000 + n, "id": format!("h-{n}")});
            let mut event =
                parse_event(&raw, now - 1_000_000 + n as i64, || unreachable!()).unwrap();
            event.source = Some(EventSource::Merchant);
            events.push(event);
        }
        for chunk in events.chunks(3_000) {
            app.store.insert_events(&shop, chunk).await.unwrap();
        }
        let view = json!([{"type": "product_viewed", "client_id": "hoarder", "customer_id": 91, "product_id": MAT}]);
        assert_eq!(app.send_events(&merchant, view).await.0, StatusCode::OK);
        assert_eq!(
            app.store
                .client_events(&shop, &client("hoarder"))
                .await
                .unwrap()
                .len(),
            kindred::events::MAX_HISTORY_EVENTS
        );
        let token = customer_token(&app, &merchant, SHOP, 91).await;
        for strategy in ["recently-viewed", "for-you", "new-arrivals"] {
            let (status, _, body) = app
                .request_with_headers(
                    Method::GET,
                    &format!("/api/v1/recommendations/{strategy}?client_id=hoarder"),
                    Some(&public),
                    &[("x-kindred-customer-token", token.clone())],
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{db:?} {strategy}: {body}");
        }
    }
}

#[tokio::test]
async fn searches_cost_the_model_a_few_texts_once() {
    let app = TestApp::spawn(&crate::common::Database::Sqlite).await;
    app.import(SHOP, YOGA_2026_01_13).await;
    let public = app.storefront_key(SHOP).await;
    let searches: Vec<Value> = (0..49)
        .map(|n| {
            json!({"type": "search_submitted", "client_id": "amplifier",
            "query": format!("{n:03} {}", "x".repeat(190))})
        })
        .collect();
    assert_eq!(
        app.send_events(&public, Value::Array(searches)).await.0,
        StatusCode::OK
    );
    for _ in 0..5 {
        let (status, body) = app
            .get(
                "/api/v1/recommendations/for-you?client_id=amplifier",
                &public,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Only the session's latest three searches count, each embedded once.
    assert_eq!(
        app.recommender.cached_searches(),
        kindred::recommend::MAX_SESSION_SEARCHES
    );
}

#[tokio::test]
async fn concurrent_requests_share_one_model_build() {
    let app = TestApp::spawn(&crate::common::Database::Sqlite).await;
    app.import(SHOP, YOGA_2026_01_13).await;
    let public = app.storefront_key(SHOP).await;
    let views: Vec<Value> = (0..20)
        .flat_map(|n| {
            [MAT, LEGGINGS].map(|p| json!({"type": "product_viewed", "client_id": format!("s{n}"), "product_id": p}))
        })
        .collect();
    assert_eq!(
        app.send_events(&public, Value::Array(views)).await.0,
        StatusCode::OK
    );
    let before = app.recommender.interaction_builds().trainings;
    let path = format!("/api/v1/recommendations/complementary?product_id={MAT}");
    let requests = (0..8).map(|_| app.get(&path, &public));
    for (status, body) in futures_util::future::join_all(requests).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Waits for the build the requests started, if it is still running.
    let shop = ShopDomain::parse(SHOP).unwrap();
    app.recommender.refresh_interactions(&shop).await.unwrap();
    assert_eq!(app.recommender.interaction_builds().trainings - before, 1);
}

#[tokio::test]
async fn storefront_bodies_are_small_and_refused_whole() {
    let app = TestApp::spawn(&crate::common::Database::Sqlite).await;
    let public = app.storefront_key(SHOP).await;
    let padding = "p".repeat(100 * 1024);
    let body = json!({"events": [{"type": "product_viewed", "client_id": "c", "product_id": 1, "id": padding}]});
    let (status, answer) = app
        .request(
            Method::POST,
            "/api/v1/events",
            Some(&public),
            Some(body.to_string().into_bytes()),
        )
        .await;
    assert_eq!(
        (status, error_code(&answer)),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let shop = ShopDomain::parse(SHOP).unwrap();
    assert!(app
        .store
        .client_events(&shop, &client("c"))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn merchant_keys_manage_their_own_shop_only_and_keys_rotate_and_revoke() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, YOGA_2026_01_13).await;
        app.import(OTHER, YOGA_2026_01_13).await;
        let merchant = app.merchant_key(SHOP).await;
        let public = app.storefront_key(SHOP).await;
        let own = |path: &str| format!("/api/v1/shops/{SHOP}/{path}");
        let theirs = |path: &str| format!("/api/v1/shops/{OTHER}/{path}");
        for path in [
            "rules",
            "allowed-origins",
            "privacy/exports",
            "recommendations/performance",
            "keys",
        ] {
            assert_eq!(
                app.get(&own(path), &merchant).await.0,
                StatusCode::OK,
                "{path}"
            );
            let (status, body) = app.get(&theirs(path), &merchant).await;
            assert_eq!(
                (status, error_code(&body)),
                (StatusCode::FORBIDDEN, "key_not_for_this_shop"),
                "{path}"
            );
            assert_eq!(
                app.get(&own(path), &public).await.0,
                StatusCode::UNAUTHORIZED,
                "{path}"
            );
        }
        let (status, _) = app
            .request(
                Method::DELETE,
                &format!("/api/v1/shops/{SHOP}"),
                Some(&merchant),
                None,
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "deleting a shop is the operator's"
        );

        // Listing shows ids, never keys; a new key is shown once.
        let (status, created) = app
            .request(
                Method::POST,
                &own("keys"),
                Some(&merchant),
                Some(br#"{"scope": "storefront"}"#.to_vec()),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let new_key = created["key"].as_str().unwrap().to_owned();
        let new_id = created["info"]["key_id"].as_str().unwrap().to_owned();
        let (_, listed) = app.get(&own("keys"), &merchant).await;
        assert!(!listed.to_string().contains(&new_key));
        assert_eq!(listed["keys"].as_array().unwrap().len(), 3, "{listed}");
        let product = format!("/api/v1/products/{MAT}");
        assert_eq!(app.get(&product, &new_key).await.0, StatusCode::OK);

        // Rotation: a new key of the same scope works, the old one stops.
        let (status, rotated) = app
            .request(
                Method::POST,
                &own(&format!("keys/{new_id}/rotate")),
                Some(&merchant),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{rotated}");
        let rotated_key = rotated["key"].as_str().unwrap();
        assert_eq!(
            app.get(&product, &new_key).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(app.get(&product, rotated_key).await.0, StatusCode::OK);
        // Revocation by id; another shop's merchant cannot revoke it.
        let rotated_id = rotated["info"]["key_id"].as_str().unwrap();
        let other_merchant = app.merchant_key(OTHER).await;
        let (status, _) = app
            .request(
                Method::DELETE,
                &theirs(&format!("keys/{rotated_id}")),
                Some(&other_merchant),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&product, rotated_key).await.0, StatusCode::OK);
        let (status, _) = app
            .request(
                Method::DELETE,
                &own(&format!("keys/{rotated_id}")),
                Some(&merchant),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            app.get(&product, rotated_key).await.0,
            StatusCode::UNAUTHORIZED
        );

        // A chosen key already in use is refused, and still means what it meant.
        let shop = ShopDomain::parse(SHOP).unwrap();
        let other = ShopDomain::parse(OTHER).unwrap();
        let err = app
            .store
            .add_key(
                &public,
                KeyScope::Storefront,
                Some(&other),
                KeyOrigin::Given,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, kindred::error::AppError::KeyExists), "{err}");
        let err = app
            .store
            .add_key(
                &app.admin_key,
                KeyScope::Storefront,
                Some(&shop),
                KeyOrigin::Given,
            )
            .await;
        assert!(err.is_err());
        assert_eq!(app.get(&product, &public).await.0, StatusCode::OK);

        // A rotated KINDRED_ADMIN_KEY retires the old one at the next start.
        let (first, second) = (
            "first-environment-admin-key",
            "second-environment-admin-key",
        );
        app.store.set_environment_admin_key(first).await.unwrap();
        app.store.set_environment_admin_key(first).await.unwrap();
        assert!(app.store.find_key(first).await.unwrap().is_some());
        assert_eq!(
            app.store.set_environment_admin_key(second).await.unwrap(),
            1
        );
        assert!(app.store.find_key(first).await.unwrap().is_none());
        assert!(app.store.find_key(second).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn one_client_cannot_lock_out_the_other_shoppers_of_a_key() {
    let app = TestApp::spawn(&crate::common::Database::Sqlite).await;
    app.import(SHOP, YOGA_2026_01_13).await;
    let public = app.storefront_key(SHOP).await;
    let product = format!("/api/v1/products/{MAT}");
    let mut refused = 0;
    for _ in 0..800 {
        refused += usize::from(
            as_client(&app, "198.51.100.7", &product, &public).await
                == StatusCode::TOO_MANY_REQUESTS,
        );
    }
    assert!(refused >= 100, "{refused}");
    assert_eq!(
        as_client(&app, "203.0.113.9", &product, &public).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn one_shopper_cannot_spend_the_app_proxy_budget_of_a_shop() {
    // The test app allows 600 proxied requests a minute per shopper, 1,200 per shop.
    let app = TestApp::spawn(&crate::common::Database::Sqlite).await;
    app.import(SHOP, YOGA_2026_01_13).await;
    let uri = crate::storefront::proxied(
        "/proxy/recommendations",
        &[("strategy", "new_arrivals"), ("limit", "1")],
        SHOP,
        "",
        0,
    );
    let from = |shopper: &str| {
        // Shopify appends the shopper's address to whatever the browser claimed.
        vec![("x-forwarded-for", format!("10.9.8.7, {shopper}"))]
    };
    let mut refused = 0;
    for _ in 0..700 {
        let (status, _, _) = app
            .request_with_headers(Method::GET, &uri, None, &from("198.51.100.7"), None)
            .await;
        refused += usize::from(status == StatusCode::TOO_MANY_REQUESTS);
    }
    // The bucket refills at 10 a second while the loop runs.
    assert!((20..=100).contains(&refused), "{refused}");
    let (status, _, body) = app
        .request_with_headers(Method::GET, &uri, None, &from("203.0.113.9"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn drafts_are_not_found_with_the_public_key() {
    let app = TestApp::spawn(&crate::common::Database::Sqlite).await;
    app.import(SHOP, YOGA_2026_01_13).await;
    let public = app.storefront_key(SHOP).await;
    let shop = ShopDomain::parse(SHOP).unwrap();
    let mut draft = app
        .store
        .get_product(&shop, MAT.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    draft.status = kindred::domain::ProductStatus::Draft;
    app.catalog
        .ingest(&shop, vec![draft], &kindred::progress::Silent)
        .await
        .unwrap();
    for path in [
        format!("/api/v1/products/{MAT}"),
        format!("/api/v1/products/{MAT}/similar"),
    ] {
        let (status, body) = app.get(&path, &public).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::NOT_FOUND, "not_found"),
            "{path}"
        );
    }
    assert_eq!(
        app.get(&format!("/api/v1/products/{LEGGINGS}"), &public)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn signed_webhook_bodies_are_believed_only_for_their_own_topic_and_shop() {
    for db in databases() {
        let fake = FakeShopify::start().await;
        fake.set_products(SHOP, &crate::fake_shopify::capture("2026-01-13")[..5]);
        let app = TestApp::spawn_with_shopify(&db, &fake.admin_template()).await;
        install(&app, SHOP).await;
        let shop = ShopDomain::parse(SHOP).unwrap();
        // A captured products/update body replayed as products/delete or app/uninstalled.
        let update = sample_payload("products_update.json", SHOP);
        for topic in ["products/delete", "app/uninstalled"] {
            let (status, body) = deliver(&app, "/webhooks", topic, SHOP, &update).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{topic}: {body}");
        }
        assert!(app.store.install(&shop).await.unwrap().unwrap().active());
        // A compliance body naming another shop than the header.
        let redact = sample_payload("shop_redact.json", OTHER);
        let (status, _) = deliver(&app, "/webhooks/compliance", "shop/redact", SHOP, &redact).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // A privacy topic for a shop Kindred never installed on: 2xx, nothing to do.
        let stranger = "never-installed.myshopify.com";
        let body = sample_payload("customers_redact.json", stranger);
        let (status, answer) = deliver(
            &app,
            "/webhooks/compliance",
            "customers/redact",
            stranger,
            &body,
        )
        .await;
        assert_eq!(
            (status, answer["status"].as_str()),
            (StatusCode::OK, Some("nothing_held"))
        );

        // customers/redact leaves no trace of the customer, its own delivery included.
        let redact = sample_payload("customers_redact.json", SHOP);
        deliver_and_apply(
            &app,
            "/webhooks/compliance",
            "customers/redact",
            SHOP,
            &redact,
        )
        .await;
        let bodies: Vec<Option<String>> =
            sqlx::query_scalar("SELECT body FROM webhook_inbox WHERE topic = 'customers/redact'")
                .fetch_all(app.store.pool())
                .await
                .unwrap();
        assert!(
            !bodies.is_empty() && bodies.iter().all(Option::is_none),
            "{bodies:?}"
        );

        // After app/uninstalled the App Proxy neither serves nor stores.
        let uninstalled = sample_payload("app_uninstalled.json", SHOP);
        deliver_and_apply(&app, "/webhooks", "app/uninstalled", SHOP, &uninstalled).await;
        let events =
            json!({"events": [{"type": "product_viewed", "client_id": "late", "product_id": 1}]});
        let uri = crate::storefront::proxied("/proxy/events", &[], SHOP, "", 0);
        let (status, _, _) = app
            .request_with_headers(
                Method::POST,
                &uri,
                None,
                &[],
                Some(events.to_string().into_bytes()),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(app
            .store
            .client_events(&shop, &client("late"))
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn install_starts_are_limited_per_client_and_the_admin_page_is_framed_by_shopify_only() {
    let fake = FakeShopify::start().await;
    for db in databases() {
        let app = TestApp::spawn_with_shopify(&db, &fake.admin_template()).await;
        let mut refused = 0;
        for n in 0..40 {
            let (status, _, _) = app
                .request_with_headers(
                    Method::GET,
                    &format!("/auth?shop=walk-{n}.myshopify.com"),
                    None,
                    &[("x-test-client", "192.0.2.1".to_owned())],
                    None,
                )
                .await;
            refused += usize::from(status == StatusCode::TOO_MANY_REQUESTS);
        }
        assert!((8..=10).contains(&refused), "{refused}");
        // Each start stores a nonce, but a shop keeps only its newest ten, the latest among them.
        let shop = "walk-0.myshopify.com";
        let mut latest = String::new();
        for n in 0..25 {
            let (status, headers, _) = app
                .request_with_headers(
                    Method::GET,
                    &format!("/auth?shop={shop}"),
                    None,
                    &[("x-test-client", format!("198.51.100.{n}"))],
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::SEE_OTHER);
            let location = url::Url::parse(headers["location"].to_str().unwrap()).unwrap();
            latest = location
                .query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
                .unwrap();
        }
        let nonces: Vec<String> =
            sqlx::query_scalar("SELECT nonce FROM oauth_states WHERE shop_domain = $1")
                .bind(shop)
                .fetch_all(app.store.pool())
                .await
                .unwrap();
        assert_eq!(nonces.len(), 10);
        assert!(nonces.contains(&latest));
        let (_, headers, _) = app
            .request_with_headers(Method::GET, &format!("/app?shop={SHOP}"), None, &[], None)
            .await;
        assert_eq!(
            headers["content-security-policy"],
            format!("frame-ancestors https://{SHOP} https://admin.shopify.com")
        );
    }
}

#[tokio::test]
async fn a_locked_table_answers_503_in_json_before_shopify_gives_up() {
    let Some(crate::common::Database::Postgres(admin)) = databases()
        .into_iter()
        .find(|d| matches!(d, crate::common::Database::Postgres(_)))
    else {
        return;
    };
    let db = crate::common::Database::Postgres(admin);
    let app = TestApp::spawn(&db).await;
    let public = app.storefront_key(SHOP).await;
    let mut locker = app.store.pool().begin().await.unwrap();
    sqlx::query("LOCK TABLE shopper_events IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *locker)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let (status, _, body) = app
        .request_with_headers(
            Method::POST,
            "/api/v1/events",
            Some(&public),
            &[],
            Some(
                json!({"events": [{"type": "product_viewed", "client_id": "c", "product_id": 1}]})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    locker.rollback().await.unwrap();
    let body = json!({"events": [{"type": "product_viewed", "client_id": "c", "product_id": 1}]});
    assert_eq!(
        app.request(
            Method::POST,
            "/api/v1/events",
            Some(&public),
            Some(body.to_string().into_bytes())
        )
        .await
        .0,
        StatusCode::OK
    );
}
