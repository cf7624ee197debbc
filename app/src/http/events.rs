//! `POST /api/v1/events`: shopper events from the storefront script, a web pixel or a
//! headless frontend. The shop comes from the storefront key. Each event is checked on its
//! own: the good ones are stored, the bad ones come back with their index and reason.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::auth::StorefrontShop;
use super::extract::{ApiJson, ApiQuery};
use super::storefront::{answer, checked_limit, product_ids, Asked};
use super::views::RecommendationsResponse;
use super::AppState;
use crate::catalog::strategies::{ShoppingContext, Strategy};
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::events::{parse_event, MAX_BATCH};
use crate::storage::now_millis;

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
    /// The logged-in customer (ignored through the App Proxy, where Shopify says who it is).
    customer_id: Option<String>,
    /// Product events and recommendation events.
    product_id: Option<String>,
    /// collection_viewed.
    collection_id: Option<String>,
    /// search_submitted: the query text, 1-200 characters.
    query: Option<String>,
    /// checkout_completed: `[{"product_id": "…", "quantity": 1}]`.
    line_items: Option<Vec<serde_json::Value>>,
    /// recommendation_viewed / recommendation_clicked: the strategy that produced the item.
    strategy: Option<String>,
    /// RFC 3339; within the last 7 days. Default: when received.
    occurred_at: Option<String>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct EventBatch {
    /// 1 to 100 events.
    events: Vec<EventInput>,
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
        (status = 400, description = "Not a batch of 1 to 100 events", body = crate::error::ErrorBody),
        (status = 429, description = "Over the shop's event budget; see `Retry-After`", body = crate::error::ErrorBody),
    )
)]
pub async fn record_events(
    State(state): State<AppState>,
    StorefrontShop(shop): StorefrontShop,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, AppError> {
    record(&state, &shop, &body, None).await
}

/// Validates and stores a batch. `signed_customer` is the customer Shopify vouched for (App
/// Proxy): when given, it replaces whatever customer id the events claim.
pub async fn record(
    state: &AppState,
    shop: &ShopDomain,
    body: &Value,
    signed_customer: Option<Option<u64>>,
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
    let now = now_millis();
    let mut good = Vec::with_capacity(events.len());
    let mut rejected = Vec::new();
    for (index, raw) in events.iter().enumerate() {
        match parse_event(raw, now, || {
            format!("kindred-{:032x}", rand::random::<u128>())
        }) {
            Ok(mut event) => {
                if let Some(customer) = signed_customer {
                    event.customer_id = customer;
                }
                good.push(event)
            }
            Err(reason) => rejected.push(json!({ "index": index, "error": reason })),
        }
    }
    let stored = state.catalog.store().insert_events(shop, &good).await?;
    metrics::counter!("kindred_events_received_total").increment(good.len() as u64);
    metrics::counter!("kindred_events_rejected_total").increment(rejected.len() as u64);
    Ok(Json(json!({
        "accepted": good.len(),
        "duplicates": good.len() as u64 - stored,
        "rejected": rejected,
    })))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CartParams {
    /// Comma-separated product ids in the cart, 1 to 50.
    product_ids: String,
    /// 1 to 50, default 10.
    limit: Option<String>,
}

/// What goes with the cart's items: bought together in this shop, then nearest in meaning;
/// the shop's merchandising rules apply.
#[utoipa::path(
    get,
    path = "/recommendations/cart",
    tag = "storefront",
    params(CartParams),
    security(("storefront_key" = [])),
    responses(
        (status = 200, body = RecommendationsResponse),
        (status = 400, description = "A parameter is wrong", body = crate::error::ErrorBody),
    )
)]
pub async fn cart(
    State(state): State<AppState>,
    StorefrontShop(shop): StorefrontShop,
    ApiQuery(params): ApiQuery<CartParams>,
) -> Result<Json<RecommendationsResponse>, AppError> {
    let limit = checked_limit(params.limit.as_deref())?;
    let cart = product_ids(&params.product_ids, "product_ids")?;
    if cart.is_empty() {
        return Err(AppError::InvalidInput(
            "`product_ids` must list 1 to 50 product ids".into(),
        ));
    }
    let context = ShoppingContext {
        cart,
        limit,
        ..ShoppingContext::default()
    };
    let asked = Asked {
        strategy: Strategy::Complementary,
        fallback: None,
        context,
    };
    answer(&state, &shop, asked).await
}
