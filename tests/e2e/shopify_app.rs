//! The Shopify app against a local fake Shopify serving the real yoga-store catalogue:
//! OAuth install and bulk sync, session tokens and refresh-token rotation, bad webhooks,
//! inventory and reconciliation, and the privacy topics.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use kindred::catalog::read_catalogue;
use kindred::domain::ShopDomain;
use kindred::stores::prelude::*;
use kindred::stores::SyncRow;

use crate::common::{client, databases, error_code, shared_data, TestApp, YOGA_2026_01_13};
use crate::fake_shopify::{
    callback_query, capture, sample_payload, state_of, webhook_body, webhook_headers, FakeShopify,
    CLIENT_ID, SECRET,
};

const SHOP: &str = "yoga-collective.myshopify.com";
const OTHER_SHOP: &str = "other-yoga.myshopify.com";

/// Installs the app the way a merchant does from the app store (authorization code grant).
pub(crate) async fn install(app: &TestApp, shop: &str) {
    let (status, headers, body) = app
        .request_with_headers(Method::GET, &format!("/auth?shop={shop}"), None, &[], None)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let location = headers["location"].to_str().unwrap();
    assert!(
        location.starts_with(&format!(
            "{}/{shop}/admin/oauth/authorize?",
            app.shopify_admin.replace("/{shop}", "")
        )),
        "{location}"
    );
    assert!(
        location.contains(&format!("client_id={CLIENT_ID}")),
        "{location}"
    );
    let state = state_of(location);
    let (status, headers, body) = app
        .request_with_headers(
            Method::GET,
            &format!("/auth/callback?{}", callback_query(shop, &state)),
            None,
            &[],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(
        headers["location"]
            .to_str()
            .unwrap()
            .ends_with(&format!("/{shop}/admin/apps/{CLIENT_ID}")),
        "{headers:?}"
    );
}

/// Waits for the shop's catalogue sync to complete, failing on a failed sync.
pub(crate) async fn wait_for_sync(app: &TestApp, shop: &str) -> SyncRow {
    let shop = ShopDomain::parse(shop).unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Some(sync) = app.store.sync_state(&shop).await.unwrap() {
            match sync.state.as_str() {
                "completed" => return sync,
                "failed" => panic!("sync failed: {:?}", sync.last_error),
                _ => {}
            }
        }
        assert!(Instant::now() < deadline, "sync of {shop} did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends one signed delivery to the app and returns its answer.
pub(crate) async fn deliver(
    app: &TestApp,
    path: &str,
    topic: &str,
    shop: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let raw = serde_json::to_vec(body).unwrap();
    let webhook_id = format!("wh-{:x}", rand::random::<u64>());
    let event_id = format!("ev-{:x}", rand::random::<u64>());
    let headers = webhook_headers(topic, shop, &webhook_id, &event_id, &raw);
    let (status, _, answer) = app
        .request_with_headers(Method::POST, path, None, &headers, Some(raw))
        .await;
    (status, answer)
}

/// Sends a delivery that must be accepted, then applies the inbox.
pub(crate) async fn deliver_and_apply(
    app: &TestApp,
    path: &str,
    topic: &str,
    shop: &str,
    body: &Value,
) {
    let (status, answer) = deliver(app, path, topic, shop, body).await;
    assert_eq!(status, StatusCode::OK, "{topic}: {answer}");
    assert_eq!(answer["status"], "accepted");
    app.shopify.process_inbox().await.unwrap();
    // Applied, not waiting to be tried again.
    let inbox = app.store.inbox_counts(None).await.unwrap();
    assert_eq!(inbox.pending, 0, "{topic} was not applied: {inbox:?}");
}

/// The catalogue Kindred holds for a shop: id -> (available, price, compare-at price).
async fn stored_catalogue(app: &TestApp, shop: &str) -> Vec<(u64, bool, Option<i64>, Option<i64>)> {
    let shop = ShopDomain::parse(shop).unwrap();
    let ids = app
        .store
        .products_written_before(&shop, i64::MAX)
        .await
        .unwrap();
    let mut rows: Vec<_> = app
        .store
        .get_products(&shop, &ids)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.id, p.available, p.price_cents, p.compare_at_price_cents))
        .collect();
    rows.sort();
    rows
}

fn expected_catalogue(
    products: &[kindred::domain::Product],
) -> Vec<(u64, bool, Option<i64>, Option<i64>)> {
    let mut rows: Vec<_> = products
        .iter()
        .map(|p| (p.id, p.available, p.price_cents, p.compare_at_price_cents))
        .collect();
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oauth_install_syncs_the_whole_catalogue_and_seals_the_token() {
    for db in databases() {
        let fake = FakeShopify::start().await;
        fake.set_products(SHOP, &capture("2026-01-13"));
        let app = TestApp::spawn_with_shopify(&db, &fake.admin_template()).await;

        // A callback Shopify did not sign, or signed for other parameters, is refused.
        let (status, headers, _) = app
            .request_with_headers(Method::GET, &format!("/auth?shop={SHOP}"), None, &[], None)
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let state = state_of(headers["location"].to_str().unwrap());
        let forged = callback_query(SHOP, &state).replace("hmac=", "hmac=0");
        let (status, body) = app
            .request(Method::GET, &format!("/auth/callback?{forged}"), None, None)
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::UNAUTHORIZED, "invalid_signature"),
            "{body}"
        );
        let tampered = callback_query(SHOP, &state).replace(SHOP, OTHER_SHOP);
        let (status, body) = app
            .request(
                Method::GET,
                &format!("/auth/callback?{tampered}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        // Signed, but for a shop outside myshopify.com, or with a state Kindred never issued.
        let (status, body) = app
            .request(
                Method::GET,
                &format!(
                    "/auth/callback?{}",
                    callback_query("evil.example.com", &state)
                ),
                None,
                None,
            )
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_shop"),
            "{body}"
        );
        let (status, body) = app
            .request(
                Method::GET,
                &format!("/auth/callback?{}", callback_query(SHOP, "not-our-state")),
                None,
                None,
            )
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::FORBIDDEN, "invalid_oauth_state"),
            "{body}"
        );
        let (status, body) = app
            .request(Method::GET, "/auth?shop=shop.example.com", None, None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(app
            .store
            .install(&ShopDomain::parse(SHOP).unwrap())
            .await
            .unwrap()
            .is_none());

        // The real install, then the same callback replayed: the state works once.
        let good = callback_query(SHOP, &state);
        let (status, _, body) = app
            .request_with_headers(
                Method::GET,
                &format!("/auth/callback?{good}"),
                None,
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let (status, body) = app
            .request(Method::GET, &format!("/auth/callback?{good}"), None, None)
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::FORBIDDEN, "invalid_oauth_state"),
            "{body}"
        );

        let sync = wait_for_sync(&app, SHOP).await;
        let expected = read_catalogue(&shared_data(YOGA_2026_01_13))
            .unwrap()
            .products;
        assert_eq!(sync.products, expected.len() as i64, "{sync:?}");
        assert_eq!(sync.deleted, 0);
        assert!(
            sync.reconciled_until.is_some(),
            "the sync sets the reconciliation watermark"
        );
        assert!(
            *fake.state.throttled.lock().unwrap() > 0,
            "the fake throttled some calls and the sync rode them out"
        );
        assert!(
            *fake.state.server_errors.lock().unwrap() > 0,
            "the fake failed some calls and the client retried them"
        );
        assert_eq!(
            stored_catalogue(&app, SHOP).await,
            expected_catalogue(&expected),
            "{db:?}"
        );
        assert_eq!(
            app.catalog.index().count(SHOP).await.unwrap(),
            expected.len() as u64
        );

        // The status the merchant and operators see.
        let (status, body) = app
            .get(&format!("/api/v1/shops/{SHOP}/shopify"), &app.admin_key)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["installed"], true);
        assert_eq!(body["products"], 508);
        assert_eq!(body["indexed"], 508);
        assert_eq!(body["sync"]["state"], "completed");

        // The access token is stored sealed: not in the row, and (SQLite) not in the files.
        let issued = fake.issued_access_tokens(SHOP);
        assert_eq!(issued.len(), 1);
        let install = app
            .store
            .install(&ShopDomain::parse(SHOP).unwrap())
            .await
            .unwrap()
            .unwrap();
        let sealed = install.access_token.unwrap();
        assert!(!sealed.contains(&issued[0]));
        assert_eq!(
            app.shopify
                .access_token(&ShopDomain::parse(SHOP).unwrap())
                .await
                .unwrap(),
            issued[0]
        );
        if matches!(db, crate::common::Database::Sqlite) {
            for file in ["kindred.db", "kindred.db-wal"] {
                let bytes = std::fs::read(app.data_dir.path().join(file)).unwrap_or_default();
                let needle = issued[0].as_bytes();
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "raw token in {file}"
                );
            }
        }
    }
}

