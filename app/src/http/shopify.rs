//! Shopify's doors into Kindred: webhooks, the install (OAuth) flow and the embedded admin.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::Json;
use serde_json::{json, Value};

use super::auth::{SessionShop, ShopAdmin};
use super::extract::{query_pairs, ApiPath};
use super::limits::Client;
use super::AppState;
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::shopify::webhooks::HeaderLookup;
use crate::stores::Retry;

pub(super) fn body_of(body: Result<Bytes, BytesRejection>) -> Result<Bytes, AppError> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        _ => AppError::InvalidInput(rejection.body_text()),
    })
}

/// The request's headers as the domain reads them: by name, text values only.
struct Headers<'a>(&'a HeaderMap);

impl<'a> HeaderLookup<'a> for Headers<'a> {
    fn header(&self, name: &str) -> Option<&'a str> {
        self.0.get(name).and_then(|v| v.to_str().ok())
    }
}

/// `POST /webhooks`: product, inventory, uninstall and bulk-operation topics.
pub async fn data_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, AppError> {
    let receipt = state
        .shopify()?
        .receive(&Headers(&headers), &body_of(body)?, false)
        .await?;
    Ok(Json(json!({ "status": receipt })))
}

/// `POST /webhooks/compliance`: the mandatory privacy topics.
pub async fn compliance_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, AppError> {
    let receipt = state
        .shopify()?
        .receive(&Headers(&headers), &body_of(body)?, true)
        .await?;
    Ok(Json(json!({ "status": receipt })))
}

/// `GET /auth?shop=…`: starts the authorization code grant.
pub async fn begin_install(
    State(state): State<AppState>,
    Client(client): Client,
    RawQuery(query): RawQuery,
) -> Result<Redirect, AppError> {
    // Unauthenticated, and each start stores a nonce: a budget per client.
    state.limits.installs.admit(&client, 1)?;
    let pairs = query_pairs(query.as_deref());
    let shop = crate::shopify::signature::single_value(&pairs, "shop")
        .ok_or_else(|| AppError::InvalidInput("`shop` must appear exactly once".into()))?;
    let shop = ShopDomain::parse(shop)?;
    Ok(Redirect::to(&state.shopify()?.begin_install(&shop).await?))
}

/// `GET /auth/callback`: Shopify's redirect back with the code.
pub async fn install_callback(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Redirect, AppError> {
    let service = state.shopify()?;
    let shop = service
        .complete_install(&query_pairs(query.as_deref()))
        .await?;
    let admin = format!(
        "{}/admin/apps/{}",
        service.api().admin_base(&shop),
        service.api().client_id()
    );
    Ok(Redirect::to(&admin))
}

/// `GET /app/api/status`: the merchant's view of sync state (embedded admin, session token).
pub async fn app_status(
    State(state): State<AppState>,
    SessionShop(shop): SessionShop,
) -> Result<Json<Value>, AppError> {
    let mut status = json!(state.shopify()?.status(&shop).await?);
    // What recommendations earned, next to the sync state.
    status["recommendations"] = super::admin::performance_of(&state, &shop, 30).await?;
    Ok(Json(status))
}

/// `GET /api/v1/shops/{shop}/shopify`: the same status for operators (admin key).
pub async fn admin_status(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!(state.shopify()?.status(&shop).await?)))
}

/// `POST /api/v1/shops/{shop}/sync` (operators, merchants) and `POST /app/api/sync` (the
/// embedded admin): a full catalogue sync.
pub async fn request_sync(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
) -> Result<impl IntoResponse, AppError> {
    let requested = state.shopify()?.request_sync(&shop).await?;
    Ok(sync_accepted(&shop, requested))
}

/// `POST /api/v1/shops/{shop}/orders/sync` (operators, merchants) and
/// `POST /app/api/orders/sync` (the embedded admin): the order history read again (it
/// waits for a catalogue sync under way: one bulk operation per shop at a time).
pub async fn request_order_sync(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
) -> Result<impl IntoResponse, AppError> {
    let requested = state.shopify()?.request_order_sync(&shop).await?;
    Ok(sync_accepted(&shop, requested))
}

/// `202`: the sync runs in the background; its progress is in the status.
fn sync_accepted(shop: &ShopDomain, requested: bool) -> impl IntoResponse {
    let sync = if requested {
        "requested"
    } else {
        "already running"
    };
    (
        StatusCode::ACCEPTED,
        Json(json!({ "shop": shop.as_str(), "sync": sync })),
    )
}

/// `GET /api/v1/shops/{shop}/privacy/exports`: answers to customers/data_request.
pub async fn privacy_exports(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
) -> Result<Json<Value>, AppError> {
    let exports: Vec<Value> = state
        .catalog
        .stores()
        .privacy
        .customer_exports(&shop)
        .await?
        .into_iter()
        .map(|(customer, request, at, data)| {
            json!({
                "customer_id": customer.to_string(),
                "request_id": request,
                "requested_at_ms": at,
                "data": serde_json::from_str::<Value>(&data).unwrap_or(Value::String(data)),
            })
        })
        .collect();
    Ok(Json(json!({ "shop": shop.as_str(), "exports": exports })))
}

/// `GET /app/api/webhooks/failed`: the shop's deliveries given up on (newest 100).
pub async fn failed_webhooks(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
) -> Result<Json<Value>, AppError> {
    let deliveries = state
        .catalog
        .stores()
        .inbox
        .failed_deliveries(&shop, 100)
        .await?;
    Ok(Json(
        json!({ "shop": shop.as_str(), "deliveries": deliveries }),
    ))
}

/// `POST /app/api/webhooks/{webhook_id}/retry`: a failed delivery back in the queue.
pub async fn retry_webhook(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiPath(path): ApiPath<std::collections::HashMap<String, String>>,
) -> Result<Json<Value>, AppError> {
    let webhook_id = path
        .get("webhook_id")
        .ok_or_else(|| AppError::InvalidInput("the path names no delivery".into()))?;
    match state
        .catalog
        .stores()
        .inbox
        .retry_delivery(&shop, webhook_id)
        .await?
    {
        Retry::Queued => Ok(Json(json!({ "webhook_id": webhook_id, "state": "pending" }))),
        Retry::NotRetryable => Err(AppError::Conflict(format!(
            "delivery {webhook_id} is not a failed delivery that can run again (its body is gone when it named a customer: the data returns with the next update or sync)"
        ))),
        Retry::Unknown => Err(AppError::NotFound(format!("delivery {webhook_id}"))),
    }
}
