//! Shopper events: a batch keeps its good events and names its bad ones, a resent batch is
//! stored once, each shop sees only its own, a shop is rate-limited with `Retry-After`, and
//! a customer's events (with their anonymous browsing) go when the customer is redacted.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use kindred::domain::ShopDomain;
use kindred::stores::prelude::*;

use crate::common::{client, databases, error_code, TestApp};
use kindred::domain::CustomerId;

const SHOP: &str = "events-shop.myshopify.com";
const OTHER: &str = "events-other.myshopify.com";

async fn send(app: &TestApp, key: &str, events: Value) -> (StatusCode, Value) {
    app.send_events(key, events).await
}

#[tokio::test]
async fn a_batch_keeps_its_good_events_names_its_bad_ones_and_is_stored_once() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
        let key = app.storefront_key(SHOP).await;
        let batch = json!([
            {"id": "e1", "type": "product_viewed", "client_id": "browser-1", "product_id": "4357742755898"},
            {"id": "e2", "type": "product_viewed", "client_id": "browser-1"},
            {"id": "e3", "type": "search_submitted", "client_id": "browser-1", "query": "cork yoga mat"},
            {"id": "e4", "type": "teleported", "client_id": "browser-1"},
            {"id": "e5", "type": "checkout_completed", "client_id": "browser-1", "customer_id": "gid://shopify/Customer/77",
             "line_items": [{"product_id": 4357742755898u64, "quantity": 1}]},
        ]);
        let (status, body) = send(&app, &key, batch.clone()).await;
        assert_eq!(status, StatusCode::OK, "{db:?}: {body}");
        assert_eq!(body["accepted"], 3);
        let rejected: Vec<u64> = body["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["index"].as_u64().unwrap())
            .collect();
        assert_eq!(rejected, [1, 3]);
        assert!(body["rejected"][0]["error"]
            .as_str()
            .unwrap()
            .contains("product_id"));

        let shop = ShopDomain::parse(SHOP).unwrap();
        let stored = app
            .store
            .client_events(&shop, &client("browser-1"))
            .await
            .unwrap();
        let ids: Vec<&str> = stored.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids.len(), 3);
        assert!(ids.contains(&"e1") && ids.contains(&"e3") && ids.contains(&"e5"));
        // The public key cannot say who is logged in: the claimed customer is dropped, and
        // the answer says so.
        let checkout = stored.iter().find(|e| e.event_id == "e5").unwrap();
        assert_eq!((checkout.customer_id, checkout.line_items.len()), (None, 1));
        assert!(body["warnings"][0]
            .as_str()
            .unwrap()
            .contains("`customer_id` was ignored on 1 event"));

        // The same batch again (a retry after a lost answer): nothing new is stored.
        let (_, again) = send(&app, &key, batch).await;
        assert_eq!(
            (again["accepted"].as_u64(), again["duplicates"].as_u64()),
            (Some(3), Some(3))
        );
        assert_eq!(
            app.store
                .client_events(&shop, &client("browser-1"))
                .await
                .unwrap()
                .len(),
            3
        );

        // Bad requests as a whole.
        let (status, body) = send(&app, &key, json!([])).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_request")
        );
        let many: Vec<Value> = (0..101)
            .map(|i| json!({"type": "product_viewed", "client_id": "b", "product_id": i + 1}))
            .collect();
        let (status, _) = send(&app, &key, Value::Array(many)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, body) = app
            .request(
                Method::POST,
                "/api/v1/events",
                Some(&key),
                Some(b"[1,2]".to_vec()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, _) = app
            .request(Method::POST, "/api/v1/events", None, Some(b"{}".to_vec()))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_shop_sees_only_its_own_events_and_is_rate_limited_alone() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        let key = app.storefront_key(SHOP).await;
        let other_key = app.storefront_key(OTHER).await;
        let batch = |prefix: &str| -> Value {
            (0..100)
                .map(|i| json!({"id": format!("{prefix}-{i}"), "type": "product_viewed", "client_id": "same-browser", "product_id": i + 1}))
                .collect()
        };
        // The test app allows 600 events a minute per shop.
        for round in 0..6 {
            let (status, body) = send(&app, &key, batch(&format!("a{round}"))).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (status, headers, body) = app
            .request_with_headers(
                Method::POST,
                "/api/v1/events",
                Some(&key),
                &[],
                Some(serde_json::to_vec(&json!({"events": batch("a6")})).unwrap()),
            )
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            "{db:?}"
        );
        let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry));
        // The other shop is not held back by this one, and sees none of its events.
        let (status, _) = send(&app, &other_key, batch("b")).await;
        assert_eq!(status, StatusCode::OK);
        let shop = ShopDomain::parse(SHOP).unwrap();
        let other = ShopDomain::parse(OTHER).unwrap();
        // All 600 are stored; a shopper's history reads the latest 500 of them.
        let stored: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM shopper_events WHERE shop_domain = $1 AND client_id = $2",
        )
        .bind(SHOP)
        .bind("same-browser")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
        assert_eq!(stored, 600);
        assert_eq!(
            app.store
                .client_events(&shop, &client("same-browser"))
                .await
                .unwrap()
                .len(),
            kindred::events::MAX_HISTORY_EVENTS
        );
        let theirs = app
            .store
            .client_events(&other, &client("same-browser"))
            .await
            .unwrap();
        assert_eq!(theirs.len(), 100);
        assert!(theirs.iter().all(|e| e.event_id.starts_with("b-")));
    }
}

