//! The storefront's doors: the App Proxy (Shopify-signed, the logged-in customer believed only
//! from the signature), recommendations by strategy name with fallbacks and cold start, and
//! the headless API's per-shop CORS, per-key rate limit and OpenAPI document.

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use kindred::domain::ShopDomain;
use kindred::shopify::signature::{app_proxy_message, hex_hmac, Secret};
use kindred::stores::prelude::*;

use crate::common::{databases, error_code, TestApp};
use crate::fake_shopify::shared_data;
use crate::fake_shopify::SECRET;
use kindred::domain::CustomerId;

const SHOP: &str = "storefront-yoga.myshopify.com";
const OTHER: &str = "storefront-other.myshopify.com";
const MAT: &str = "4357742755898";

/// A query as Shopify's App Proxy forwards it: the storefront's parameters, Shopify's own,
/// and the signature over all of them.
pub(crate) fn proxied(
    path: &str,
    params: &[(&str, &str)],
    shop: &str,
    customer: &str,
    age_secs: i64,
) -> String {
    let timestamp = (chrono::Utc::now().timestamp() - age_secs).to_string();
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in [
        ("shop", shop),
        ("logged_in_customer_id", customer),
        ("path_prefix", "/apps/kindred"),
        ("timestamp", timestamp.as_str()),
    ] {
        pairs.push((k.to_owned(), v.to_owned()));
    }
    let signature = hex_hmac(&Secret::new(SECRET), app_proxy_message(&pairs).as_bytes());
    pairs.push(("signature".into(), signature));
    format!("{path}?{}", encode(&pairs))
}

fn encode(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

pub(crate) async fn proxy_get(
    app: &TestApp,
    uri: &str,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    app.request_with_headers(Method::GET, uri, None, &[], None)
        .await
}

pub(crate) fn ids(body: &Value) -> Vec<String> {
    body["recommendations"]
        .as_array()
        .unwrap_or_else(|| panic!("no recommendations in {body}"))
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_app_proxy_serves_signed_requests_and_refuses_forged_stale_and_ambiguous_ones() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
        let params = [("strategy", "similar"), ("product_id", MAT), ("limit", "5")];

        let uri = proxied("/proxy/recommendations", &params, SHOP, "", 0);
        let (status, headers, body) = proxy_get(&app, &uri).await;
        assert_eq!(status, StatusCode::OK, "{db:?}: {body}");
        assert_eq!(body["strategy"], "similar");
        assert_eq!(ids(&body).len(), 5);
        assert!(!ids(&body).contains(&MAT.to_owned()));
        assert!(body["recommendations"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("similar to "));
        assert_eq!(headers["cache-control"], "private, no-store");

        // Signature problems are 401s; signed but unacceptable requests are 403s.
        let tampered = uri.replace("limit=5", "limit=6");
        let (status, _, body) = proxy_get(&app, &tampered).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::UNAUTHORIZED, "invalid_proxy_signature"),
            "{body}"
        );
        let unsigned = uri.split("&signature=").next().unwrap().to_owned();
        let (status, _, _) = proxy_get(&app, &unsigned).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let stale = proxied("/proxy/recommendations", &params, SHOP, "", 600);
        let (status, _, body) = proxy_get(&app, &stale).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::FORBIDDEN, "proxy_request_refused")
        );
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("replay"));
        let second_shop = format!("{uri}&shop={OTHER}");
        let (status, _, body) = proxy_get(&app, &second_shop).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        // Signed by Shopify for a shop Kindred does not hold.
        let (status, _, body) = proxy_get(
            &app,
            &proxied("/proxy/recommendations", &params, OTHER, "", 0),
        )
        .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::NOT_FOUND, "unknown_shop")
        );
        // A storefront parameter we do not know is named.
        let (status, _, body) = proxy_get(
            &app,
            &proxied(
                "/proxy/recommendations",
                &[("strategy", "similar"), ("colour", "red")],
                SHOP,
                "",
                0,
            ),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour"));

        // Events through the proxy: the customer is the one Shopify signed, whatever the body says.
        let events = json!({"events": [
            {"id": "p1", "type": "product_viewed", "client_id": "laptop", "product_id": "6239910789300", "customer_id": "999"},
            {"id": "p2", "type": "product_viewed", "client_id": "laptop", "product_id": "7404209340596", "customer_id": "999"},
        ]});
        let (status, _, body) = app
            .request_with_headers(
                Method::POST,
                &proxied("/proxy/events", &[], SHOP, "42", 0),
                None,
                &[],
                Some(serde_json::to_vec(&events).unwrap()),
            )
            .await;
        assert_eq!(
            (status, body["accepted"].as_u64()),
            (StatusCode::OK, Some(2)),
            "{body}"
        );
        let shop = ShopDomain::parse(SHOP).unwrap();
        assert_eq!(
            app.store
                .customer_events(&shop, CustomerId(42))
                .await
                .unwrap()
                .len(),
            2
        );
        assert!(app
            .store
            .customer_events(&shop, CustomerId(999))
            .await
            .unwrap()
            .is_empty());

        // The same customer on another device: their history follows them. A guest on that
        // device gets the cold-start chain instead.
        let for_you = [
            ("strategy", "for_you"),
            ("client_id", "phone"),
            ("fallback", "trending"),
        ];
        let (status, _, body) = proxy_get(
            &app,
            &proxied("/proxy/recommendations", &for_you, SHOP, "42", 0),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["strategy"], "for_you", "{body}");
        let leggings = body["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["title"]
                    .as_str()
                    .unwrap()
                    .to_lowercase()
                    .contains("legging")
            })
            .count();
        assert!(
            leggings >= 5,
            "a leggings session should bring leggings: {body}"
        );
        let (_, _, guest) = proxy_get(
            &app,
            &proxied("/proxy/recommendations", &for_you, SHOP, "", 0),
        )
        .await;
        assert_ne!(guest["strategy"], "for_you", "{guest}");
        assert!(!ids(&guest).is_empty());
    }
}

