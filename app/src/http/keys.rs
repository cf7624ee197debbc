//! A shop's credentials, managed by its merchant key or the operator's admin key: list its
//! keys (never the keys themselves), create, revoke and rotate them, and mint customer
//! tokens that let a headless storefront's browser say which customer is logged in.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::ShopAdmin;
use super::extract::{ApiJson, ApiPath};
use super::params::existing_shop;
use super::AppState;
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::identity::{DEFAULT_TTL_SECS, MAX_TTL_SECS};
use crate::stores::KeyScope;

/// `GET /api/v1/shops/{shop}/keys`: the shop's keys, revoked ones included.
pub async fn list_keys(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
) -> Result<Json<Value>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let keys = state.catalog.stores().keys.list_keys(Some(&shop)).await?;
    Ok(Json(json!({ "shop": shop.as_str(), "keys": keys })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// `storefront` (public, for browsers) or `merchant` (secret, for the shop's server).
    scope: String,
}

/// `POST /api/v1/shops/{shop}/keys`: a new key of the shop, shown only in this response.
pub async fn create_key(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let shop = existing_shop(&state, shop).await?;
    let scope = match KeyScope::parse(body.scope.trim()) {
        Some(scope @ (KeyScope::Storefront | KeyScope::Merchant)) => scope,
        _ => {
            return Err(AppError::InvalidInput(
                "`scope` must be storefront or merchant".into(),
            ))
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(issue(&state, &shop, scope).await?),
    ))
}

async fn issue(state: &AppState, shop: &ShopDomain, scope: KeyScope) -> Result<Value, AppError> {
    let (key, info) = state
        .catalog
        .stores()
        .keys
        .issue_key(scope, Some(shop))
        .await?;
    Ok(json!({ "key": key, "info": info }))
}

/// `DELETE /api/v1/shops/{shop}/keys/{key_id}`: the key stops working (at once here; within
/// the key cache's 30 s on other replicas).
pub async fn revoke_key(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiPath(path): ApiPath<std::collections::HashMap<String, String>>,
) -> Result<Json<Value>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let key_id = key_id_of(&path)?;
    let revoked = state
        .catalog
        .stores()
        .keys
        .revoke_key(Some(&shop), key_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("key {key_id} of {shop}")))?;
    state.keys.invalidate();
    Ok(Json(json!({ "revoked": revoked })))
}

/// `POST /api/v1/shops/{shop}/keys/{key_id}/rotate`: a new key of the same scope, shown
/// once, and the old one revoked.
pub async fn rotate_key(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiPath(path): ApiPath<std::collections::HashMap<String, String>>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let shop = existing_shop(&state, shop).await?;
    let key_id = key_id_of(&path)?;
    let keys = &state.catalog.stores().keys;
    let old = keys
        .list_keys(Some(&shop))
        .await?
        .into_iter()
        .find(|k| k.key_id == key_id && k.revoked_at_ms.is_none())
        .ok_or_else(|| AppError::NotFound(format!("key {key_id} of {shop}")))?;
    let new = issue(&state, &shop, old.scope).await?;
    keys.revoke_key(Some(&shop), key_id).await?;
    state.keys.invalidate();
    Ok((StatusCode::CREATED, Json(new)))
}

/// The key of `.../keys/{key_id}`, whichever prefix the route has (`/api/v1/shops/{shop}`
/// or the embedded admin's `/app/api`).
fn key_id_of(path: &std::collections::HashMap<String, String>) -> Result<&str, AppError> {
    path.get("key_id")
        .map(String::as_str)
        .ok_or_else(|| AppError::InvalidInput("the path names no key".into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomerToken {
    /// The Shopify customer id of the shopper the shop's server has logged in.
    customer_id: Value,
    /// Seconds it is good for: 1 to a week, a day by default.
    ttl_secs: Option<u64>,
}

/// `POST /api/v1/shops/{shop}/customer-tokens`: a token the shop's server hands its logged-in
/// shopper's browser; with it, the browser's events and recommendations are that customer's.
pub async fn mint_customer_token(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiJson(body): ApiJson<NewCustomerToken>,
) -> Result<Json<Value>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let customer = crate::events::numeric_id(&body.customer_id, "customer_id")
        .map(crate::domain::CustomerId)
        .map_err(AppError::InvalidInput)?;
    let ttl = body.ttl_secs.unwrap_or(DEFAULT_TTL_SECS);
    if !(1..=MAX_TTL_SECS).contains(&ttl) {
        return Err(AppError::InvalidInput(format!(
            "`ttl_secs` must be 1 to {MAX_TTL_SECS}"
        )));
    }
    let expires_at_ms = state.catalog.stores().now() + (ttl * 1000) as i64;
    let token = state.customer_tokens.mint(&shop, customer, expires_at_ms);
    Ok(Json(json!({
        "customer_token": token,
        "customer_id": customer.to_string(),
        "expires_at_ms": expires_at_ms,
    })))
}
