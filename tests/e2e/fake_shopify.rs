//! A local stand-in for Shopify's Admin API, serving real catalogues from the shared data:
//! OAuth token endpoints (code grant, token exchange, refresh with rotation), GraphQL for
//! bulk operations (the catalogue and the order history), reconciliation, inventory lookups
//! and the app's web pixel (throttling and failing now and then), and the bulk JSONL
//! downloads. It also signs webhooks and OAuth redirects as Shopify does.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use kindred::shopify::signature::{base64_hmac, hex_hmac, oauth_message, Secret};

pub const CLIENT_ID: &str = "kindred-test-client";
pub const SECRET: &str = "test-app-secret";

#[derive(Default)]
struct Shop {
    /// Storefront-shaped products (as captured), by id.
    products: BTreeMap<u64, Value>,
    access_tokens: Vec<String>,
    /// The one refresh token that works now (rotation).
    refresh_token: Option<String>,
    /// Orders as the order webhooks' bodies show them (Admin REST shape), by id.
    orders: BTreeMap<u64, Value>,
    /// The app's web pixel: its id and settings (a JSON string, as the Admin API keeps it).
    pixel: Option<(String, String)>,
    bulk_polls: usize,
    graphql_calls: usize,
    /// The app's subscriptions (Billing API), as `{id, name, status, test}`.
    subscriptions: Vec<Value>,
    /// A production store (not a development store): its charges are real.
    production: bool,
}

#[derive(Default)]
pub struct FakeState {
    shops: Mutex<HashMap<String, Shop>>,
    base: Mutex<String>,
    /// Seconds until access tokens from token exchange expire.
    pub expires_in: Mutex<i64>,
    pub refreshes: Mutex<usize>,
    pub throttled: Mutex<usize>,
    /// GraphQL calls answered with a 503.
    pub server_errors: Mutex<usize>,
    /// Catalogue bulk operations started (a resumed sync must not start a second one).
    pub bulk_runs: Mutex<usize>,
    /// Order history bulk operations started.
    pub order_bulk_runs: Mutex<usize>,
    /// While set, bulk operations stay RUNNING (to stop the app in the middle of a sync).
    pub hold_bulk: Mutex<bool>,
    /// While set, order history bulk operations stay RUNNING.
    pub hold_order_bulk: Mutex<bool>,
}

#[derive(Clone)]
pub struct FakeShopify {
    pub state: Arc<FakeState>,
    pub url: String,
}

impl FakeShopify {
    pub async fn start() -> Self {
        let state = Arc::new(FakeState::default());
        *state.expires_in.lock().unwrap() = 3600;
        let app = Router::new()
            .route("/{shop}/admin/oauth/access_token", post(access_token))
            .route("/{shop}/admin/api/2025-10/graphql.json", post(graphql))
            .route("/bulk/{shop}", get(bulk_file))
            .route("/bulk/{shop}/orders", get(bulk_orders_file))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        *state.base.lock().unwrap() = url.clone();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { state, url }
    }

    /// The Admin URL template Kindred is configured with.
    pub fn admin_template(&self) -> String {
        format!("{}/{{shop}}", self.url)
    }

    /// Replaces the shop's catalogue with storefront-shaped products.
    pub fn set_products(&self, shop: &str, products: &[Value]) {
        let mut shops = self.state.shops.lock().unwrap();
        let entry = shops.entry(shop.to_owned()).or_default();
        entry.products = products
            .iter()
            .map(|p| (p["id"].as_u64().unwrap(), p.clone()))
            .collect();
    }

    pub fn update_product(&self, shop: &str, product: Value) {
        let mut shops = self.state.shops.lock().unwrap();
        let entry = shops.entry(shop.to_owned()).or_default();
        entry
            .products
            .insert(product["id"].as_u64().unwrap(), product);
    }

    /// Replaces the shop's orders with order bodies (Admin REST shape).
    pub fn set_orders(&self, shop: &str, orders: &[Value]) {
        let mut shops = self.state.shops.lock().unwrap();
        let entry = shops.entry(shop.to_owned()).or_default();
        entry.orders = orders
            .iter()
            .map(|o| (o["id"].as_u64().unwrap(), o.clone()))
            .collect();
    }