#[tokio::test]
async fn redacting_a_customer_takes_their_events_and_their_browsers_anonymous_ones() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        // The shops' servers say who is logged in (merchant keys).
        let key = app.merchant_key(SHOP).await;
        let other_key = app.merchant_key(OTHER).await;
        let events = json!([
            {"id": "anon-before-login", "type": "product_viewed", "client_id": "laptop", "product_id": 1},
            {"id": "logged-in", "type": "product_viewed", "client_id": "laptop", "customer_id": 500, "product_id": 2},
            {"id": "phone", "type": "product_viewed", "client_id": "phone", "customer_id": "500", "product_id": 3},
            {"id": "someone-else", "type": "product_viewed", "client_id": "tablet", "customer_id": 501, "product_id": 4},
        ]);
        assert_eq!(send(&app, &key, events.clone()).await.0, StatusCode::OK);
        assert_eq!(send(&app, &other_key, events).await.0, StatusCode::OK);
        let shop = ShopDomain::parse(SHOP).unwrap();
        let other = ShopDomain::parse(OTHER).unwrap();
        let held: Vec<String> = app
            .store
            .customer_events(&shop, CustomerId(500))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_id)
            .collect();
        assert_eq!(held, ["anon-before-login", "logged-in", "phone"], "{db:?}");

        app.store
            .redact_customer(&shop, CustomerId(500))
            .await
            .unwrap();
        assert!(app
            .store
            .customer_events(&shop, CustomerId(500))
            .await
            .unwrap()
            .is_empty());
        assert!(app
            .store
            .client_events(&shop, &client("laptop"))
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            app.store
                .client_events(&shop, &client("tablet"))
                .await
                .unwrap()
                .len(),
            1,
            "another customer's events stay"
        );
        assert_eq!(
            app.store
                .customer_events(&other, CustomerId(500))
                .await
                .unwrap()
                .len(),
            3,
            "the same customer id in another shop is another customer"
        );
    }
}

async fn for_you(app: &TestApp, key: &str, client: &str) -> (String, Vec<Value>) {
    let (status, body) = app
        .get(
            &format!("/api/v1/recommendations/for-you?client_id={client}&limit=10"),
            key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["strategy"].as_str().unwrap().to_owned(),
        body["recommendations"].as_array().unwrap().clone(),
    )
}