/// The catalogue's products, newest publication first, as the raw files say.
fn newest_in_files() -> Vec<String> {
    let dir = shared_data("catalogs/yoga-stores/2026-01-13");
    let mut dated = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('_') || !name.ends_with(".json") {
            continue;
        }
        let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for p in doc["products"].as_array().unwrap() {
            let available = p["variants"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["available"].as_bool() == Some(true));
            let published =
                chrono::DateTime::parse_from_rfc3339(p["published_at"].as_str().unwrap())
                    .unwrap()
                    .timestamp_millis();
            if available {
                dated.push((published, p["id"].as_u64().unwrap()));
            }
        }
    }
    dated.sort_by(|a, b| b.cmp(a));
    dated.into_iter().map(|(_, id)| id.to_string()).collect()
}

#[tokio::test]
async fn strategies_answer_by_name_fall_back_and_cover_new_shops_shoppers_and_products() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
        let key = app.storefront_key(SHOP).await;
        let get = |path: String| {
            let app = &app;
            let key = key.clone();
            async move { app.get(&path, &key).await }
        };

        // A brand-new shop: nothing is trending yet, new arrivals are there from day one.
        let (status, body) = get("/api/v1/recommendations/trending".into()).await;
        assert_eq!((status, ids(&body).len()), (StatusCode::OK, 0), "{body}");
        let newest = newest_in_files();
        let (_, body) = get("/api/v1/recommendations/new-arrivals?limit=5".into()).await;
        assert_eq!(ids(&body), newest[..5].to_vec(), "{db:?}");
        assert_eq!(body["recommendations"][0]["reason"], "new in the shop");
        // A new shopper on a new shop: for-you falls back to trending, then new arrivals.
        let (_, body) = get(
            "/api/v1/recommendations?strategy=for_you&client_id=new&fallback=trending&limit=4"
                .into(),
        )
        .await;
        assert_eq!(
            (
                body["strategy"].as_str(),
                body["requested_strategy"].as_str()
            ),
            (Some("new_arrivals"), Some("for_you"))
        );
        assert_eq!(ids(&body), newest[..4].to_vec());

        // Shoppers look at two products and one buys the mat with the first: they trend, a
        // unit sold weighing as much as 20 views, the one on screen left out.
        let mut events = Vec::new();
        for (i, (product, times)) in [("6239910789300", 5), ("7404209340596", 3)]
            .iter()
            .enumerate()
        {
            for n in 0..*times {
                events.push(json!({"id": format!("t{i}-{n}"), "type": "product_viewed", "client_id": format!("b{n}"), "product_id": product}));
            }
        }
        events.push(
            json!({"id": "bought", "type": "checkout_completed", "client_id": "b0",
            "line_items": [{"product_id": MAT}, {"product_id": "6239910789300"}]}),
        );
        let (status, body) = app.send_events(&key, events.clone().into()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        app.models_current(SHOP).await;
        let (_, body) = get("/api/v1/recommendations/trending?limit=5".into()).await;
        assert_eq!(ids(&body)[..3], ["6239910789300", MAT, "7404209340596"]);
        assert_eq!(
            body["recommendations"][0]["reason"],
            "trending in this shop"
        );
        let (_, body) =
            get("/api/v1/recommendations/trending?product_id=6239910789300".into()).await;
        assert_eq!(ids(&body)[..2], [MAT, "7404209340596"]);

        // Complementary: what this shop's shoppers bought with the product on screen.
        let (_, body) = get(format!(
            "/api/v1/recommendations/complementary?product_id={MAT}&limit=3"
        ))
        .await;
        assert_eq!(ids(&body)[0], "6239910789300", "{body}");
        assert!(body["recommendations"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("often bought with"));

        // Recently viewed, the product on screen excluded.
        let (_, body) = get(
            "/api/v1/recommendations/recently-viewed?client_id=b1&product_id=7404209340596".into(),
        )
        .await;
        assert_eq!(ids(&body), ["6239910789300"]);

        // A product created a moment ago is recommendable as soon as it is embedded.
        let shop_path = format!("/api/v1/shops/{SHOP}/products");
        let new_mat = json!({"product": {"id": 9100000000001u64, "title": "Cork travel yoga mat, 2 mm",
            "handle": "cork-travel-mat", "body_html": "<p>A thin natural cork mat that folds into a suitcase.</p>",
            "vendor": "Kindred test", "product_type": "Yoga Mats", "tags": "cork, travel", "status": "active",
            "published_at": chrono::Utc::now().to_rfc3339(),
            "variants": [{"price": "59.00", "available": true, "inventory_quantity": 5}]}});
        let (status, body) = app
            .request(
                Method::POST,
                &shop_path,
                Some(&app.admin_key),
                Some(serde_json::to_vec(&new_mat).unwrap()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, body) = get("/api/v1/recommendations/new-arrivals?limit=1".into()).await;
        assert_eq!(ids(&body), ["9100000000001"]);
        let (status, body) =
            get("/api/v1/recommendations/similar?product_id=9100000000001&limit=5".into()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mats = body["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["title"].as_str().unwrap().to_lowercase().contains("mat"))
            .count();
        assert!(mats >= 4, "a cork mat is similar to mats: {body}");

        // Mistakes are named.
        for (path, needle) in [
            (
                "/api/v1/recommendations/bestsellers",
                "must be one of similar, for_you",
            ),
            (
                "/api/v1/recommendations/similar?strategy=similar",
                "leave out `strategy`",
            ),
            (
                "/api/v1/recommendations/similar",
                "`similar` needs `product_id`",
            ),
            (
                "/api/v1/recommendations?strategy=trending&fallback=random",
                "`fallback` must be one of",
            ),
            (
                "/api/v1/recommendations?strategy=trending&limit=0",
                "`limit`",
            ),
            (
                "/api/v1/recommendations?strategy=trending&cart=1,x",
                "not a product id",
            ),
        ] {
            let (status, body) = get(path.into()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
            assert!(
                body["error"]["message"].as_str().unwrap().contains(needle),
                "{path}: {body}"
            );
        }
        let (status, _) = get("/api/v1/recommendations/similar?product_id=1".into()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // ...unless a fallback is asked for: then the shelf is never empty.
        let (status, body) =
            get("/api/v1/recommendations/similar?product_id=1&fallback=trending".into()).await;
        assert_eq!(
            (status, body["strategy"].as_str()),
            (StatusCode::OK, Some("trending")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn browsers_are_served_from_allowed_origins_only_and_each_key_has_its_own_rate_limit() {
    let app = TestApp::spawn(&databases()[0]).await;
    app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
    let key = app.storefront_key(SHOP).await;
    let other_key = app.storefront_key(OTHER).await;
    let path = "/api/v1/recommendations/new-arrivals?limit=2";
    let from = |origin: &str| vec![("origin", origin.to_owned())];
    let site = "https://www.yoga-example.com";

    let (status, _, body) = app
        .request_with_headers(Method::GET, path, Some(&key), &from(site), None)
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "origin_not_allowed")
    );
    // A preflight carries no key: it is answered, and grants nothing by itself.
    let preflight = [
        ("origin", site.to_owned()),
        ("access-control-request-method", "GET".to_owned()),
    ];
    let (status, headers, _) = app
        .request_with_headers(Method::OPTIONS, path, None, &preflight, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(headers["access-control-allow-origin"], site);
    assert!(headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));

    let origins_path = format!("/api/v1/shops/{SHOP}/allowed-origins");
    let put = |origins: Value| {
        let app = &app;
        let origins_path = origins_path.clone();
        async move {
            app.request(
                Method::PUT,
                &origins_path,
                Some(&app.admin_key),
                Some(serde_json::to_vec(&json!({ "origins": origins })).unwrap()),
            )
            .await
        }
    };
    let (status, body) = put(json!(["https://www.yoga-example.com/shop"])).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a path is not an origin: {body}"
    );
    let (status, body) = put(json!([
        "HTTPS://WWW.Yoga-Example.com:443",
        "http://localhost:3000"
    ]))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["origins"], json!(["http://localhost:3000", site]));
    let (status, headers, body) = app
        .request_with_headers(Method::GET, path, Some(&key), &from(site), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["access-control-allow-origin"], site);
    assert_eq!(ids(&body).len(), 2);
    // The allow-list is the shop's: another shop's key from the same site is refused.
    let (status, _, _) = app
        .request_with_headers(Method::GET, path, Some(&other_key), &from(site), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Servers (no Origin) are not browsers: no CORS check.
    let (status, _) = app.get(path, &other_key).await;
    assert_eq!(status, StatusCode::OK);

    // The test app allows 600 requests a minute per key.
    let cheap = "/api/v1/products/1";
    let mut refused = None;
    for n in 0..1_000 {
        let (status, headers, body) = app
            .request_with_headers(Method::GET, cheap, Some(&key), &[], None)
            .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(error_code(&body), "rate_limited");
            refused = Some((
                n,
                headers["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap(),
            ));
            break;
        }
    }
    let (n, retry_after) = refused.expect("the key was never limited");
    // Earlier requests spent a little of the budget; the bucket refills at 10 a second while
    // the loop runs, so a slow machine gets a few more.
    assert!(n >= 590, "limited after {n} requests");
    assert!((1..=60).contains(&retry_after));
    let (status, _) = app.get(cheap, &other_key).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another key keeps its own budget"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_the_public_api_from_the_code() {
    let app = TestApp::spawn(&databases()[0]).await;
    let (status, doc) = app
        .request(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    for path in [
        "/recommendations",
        "/recommendations/{strategy}",
        "/recommendations/cart",
        "/events",
        "/products/{id}/similar",
    ] {
        assert!(
            paths.iter().any(|p| p == &path),
            "{path} missing from {paths:?}"
        );
    }
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["RecommendationView"].is_object() && schemas["ErrorBody"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["storefront_key"]["scheme"],
        "bearer"
    );
    let parameters: Vec<&str> = doc["paths"]["/recommendations"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        parameters,
        [
            "strategy",
            "fallback",
            "product_id",
            "client_id",
            "cart",
            "limit",
            "placement",
            "X-Kindred-Customer-Token"
        ]
    );
}

#[tokio::test]
async fn merchants_see_what_each_strategy_earned() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
        let key = app.storefront_key(SHOP).await;
        let mut events: Vec<Value> = ["6239910789300", "7404209340596", MAT]
            .iter()
            .map(|p| json!({"type": "recommendation_viewed", "client_id": "c", "product_id": p, "strategy": "similar"}))
            .collect();
        events.push(json!({"type": "recommendation_clicked", "client_id": "c", "product_id": MAT, "strategy": "similar"}));
        events.push(json!({"type": "product_added_to_cart", "client_id": "c", "product_id": MAT}));
        events.push(json!({"type": "recommendation_viewed", "client_id": "d", "product_id": MAT, "strategy": "trending"}));
        let (status, _) = app.send_events(&key, events.clone().into()).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = app
            .get(
                &format!("/api/v1/shops/{SHOP}/recommendations/performance"),
                &app.admin_key,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let by_strategy: HashMap<&str, &Value> = body["strategies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["strategy"].as_str().unwrap(), s))
            .collect();
        let similar = by_strategy["similar"];
        assert_eq!(
            (
                similar["impressions"].as_i64(),
                similar["clicks"].as_i64(),
                similar["added_to_cart_after_click"].as_i64()
            ),
            (Some(3), Some(1), Some(1))
        );
        assert!((similar["click_through_rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(by_strategy["trending"]["impressions"], 1);
        // Impressions are not interest: trending still counts only the cart addition.
        let (_, body) = app.get("/api/v1/recommendations/trending", &key).await;
        assert_eq!(ids(&body), [MAT]);
    }
}
