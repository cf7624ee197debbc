//! Property tests over every parser of outside input, on stable Rust in CI: arbitrary JSON
//! and real documents (the shared catalogues and Shopify's webhook samples) with fields
//! replaced by arbitrary values. Each parser answers a value or a clean refusal, never a
//! panic; signed webhook bodies of every topic get a 2xx or 4xx and the inbox worker parks
//! what it cannot apply; proxied queries and session tokens are refused unless valid.
//! `PROPTEST_CASES` sets how many cases each property runs (256 by default).

use axum::http::{Method, StatusCode};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value};

use kindred::catalog::{product_from_json, read_csv, read_json_document};
use kindred::events::parse_event;
use kindred::shopify::app_proxy;
use kindred::shopify::orders::payload::order_from_webhook;
use kindred::shopify::session_token::verify_session_token;
use kindred::shopify::signature::{app_proxy_message, hex_hmac};
use kindred::shopify::{AppSecrets, Secret};
use kindred::stores::prelude::*;

use crate::common::{databases, shared_data, TestApp};
use crate::fake_shopify::{webhook_headers, CLIENT_ID, SECRET};

/// Field names the parsers look for, so arbitrary documents reach past the first check.
const KEYS: &[&str] = &[
    "id",
    "title",
    "body_html",
    "vendor",
    "product_type",
    "handle",
    "tags",
    "status",
    "variants",
    "options",
    "values",
    "images",
    "src",
    "price",
    "compare_at_price",
    "available",
    "inventory_quantity",
    "inventory_management",
    "inventory_policy",
    "product_id",
    "updated_at",
    "created_at",
    "published_at",
    "collections",
    "type",
    "client_id",
    "product_ids",
    "query",
    "occurred_at",
    "order_id",
    "checkout_token",
    "line_items",
    "quantity",
    "customer",
    "email",
    "total_price",
    "currency",
    "refunds",
    "cancelled_at",
    "test",
    "shop_domain",
    "orders_to_redact",
    "admin_graphql_api_id",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,24}",
        "-?[0-9]{1,25}(\\.[0-9]{0,6})?",
        "gid://shopify/[A-Za-z]{1,14}/-?[0-9]{0,24}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([+-][0-9]{2}:[0-9]{2}|Z)?",
        prop::sample::select(KEYS).prop_map(str::to_owned),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(KEYS).prop_map(str::to_owned),
        "[a-z_]{0,12}"
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Replaces one field (or element) somewhere in `document` with `value`, or adds `key`.
fn mutate(document: &mut Value, at: Index, key: String, value: Value) {
    let mut nodes = 0;
    count_nodes(document, &mut nodes);
    let mut target = at.index(nodes.max(1));
    edit_nth(document, &mut target, key, value);
}

fn count_nodes(value: &Value, nodes: &mut usize) {
    match value {
        Value::Object(fields) => {
            *nodes += 1;
            fields.values().for_each(|v| count_nodes(v, nodes));
        }
        Value::Array(items) => {
            *nodes += 1;
            items.iter().for_each(|v| count_nodes(v, nodes));
        }
        _ => {}
    }
}