    /// The merchant approves every pending charge on Shopify's page.
    pub fn approve_subscriptions(&self, shop: &str) {
        let mut shops = self.state.shops.lock().unwrap();
        for subscription in &mut shops.entry(shop.to_owned()).or_default().subscriptions {
            if subscription["status"] == "PENDING" {
                subscription["status"] = json!("ACTIVE");
            }
        }
    }

    /// The shop's subscriptions as Shopify holds them.
    pub fn subscriptions(&self, shop: &str) -> Vec<Value> {
        let shops = self.state.shops.lock().unwrap();
        shops
            .get(shop)
            .map(|s| s.subscriptions.clone())
            .unwrap_or_default()
    }

    pub fn order_bulk_runs(&self) -> usize {
        *self.state.order_bulk_runs.lock().unwrap()
    }

    /// The app's web pixel in the shop: its id and its settings, parsed.
    pub fn web_pixel(&self, shop: &str) -> Option<(String, Value)> {
        let shops = self.state.shops.lock().unwrap();
        let (id, settings) = shops.get(shop)?.pixel.clone()?;
        Some((id, serde_json::from_str(&settings).unwrap()))
    }

    pub fn set_hold_order_bulk(&self, hold: bool) {
        *self.state.hold_order_bulk.lock().unwrap() = hold;
    }

    pub fn set_hold_bulk(&self, hold: bool) {
        *self.state.hold_bulk.lock().unwrap() = hold;
    }

    pub fn bulk_runs(&self) -> usize {
        *self.state.bulk_runs.lock().unwrap()
    }

    pub fn issued_access_tokens(&self, shop: &str) -> Vec<String> {
        let shops = self.state.shops.lock().unwrap();
        shops
            .get(shop)
            .map(|s| s.access_tokens.clone())
            .unwrap_or_default()
    }
}

/// Signs a webhook body as Shopify does.
pub fn sign_webhook(body: &[u8]) -> String {
    base64_hmac(&Secret::new(SECRET), body)
}

/// Signs an OAuth redirect query as Shopify does, returning it with `hmac` added.
pub fn signed_oauth_query(pairs: &[(&str, &str)]) -> String {
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let hmac = hex_hmac(&Secret::new(SECRET), oauth_message(&owned).as_bytes());
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        serializer.append_pair(k, v);
    }
    serializer.append_pair("hmac", &hmac);
    serializer.finish()
}

fn new_token(prefix: &str) -> String {
    format!("{prefix}_{:032x}", rand::random::<u128>())
}

async fn access_token(
    State(state): State<Arc<FakeState>>,
    Path(shop): Path<String>,
    Json(body): Json<Value>,
) -> impl IntoResponse {
    if body["client_id"] != CLIENT_ID || body["client_secret"] != SECRET {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        );
    }
    let mut shops = state.shops.lock().unwrap();
    let entry = shops.entry(shop).or_default();
    let access = new_token("shpat");
    entry.access_tokens.push(access.clone());
    let scope = "read_products,read_inventory";
    match body["grant_type"].as_str() {
        None => (
            StatusCode::OK,
            Json(json!({"access_token": access, "scope": scope})),
        ),
        Some("urn:ietf:params:oauth:grant-type:token-exchange") => {
            (StatusCode::OK, Json(expiring_grant(&state, entry, access)))
        }
        Some("refresh_token") => {
            if entry.refresh_token.as_deref() != body["refresh_token"].as_str() {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"error": "invalid_grant"})),
                );
            }
            *state.refreshes.lock().unwrap() += 1;
            (StatusCode::OK, Json(expiring_grant(&state, entry, access)))
        }
        Some(_) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type"})),
        ),
    }
}

