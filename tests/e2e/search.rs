//! Search on a real catalogue: shoppers' words and their meaning both find products, each
//! result says why; the shopper's session re-ranks what the query found (never for the
//! holdout); the merchant's exclusions hold and nothing sold out shows; suggestions
//! complete what is being typed; the App Proxy serves it signed; bad queries are named;
//! one shop's search never shows another's products.

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{databases, error_code, TestApp};
use crate::storefront::{proxied, proxy_get};

const SHOP: &str = "search-yoga.myshopify.com";
const OTHER: &str = "search-other.myshopify.com";
const SOLD_OUT: &str = "7545985466519";

async fn search(app: &TestApp, key: &str, query: &[(&str, &str)]) -> Value {
    let (status, body) = app.get(&search_path("/api/v1/search", query), key).await;
    assert_eq!(status, StatusCode::OK, "{query:?}: {body}");
    body
}

fn search_path(path: &str, query: &[(&str, &str)]) -> String {
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!("{path}?{encoded}")
}

fn results(body: &Value, field: &str) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {body}"))
        .iter()
        .map(|r| r[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn shoppers_find_products_by_their_words_and_by_meaning() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
        let key = app.storefront_key(SHOP).await;

        let body = search(&app, &key, &[("q", "cork block"), ("limit", "5")]).await;
        let titles = results(&body, "title");
        assert_eq!(titles.len(), 5, "{db:?}: {body}");
        // The one product on sale with both words in its title first, then products whose
        // words (title, type, tags, description) hold one or both.
        assert_eq!(titles[0], "Cork Industrial Yoga Mat and Two-Block Bundle");
        for reason in results(&body, "reason") {
            assert_eq!(reason, "matches \u{201c}cork block\u{201d}", "{titles:?}");
        }
        assert_eq!(
            results(&body, "reason")[0],
            "matches \u{201c}cork block\u{201d}"
        );
        assert_eq!(body["personalised"], false);
        // Case, accents, full-width letters and spacing do not change what is found, and a
        // plural finds what its singular does.
        let folded = search(&app, &key, &[("q", "  CÖRK   ＢＬＯＣＫ "), ("limit", "5")]).await;
        assert_eq!(results(&folded, "id"), results(&body, "id"));
        let plural = search(&app, &key, &[("q", "cork blocks"), ("limit", "5")]).await;
        assert_eq!(results(&plural, "id")[0], results(&body, "id")[0]);

        // Words no product uses still find what they mean, and say so.
        let body = search(
            &app,
            &key,
            &[("q", "drenched in perspiration"), ("limit", "5")],
        )
        .await;
        let titles = results(&body, "title");
        assert!(
            titles.iter().any(|t| t.to_lowercase().contains("towel")),
            "{titles:?}"
        );
        for reason in results(&body, "reason") {
            assert_eq!(
                reason,
                "close in meaning to \u{201c}drenched in perspiration\u{201d}"
            );
        }

        // Whatever the query, nothing sold out or unpublished.
        for query in ["mat", "travel mat", "towel"] {
            let body = search(&app, &key, &[("q", query), ("limit", "50")]).await;
            for result in body["results"].as_array().unwrap() {
                assert_eq!(result["available"], true, "{result}");
                assert_eq!(result["status"], "active", "{result}");
                assert_ne!(result["id"], SOLD_OUT);
            }
        }
    }
}

