//! `POST /api/v1/events`: shopper events from the storefront script, a web pixel or a
//! headless frontend. The shop comes from the storefront key. Each event is checked on its
//! own: the good ones are stored, the bad ones come back with their index and reason.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use super::auth::ShopCaller;
use super::extract::ApiJson;
use super::params::customer_token;
use super::AppState;
use crate::domain::{CustomerId, ShopDomain};
use crate::error::AppError;
use crate::events::{parse_event, EventSource, MAX_BATCH};

/// One shopper event, as the storefront script, a web pixel or a headless frontend sends it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Documents the shape; events are read one by one from JSON to report each mistake.
pub struct EventInput {
    /// product_viewed, product_added_to_cart, product_removed_from_cart, checkout_completed,
    /// search_submitted, collection_viewed, recommendation_viewed or recommendation_clicked.
    r#type: String,
    /// The anonymous browser id, 1-128 characters.
    client_id: String,
    /// The sender's unique id of the event; a batch sent twice is stored once.
    id: Option<String>,
    /// The logged-in customer: believed only from the shop's merchant key (its server);
    /// with the public key it is ignored (send `customer_token` instead), and through the
    /// App Proxy Shopify's signature says who it is.
    customer_id: Option<String>,
    /// Product events and recommendation events.
    product_id: Option<String>,
    /// collection_viewed.
    collection_id: Option<String>,
    /// search_submitted: the query text, 1-200 characters.
    query: Option<String>,
    /// checkout_completed: `[{"product_id": "…", "quantity": 1}]`.
    line_items: Option<Vec<serde_json::Value>>,
    /// checkout_completed: the Shopify order it became (the web pixel knows it). An order
    /// Kindred has is the purchase; the event then only links this browser to it.
    order_id: Option<String>,
    /// checkout_completed: Shopify's checkout token; a link to an order holds only when the
    /// order carries the same token.
    checkout_token: Option<String>,
    /// recommendation_viewed / recommendation_clicked: the strategy that produced the item.
    strategy: Option<String>,
    /// recommendation_viewed / recommendation_clicked: where the shelf was (`product`,
    /// `cart`, `index`, ...: a-z, 0-9 and _); the report groups by it.
    placement: Option<String>,
    /// RFC 3339; within the last 7 days. Default: when received.
    occurred_at: Option<String>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct EventBatch {
    /// 1 to 100 events.
    events: Vec<EventInput>,
    /// A customer token the shop's server minted (`POST /shops/{shop}/customer-tokens`):
    /// the batch's events are that customer's. Also accepted as the
    /// `X-Kindred-Customer-Token` header.
    customer_token: Option<String>,
}

/// Records a batch of shopper events. Each is checked on its own: the good ones are kept,
/// the bad ones come back with their index and reason.
#[utoipa::path(
    post,
    path = "/events",
    tag = "storefront",
    request_body = EventBatch,
    security(("storefront_key" = [])),
    responses(
        (status = 200, description = "`{\"accepted\": n, \"duplicates\": n, \"rejected\": [{\"index\", \"error\"}]}`"),
        (status = 400, description = "Not a batch of 1 to 100 events", body = super::error::ErrorBody),
        (status = 401, description = "Unknown key, or a customer token that is not valid", body = super::error::ErrorBody),
        (status = 413, description = "Larger than a storefront body may be", body = super::error::ErrorBody),
        (status = 429, description = "Over the shop's event budget; see `Retry-After`", body = super::error::ErrorBody),
    )
)]
pub async fn record_events(
    State(state): State<AppState>,
    caller: ShopCaller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, AppError> {
    let shop = caller.shop().clone();
    let token = customer_token(&headers)?.or_else(|| {
        body.get("customer_token")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let vouched = match (caller, token) {
        (_, Some(token)) => Vouched::Token(state.customer_token(&token, &shop)?),
        (ShopCaller::Merchant(_), None) => Vouched::Merchant,
        (ShopCaller::Storefront(_), None) => Vouched::Anonymous,
    };
    record(&state, &shop, &body, vouched).await
}

/// Who vouches for the customer of a batch of events.
pub enum Vouched {
    /// Nobody: the public key; customer ids in the events are dropped.
    Anonymous,
    /// The shop's server (merchant key): each event's own customer id is believed.
    Merchant,
    /// Shopify's App Proxy signature: this customer, or nobody logged in.
    Proxy(Option<CustomerId>),
    /// A customer token the shop's server minted.
    Token(CustomerId),
    /// The shop's web pixel: anonymous, like the storefront key.
    Pixel,
}

/// Validates and stores a batch, each event's customer as `vouched` allows.
pub async fn record(
    state: &AppState,
    shop: &ShopDomain,
    body: &Value,
    vouched: Vouched,
) -> Result<Json<Value>, AppError> {
    let events = body
        .get("events")
        .and_then(Value::as_array)
        .ok_or_else(|| AppError::InvalidInput("the body must be {\"events\": [...]}".into()))?;
    if events.is_empty() || events.len() > MAX_BATCH {
        return Err(AppError::InvalidInput(format!(
            "send 1 to {MAX_BATCH} events per request"
        )));
    }
    state.limits.events.admit(shop.as_str(), events.len())?;
    let now = state.catalog.stores().now();
    let mut good = Vec::with_capacity(events.len());
    let mut rejected = Vec::new();
    let mut unvouched = 0;
    for (index, raw) in events.iter().enumerate() {
        match parse_event(raw, now, || {
            format!("kindred-{:032x}", rand::random::<u128>())
        }) {
            Ok(mut event) => {
                let (customer, source) = match vouched {
                    Vouched::Anonymous => {
                        unvouched += usize::from(event.customer_id.is_some());
                        (None, EventSource::Storefront)
                    }
                    Vouched::Merchant => (event.customer_id, EventSource::Merchant),
                    Vouched::Proxy(customer) => (customer, EventSource::AppProxy),
                    Vouched::Token(customer) => (Some(customer), EventSource::CustomerToken),
                    Vouched::Pixel => {
                        unvouched += usize::from(event.customer_id.is_some());
                        (None, EventSource::Pixel)
                    }
                };
                event.customer_id = customer;
                event.source = Some(source);
                good.push(event)
            }
            Err(reason) => rejected.push(json!({ "index": index, "error": reason })),
        }
    }
    let stored = state
        .catalog
        .stores()
        .events
        .insert_events(shop, &good)
        .await?;
    metrics::counter!("kindred_events_received_total").increment(good.len() as u64);
    metrics::counter!("kindred_events_rejected_total").increment(rejected.len() as u64);
    let mut answer = json!({
        "accepted": good.len(),
        "duplicates": good.len() as u64 - stored,
        "rejected": rejected,
    });
    if unvouched > 0 {
        answer["warnings"] = json!([format!(
            "`customer_id` was ignored on {unvouched} event(s): the public key cannot say who is logged in; send a customer token minted by the shop's server"
        )]);
    }
    Ok(Json(answer))
}
