//! One clock for the whole app: a test sets it, and every stamp, window and expiry follows,
//! from the HTTP layer through the domain to the rows the database writes.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use kindred::clock::{Clock, ManualClock, SystemClock};

use crate::common::{databases, error_code, TestApp};

const SHOP: &str = "clock-test.myshopify.com";

#[tokio::test]
async fn stamps_and_expiries_follow_the_apps_clock() {
    for db in databases() {
        let clock = ManualClock::at(SystemClock.now_millis() - 3_600_000);
        let app = TestApp::spawn_with_clock(&db, clock.clone() as Arc<dyn Clock>).await;
        let public = app.storefront_key(SHOP).await;
        let merchant = app.merchant_key(SHOP).await;

        // Rows are stamped by the app's clock, not the database's or the wall's.
        let (status, keys) = app
            .get(&format!("/api/v1/shops/{SHOP}/keys"), &merchant)
            .await;
        assert_eq!(status, StatusCode::OK, "{keys}");
        let stamps: Vec<i64> = keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["created_at_ms"].as_i64().unwrap())
            .collect();
        assert!(!stamps.is_empty(), "{keys}");
        assert!(
            stamps.iter().all(|&at| at == clock.now_millis()),
            "{keys} {db:?}"
        );

        // A token minted for a minute holds for that minute of the app's time, then not.
        let (status, minted) = app
            .request(
                Method::POST,
                &format!("/api/v1/shops/{SHOP}/customer-tokens"),
                Some(&merchant),
                Some(
                    json!({"customer_id": 77, "ttl_secs": 60})
                        .to_string()
                        .into_bytes(),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{minted}");
        let token = [(
            "x-kindred-customer-token",
            minted["customer_token"].as_str().unwrap().to_owned(),
        )];
        clock.advance(59_000);
        assert_eq!(
            recently_viewed(&app, &public, &token).await.0,
            StatusCode::OK,
            "{db:?}"
        );
        clock.advance(2_000);
        let (status, body) = recently_viewed(&app, &public, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(error_code(&body), "invalid_customer_token");
    }
}

async fn recently_viewed(
    app: &TestApp,
    public: &str,
    token: &[(&str, String)],
) -> (StatusCode, Value) {
    let (status, _, body) = app
        .request_with_headers(
            Method::GET,
            "/api/v1/recommendations/recently-viewed",
            Some(public),
            token,
            None,
        )
        .await;
    (status, body)
}