fn share(list: &[Value], word: &str) -> usize {
    list.iter()
        .filter(|r| r["title"].as_str().unwrap().to_lowercase().contains(word))
        .count()
}

#[tokio::test]
async fn for_you_follows_the_live_session_and_a_new_shopper_gets_what_is_trending() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
        let key = app.storefront_key(SHOP).await;
        let leggings = ["6239910789300", "7404209340596"];

        // Someone browsed leggings: their for-you is leggings and apparel, with reasons, and
        // never what they already looked at.
        let views: Vec<Value> = leggings
            .iter()
            .map(|id| json!({"type": "product_viewed", "client_id": "shopper-a", "product_id": id}))
            .collect();
        assert_eq!(
            send(&app, &key, Value::Array(views)).await.0,
            StatusCode::OK
        );
        let (strategy, list) = for_you(&app, &key, "shopper-a").await;
        assert_eq!(strategy, "for_you", "{db:?}");
        assert_eq!(list.len(), 10);
        assert!(share(&list, "legging") >= 5, "{list:?}");
        assert!(list
            .iter()
            .all(|r| !leggings.contains(&r["id"].as_str().unwrap())));
        assert!(
            list[0]["reason"]
                .as_str()
                .unwrap()
                .starts_with("because you looked at"),
            "{}",
            list[0]
        );

        // The same shopper now searches for cork mats and puts one in the cart: the very next
        // request follows (no batch job in between).
        let turn = json!([
            {"type": "search_submitted", "client_id": "shopper-a", "query": "cork yoga mat"},
            {"type": "product_added_to_cart", "client_id": "shopper-a", "product_id": "876111003695"},
        ]);
        assert_eq!(send(&app, &key, turn).await.0, StatusCode::OK);
        let (_, list) = for_you(&app, &key, "shopper-a").await;
        assert!(share(&list, "cork") >= 5, "{list:?}");
        assert!(
            list.iter().all(|r| r["id"] != "876111003695"),
            "the cart's item is not suggested"
        );
        let reasons: Vec<&str> = list.iter().map(|r| r["reason"].as_str().unwrap()).collect();
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("“The Robin”, in your cart")),
            "{reasons:?}"
        );

        // A shopper with no history gets what is trending here; the other shop's shoppers
        // never count.
        let (strategy, list) = for_you(&app, &key, "shopper-new").await;
        assert_eq!(strategy, "trending");
        let ids: Vec<&str> = list.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert!(
            ids.contains(&leggings[0]) && ids.contains(&"876111003695"),
            "{ids:?}"
        );
        assert!(list.iter().all(|r| r["reason"] == "trending in this shop"));
        let other_key = app.storefront_key(OTHER).await;
        let (strategy, list) = for_you(&app, &other_key, "shopper-a").await;
        assert_eq!(
            (strategy.as_str(), list.len()),
            ("trending", 0),
            "another shop's events never count"
        );
    }
}

#[tokio::test]
async fn recently_viewed_lists_what_the_shopper_looked_at_newest_first_once_each() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
        let key = app.storefront_key(SHOP).await;
        // A, B, then A again; a sold-out product and an unknown one are not listed.
        let sold_out = app
            .store
            .get_products(
                &ShopDomain::parse(SHOP).unwrap(),
                &app.store
                    .products_written_before(&ShopDomain::parse(SHOP).unwrap(), i64::MAX)
                    .await
                    .unwrap(),
            )
            .await
            .unwrap()
            .into_iter()
            .find(|p| !p.available)
            .unwrap()
            .id
            .to_string();
        let (a, b) = ("6239910789300", "876111003695");
        // Minutes ago, so the events stay within the accepted window whenever this runs.
        let at =
            |minutes: i64| (chrono::Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339();
        let views = json!([
            {"type": "product_viewed", "client_id": "c", "product_id": a, "occurred_at": at(5)},
            {"type": "product_viewed", "client_id": "c", "product_id": b, "occurred_at": at(4)},
            {"type": "product_viewed", "client_id": "c", "product_id": sold_out, "occurred_at": at(3)},
            {"type": "product_viewed", "client_id": "c", "product_id": "999", "occurred_at": at(2)},
            {"type": "product_viewed", "client_id": "c", "product_id": a, "occurred_at": at(1)},
        ]);
        let (status, body) = send(&app, &key, views).await;
        assert_eq!(
            (status, body["accepted"].as_u64()),
            (StatusCode::OK, Some(5)),
            "{body}"
        );
        let (status, body) = app
            .get(
                "/api/v1/recommendations/recently-viewed?client_id=c&limit=5",
                &key,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{db:?}: {body}");
        let ids: Vec<&str> = body["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [a, b]);
        assert_eq!(body["recommendations"][0]["reason"], "you viewed this");
        let (status, body) = app
            .get(
                "/api/v1/recommendations/recently-viewed?client_id=c&limit=0",
                &key,
            )
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_request")
        );
    }
}