/// An expiring access token with a new refresh token, which from now on is the only one
/// that works (rotation).
fn expiring_grant(state: &FakeState, shop: &mut Shop, access: String) -> Value {
    let refresh = new_token("shprt");
    shop.refresh_token = Some(refresh.clone());
    let expires_in = *state.expires_in.lock().unwrap();
    json!({"access_token": access, "scope": "read_products,read_inventory", "expires_in": expires_in,
        "refresh_token": refresh, "refresh_token_expires_in": 7_776_000})
}

fn extensions(available: f64) -> Value {
    json!({"cost": {"requestedQueryCost": 10, "actualQueryCost": 10,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": 100.0}}})
}

async fn graphql(
    State(state): State<Arc<FakeState>>,
    Path(shop): Path<String>,
    headers: HeaderMap,
    Json(request): Json<Value>,
) -> impl IntoResponse {
    let base = state.base.lock().unwrap().clone();
    let mut shops = state.shops.lock().unwrap();
    let Some(entry) = shops.get_mut(&shop) else {
        return (StatusCode::NOT_FOUND, Json(json!({"errors": "Not Found"})));
    };
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !entry.access_tokens.iter().any(|t| t == token) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"errors": "[API] Invalid API key or access token"})),
        );
    }
    entry.graphql_calls += 1;
    // Every eleventh call fails as Shopify does now and then; the client must retry it.
    if entry.graphql_calls % 11 == 2 {
        *state.server_errors.lock().unwrap() += 1;
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"errors": "Service Unavailable"})),
        );
    }
    // Every seventh call is throttled, as a busy shop's bucket would be.
    if entry.graphql_calls % 7 == 3 {
        *state.throttled.lock().unwrap() += 1;
        let mut body =
            json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]});
        body["extensions"] = extensions(0.0);
        return (StatusCode::OK, Json(body));
    }
    let query = request["query"].as_str().unwrap_or_default();
    let variables = &request["variables"];
    let data = if query.contains("bulkOperationRunQuery") {
        entry.bulk_polls = 0;
        // Operation 1 reads the catalogue, operation 2 the order history.
        let orders = variables["query"]
            .as_str()
            .unwrap_or_default()
            .starts_with("{ orders");
        let (runs, id) = if orders {
            (&state.order_bulk_runs, "gid://shopify/BulkOperation/2")
        } else {
            (&state.bulk_runs, "gid://shopify/BulkOperation/1")
        };
        *runs.lock().unwrap() += 1;
        json!({"bulkOperationRunQuery": {"bulkOperation": {"id": id, "status": "CREATED"}, "userErrors": []}})
    } else if query.contains("KindredBulkOperation") {
        entry.bulk_polls += 1;
        let orders = variables["id"] == "gid://shopify/BulkOperation/2";
        let held =
            *state.hold_bulk.lock().unwrap() || (orders && *state.hold_order_bulk.lock().unwrap());
        if entry.bulk_polls < 2 || held {
            json!({"node": {"id": variables["id"], "status": "RUNNING", "objectCount": "0", "url": null}})
        } else {
            let (objects, url) = if orders {
                let lines: usize = entry
                    .orders
                    .values()
                    .map(|o| 1 + o["line_items"].as_array().unwrap().len())
                    .sum();
                (lines, format!("{base}/bulk/{shop}/orders"))
            } else {
                (entry.products.len(), format!("{base}/bulk/{shop}"))
            };
            json!({"node": {"id": variables["id"], "status": "COMPLETED", "objectCount": objects.to_string(), "errorCode": null,
                "url": url, "partialDataUrl": null}})
        }
    } else if query.contains("KindredWebPixelCreate") {
        if entry.pixel.is_some() {
            json!({"webPixelCreate": {"webPixel": null, "userErrors": [{"field": null, "message": "Web pixel is taken.", "code": "TAKEN"}]}})
        } else {
            let id = format!("gid://shopify/WebPixel/{}", 100 + shop.len());
            entry.pixel = Some((
                id.clone(),
                variables["settings"].as_str().unwrap().to_owned(),
            ));
            json!({"webPixelCreate": {"webPixel": {"id": id, "settings": variables["settings"]}, "userErrors": []}})
        }
    } else if query.contains("KindredWebPixelUpdate") {
        match &mut entry.pixel {
            Some((id, settings)) if variables["id"] == json!(id) => {
                *settings = variables["settings"].as_str().unwrap().to_owned();
                json!({"webPixelUpdate": {"webPixel": {"id": id, "settings": variables["settings"]}, "userErrors": []}})
            }
            _ => {
                json!({"webPixelUpdate": {"webPixel": null, "userErrors": [{"field": ["id"], "message": "Web pixel not found.", "code": "NOT_FOUND"}]}})
            }
        }
    } else if query.contains("KindredWebPixel") {
        json!({"webPixel": entry.pixel.as_ref().map(|(id, settings)| json!({"id": id, "settings": settings}))})
    } else if query.contains("KindredProductsUpdatedSince") {
        let since = variables["query"].as_str().unwrap_or_default();
        let since = since
            .trim_start_matches("updated_at:>'")
            .trim_end_matches('\'');
        let since = chrono::DateTime::parse_from_rfc3339(since).unwrap();
        let nodes: Vec<Value> = entry
            .products
            .values()
            .filter(|p| {
                chrono::DateTime::parse_from_rfc3339(p["updated_at"].as_str().unwrap()).unwrap()
                    > since
            })
            .map(node_with_children)
            .collect();
        json!({"products": {"pageInfo": {"hasNextPage": false, "endCursor": null}, "nodes": nodes}})
    } else if query.contains("KindredShopPlan") {
        json!({"shop": {"plan": {"partnerDevelopment": !entry.production}}})
    } else if query.contains("KindredSubscribe") {
        let n = entry.subscriptions.len() + 1;
        let subscription = json!({
            "id": format!("gid://shopify/AppSubscription/{n}"), "name": variables["name"],
            "status": "PENDING", "test": variables["test"],
        });
        entry.subscriptions.push(subscription.clone());
        json!({"appSubscriptionCreate": {
            "appSubscription": subscription,
            "confirmationUrl": format!("{base}/{shop}/admin/charges/{n}/confirm_recurring_application_charge"),
            "userErrors": [],
        }})
    } else if query.contains("KindredActiveSubscriptions") {
        let active: Vec<&Value> = entry
            .subscriptions
            .iter()
            .filter(|s| s["status"] == "ACTIVE")
            .collect();
        json!({"currentAppInstallation": {"activeSubscriptions": active}})
    } else if query.contains("KindredCancelSubscription") {
        let found = entry
            .subscriptions
            .iter_mut()
            .find(|s| s["id"] == variables["id"]);
        match found {
            Some(subscription) => {
                subscription["status"] = json!("CANCELLED");
                json!({"appSubscriptionCancel": {"appSubscription": subscription.clone(), "userErrors": []}})
            }
            None => json!({"appSubscriptionCancel": {"appSubscription": null,
                "userErrors": [{"field": ["id"], "message": "Subscription not found"}]}}),
        }
    } else if query.contains("KindredProductOfInventoryItem") {
        let item: u64 = variables["id"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let product = entry.products.values().find(|p| {
            p["variants"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["id"].as_u64() == Some(item))
        });
        json!({"inventoryItem": product.map(|p| json!({"variant": {"product": node_with_children(p)}}))})
    } else {
        return (
            StatusCode::OK,
            Json(json!({"errors": [{"message": "unknown document"}]})),
        );
    };
    (
        StatusCode::OK,
        Json(json!({"data": data, "extensions": extensions(1990.0)})),
    )
}