#[tokio::test]
async fn the_session_reorders_what_the_query_found_and_the_holdout_gets_the_plain_order() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
        let key = app.storefront_key(SHOP).await;
        let anonymous = search(&app, &key, &[("q", "yoga mat"), ("limit", "20")]).await;
        let plain = results(&anonymous, "id");
        // A shopper who has been looking at towels.
        let towels: Vec<Value> = search(&app, &key, &[("q", "towel"), ("limit", "4")]).await
            ["results"]
            .as_array()
            .unwrap()
            .clone();
        let events: Vec<Value> = towels
            .iter()
            .map(|t| json!({"type": "product_viewed", "client_id": "towel-fan", "product_id": t["id"]}))
            .collect();
        let (status, body) = app.send_events(&key, json!(events)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let theirs = search(
            &app,
            &key,
            &[
                ("q", "yoga mat"),
                ("limit", "20"),
                ("client_id", "towel-fan"),
            ],
        )
        .await;
        assert_eq!(theirs["personalised"], true, "{theirs}");
        let reordered = results(&theirs, "id");
        assert_ne!(reordered, plain, "the session changed the order");
        let found: HashSet<&String> = plain.iter().collect();
        let moved_up = results(&theirs, "reason")
            .iter()
            .filter(|r| r.ends_with("like what you looked at"))
            .count();
        assert!(moved_up > 0, "{theirs}");
        // Re-ranked, not re-queried: the towel fan's top ten were among the query's matches.
        let top_kept = reordered
            .iter()
            .take(10)
            .filter(|id| found.contains(id))
            .count();
        assert!(top_kept >= 8, "{reordered:?} against {plain:?}");

        // A shopper the holdout keeps from Kindred gets the plain order.
        let merchant = app.merchant_key(SHOP).await;
        let settings =
            json!({"holdout": {"enabled": true, "share_percent": 50, "control": "none"}});
        let (status, body) = app
            .request(
                Method::PUT,
                &format!("/api/v1/shops/{SHOP}/settings"),
                Some(&merchant),
                Some(settings.to_string().into_bytes()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // Which shoppers the holdout holds is drawn per shop: find one it holds.
        let held: Vec<String> = (0..40).map(|n| format!("shopper-{n}")).collect();
        let mut held_one = None;
        for client in &held {
            let (_, body) = app
                .get(
                    &format!("/api/v1/recommendations/trending?client_id={client}"),
                    &key,
                )
                .await;
            if body["experiment"]["holdout"] == true {
                held_one = Some(client.clone());
                break;
            }
        }
        let held_one = held_one.expect("half the shoppers are held out");
        let events: Vec<Value> = towels
            .iter()
            .map(
                |t| json!({"type": "product_viewed", "client_id": held_one, "product_id": t["id"]}),
            )
            .collect();
        app.send_events(&key, json!(events)).await;
        let held_out = search(
            &app,
            &key,
            &[("q", "yoga mat"), ("limit", "20"), ("client_id", &held_one)],
        )
        .await;
        assert_eq!(held_out["personalised"], false, "{held_out}");
        assert_eq!(results(&held_out, "id"), plain);
    }
}

#[tokio::test]
async fn suggestions_complete_the_word_being_typed_from_the_shops_own_words() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
        let key = app.storefront_key(SHOP).await;
        let (status, body) = app
            .get(
                &search_path("/api/v1/search/suggest", &[("q", "cork yoga bl")]),
                &key,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{db:?}: {body}");
        let queries: Vec<&str> = body["queries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q.as_str().unwrap())
            .collect();
        assert!(queries.contains(&"cork yoga block"), "{body}");
        assert!(queries.iter().all(|q| q.starts_with("cork yoga bl")));
        // The products are what the first completion finds.
        let products = body["products"].as_array().unwrap();
        assert_eq!(products.len(), 4, "{body}");
        let first = products[0]["title"].as_str().unwrap().to_lowercase();
        let completed = queries[0].rsplit(' ').next().unwrap();
        assert!(
            first.contains("cork") && first.contains(completed),
            "{first} for {queries:?}"
        );
        // A word no product starts with completes to nothing.
        let (_, body) = app
            .get(
                &search_path("/api/v1/search/suggest", &[("q", "zzyzx")]),
                &key,
            )
            .await;
        assert_eq!(body["queries"], json!([]), "{body}");
        assert_eq!(body["products"], json!([]), "{body}");
    }
}

#[tokio::test]
async fn search_obeys_the_shops_rules_and_never_crosses_shops() {
    let db = &databases()[0];
    let app = TestApp::spawn(db).await;
    app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
    app.import(OTHER, "catalogs/admin-format/unitedbyblue_products.json")
        .await;
    let key = app.storefront_key(SHOP).await;
    let other_key = app.storefront_key(OTHER).await;
    let before = search(&app, &key, &[("q", "cork mat"), ("limit", "20")]).await;
    assert!(results(&before, "vendor")
        .iter()
        .any(|v| v == "Yoloha Yoga"));
    let (status, body) = app
        .request(
            Method::PUT,
            &format!("/api/v1/shops/{SHOP}/rules"),
            Some(&app.admin_key),
            Some(serde_json::to_vec(&json!({"exclude": [{"vendor": "Yoloha Yoga"}]})).unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = search(&app, &key, &[("q", "cork mat"), ("limit", "20")]).await;
    assert!(!results(&after, "vendor").iter().any(|v| v == "Yoloha Yoga"));
    assert_eq!(results(&after, "id").len(), 20);

    // The other shop's key finds only the other shop's products, whatever it asks.
    let mine: HashSet<String> = results(&before, "id").into_iter().collect();
    let theirs = search(&app, &other_key, &[("q", "cork mat"), ("limit", "50")]).await;
    assert!(results(&theirs, "id").iter().all(|id| !mine.contains(id)));
}

#[tokio::test]
async fn bad_queries_are_named_and_the_proxy_serves_search_signed() {
    let db = &databases()[0];
    let app = TestApp::spawn(db).await;
    app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
    let key = app.storefront_key(SHOP).await;
    let long = "mat ".repeat(60);
    for (query, says) in [
        (vec![], "`q` is required"),
        (vec![("q", "   ")], "`q` is required"),
        (vec![("q", long.as_str())], "at most 200 characters"),
        (vec![("q", "mat"), ("limit", "0")], "`limit`"),
        (vec![("q", "mat"), ("colour", "red")], "colour"),
        (vec![("q", "mat"), ("client_id", "")], ""),
    ] {
        let (status, body) = app.get(&search_path("/api/v1/search", &query), &key).await;
        if says.is_empty() {
            assert_eq!(status, StatusCode::OK, "{query:?}: {body}");
            continue;
        }
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query:?}: {body}");
        assert_eq!(error_code(&body), "invalid_request", "{body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{query:?}: {body}"
        );
    }

    let uri = proxied(
        "/proxy/search",
        &[("q", "cork block"), ("limit", "3")],
        SHOP,
        "",
        0,
    );
    let (status, headers, body) = proxy_get(&app, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(results(&body, "id").len(), 3);
    assert_eq!(headers["cache-control"], "private, no-store");
    let forged = uri.replace("limit=3", "limit=4");
    let (status, _, _) = proxy_get(&app, &forged).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let uri = proxied("/proxy/search/suggest", &[("q", "yoga m")], SHOP, "", 0);
    let (status, _, body) = proxy_get(&app, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body["queries"].as_array().unwrap().is_empty(), "{body}");

    let (status, document) = app.get("/api/v1/openapi.json", &key).await;
    assert_eq!(status, StatusCode::OK);
    assert!(document["paths"]["/search"]["get"].is_object());
    assert!(document["paths"]["/search/suggest"]["get"].is_object());
}