#[tokio::test]
async fn the_cart_gets_what_this_shops_shoppers_bought_with_it_and_meaning_fills_the_gaps() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
        let key = app.storefront_key(SHOP).await;
        let (mat, long_mat, eco_mat, leggings) = (
            "876111003695",
            "1373998383151",
            "6720198607023",
            "6239910789300",
        );
        // Three checkouts: the mat went with its extra-long version twice, with another mat once.
        let checkout = |client: &str, items: &[&str]| {
            json!({"type": "checkout_completed", "client_id": client,
                "line_items": items.iter().map(|id| json!({"product_id": id, "quantity": 1})).collect::<Vec<_>>()})
        };
        let events = json!([
            checkout("x", &[mat, long_mat]),
            checkout("y", &[mat, long_mat, eco_mat]),
            checkout("z", &[leggings]),
        ]);
        assert_eq!(send(&app, &key, events).await.0, StatusCode::OK);
        app.models_current(SHOP).await;
        let (status, body) = app
            .get(
                &format!("/api/v1/recommendations/cart?product_ids={mat}&limit=5"),
                &key,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{db:?}: {body}");
        let list = body["recommendations"].as_array().unwrap();
        let ids: Vec<&str> = list.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(&ids[..2], [long_mat, eco_mat], "{ids:?}");
        assert!(
            list[0]["reason"]
                .as_str()
                .unwrap()
                .starts_with("often bought with Cork Lightweight Yoga Mat"),
            "{}",
            list[0]
        );
        // Nothing else was ever bought with the mat: the rest comes from meaning, never the cart.
        assert_eq!(ids.len(), 5);
        assert!(!ids.contains(&mat) && !ids.contains(&leggings));
        assert!(
            list[2]["reason"].as_str().unwrap().starts_with("goes with"),
            "{}",
            list[2]
        );

        // Another shop's checkouts teach this shop nothing: only meaning answers there.
        let other_key = app.storefront_key(OTHER).await;
        app.import(OTHER, "catalogs/yoga-stores/2026-01-13").await;
        let (_, body) = app
            .get(
                &format!("/api/v1/recommendations/cart?product_ids={mat}&limit=5"),
                &other_key,
            )
            .await;
        assert!(
            body["recommendations"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["reason"].as_str().unwrap().starts_with("goes with")),
            "{body}"
        );

        let (status, body) = app
            .get("/api/v1/recommendations/cart?product_ids=abc", &key)
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_request")
        );
    }
}