/// A storefront-captured product as the Admin GraphQL API would show it.
pub fn graphql_node(p: &Value) -> Value {
    json!({
        "id": format!("gid://shopify/Product/{}", p["id"]),
        "title": p["title"], "handle": p["handle"], "descriptionHtml": p["body_html"],
        "vendor": p["vendor"], "productType": p["product_type"], "tags": p["tags"],
        "status": "ACTIVE", "updatedAt": p["updated_at"],
        "publishedAt": p["published_at"], "createdAt": p["created_at"], "isGiftCard": false, "options": p["options"].as_array().map(|options| {
            options.iter().map(|o| json!({"name": o["name"], "values": o["values"]})).collect::<Vec<_>>()
        }).unwrap_or_default(),
        "featuredMedia": p["images"].as_array().and_then(|i| i.first()).map(|i| json!({"preview": {"image": {"url": i["src"]}}})),
    })
}

fn graphql_variant(v: &Value) -> Value {
    json!({"id": format!("gid://shopify/ProductVariant/{}", v["id"]), "price": v["price"],
        "compareAtPrice": v["compare_at_price"], "availableForSale": v["available"],
        "inventoryItem": {"id": format!("gid://shopify/InventoryItem/{}", v["id"])}})
}

fn node_with_children(p: &Value) -> Value {
    let mut node = graphql_node(p);
    let variants: Vec<Value> = p["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(graphql_variant)
        .collect();
    node["variants"] = json!({"nodes": variants});
    node["collections"] = json!({"nodes": [{"id": "gid://shopify/Collection/1001"}]});
    node
}

/// The bulk JSONL: each product, then its variants and collections as child lines.
async fn bulk_file(
    State(state): State<Arc<FakeState>>,
    Path(shop): Path<String>,
) -> impl IntoResponse {
    let shops = state.shops.lock().unwrap();
    let mut out = String::new();
    for p in shops[&shop].products.values() {
        let parent = format!("gid://shopify/Product/{}", p["id"]);
        out.push_str(&graphql_node(p).to_string());
        out.push('\n');
        for v in p["variants"].as_array().unwrap() {
            let mut line = graphql_variant(v);
            line["__parentId"] = json!(parent);
            out.push_str(&line.to_string());
            out.push('\n');
        }
        out.push_str(
            &json!({"id": "gid://shopify/Collection/1001", "__parentId": parent}).to_string(),
        );
        out.push('\n');
    }
    out
}

/// The order history JSONL: each order, then its line items as child lines.
async fn bulk_orders_file(
    State(state): State<Arc<FakeState>>,
    Path(shop): Path<String>,
) -> impl IntoResponse {
    let shops = state.shops.lock().unwrap();
    let mut out = String::new();
    for order in shops[&shop].orders.values() {
        let (node, lines) = graphql_order(order);
        out.push_str(&node.to_string());
        out.push('\n');
        for line in lines {
            out.push_str(&line.to_string());
            out.push('\n');
        }
    }
    out
}

/// An order body (Admin REST) as the bulk query's GraphQL node and its line item lines.
pub fn graphql_order(order: &Value) -> (Value, Vec<Value>) {
    let gid = |kind: &str, id: &Value| {
        (!id.is_null()).then(|| json!({"id": format!("gid://shopify/{kind}/{id}")}))
    };
    let parent = format!("gid://shopify/Order/{}", order["id"]);
    let mut refunded: HashMap<u64, u64> = HashMap::new();
    for refund in order["refunds"].as_array().into_iter().flatten() {
        for line in refund["refund_line_items"].as_array().unwrap() {
            *refunded
                .entry(line["line_item_id"].as_u64().unwrap())
                .or_default() += line["quantity"].as_u64().unwrap();
        }
    }
    let node = json!({
        "id": parent, "createdAt": order["created_at"], "updatedAt": order["updated_at"],
        "cancelledAt": order["cancelled_at"], "test": order["test"],
        "displayFinancialStatus": order["financial_status"].as_str().unwrap().to_uppercase(),
        "currencyCode": order["currency"],
        "customer": order["customer"].get("id").and_then(|id| gid("Customer", id)),
        "customAttributes": order["note_attributes"].as_array().unwrap().iter()
            .map(|a| json!({"key": a["name"], "value": a["value"]})).collect::<Vec<_>>(),
        "refunds": order["refunds"].as_array().into_iter().flatten()
            .map(|r| json!({"id": format!("gid://shopify/Refund/{}", r["id"])})).collect::<Vec<_>>(),
    });
    let lines = order["line_items"].as_array().unwrap().iter().map(|line| {
        let quantity = line["quantity"].as_u64().unwrap();
        let current = quantity - refunded.get(&line["id"].as_u64().unwrap()).copied().unwrap_or(0);
        json!({
            "id": format!("gid://shopify/LineItem/{}", line["id"]), "quantity": quantity,
            "currentQuantity": current, "product": gid("Product", &line["product_id"]),
            "variant": gid("ProductVariant", &line["variant_id"]),
            "discountedUnitPriceAfterAllDiscountsSet": {"shopMoney": {"amount": line["price"], "currencyCode": order["currency"]}},
            "__parentId": parent,
        })
    }).collect();
    (node, lines)
}

/// A file of the shared real data (this module is also built into the benchmarks).
pub fn shared_data(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

/// Products of every store in one capture folder, storefront-shaped.
pub fn capture(date: &str) -> Vec<Value> {
    let dir = shared_data(&format!("catalogs/yoga-stores/{date}"));
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut products = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('_') || !name.ends_with(".json") {
            continue;
        }
        let value: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        products.extend(value["products"].as_array().unwrap().iter().cloned());
    }
    products
}

/// A storefront product as the Admin REST webhook body: tags as one string, inventory on variants.
pub fn webhook_body(p: &Value) -> Value {
    let tags: Vec<&str> = p["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let variants: Vec<Value> = p["variants"].as_array().unwrap().iter().map(|v| {
        let available = v["available"].as_bool().unwrap_or(false);
        json!({"id": v["id"], "product_id": p["id"], "price": v["price"], "compare_at_price": v["compare_at_price"],
            "inventory_management": "shopify", "inventory_policy": "deny",
            "inventory_quantity": if available { 7 } else { 0 }, "inventory_item_id": v["id"], "sku": v["sku"]})
    }).collect();
    json!({
        "id": p["id"], "admin_graphql_api_id": format!("gid://shopify/Product/{}", p["id"]),
        "title": p["title"], "handle": p["handle"], "body_html": p["body_html"], "vendor": p["vendor"],
        "product_type": p["product_type"], "tags": tags.join(", "), "status": "active",
        "created_at": p["created_at"], "updated_at": p["updated_at"], "published_at": p["published_at"],
        "options": p["options"], "images": p["images"], "variants": variants,
    })
}

