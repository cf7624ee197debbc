//! `POST /api/v1/pixel/events`: the shop's web pixel reporting Shopify's standard customer
//! events (storefront and checkout). Shopify runs the pixel in a sandbox only with the
//! shopper's analytics consent; it posts `text/plain` (no CORS preflight) from an origin
//! Kindred cannot know in advance, so any origin may send, and no cookie is read.
//!
//! Authorisation: the body carries the public key the install put in the pixel's settings
//! (`shopify/pixel.rs`). It is public (every shopper's browser receives it), so it is worth
//! what the storefront key is worth: it names one shop and can only add anonymous events to
//! that shop, within the same budgets (per browser address and key, and the shop's events
//! per minute). A forged pixel event therefore cannot name a customer (none is believed),
//! cannot touch another shop, cannot read anything, and cannot make a purchase: a pixel's
//! checkout only links its browser to an order Shopify itself sent, and only when the
//! order's checkout token (a secret of that checkout) matches. What it can do is add
//! views and cart events to one shop's statistics, as any visitor could by browsing.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::events::{record, Vouched};
use super::limits::Client;
use super::shopify::body_of;
use super::AppState;
use crate::error::AppError;
use crate::stores::{hash_key, KeyGrant};

/// Records a batch of the pixel's events: `{"key": "kdr_sf_…", "events": [...]}`, each
/// event as `POST /events` takes it.
pub async fn pixel_events(
    State(state): State<AppState>,
    Client(client): Client,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let answer = async {
        let body = body_of(body)?;
        let body: Value = serde_json::from_slice(&body)
            .map_err(|e| AppError::InvalidJson(format!("the body is not JSON: {e}")))?;
        let key = body
            .get("key")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or(AppError::MissingCredentials)?;
        // Only a public key: a merchant's secret key never belongs in a browser's settings.
        let Some(KeyGrant::Storefront(shop)) = state.keys.grant_for(key).await? else {
            return Err(AppError::InvalidCredentials);
        };
        let key_hash = hash_key(key);
        state
            .limits
            .per_client
            .admit(&format!("{key_hash} {client}"), 1)?;
        state.limits.per_key.admit(&key_hash, 1)?;
        record(&state, &shop, &body, Vouched::Pixel).await
    }
    .await;
    let mut response = match answer {
        Ok(json) => json.into_response(),
        Err(err) => err.into_response(),
    };
    allow_any_origin(&mut response);
    response
}

/// The preflight a browser may still send (a pixel that sets other headers).
pub async fn pixel_preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    allow_any_origin(&mut response);
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    response
}

fn allow_any_origin(response: &mut Response) {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}