#[tokio::test]
async fn for_you_blends_in_what_this_shops_shoppers_viewed_together() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
        app.import(OTHER, "catalogs/yoga-stores/2026-01-13").await;
        let key = app.storefront_key(SHOP).await;
        let other_key = app.storefront_key(OTHER).await;
        let (mat, leggings) = ("4357742755898", "6239910789300");
        // Twenty shoppers of this shop look at the mat, then at a pair of leggings: nothing a
        // text model would link.
        let trail: Vec<Value> = (0..20)
            .flat_map(|n| {
                [mat, leggings].map(|product| {
                    json!({"type": "product_viewed", "client_id": format!("trail-{n}"), "product_id": product})
                })
            })
            .collect();
        let (status, _) = send(&app, &key, Value::Array(trail)).await;
        assert_eq!(status, StatusCode::OK);
        // Twenty more go from those leggings on to a bra.
        let bra = "6239914426548";
        let onward: Vec<Value> = (0..20)
            .flat_map(|n| {
                [leggings, bra].map(|product| {
                    json!({"type": "product_viewed", "client_id": format!("onward-{n}"), "product_id": product})
                })
            })
            .collect();
        assert_eq!(
            send(&app, &key, Value::Array(onward)).await.0,
            StatusCode::OK
        );
        for k in [&key, &other_key] {
            let (status, _) = send(
                &app,
                k,
                json!([{"type": "product_viewed", "client_id": "newcomer", "product_id": mat}]),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
        }
        app.models_current(SHOP).await;

        let (strategy, list) = for_you(&app, &key, "newcomer").await;
        assert_eq!(strategy, "for_you");
        let pick = list
            .iter()
            .find(|r| r["id"] == leggings)
            .unwrap_or_else(|| panic!("the leggings shoppers view next are missing: {list:?}"));
        let reason = pick["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("often viewed after") || reason.starts_with("shoppers who viewed"),
            "{reason}"
        );
        // The session's content still leads the way: mats are there too.
        assert!(share(&list, "mat") >= 3, "{list:?}");
        // The other shop's shoppers never did this: its newcomer gets no leggings for a mat.
        let (_, elsewhere) = for_you(&app, &other_key, "newcomer").await;
        assert!(
            elsewhere.iter().all(|r| r["id"] != leggings),
            "{elsewhere:?}"
        );

        // Nobody ever viewed the bra with the mat, yet a shopper on the mat is one step from
        // the leggings and two from the bra: the co-view walk brings it in, and says how.
        for k in [&key, &other_key] {
            let view =
                json!([{"type": "product_viewed", "client_id": "walker", "product_id": mat}]);
            assert_eq!(send(&app, k, view).await.0, StatusCode::OK);
        }
        let wide = |k: &str| {
            let path = "/api/v1/recommendations/for-you?client_id=walker&limit=50";
            let k = k.to_owned();
            let app = &app;
            async move {
                app.get(path, &k).await.1["recommendations"]
                    .as_array()
                    .unwrap()
                    .clone()
            }
        };
        let list = wide(&key).await;
        let pick = list
            .iter()
            .find(|r| r["id"] == bra)
            .unwrap_or_else(|| panic!("the bra two steps away is missing: {list:?}"));
        assert!(
            pick["reason"]
                .as_str()
                .unwrap()
                .starts_with("viewed alongside products shoppers view with"),
            "{pick}"
        );
        assert!(wide(&other_key).await.iter().all(|r| r["id"] != bra));
    }
}