/// The `state` nonce in Kindred's redirect to Shopify's authorize page.
pub fn state_of(authorize_location: &str) -> String {
    let url = url::Url::parse(authorize_location).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no state in {authorize_location}"))
}

/// The query Shopify sends to the app's callback after the merchant approves the install.
pub fn callback_query(shop: &str, state: &str) -> String {
    let timestamp = chrono::Utc::now().timestamp().to_string();
    signed_oauth_query(&[
        ("code", "0907a61c0c8d55e99db179b68161bc00"),
        ("host", "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvdGVzdA"),
        ("shop", shop),
        ("state", state),
        ("timestamp", &timestamp),
    ])
}

/// The headers Shopify sends with a webhook delivery, signed over `body`.
pub fn webhook_headers(
    topic: &str,
    shop: &str,
    webhook_id: &str,
    event_id: &str,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    vec![
        ("x-shopify-topic", topic.to_owned()),
        ("x-shopify-hmac-sha256", sign_webhook(body)),
        ("x-shopify-shop-domain", shop.to_owned()),
        ("x-shopify-webhook-id", webhook_id.to_owned()),
        ("x-shopify-event-id", event_id.to_owned()),
        ("x-shopify-api-version", "2025-10".to_owned()),
        ("x-shopify-triggered-at", chrono::Utc::now().to_rfc3339()),
    ]
}

/// One of Shopify's sample payloads from the shared data, addressed to `shop`.
pub fn sample_payload(name: &str, shop: &str) -> Value {
    let raw = std::fs::read_to_string(shared_data(&format!("webhooks/{name}"))).unwrap();
    let mut value: Value = serde_json::from_str(&raw).unwrap();
    if value.get("shop_domain").is_some() {
        value["shop_domain"] = json!(shop);
    }
    value
}
