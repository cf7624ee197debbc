//! A shop's merchandising rules hold in every strategy: an excluded vendor never appears, a
//! sold-out product never does (not even pinned), gift cards and what the shopper bought are
//! left out, pins come first, buried items last, one vendor is capped; bad rules are named;
//! one shop's rules never touch another's answers.

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{databases, error_code, TestApp};

const SHOP: &str = "rules-yoga.myshopify.com";
const OTHER: &str = "rules-other.myshopify.com";
const DEVSTORE: &str = "rules-devstore.myshopify.com";
const MAT: &str = "4357742755898";
const SOLD_OUT: &str = "7545985466519";
const GIFT_CARD: &str = "8546631876890";

async fn put_rules(app: &TestApp, shop: &str, rules: Value) -> (StatusCode, Value) {
    app.request(
        Method::PUT,
        &format!("/api/v1/shops/{shop}/rules"),
        Some(&app.admin_key),
        Some(serde_json::to_vec(&rules).unwrap()),
    )
    .await
}

async fn shelf(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let (status, body) = app
        .get(&format!("/api/v1/recommendations?{query}"), key)
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body["recommendations"].as_array().unwrap().clone()
}

fn field<'a>(items: &'a [Value], name: &str) -> Vec<&'a str> {
    items
        .iter()
        .map(|r| r[name].as_str().unwrap_or(""))
        .collect()
}

#[tokio::test]
async fn merchandising_rules_hold_in_every_strategy() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
        app.import(OTHER, "catalogs/yoga-stores/2026-01-13").await;
        let key = app.storefront_key(SHOP).await;
        let other_key = app.storefront_key(OTHER).await;
        // History for trending, complementary and for-you, in both shops alike.
        let mut events = Vec::new();
        for n in 0..30 {
            let product = ["6239910789300", "7404209340596", MAT, SOLD_OUT][n % 4];
            events.push(json!({"type": "product_viewed", "client_id": format!("c{n}"), "product_id": product}));
        }
        events.push(json!({"type": "checkout_completed", "client_id": "buyer", "line_items": [{"product_id": MAT}, {"product_id": "6239910789300"}]}));
        for k in [&key, &other_key] {
            let (status, _) = app.send_events(k, events.clone().into()).await;
            assert_eq!(status, StatusCode::OK);
        }
        let queries = [
            format!("strategy=similar&product_id={MAT}&limit=20"),
            "strategy=new_arrivals&limit=20".to_owned(),
            "strategy=trending&limit=20".to_owned(),
            format!("strategy=complementary&product_id={MAT}&limit=20"),
            "strategy=for_you&client_id=c0&limit=20".to_owned(),
        ];

        // The vendor most present among the mat's similar products, then excluded.
        let before = shelf(&app, &key, &queries[0]).await;
        let mut counts: HashMap<&str, usize> = HashMap::new();
        field(&before, "vendor")
            .into_iter()
            .for_each(|v| *counts.entry(v).or_default() += 1);
        let (vendor, _) = counts.into_iter().max_by_key(|(v, n)| (*n, *v)).unwrap();
        let vendor = vendor.to_owned();
        let (status, body) = put_rules(
            &app,
            SHOP,
            json!({"exclude": [{"vendor": vendor.to_uppercase()}]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for query in &queries {
            let items = shelf(&app, &key, query).await;
            // Trending has only three products to offer here; the others must fill a shelf.
            assert!(!items.is_empty() || query.contains("trending"), "{query}");
            assert!(
                !field(&items, "vendor").contains(&vendor.as_str()),
                "{vendor} in {query}"
            );
            assert!(
                !field(&items, "id").contains(&SOLD_OUT),
                "sold out in {query}"
            );
        }
        // The other shop, same catalogue, no rules: the vendor is still there.
        assert!(
            field(&shelf(&app, &other_key, &queries[0]).await, "vendor").contains(&vendor.as_str())
        );

        // Pins first (a sold-out pin never shows), buried tags last, one item per vendor.
        let first_new = field(&shelf(&app, &key, &queries[1]).await, "id")[0].to_owned();
        let (status, body) = put_rules(
            &app,
            SHOP,
            json!({
                "pin": [SOLD_OUT, "6239910789300"],
                "bury": [{"product_id": first_new}],
                "max_per_vendor": 1
            }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = shelf(&app, &key, &queries[1]).await;
        assert_eq!(field(&items, "id")[0], "6239910789300");
        assert_eq!(items[0]["reason"], "featured by the shop");
        assert!(!field(&items, "id").contains(&SOLD_OUT));
        let similar = shelf(
            &app,
            &key,
            &format!("strategy=similar&product_id={MAT}&limit=10"),
        )
        .await;
        let vendors = field(&similar, "vendor");
        let distinct: std::collections::HashSet<&&str> = vendors.iter().collect();
        assert_eq!(distinct.len(), vendors.len(), "one per vendor: {vendors:?}");
        let ids = field(&items, "id");
        let buried = ids.iter().position(|id| *id == first_new);
        assert!(
            buried.is_none() || buried == Some(ids.len() - 1),
            "{first_new} buried: {ids:?}"
        );

        // What a shopper bought is not offered to them again; to others it is.
        put_rules(&app, SHOP, json!({})).await;
        let for_buyer = shelf(&app, &key, "strategy=trending&client_id=buyer&limit=20").await;
        let for_other = shelf(&app, &key, "strategy=trending&client_id=someone&limit=20").await;
        assert!(!field(&for_buyer, "id").contains(&MAT));
        assert!(field(&for_other, "id").contains(&MAT));

        // Bad rules are named and change nothing.
        let (status, body) =
            put_rules(&app, SHOP, json!({"exclude": [{"price_max": "cheap"}]})).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_request")
        );
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("exclude[0]"));
        let (status, _) = put_rules(&app, SHOP, json!({"exclude": [{"colour": "red"}]})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (_, stored) = app
            .request(
                Method::GET,
                &format!("/api/v1/shops/{SHOP}/rules"),
                Some(&app.admin_key),
                None,
            )
            .await;
        assert_eq!(stored["exclude"], json!([]), "{stored}");
        assert_eq!(stored["exclude_gift_cards"], true);
    }
}

#[tokio::test]
async fn gift_cards_are_left_out_unless_the_merchant_wants_them() {
    let app = TestApp::spawn(&databases()[0]).await;
    app.import(DEVSTORE, "catalogs/admin-format/devstore_products.json")
        .await;
    let key = app.storefront_key(DEVSTORE).await;
    let query = "strategy=new_arrivals&limit=50";
    let items = shelf(&app, &key, query).await;
    assert!(items.len() > 30, "{}", items.len());
    assert!(!field(&items, "id").contains(&GIFT_CARD));
    let (status, _) = put_rules(&app, DEVSTORE, json!({"exclude_gift_cards": false})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(field(&shelf(&app, &key, query).await, "id").contains(&GIFT_CARD));
}