/// Many shoppers' for-you in one request: their sessions scored in one exact batch, each
/// answer what the storefront gives that shopper alone (rules and fallback included), and
/// nothing of one shop's shoppers reaches another shop.
#[tokio::test]
async fn for_you_for_many_shoppers_at_once_equals_each_shoppers_own_answer() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
        app.import(OTHER, "catalogs/yoga-stores/2026-01-13").await;
        let key = app.storefront_key(SHOP).await;
        app.storefront_key(OTHER).await;
        let (mat, leggings, bra) = ("4357742755898", "6239910789300", "6239914426548");
        let events = json!([
            {"type": "product_viewed", "client_id": "a", "product_id": leggings},
            {"type": "product_viewed", "client_id": "a", "product_id": bra},
            {"type": "product_viewed", "client_id": "b", "product_id": mat},
            {"type": "product_added_to_cart", "client_id": "b", "product_id": mat},
            {"type": "search_submitted", "client_id": "c", "query": "cork yoga block"},
            {"type": "product_viewed", "client_id": "d", "customer_id": "7", "product_id": leggings},
            {"type": "product_viewed", "client_id": "e", "product_id": mat},
            {"type": "product_viewed", "client_id": "e", "product_id": leggings},
        ]);
        // Sent by the shop's server, which may say who is logged in.
        let merchant = app.merchant_key(SHOP).await;
        assert_eq!(send(&app, &merchant, events).await.0, StatusCode::OK);
        app.models_current(SHOP).await;
        let batch = |shop: &str, body: Value| {
            let path = format!("/api/v1/shops/{shop}/recommendations/for-you");
            let app = &app;
            async move {
                app.request(
                    Method::POST,
                    &path,
                    Some(&app.admin_key),
                    Some(body.to_string().into_bytes()),
                )
                .await
            }
        };
        let shoppers = json!([
            {"client_id": "a"}, {"client_id": "b"}, {"client_id": "c"},
            {"customer_id": "7"}, {"client_id": "e"}, {"client_id": "newcomer"}
        ]);
        let (status, body) = batch(SHOP, json!({"shoppers": shoppers, "limit": 8})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let results = body["results"].as_array().unwrap();
        assert_eq!(results.len(), 6);
        for (result, query) in results.iter().zip([
            "client_id=a",
            "client_id=b",
            "client_id=c",
            "",
            "client_id=e",
            "client_id=newcomer",
        ]) {
            if query.is_empty() {
                // A customer id is only ever trusted from a signed source (the proxy, the
                // shop's server); here it reads the customer's history across browsers.
                assert_eq!(result["strategy"], "for_you");
                assert!(result["recommendations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r["id"] != leggings));
                continue;
            }
            let (status, alone) = app
                .get(
                    &format!("/api/v1/recommendations/for-you?{query}&limit=8"),
                    &key,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{alone}");
            assert_eq!(result["strategy"], alone["strategy"], "{query}");
            let ids = |list: &Value| -> Vec<String> {
                list.as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["id"].as_str().unwrap().to_owned())
                    .collect()
            };
            assert_eq!(
                ids(&result["recommendations"]),
                ids(&alone["recommendations"]),
                "{query}"
            );
        }
        assert_eq!(results[5]["strategy"], "trending");
        // A client id is read as the storefront reads it: trimmed.
        let (status, padded) = batch(
            SHOP,
            json!({"shoppers": [{"client_id": " a "}], "limit": 8}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{padded}");
        assert_eq!(
            padded["results"][0]["recommendations"],
            results[0]["recommendations"]
        );

        // The other shop knows none of these shoppers.
        let (status, elsewhere) = batch(OTHER, json!({"shoppers": shoppers})).await;
        assert_eq!(status, StatusCode::OK, "{elsewhere}");
        for result in elsewhere["results"].as_array().unwrap() {
            assert_ne!(result["strategy"], "for_you", "{result}");
        }

        // Bad requests say what is wrong; storefront keys may not ask.
        for (body, expected) in [
            (json!({"shoppers": []}), "`shoppers` must list 1 to 1000"),
            (
                json!({"shoppers": [{"client_id": "a"}, {}]}),
                "shoppers[1]: needs",
            ),
            (
                json!({"shoppers": [{"customer_id": "seven"}]}),
                "shoppers[0]: `customer_id`",
            ),
            (
                json!({"shoppers": [{"client_id": "a"}], "limit": 0}),
                "`limit`",
            ),
            (json!({"shopper": [{"client_id": "a"}]}), "shopper"),
        ] {
            let (status, body) = batch(SHOP, body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert!(
                body.to_string().contains(expected),
                "{body} lacks {expected}"
            );
        }
        let (status, _) = app
            .request(
                Method::POST,
                &format!("/api/v1/shops/{SHOP}/recommendations/for-you"),
                Some(&key),
                Some(
                    json!({"shoppers": [{"client_id": "a"}]})
                        .to_string()
                        .into_bytes(),
                ),
            )
            .await;
        assert!(status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED);
    }
}
