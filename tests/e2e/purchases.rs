//! What shoppers bought, as a real Online Store reports it: the order history read by a
//! bulk operation at install, order webhooks after, and the web pixel the install connects.
//! Real baskets (Online Retail's repeat customers) become orders of the real yoga-store
//! products in the fake Shopify; the shelves change accordingly, and another shop's orders
//! teach nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use chrono::Utc;
use serde_json::{json, Value};

use kindred::domain::ShopDomain;
use kindred::stores::prelude::*;
use kindred::stores::{OrderSyncRow, SyncState};

use crate::common::{databases, error_code, shelf_ids, TestApp};
use crate::fake_shopify::{capture, FakeShopify};
use crate::retail_orders::{
    cancelled, client_of, refunded_first_line, retail_orders, CUSTOMER_ID_BASE,
};
use crate::shopify_app::{deliver, deliver_and_apply, install};

const SHOP: &str = "yoga-orders.myshopify.com";
const OTHER: &str = "yoga-no-orders.myshopify.com";
const CUSTOMERS: usize = 40;

/// Waits until the shop's order history has been read, failing on a failed read.
pub(crate) async fn wait_for_orders(app: &TestApp, shop: &str) -> OrderSyncRow {
    let shop = ShopDomain::parse(shop).unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Some(sync) = app.store.order_sync_state(&shop).await.unwrap() {
            match sync.state {
                SyncState::Completed => return sync,
                SyncState::Failed => panic!("order sync failed: {:?}", sync.last_error),
                _ => {}
            }
        }
        assert!(
            Instant::now() < deadline,
            "the order history of {shop} was not read"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What each order says was bought and still stands: (product, units), none when cancelled.
fn standing(order: &Value) -> Vec<(u64, u32)> {
    if !order["cancelled_at"].is_null() || order["test"] == true {
        return Vec::new();
    }
    let refunded: HashSet<u64> = order["refunds"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["refund_line_items"].as_array().unwrap())
        .map(|l| l["line_item_id"].as_u64().unwrap())
        .collect();
    let mut units: BTreeMap<u64, u32> = BTreeMap::new();
    for line in order["line_items"].as_array().unwrap() {
        if !refunded.contains(&line["id"].as_u64().unwrap()) {
            *units
                .entry(line["product_id"].as_u64().unwrap())
                .or_default() += line["quantity"].as_u64().unwrap() as u32;
        }
    }
    units.into_iter().collect()
}

/// The purchases Kindred holds for the shop, in the same terms.
pub(crate) async fn stored_purchases(
    store: &kindred::storage::SqlStore,
    shop: &str,
) -> BTreeMap<u64, Vec<(u64, u32)>> {
    let shop = ShopDomain::parse(shop).unwrap();
    let book = store.orders_since(&shop, 0).await.unwrap();
    book.bought()
        .into_iter()
        .map(|(id, lines)| {
            let mut lines: Vec<(u64, u32)> =
                lines.iter().map(|l| (l.product_id, l.quantity)).collect();
            lines.sort();
            (id, lines)
        })
        .collect()
}

pub(crate) fn expected_purchases(orders: &[Value]) -> BTreeMap<u64, Vec<(u64, u32)>> {
    orders
        .iter()
        .map(|o| (o["id"].as_u64().unwrap(), standing(o)))
        .collect()
}

#[tokio::test]
async fn an_install_reads_the_order_history_and_the_shelves_follow_what_was_bought() {
    for db in databases() {
        let fake = FakeShopify::start().await;
        let catalogue = capture("2026-01-13");
        fake.set_products(SHOP, &catalogue);
        fake.set_products(OTHER, &catalogue);
        let mut orders = retail_orders(&catalogue, CUSTOMERS, Utc::now());
        // A test order and a cancelled one: stored, marked, never learnt from.
        let last = orders.len() - 1;
        orders[last]["test"] = json!(true);
        orders[last - 1] = cancelled(&orders[last - 1]);
        fake.set_orders(SHOP, &orders);
        let app = TestApp::spawn_with_shopify(&db, &fake.admin_template()).await;
        install(&app, SHOP).await;
        install(&app, OTHER).await;
        let read = wait_for_orders(&app, SHOP).await;
        assert_eq!(read.orders, orders.len() as i64, "{read:?}");
        assert_eq!(wait_for_orders(&app, OTHER).await.orders, 0);
        assert_eq!(fake.order_bulk_runs(), 2, "one order history read per shop");
        // A request never waits for a build, so the shelves below want the models trained
        // on this history first.
        app.models_current(SHOP).await;
        app.models_current(OTHER).await;

        // Stored exactly as the fake's orders, each once.
        assert_eq!(
            stored_purchases(&app.store, SHOP).await,
            expected_purchases(&orders)
        );
        let shop = ShopDomain::parse(SHOP).unwrap();
        assert_eq!(
            app.store.order_counts(&shop).await.unwrap(),
            (orders.len() as i64, 1)
        );
        let book = app.store.orders_since(&shop, 0).await.unwrap();
        let first = &book.orders[0];
        assert_eq!(
            first.customer_id.unwrap().0,
            orders[0]["customer"]["id"].as_u64().unwrap()
        );
        assert_eq!(
            first.client_id.as_ref().unwrap().as_str(),
            orders[0]["note_attributes"][0]["value"]
        );
        assert_eq!(first.currency.as_deref(), Some("EUR"));
        assert!(first.lines.iter().all(|l| l.unit_price.is_some()));

        let key = app.storefront_key(SHOP).await;
        let other_key = app.storefront_key(OTHER).await;
        let shelf = |key: String, query: String| {
            let app = &app;
            async move {
                let (status, body) = app
                    .get(&format!("/api/v1/recommendations/{query}"), &key)
                    .await;
                assert_eq!(status, StatusCode::OK, "{query}: {body}");
                body
            }
        };

        // Buy again: every repeat customer's shelf starts with something they bought,
        // whether asked by browser (the cart attribute) or by customer (a signed token).
        let mut by_client: HashMap<String, HashSet<u64>> = HashMap::new();
        for order in &orders[..last - 1] {
            by_client
                .entry(
                    order["note_attributes"][0]["value"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )
                .or_default()
                .extend(standing(order).into_iter().map(|(p, _)| p));
        }
        for (client, bought) in by_client.iter().take(15) {
            let again = shelf(
                key.clone(),
                format!("buy-again?client_id={client}&limit=10"),
            )
            .await;
            assert_eq!(again["strategy"], "buy_again", "{again}");
            assert!(bought.contains(&shelf_ids(&again)[0]), "{client}: {again}");
            // The other shop never saw this shopper buy.
            let there = shelf(
                other_key.clone(),
                format!("buy-again?client_id={client}&limit=10"),
            )
            .await;
            assert!(shelf_ids(&there).is_empty(), "{there}");
        }
        let customer = orders[0]["customer"]["id"].as_u64().unwrap();
        let merchant = app.merchant_key(SHOP).await;
        let (status, token) = app
            .request(
                Method::POST,
                &format!("/api/v1/shops/{SHOP}/customer-tokens"),
                Some(&merchant),
                Some(
                    json!({"customer_id": customer.to_string()})
                        .to_string()
                        .into_bytes(),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{token}");
        let (status, _, again) = app
            .request_with_headers(
                Method::GET,
                "/api/v1/recommendations/buy-again?limit=10",
                Some(&key),
                &[(
                    "x-kindred-customer-token",
                    token["customer_token"].as_str().unwrap().to_owned(),
                )],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{again}");
        let theirs = &by_client[&client_of(customer - CUSTOMER_ID_BASE)];
        assert!(theirs.contains(&shelf_ids(&again)[0]), "{again}");

        // Complementary: the products bought together in these orders.
        let mut together: HashMap<u64, HashSet<u64>> = HashMap::new();
        for order in &orders[..last - 1] {
            let products: Vec<u64> = standing(order).into_iter().map(|(p, _)| p).collect();
            for p in &products {
                together
                    .entry(*p)
                    .or_default()
                    .extend(products.iter().filter(|q| *q != p));
            }
        }
        let (anchor, partners) = together
            .iter()
            .max_by_key(|(id, v)| (v.len(), **id))
            .unwrap();
        let here = shelf(
            key.clone(),
            format!("complementary?product_id={anchor}&limit=10"),
        )
        .await;
        let bought_with: Vec<u64> = here["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["reason"]
                    .as_str()
                    .unwrap()
                    .starts_with("often bought with")
            })
            .map(|r| r["id"].as_str().unwrap().parse().unwrap())
            .collect();
        assert!(!bought_with.is_empty(), "{here}");
        assert!(bought_with.iter().all(|p| partners.contains(p)), "{here}");
        let there = shelf(
            other_key.clone(),
            format!("complementary?product_id={anchor}&limit=10"),
        )
        .await;
        assert!(
            there["recommendations"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| !r["reason"].as_str().unwrap().starts_with("often bought")),
            "{there}"
        );

        // Trending: the shop's best-sellers of the week, though its storefront reported nothing.
        let week_ago = (Utc::now() - chrono::Duration::days(7)).to_rfc3339();
        let sold_this_week: HashSet<u64> = orders[..last - 1]
            .iter()
            .filter(|o| o["created_at"].as_str().unwrap() >= week_ago.as_str())
            .flat_map(standing)
            .map(|(p, _)| p)
            .collect();
        assert!(!sold_this_week.is_empty());
        let trending = shelf(key.clone(), "trending?limit=10".to_owned()).await;
        assert_eq!(trending["strategy"], "trending", "{trending}");
        assert!(
            shelf_ids(&trending)
                .iter()
                .all(|p| sold_this_week.contains(p)),
            "{trending}"
        );
        let there = shelf(other_key.clone(), "trending?limit=10".to_owned()).await;
        assert!(shelf_ids(&there).is_empty(), "{there}");

        // The install connected the web pixel: its settings carry the endpoint and a key
        // of this shop that only adds anonymous events, from any origin.
        let (pixel, settings) = fake.web_pixel(SHOP).expect("a web pixel");
        assert_eq!(
            settings["endpoint"],
            "https://kindred.test/api/v1/pixel/events"
        );
        let pixel_key = settings["key"].as_str().unwrap().to_owned();
        assert!(pixel_key.starts_with("kdr_sf_"), "{settings}");
        let pixel_post = |key: String, events: Value| {
            let app = &app;
            async move {
                let body = json!({"key": key, "events": events})
                    .to_string()
                    .into_bytes();
                app.request_with_headers(
                    Method::POST,
                    "/api/v1/pixel/events",
                    None,
                    &[
                        ("content-type", "text/plain;charset=UTF-8".to_owned()),
                        ("origin", "null".to_owned()),
                    ],
                    Some(body),
                )
                .await
            }
        };
        // A guest's order, delivered by orders/create: no customer, no cart attribute (the
        // embed had no consent, say); the pixel's checkout names it with its token.
        let mut guest = orders[0].clone();
        guest["id"] = json!(6_199_000_000_100u64);
        guest["customer"] = Value::Null;
        guest["note_attributes"] = json!([]);
        deliver_and_apply(&app, "/webhooks", "orders/create", SHOP, &guest).await;
        orders.push(guest.clone());
        let order = &guest;
        let checkout = json!([{
            "type": "checkout_completed", "id": "px-1", "client_id": "pixel-browser",
            "customer_id": "1", "order_id": order["id"].to_string(),
            "checkout_token": order["checkout_token"],
            "line_items": [{"product_id": order["line_items"][0]["product_id"].to_string(), "quantity": 1}],
        }]);
        let (status, headers, body) = pixel_post(pixel_key.clone(), checkout).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(headers["access-control-allow-origin"], "*");
        assert_eq!(body["accepted"], 1, "{body}");
        assert!(
            body["warnings"][0]
                .as_str()
                .unwrap()
                .contains("customer_id"),
            "{body}"
        );
        // The pixel's checkout joined its browser to the order (same order id and token):
        // that browser's buy-again now knows the order, which still counts once.
        let again = shelf(
            key.clone(),
            "buy-again?client_id=pixel-browser&limit=10".to_owned(),
        )
        .await;
        let guest_bought: HashSet<u64> = standing(order).into_iter().map(|(p, _)| p).collect();
        assert!(guest_bought.contains(&shelf_ids(&again)[0]), "{again}");
        assert_eq!(
            stored_purchases(&app.store, SHOP).await,
            expected_purchases(&orders)
        );
        // A forged checkout naming the order without its token joins nothing.
        let forged = json!([{
            "type": "checkout_completed", "id": "px-2", "client_id": "forger", "order_id": order["id"].to_string(),
            "checkout_token": "0".repeat(32), "line_items": [{"product_id": "1", "quantity": 1}],
        }]);
        let (status, _, body) = pixel_post(pixel_key.clone(), forged).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let forger = shelf(
            key.clone(),
            "buy-again?client_id=forger&limit=10".to_owned(),
        )
        .await;
        assert!(shelf_ids(&forger).is_empty(), "{forger}");

        // A reinstall keeps the pixel and gives it a new key; the old one stops working.
        install(&app, SHOP).await;
        let (again_id, settings) = fake.web_pixel(SHOP).unwrap();
        assert_eq!(again_id, pixel);
        assert_ne!(settings["key"], json!(pixel_key));
        let view = json!([{"type": "product_viewed", "id": "px-3", "client_id": "b", "product_id": anchor.to_string()}]);
        let (status, _, body) = pixel_post(pixel_key, view.clone()).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            "{body}"
        );
        let (status, _, body) =
            pixel_post(settings["key"].as_str().unwrap().to_owned(), view.clone()).await;
        assert_eq!(
            (status, &body["duplicates"]),
            (StatusCode::OK, &json!(0)),
            "{body}"
        );
        // The theme embed reporting the same view of the same browser a moment later: a shop
        // running both counts it once; a second view from one sender is a second view.
        let embed_view = json!([{"type": "product_viewed", "id": "embed-3", "client_id": "b",
            "product_id": anchor.to_string()}]);
        let (status, body) = app.send_events(&key, embed_view).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            (&body["accepted"], &body["duplicates"]),
            (&json!(1), &json!(1)),
            "{body}"
        );
        let again_view = json!([{"type": "product_viewed", "id": "px-4", "client_id": "b",
            "product_id": anchor.to_string()}]);
        let (_, _, body) =
            pixel_post(settings["key"].as_str().unwrap().to_owned(), again_view).await;
        assert_eq!(body["duplicates"], 0, "{body}");
        // A merchant's secret key never works there.
        let (status, _, _) = pixel_post(merchant.clone(), view).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // The history read again on demand changes nothing that is already right.
        wait_for_orders(&app, SHOP).await;
        let runs = fake.order_bulk_runs();
        let (status, body) = app
            .request(
                Method::POST,
                &format!("/api/v1/shops/{SHOP}/orders/sync"),
                Some(&merchant),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        wait_for_orders(&app, SHOP).await;
        assert_eq!(fake.order_bulk_runs(), runs + 1);
        assert_eq!(
            stored_purchases(&app.store, SHOP).await,
            expected_purchases(&orders)
        );
    }
}

#[tokio::test]
async fn order_webhooks_apply_once_newest_wins_and_bad_orders_change_nothing() {
    for db in databases() {
        let fake = FakeShopify::start().await;
        let catalogue = capture("2026-01-13");
        fake.set_products(SHOP, &catalogue);
        let app = TestApp::spawn_with_shopify(&db, &fake.admin_template()).await;
        install(&app, SHOP).await;
        wait_for_orders(&app, SHOP).await;
        let orders = retail_orders(&catalogue, 6, Utc::now());
        let post = |topic: &'static str, body: Value| {
            let app = &app;
            async move { deliver_and_apply(app, "/webhooks", topic, SHOP, &body).await }
        };
        for order in &orders {
            post("orders/create", order.clone()).await;
        }
        let mut want = orders.clone();
        assert_eq!(
            stored_purchases(&app.store, SHOP).await,
            expected_purchases(&want)
        );

        // A refund, told twice (refunds/create, then orders/updated listing it), counts once;
        // a cancellation stops the order counting, and the create arriving late changes nothing.
        let (refunded, refund) = refunded_first_line(&orders[0]);
        post("refunds/create", refund).await;
        post("orders/updated", refunded.clone()).await;
        want[0] = refunded;
        let gone = cancelled(&orders[1]);
        post("orders/cancelled", gone.clone()).await;
        post("orders/create", orders[1].clone()).await;
        want[1] = gone;
        // A deleted order stays deleted, whatever version of it arrives after.
        post("orders/delete", json!({"id": orders[2]["id"]})).await;
        post("orders/updated", orders[2].clone()).await;
        want[2] = cancelled(&orders[2]);
        assert_eq!(
            stored_purchases(&app.store, SHOP).await,
            expected_purchases(&want)
        );

        // Bad input: a clear 400, nothing stored changes. An order for a product not synced
        // yet, or by a customer Kindred never heard of, is an order all the same.
        let before = stored_purchases(&app.store, SHOP).await;
        let mut no_lines = orders[3].clone();
        no_lines["line_items"] = json!("three mats");
        let mut bad_line = orders[3].clone();
        bad_line["line_items"][0]["quantity"] = json!(-1);
        let mut bad_time = orders[3].clone();
        bad_time["updated_at"] = json!("tuesday");
        for (topic, body, said) in [
            ("orders/create", no_lines, "line_items"),
            ("orders/updated", bad_line, "quantity"),
            ("orders/updated", bad_time, "updated_at"),
            (
                "refunds/create",
                json!({"id": 1, "order_id": "x", "refund_line_items": []}),
                "order_id",
            ),
            (
                "orders/create",
                json!({"id": 5, "title": "Mat"}),
                "orders/create",
            ),
        ] {
            let (status, answer) = deliver(&app, "/webhooks", topic, SHOP, &body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{topic}: {answer}");
            assert!(
                answer["error"]["message"].as_str().unwrap().contains(said),
                "{answer}"
            );
        }
        assert_eq!(stored_purchases(&app.store, SHOP).await, before);
        let mut stranger = orders[3].clone();
        stranger["id"] = json!(6_199_000_000_001u64);
        stranger["customer"] = json!({"id": 1});
        stranger["line_items"][0]["product_id"] = json!(9_999_999_999_999u64);
        post("orders/create", stranger.clone()).await;
        want.push(stranger);
        assert_eq!(
            stored_purchases(&app.store, SHOP).await,
            expected_purchases(&want)
        );
        let key = app.storefront_key(SHOP).await;
        let (status, body) = app
            .get("/api/v1/recommendations/trending?limit=20", &key)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(!shelf_ids(&body).contains(&9_999_999_999_999), "{body}");

        // customers/data_request exports the customer's orders and those it names.
        let customer = orders[4]["customer"]["id"].as_u64().unwrap();
        let request = json!({"shop_id": 1, "shop_domain": SHOP, "customer": {"id": customer},
            "orders_requested": [orders[5]["id"]], "data_request": {"id": 77}});
        deliver_and_apply(
            &app,
            "/webhooks/compliance",
            "customers/data_request",
            SHOP,
            &request,
        )
        .await;
        let merchant = app.merchant_key(SHOP).await;
        let (status, exports) = app
            .get(&format!("/api/v1/shops/{SHOP}/privacy/exports"), &merchant)
            .await;
        assert_eq!(status, StatusCode::OK, "{exports}");
        let export = exports.to_string();
        let theirs: Vec<&Value> = want
            .iter()
            .filter(|o| o["customer"]["id"] == customer || o["id"] == orders[5]["id"])
            .collect();
        assert!(!theirs.is_empty());
        for order in &theirs {
            assert!(
                export.contains(&order["id"].to_string()),
                "{} not in {export}",
                order["id"]
            );
        }
        let stranger_id = want.last().unwrap()["id"].to_string();
        assert!(!export.contains(&stranger_id), "{export}");

        // customers/redact takes the customer's orders and those it names, and no other.
        let redact = json!({"shop_id": 1, "shop_domain": SHOP, "customer": {"id": customer},
            "orders_to_redact": [orders[5]["id"]]});
        deliver_and_apply(
            &app,
            "/webhooks/compliance",
            "customers/redact",
            SHOP,
            &redact,
        )
        .await;
        let owner_of = |o: &Value| o["customer"]["id"].as_u64().unwrap();
        want.retain(|o| owner_of(o) != customer && o["id"] != orders[5]["id"]);
        assert_eq!(
            stored_purchases(&app.store, SHOP).await,
            expected_purchases(&want)
        );
    }
}