fn edit_nth(value: &mut Value, target: &mut usize, key: String, replacement: Value) -> bool {
    let here = *target == 0;
    match value {
        Value::Object(fields) if here => {
            let existing = fields.keys().nth(key.len() % fields.len().max(1)).cloned();
            fields.insert(
                existing.filter(|_| key.len() % 2 == 0).unwrap_or(key),
                replacement,
            );
            true
        }
        Value::Array(items) if here => {
            match items.len() {
                0 => items.push(replacement),
                n => items[key.len() % n] = replacement,
            }
            true
        }
        Value::Object(_) | Value::Array(_) => {
            *target -= 1;
            let children: Vec<&mut Value> = match value {
                Value::Object(fields) => fields.values_mut().collect(),
                Value::Array(items) => items.iter_mut().collect(),
                _ => Vec::new(),
            };
            for child in children {
                if edit_nth(child, target, key.clone(), replacement.clone()) {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

/// Real documents with one to three fields replaced by arbitrary values.
fn mutated(real: Vec<Value>) -> impl Strategy<Value = Value> {
    let edits = prop::collection::vec((any::<Index>(), key(), json()), 1..4);
    (0..real.len(), edits).prop_map(move |(i, edits)| {
        let mut document = real[i].clone();
        for (at, key, value) in edits {
            mutate(&mut document, at, key, value);
        }
        document
    })
}

fn real_products() -> Vec<Value> {
    let mut products = crate::fake_shopify::capture("2026-01-13");
    products.truncate(60);
    for name in ["devstore_products.json", "unitedbyblue_products.json"] {
        let path = shared_data(&format!("catalogs/admin-format/{name}"));
        let document: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        products.extend(
            document["products"]
                .as_array()
                .into_iter()
                .flatten()
                .take(30)
                .cloned(),
        );
    }
    products
}

fn webhook_samples() -> Vec<(String, Value)> {
    let dir = shared_data("webhooks");
    let mut samples: Vec<(String, Value)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (
                name,
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap(),
            )
        })
        .collect();
    samples.sort_by(|a, b| a.0.cmp(&b.0));
    samples
}

fn runner(cases_by_default: u32) -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases_by_default);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn catalogue_parsers_read_or_refuse_any_document() {
    let documents = prop_oneof![json(), mutated(real_products())];
    runner(256)
        .run(&documents, |document| {
            let _ = product_from_json(&document);
            let wrapped = serde_json::json!({ "products": [document.clone()] });
            for record in read_json_document(&wrapped, "property")
                .into_iter()
                .flatten()
            {
                prop_assert!(
                    record.id > 0,
                    "a product without an id was read: {document}"
                );
                prop_assert!(
                    !record.title.trim().is_empty(),
                    "a product without a title: {document}"
                );
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_csv_reader_reads_or_refuses_any_bytes() {
    let real = std::fs::read_to_string(shared_data("catalogs/csv/apparel.csv")).unwrap();
    let lines: Vec<String> = real.lines().map(str::to_owned).collect();
    let header = lines[0].clone();
    let rows = prop::collection::vec(
        prop_oneof![
            prop::sample::select(lines[1..].to_vec()),
            "\\PC{0,80}",
            "[,\"\\n\\r a-z0-9]{0,40}"
        ],
        0..12,
    );
    runner(256)
        .run(&rows, |rows| {
            let file = format!("{header}\n{}", rows.join("\n"));
            let _ = read_csv(file.as_bytes(), "property");
            let _ = read_csv(&file.as_bytes()[..file.len() / 2], "property");
            Ok(())
        })
        .unwrap();
}

#[test]
fn events_and_order_bodies_parse_or_refuse_any_document() {
    let documents = prop_oneof![
        json(),
        mutated(webhook_samples().into_iter().map(|(_, v)| v).collect())
    ];
    runner(256)
        .run(&documents, |document| {
            let _ = parse_event(&document, 1_767_000_000_000, || "fallback".into());
            let _ = order_from_webhook(&document);
            Ok(())
        })
        .unwrap();
}

#[test]
fn proxied_queries_and_session_tokens_are_refused_unless_valid() {
    let secrets = AppSecrets::new(Secret::new(SECRET), None);
    let pairs = prop::collection::vec(
        (
            prop_oneof![
                prop::sample::select(vec![
                    "shop",
                    "timestamp",
                    "path_prefix",
                    "logged_in_customer_id",
                    "signature"
                ])
                .prop_map(str::to_owned),
                key()
            ],
            text(),
        ),
        0..8,
    );
    let cases = (pairs, any::<bool>(), "\\PC{0,200}", json());
    runner(256)
        .run(&cases, |(mut pairs, sign, token, claims)| {
            if sign {
                // Correctly signed, arbitrary values: still refused unless the shop and
                // time are good, and never a panic.
                pairs.retain(|(k, _)| k != "signature");
                let signature =
                    hex_hmac(&Secret::new(SECRET), app_proxy_message(&pairs).as_bytes());
                pairs.push(("signature".into(), signature));
            }
            let _ = app_proxy::verify(&secrets, &pairs, 1_767_000_000);
            prop_assert!(verify_session_token(&token, CLIENT_ID, &secrets).is_err());
            let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
            let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
            if let Ok(signed) = jsonwebtoken::encode(&header, &claims, &key) {
                // Only a token for this app is believed, whatever else its claims say.
                let ours = claims["aud"] == CLIENT_ID
                    || claims["aud"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|v| v == CLIENT_ID));
                let verified = verify_session_token(&signed, CLIENT_ID, &secrets);
                prop_assert!(verified.is_err() || ours, "{claims}");
            }
            Ok(())
        })
        .unwrap();
}

/// Real bodies of each topic, named for `shop`: Shopify's samples, the real catalogue's
/// products as webhooks, Online Retail's orders and refunds. Every topic but the two that end
/// the install (`app/uninstalled`, `shop/redact`): the run needs the shop to reach the rest.
fn bodies_by_topic(shop: &str) -> Vec<(&'static str, Vec<Value>)> {
    let samples = webhook_samples();
    let sample = |name: &str| {
        let raw =
            serde_json::to_string(&samples.iter().find(|(n, _)| n == name).unwrap().1).unwrap();
        serde_json::from_str::<Value>(&raw.replace("{shop}.myshopify.com", shop)).unwrap()
    };
    let catalogue = crate::fake_shopify::capture("2026-01-13");
    let mut products: Vec<Value> = catalogue
        .iter()
        .take(40)
        .map(crate::fake_shopify::webhook_body)
        .collect();
    products.extend(
        [
            "products_update",
            "products_create",
            "real_products_update_digilog_pk_2025",
        ]
        .map(sample),
    );
    let orders = crate::retail_orders::retail_orders(&catalogue, 12, chrono::Utc::now());
    let refunds: Vec<Value> = orders
        .iter()
        .map(|o| crate::retail_orders::refunded_first_line(o).1)
        .collect();
    let cancelled: Vec<Value> = orders.iter().map(crate::retail_orders::cancelled).collect();
    let levels: Vec<Value> = catalogue
        .iter()
        .take(20)
        .flat_map(|p| p["variants"].as_array().cloned().unwrap_or_default())
        .map(|v| serde_json::json!({"inventory_item_id": v["id"], "location_id": 1, "available": 3, "updated_at": "2026-01-13T10:00:00-05:00"}))
        .collect();
    let finished = serde_json::json!({"admin_graphql_api_id": "gid://shopify/BulkOperation/1", "completed_at": "2026-01-13T10:00:00-05:00",
        "created_at": "2026-01-13T09:59:00-05:00", "error_code": null, "status": "completed", "type": "query"});
    vec![
        ("products/create", products.clone()),
        ("products/update", products),
        ("products/delete", vec![sample("products_delete")]),
        ("inventory_levels/update", levels),
        (
            "customers/data_request",
            vec![sample("customers_data_request")],
        ),
        ("customers/redact", vec![sample("customers_redact")]),
        ("orders/create", orders.clone()),
        ("orders/updated", orders.clone()),
        ("orders/cancelled", cancelled),
        (
            "orders/delete",
            orders
                .iter()
                .map(|o| serde_json::json!({"id": o["id"]}))
                .collect(),
        ),
        ("refunds/create", refunds),
        ("bulk_operations/finish", vec![finished]),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_webhook_bodies_of_every_topic_are_acknowledged_or_refused_never_a_500() {
    let shop = "fuzz-yoga.myshopify.com";
    let db = databases().remove(0);
    let fake = crate::fake_shopify::FakeShopify::start().await;
    let app = TestApp::spawn_with_shopify(&db, &fake.admin_template()).await;
    crate::shopify_app::install(&app, shop).await;
    crate::shopify_app::wait_for_sync(&app, shop).await;
    let topics = bodies_by_topic(shop);
    let cases = (0..topics.len()).prop_flat_map(move |t| {
        let (topic, real) = topics[t].clone();
        // Mostly real bodies with fields replaced, to reach the appliers; some arbitrary.
        let bodies = prop_oneof![4 => mutated(real), 1 => json()];
        (Just(topic), bodies, any::<u64>())
    });
    let before = app.store.inbox_counts(None).await.unwrap();
    // Generated up front (each case is a request and an inbox pass, not a pure function).
    let mut runner = runner(64);
    let count = runner.config().cases;
    let sent: Vec<_> = (0..count)
        .map(|_| cases.new_tree(&mut runner).unwrap().current())
        .collect();
    let mut accepted = 0;
    for (topic, body, id) in sent {
        let raw = serde_json::to_vec(&body).unwrap();
        let path = if topic.starts_with("customers/") {
            "/webhooks/compliance"
        } else {
            "/webhooks"
        };
        let headers = webhook_headers(
            topic,
            shop,
            &format!("fuzz-{id}"),
            &format!("ev-{id}"),
            &raw,
        );
        let (status, _, answer) = app
            .request_with_headers(Method::POST, path, None, &headers, Some(raw))
            .await;
        assert!(
            status == StatusCode::OK || status.is_client_error(),
            "{topic} {body}: {status} {answer}"
        );
        accepted += i64::from(answer["status"] == "accepted");
        app.shopify.process_inbox().await.unwrap();
    }
    // Each accepted delivery was applied, parked, or waits for its retry: none was lost,
    // and the worker never stopped on one. Most real bodies with a field replaced still
    // reach their applier.
    let inbox = app.store.inbox_counts(None).await.unwrap();
    assert!(
        accepted * 3 > i64::from(count),
        "only {accepted} of {count} deliveries were accepted"
    );
    let total = |c: &kindred::stores::InboxCounts| c.pending + c.applied + c.failed;
    assert_eq!(total(&inbox), accepted + total(&before), "{inbox:?}");
}