/// A session token App Bridge would hand the embedded admin of `shop`.
pub(crate) fn admin_session(shop: &str) -> String {
    session_token(&claims(shop), SECRET, jsonwebtoken::Algorithm::HS256)
}

fn session_token(claims: &Value, secret: &str, algorithm: jsonwebtoken::Algorithm) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(algorithm),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims(shop: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": format!("https://{shop}/admin"), "dest": format!("https://{shop}"), "aud": CLIENT_ID,
        "sub": "42", "exp": now + 60, "nbf": now - 5, "iat": now - 5, "jti": "f8912129-1af6-4cad-9ca3-76b0f7621087",
        "sid": "aaea182f2732d44c23057c0fea584021a4485b2bd25d3eb7fd349313ad24c685"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_admin_installs_by_token_exchange_and_refresh_tokens_rotate() {
    for db in databases() {
        let fake = FakeShopify::start().await;
        fake.set_products(SHOP, &capture("2026-01-13")[..40]);
        // Access tokens that expire within the refresh margin: every use refreshes first.
        *fake.state.expires_in.lock().unwrap() = 60;
        let app = TestApp::spawn_with_shopify(&db, &fake.admin_template()).await;
        let bearer = |token: String| vec![("authorization", format!("Bearer {token}"))];

        // Tokens Shopify would never issue for this app are refused before anything happens.
        let now = chrono::Utc::now().timestamp();
        let mut expired = claims(SHOP);
        expired["exp"] = json!(now - 60);
        let mut wrong_audience = claims(SHOP);
        wrong_audience["aud"] = json!("someone-elses-app");
        let mut other_issuer = claims(SHOP);
        other_issuer["iss"] = json!(format!("https://{OTHER_SHOP}/admin"));
        let mut not_yet = claims(SHOP);
        not_yet["nbf"] = json!(now + 120);
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims(SHOP).to_string())
        );
        let refused = [
            (
                "expired",
                session_token(&expired, SECRET, jsonwebtoken::Algorithm::HS256),
            ),
            (
                "audience",
                session_token(&wrong_audience, SECRET, jsonwebtoken::Algorithm::HS256),
            ),
            (
                "issuer",
                session_token(&other_issuer, SECRET, jsonwebtoken::Algorithm::HS256),
            ),
            (
                "not before",
                session_token(&not_yet, SECRET, jsonwebtoken::Algorithm::HS256),
            ),
            (
                "other secret",
                session_token(
                    &claims(SHOP),
                    "not-the-secret",
                    jsonwebtoken::Algorithm::HS256,
                ),
            ),
            (
                "HS512",
                session_token(&claims(SHOP), SECRET, jsonwebtoken::Algorithm::HS512),
            ),
            ("alg none", unsigned),
        ];
        for (case, token) in refused {
            let (status, _, body) = app
                .request_with_headers(Method::GET, "/app/api/status", None, &bearer(token), None)
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
            assert_eq!(error_code(&body), "invalid_session_token", "{case}");
        }
        assert!(
            fake.issued_access_tokens(SHOP).is_empty(),
            "a refused token reached Shopify"
        );

        // A good token installs the shop (token exchange) and answers at once.
        let token = session_token(&claims(SHOP), SECRET, jsonwebtoken::Algorithm::HS256);
        let (status, _, body) = app
            .request_with_headers(
                Method::GET,
                "/app/api/status",
                None,
                &bearer(token.clone()),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["installed"], true);
        assert_eq!(body["shop"], SHOP);

        // The sync asks for a token on every call; each use refreshes, and only the newest
        // refresh token works at the fake, so the sync completes only if rotation is kept.
        let sync = wait_for_sync(&app, SHOP).await;
        assert_eq!(sync.products, 40);
        let refreshes = *fake.state.refreshes.lock().unwrap();
        assert!(refreshes >= 2, "refreshed {refreshes} times");
        let (status, _, body) = app
            .request_with_headers(Method::POST, "/app/api/sync", None, &bearer(token), None)
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let sync = wait_for_sync(&app, SHOP).await;
        assert_eq!(sync.products, 40);
        assert!(*fake.state.refreshes.lock().unwrap() > refreshes);
        let _ = db;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_webhooks_get_a_clear_4xx_and_change_nothing() {
    for db in databases() {
        let fake = FakeShopify::start().await;
        let products = capture("2026-01-13");
        fake.set_products(SHOP, &products[..30]);
        let app = TestApp::spawn_with_shopify(&db, &fake.admin_template()).await;
        install(&app, SHOP).await;
        wait_for_sync(&app, SHOP).await;
        let shop = ShopDomain::parse(SHOP).unwrap();
        let before = (
            stored_catalogue(&app, SHOP).await,
            app.store.inbox_counts(None).await.unwrap().pending,
            app.store.inbox_counts(None).await.unwrap().applied,
            app.store.inbox_counts(None).await.unwrap().failed,
        );

        // An update that would change a price, had it been accepted.
        let mut changed = products[0].clone();
        changed["variants"][0]["price"] = json!("1.00");
        changed["updated_at"] = json!("2030-01-01T00:00:00Z");
        let body = serde_json::to_vec(&webhook_body(&changed)).unwrap();
        let good = webhook_headers("products/update", SHOP, "wh-1", "ev-1", &body);
        let without = |name: &str| -> Vec<(&'static str, String)> {
            good.iter().filter(|(n, _)| *n != name).cloned().collect()
        };
        let with = |name: &'static str, value: &str| -> Vec<(&'static str, String)> {
            let mut headers = without(name);
            headers.push((name, value.to_owned()));
            headers
        };
        let signed =
            |topic: &str, shop: &str, raw: &[u8]| webhook_headers(topic, shop, "wh-2", "ev-2", raw);
        let oversize = {
            let mut big = webhook_body(&changed);
            big["body_html"] = json!("x".repeat(300 * 1024));
            serde_json::to_vec(&big).unwrap()
        };
        let cases: Vec<(
            &str,
            &str,
            Vec<(&'static str, String)>,
            Vec<u8>,
            StatusCode,
            &str,
        )> = vec![
            (
                "no signature",
                "/webhooks",
                without("x-shopify-hmac-sha256"),
                body.clone(),
                StatusCode::UNAUTHORIZED,
                "invalid_signature",
            ),
            (
                "wrong signature",
                "/webhooks",
                with("x-shopify-hmac-sha256", "bm90IHRoZSBobWFj"),
                body.clone(),
                StatusCode::UNAUTHORIZED,
                "invalid_signature",
            ),
            (
                "body changed after signing",
                "/webhooks",
                good.clone(),
                [&body[..], b" "].concat(),
                StatusCode::UNAUTHORIZED,
                "invalid_signature",
            ),
            (
                "no topic",
                "/webhooks",
                without("x-shopify-topic"),
                body.clone(),
                StatusCode::BAD_REQUEST,
                "missing_header",
            ),
            (
                "no shop",
                "/webhooks",
                without("x-shopify-shop-domain"),
                body.clone(),
                StatusCode::BAD_REQUEST,
                "missing_header",
            ),
            (
                "no webhook id",
                "/webhooks",
                without("x-shopify-webhook-id"),
                body.clone(),
                StatusCode::BAD_REQUEST,
                "missing_header",
            ),
            (
                "malformed JSON",
                "/webhooks",
                signed("products/update", SHOP, b"{\"id\": 1,"),
                b"{\"id\": 1,".to_vec(),
                StatusCode::BAD_REQUEST,
                "invalid_json",
            ),
            (
                "not an object",
                "/webhooks",
                signed("products/update", SHOP, b"[1, 2]"),
                b"[1, 2]".to_vec(),
                StatusCode::BAD_REQUEST,
                "invalid_json",
            ),
            (
                "unknown topic",
                "/webhooks",
                with("x-shopify-topic", "orders/paid"),
                body.clone(),
                StatusCode::BAD_REQUEST,
                "unknown_topic",
            ),
            (
                "compliance topic on the data endpoint",
                "/webhooks",
                signed("shop/redact", SHOP, &body),
                body.clone(),
                StatusCode::BAD_REQUEST,
                "unknown_topic",
            ),
            (
                "data topic on the compliance endpoint",
                "/webhooks/compliance",
                good.clone(),
                body.clone(),
                StatusCode::BAD_REQUEST,
                "unknown_topic",
            ),
            (
                "oversize body",
                "/webhooks",
                signed("products/update", SHOP, &oversize),
                oversize.clone(),
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
            ),
            (
                "shop that never installed",
                "/webhooks",
                signed("products/update", OTHER_SHOP, &body),
                body.clone(),
                StatusCode::NOT_FOUND,
                "unknown_shop",
            ),
            (
                "not a shop domain",
                "/webhooks",
                signed("products/update", "evil.example.com", &body),
                body.clone(),
                StatusCode::BAD_REQUEST,
                "invalid_shop",
            ),
        ];
        for (case, path, headers, raw, status, code) in cases {
            let (got, _, answer) = app
                .request_with_headers(Method::POST, path, None, &headers, Some(raw))
                .await;
            assert_eq!(
                (got, error_code(&answer)),
                (status, code),
                "{case}: {answer}"
            );
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{case}"
            );
        }
        app.shopify.process_inbox().await.unwrap();
        let after = (
            stored_catalogue(&app, SHOP).await,
            app.store.inbox_counts(None).await.unwrap().pending,
            app.store.inbox_counts(None).await.unwrap().applied,
            app.store.inbox_counts(None).await.unwrap().failed,
        );
        assert_eq!(
            before, after,
            "{db:?}: a refused delivery changed something"
        );

        // The same delivery, well-formed, is taken once: a resend is a duplicate.
        let (status, _, answer) = app
            .request_with_headers(Method::POST, "/webhooks", None, &good, Some(body.clone()))
            .await;
        assert_eq!(
            (status, answer["status"].as_str()),
            (StatusCode::OK, Some("accepted")),
            "{answer}"
        );
        let (status, _, answer) = app
            .request_with_headers(Method::POST, "/webhooks", None, &good, Some(body.clone()))
            .await;
        assert_eq!(
            (status, answer["status"].as_str()),
            (StatusCode::OK, Some("duplicate")),
            "{answer}"
        );
        app.shopify.process_inbox().await.unwrap();
        let stored = app
            .store
            .get_products(&shop, &[changed["id"].as_u64().unwrap()])
            .await
            .unwrap();
        assert_eq!(stored[0].price_cents, Some(100));
        assert_eq!(
            app.store.inbox_counts(Some(&shop)).await.unwrap().applied,
            before.2 + 1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_updates_and_reconciliation_follow_the_store() {
    for db in databases() {
        let fake = FakeShopify::start().await;
        let products = capture("2026-01-13");
        let in_stock: Vec<Value> = products
            .iter()
            .filter(|p| {
                p["variants"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|v| v["available"] == true)
            })
            .take(30)
            .cloned()
            .collect();
        fake.set_products(SHOP, &in_stock);
        let app = TestApp::spawn_with_shopify(&db, &fake.admin_template()).await;
        install(&app, SHOP).await;
        wait_for_sync(&app, SHOP).await;
        let shop = ShopDomain::parse(SHOP).unwrap();

        // Sold out in Shopify: the delivery names only the inventory item; Kindred reads the
        // product and stops recommending it. Inventory changes keep `updated_at`.
        let mut sold_out = in_stock[3].clone();
        let id = sold_out["id"].as_u64().unwrap();
        for variant in sold_out["variants"].as_array_mut().unwrap() {
            variant["available"] = json!(false);
        }
        fake.update_product(SHOP, sold_out.clone());
        let item = sold_out["variants"][0]["id"].as_u64().unwrap();
        let level = json!({"inventory_item_id": item, "location_id": 24826418, "available": 0,
            "updated_at": "2026-01-14T10:00:00-05:00", "admin_graphql_api_id": format!("gid://shopify/InventoryLevel/24826418?inventory_item_id={item}")});
        deliver_and_apply(&app, "/webhooks", "inventory_levels/update", SHOP, &level).await;
        let stored = app.store.get_products(&shop, &[id]).await.unwrap();
        assert!(!stored[0].available, "{db:?}");
        let point = app.catalog.index().fetch(SHOP, id).await.unwrap().unwrap();
        assert!(!point.payload.available);
        let key = app.storefront_key(SHOP).await;
        for neighbour in app
            .similar(&key, in_stock[4]["id"].as_u64().unwrap(), "limit=30")
            .await
        {
            assert_ne!(
                neighbour["id"],
                json!(id.to_string()),
                "a sold-out product was recommended"
            );
        }

        // A change no webhook brought (a lost delivery): reconciliation finds it by `updated_at`.
        let mut repriced = in_stock[7].clone();
        let repriced_id = repriced["id"].as_u64().unwrap();
        repriced["variants"][0]["price"] = json!("12.34");
        for variant in repriced["variants"].as_array_mut().unwrap() {
            variant["price"] = json!("12.34");
        }
        repriced["updated_at"] = json!("2030-01-01T00:00:00Z");
        fake.update_product(SHOP, repriced);
        assert_eq!(app.shopify.reconcile(&shop).await.unwrap(), 1);
        let stored = app.store.get_products(&shop, &[repriced_id]).await.unwrap();
        assert_eq!(stored[0].price_cents, Some(1234), "{db:?}");
        let point = app
            .catalog
            .index()
            .fetch(SHOP, repriced_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(point.payload.price, Some(12.34));
        let sync = app.store.sync_state(&shop).await.unwrap().unwrap();
        assert_eq!(
            sync.reconciled_until.as_deref(),
            Some("2030-01-01T00:00:00Z")
        );
        // Nothing newer since: the next pass reads nothing.
        assert_eq!(app.shopify.reconcile(&shop).await.unwrap(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_topics_export_and_erase_and_never_touch_another_shop() {
    for db in databases() {
        let fake = FakeShopify::start().await;
        let products = capture("2026-01-13");
        fake.set_products(SHOP, &products[..25]);
        fake.set_products(OTHER_SHOP, &products[25..50]);
        let app = TestApp::spawn_with_shopify(&db, &fake.admin_template()).await;
        install(&app, SHOP).await;
        install(&app, OTHER_SHOP).await;
        wait_for_sync(&app, SHOP).await;
        wait_for_sync(&app, OTHER_SHOP).await;
        let shop = ShopDomain::parse(SHOP).unwrap();
        let other = ShopDomain::parse(OTHER_SHOP).unwrap();
        let other_before = stored_catalogue(&app, OTHER_SHOP).await;
        assert_eq!(other_before.len(), 25);

        // The customer browsed and bought in the first shop (told by the shop's server,
        // which knows who is logged in).
        let shopper_key = app.merchant_key(SHOP).await;
        let events = json!({"events": [
            {"id": "v1", "type": "product_viewed", "client_id": "their-browser", "product_id": products[0]["id"]},
            {"id": "c1", "type": "checkout_completed", "client_id": "their-browser", "customer_id": 191167,
             "line_items": [{"product_id": products[0]["id"], "quantity": 1}]},
        ]});
        let (status, body) = app
            .request(
                Method::POST,
                "/api/v1/events",
                Some(&shopper_key),
                Some(serde_json::to_vec(&events).unwrap()),
            )
            .await;
        assert_eq!(
            (status, body["accepted"].as_u64()),
            (StatusCode::OK, Some(2)),
            "{body}"
        );

        // customers/data_request: the export is kept for the merchant, per shop.
        for target in [SHOP, OTHER_SHOP] {
            let request = sample_payload("customers_data_request.json", target);
            deliver_and_apply(
                &app,
                "/webhooks/compliance",
                "customers/data_request",
                target,
                &request,
            )
            .await;
        }
        let (status, body) = app
            .get(
                &format!("/api/v1/shops/{SHOP}/privacy/exports"),
                &app.admin_key,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let exports = body["exports"].as_array().unwrap();
        assert_eq!(exports.len(), 1, "{body}");
        assert_eq!(exports[0]["customer_id"], "191167");
        assert_eq!(exports[0]["request_id"], "9999");
        assert_eq!(exports[0]["data"]["shop"], SHOP);
        let mut exported: Vec<&str> = exports[0]["data"]["data"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_id"].as_str().unwrap())
            .collect();
        exported.sort_unstable();
        assert_eq!(
            exported,
            ["c1", "v1"],
            "the export holds the customer's events, anonymous ones included"
        );
        assert_eq!(
            exports[0]["data"]["orders_requested"],
            json!([299938, 280263, 220458])
        );

        // customers/redact: that customer's data goes, in that shop only.
        let redact = sample_payload("customers_redact.json", SHOP);
        deliver_and_apply(
            &app,
            "/webhooks/compliance",
            "customers/redact",
            SHOP,
            &redact,
        )
        .await;
        let (_, body) = app
            .get(
                &format!("/api/v1/shops/{SHOP}/privacy/exports"),
                &app.admin_key,
            )
            .await;
        assert_eq!(body["exports"], json!([]), "{db:?}");
        assert!(
            app.store
                .client_events(&shop, &client("their-browser"))
                .await
                .unwrap()
                .is_empty(),
            "the customer's events are gone"
        );
        let (_, body) = app
            .get(
                &format!("/api/v1/shops/{OTHER_SHOP}/privacy/exports"),
                &app.admin_key,
            )
            .await;
        assert_eq!(body["exports"].as_array().unwrap().len(), 1);

        // app/uninstalled: tokens and storefront keys revoked at once, catalogue kept for a
        // reinstall; deliveries after it are accepted (shop/redact must still arrive) but no
        // longer change the catalogue.
        let key = app.storefront_key(SHOP).await;
        let first = products[0]["id"].as_u64().unwrap();
        assert_eq!(app.similar(&key, first, "limit=3").await.len(), 3);
        let uninstalled = sample_payload("app_uninstalled.json", SHOP);
        deliver_and_apply(&app, "/webhooks", "app/uninstalled", SHOP, &uninstalled).await;
        let (status, body) = app
            .get(&format!("/api/v1/products/{first}/similar"), &key)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        let install = app.store.install(&shop).await.unwrap().unwrap();
        assert!(
            !install.active() && install.access_token.is_none() && install.refresh_token.is_none()
        );
        let mut late = products[1].clone();
        late["updated_at"] = json!("2030-01-01T00:00:00Z");
        late["title"] = json!("Changed after uninstall");
        deliver_and_apply(
            &app,
            "/webhooks",
            "products/update",
            SHOP,
            &webhook_body(&late),
        )
        .await;
        let stored = app
            .store
            .get_products(&shop, &[late["id"].as_u64().unwrap()])
            .await
            .unwrap();
        assert_ne!(stored[0].title, "Changed after uninstall");
        assert_eq!(stored_catalogue(&app, SHOP).await.len(), 25);

        // shop/redact: no row and no vector of the shop remains; the other shop is whole.
        let redact = sample_payload("shop_redact.json", SHOP);
        deliver_and_apply(&app, "/webhooks/compliance", "shop/redact", SHOP, &redact).await;
        assert_eq!(app.store.rows_of_shop(&shop).await.unwrap(), 0, "{db:?}");
        assert_eq!(app.catalog.index().count(SHOP).await.unwrap(), 0);
        assert_eq!(stored_catalogue(&app, OTHER_SHOP).await, other_before);
        assert_eq!(app.catalog.index().count(OTHER_SHOP).await.unwrap(), 25);
        assert!(app.store.rows_of_shop(&other).await.unwrap() > 25);
        let (status, _) = app
            .get(
                &format!("/api/v1/shops/{OTHER_SHOP}/shopify"),
                &app.admin_key,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn the_embedded_admin_manages_its_own_shops_rules_origins_and_exports() {
    for db in databases() {
        let fake = FakeShopify::start().await;
        fake.set_products(SHOP, &capture("2026-01-13")[..5]);
        let app = TestApp::spawn_with_shopify(&db, &fake.admin_template()).await;
        app.import(OTHER_SHOP, crate::common::YOGA_2026_01_13).await;
        let token = session_token(&claims(SHOP), SECRET, jsonwebtoken::Algorithm::HS256);
        let session = [("authorization", format!("Bearer {token}"))];
        let send = |method: Method, path: &'static str, body: Option<Value>| {
            let app = &app;
            let session = &session;
            async move {
                app.request_with_headers(
                    method,
                    path,
                    None,
                    session,
                    body.map(|b| b.to_string().into_bytes()),
                )
                .await
            }
        };
        let rules = json!({"exclude": [{"vendor": "Manduka"}]});
        let (status, _, saved) = send(Method::PUT, "/app/api/rules", Some(rules)).await;
        assert_eq!(status, StatusCode::OK, "{saved}");
        let (_, _, read) = send(Method::GET, "/app/api/rules", None).await;
        assert_eq!(read, saved);
        // The same rules the operator reads for that shop, and none for another shop.
        let (_, operator) = app
            .get(&format!("/api/v1/shops/{SHOP}/rules"), &app.admin_key)
            .await;
        assert_eq!(operator, saved);
        let (_, other) = app
            .get(&format!("/api/v1/shops/{OTHER_SHOP}/rules"), &app.admin_key)
            .await;
        assert_ne!(other, saved);
        let origins = json!({"origins": ["https://shop.example.com"]});
        let (status, _, body) = send(Method::PUT, "/app/api/allowed-origins", Some(origins)).await;
        assert_eq!(
            (status, body["origins"].clone()),
            (StatusCode::OK, json!(["https://shop.example.com"]))
        );
        let (status, _, body) = send(Method::GET, "/app/api/privacy/exports", None).await;
        assert_eq!(
            (status, body["shop"].as_str()),
            (StatusCode::OK, Some(SHOP))
        );
        // Without a session token there is nothing to manage.
        let (status, _, _) = app
            .request_with_headers(Method::GET, "/app/api/rules", None, &[], None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}
