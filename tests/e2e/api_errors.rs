//! Bad input and bad credentials get a clear 4xx with a JSON body; never a 500 or a panic.

use axum::http::{Method, StatusCode};

use crate::common::{error_code, Database, TestApp};

const SHOP: &str = "errors-test.myshopify.com";

async fn app_with_catalogue() -> (TestApp, String) {
    let app = TestApp::spawn(&Database::Sqlite).await;
    app.import(SHOP, "catalogs/admin-format/devstore_products.json")
        .await;
    let key = app.storefront_key(SHOP).await;
    (app, key)
}

#[tokio::test]
async fn credentials_are_checked_per_scope() {
    let (app, key) = app_with_catalogue().await;
    let path = "/api/v1/products/8546664251674/similar";
    let (status, body) = app.request(Method::GET, path, None, None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "missing_credentials")
    );
    let (status, body) = app.get(path, "kdr_sf_0000000000000000000000000000").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
    // An admin key is not a storefront key, and a storefront key cannot write.
    let (status, _) = app.get(path, &app.admin_key).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let shop_path = format!("/api/v1/shops/{SHOP}");
    let (status, body) = app
        .request(Method::DELETE, &shop_path, Some(&key), None)
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
    let (status, body) = app.get(path, &key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Keys are stored only as hashes.
    let stored: Vec<String> = sqlx::query_scalar("SELECT key_hash FROM api_keys")
        .fetch_all(app.store.pool())
        .await
        .unwrap();
    assert!(
        !stored.is_empty()
            && stored
                .iter()
                .all(|h| h.len() == 64 && !h.starts_with("kdr_"))
    );
}

#[tokio::test]
async fn malformed_requests_get_precise_client_errors() {
    let (app, key) = app_with_catalogue().await;
    let cases = [
        (
            "/api/v1/products/abc/similar",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "/api/v1/products/0/similar",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "/api/v1/products/99999999999999999999999/similar",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "/api/v1/products/8546664251674/similar?limit=0",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "/api/v1/products/8546664251674/similar?limit=51",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "/api/v1/products/8546664251674/similar?limit=ten",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "/api/v1/products/8546664251674/similar?price_min=9&price_max=3",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "/api/v1/products/8546664251674/similar?price_min=cheap",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "/api/v1/products/8546664251674/similar?include_unavailable=maybe",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "/api/v1/products/8546664251674/similar?colour=red",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "/api/v1/products/123456/similar",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        ("/api/v1/nowhere", StatusCode::NOT_FOUND, "not_found"),
    ];
    for (path, status, code) in cases {
        let (got, body) = app.get(path, &key).await;
        assert_eq!((got, error_code(&body)), (status, code), "{path}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    let (status, body) = app
        .request(
            Method::PUT,
            "/api/v1/products/8546664251674",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
}

#[tokio::test]
async fn bad_write_bodies_are_rejected_and_change_nothing() {
    let (app, _) = app_with_catalogue().await;
    let before = app.catalog.index().count(SHOP).await.unwrap();
    let admin = Some(app.admin_key.as_str());
    let products = format!("/api/v1/shops/{SHOP}/products");
    let (status, body) = app
        .request(
            Method::POST,
            &products,
            admin,
            Some(b"{\"products\": [".to_vec()),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
    let huge = format!(
        "{{\"products\": [{{\"id\": 1, \"title\": \"{}\"}}]}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let (status, body) = app
        .request(Method::POST, &products, admin, Some(huge.into_bytes()))
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let (status, body) = app
        .request(
            Method::POST,
            "/api/v1/shops/evil.com/products",
            admin,
            Some(b"[]".to_vec()),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_shop")
    );
    let (status, body) = app
        .request(
            Method::POST,
            "/api/v1/shops/never-installed.myshopify.com/products",
            admin,
            Some(b"[]".to_vec()),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, body) = app
        .request(
            Method::POST,
            "/api/v1/shops",
            admin,
            Some(b"{\"shop\": \"nope\"}".to_vec()),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_shop")
    );
    assert_eq!(app.catalog.index().count(SHOP).await.unwrap(), before);
}

#[tokio::test]
async fn a_new_shop_gets_a_working_storefront_key_and_health_endpoints_answer() {
    let app = TestApp::spawn(&Database::Sqlite).await;
    let admin = Some(app.admin_key.as_str());
    let (status, body) = app
        .request(
            Method::POST,
            "/api/v1/shops",
            admin,
            Some(br#"{"shop": "New-Shop.myshopify.com"}"#.to_vec()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["shop"], "new-shop.myshopify.com");
    let key = body["storefront_key"].as_str().unwrap().to_owned();
    let catalogue =
        std::fs::read(crate::common::shared_data("webhooks/products_create.json")).unwrap();
    let (status, body) = app
        .request(
            Method::POST,
            "/api/v1/shops/new-shop.myshopify.com/products",
            admin,
            Some(catalogue),
        )
        .await;
    assert_eq!(
        (status, body["created"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{body}"
    );
    let (status, body) = app.get("/api/v1/products/788032119674292922", &key).await;
    assert_eq!(
        (status, body["title"].as_str()),
        (StatusCode::OK, Some("Example T-Shirt"))
    );
    let (status, body) = app
        .request(
            Method::GET,
            "/api/v1/shops/new-shop.myshopify.com",
            admin,
            None,
        )
        .await;
    assert_eq!(
        (status, body["products"].as_i64(), body["vectors"].as_u64()),
        (StatusCode::OK, Some(1), Some(1))
    );

    let (status, body) = app.request(Method::GET, "/health", None, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, body) = app.request(Method::GET, "/ready", None, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
    let (status, body) = app.request(Method::GET, "/metrics", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.as_str()
            .unwrap()
            .contains("kindred_http_requests_total"),
        "{body}"
    );
}
