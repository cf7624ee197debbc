//! What the theme calls through Shopify's App Proxy (`/proxy/...`, the storefront's
//! `/apps/kindred/...`): verified by Shopify's signature, the shop and the logged-in
//! customer taken from Shopify's signed parameters only.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

use super::extract::{query_pairs, ApiJson};
use super::storefront::{answer, RecommendationParams};
use super::AppState;
use crate::error::AppError;
use crate::shopify::app_proxy::{self, ProxiedRequest};

/// A request that came through the App Proxy, verified.
pub struct ProxyShop(pub ProxiedRequest);

impl axum::extract::FromRequestParts<AppState> for ProxyShop {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let shopify = state.shopify()?;
        let pairs = query_pairs(parts.uri.query());
        let now = chrono::Utc::now().timestamp();
        let request =
            app_proxy::verify(shopify.api().secrets(), &pairs, now).map_err(AppError::from)?;
        // Before any database read: one shopper (or one script) spends at most a client's
        // budget, and what it is refused does not count against the shop's.
        state.limits.proxy_shopper.admit(
            &super::limits::proxy_shopper_key(parts, request.shop.as_str()),
            1,
        )?;
        state.limits.proxy.admit(request.shop.as_str(), 1)?;
        if !state
            .catalog
            .stores()
            .shops
            .shop_exists(&request.shop)
            .await?
        {
            return Err(AppError::UnknownShop(request.shop.to_string()));
        }
        // After app/uninstalled Shopify may still forward for a while: nothing is served or
        // stored for a shop that removed the app.
        let uninstalled = state
            .catalog
            .stores()
            .installs
            .install(&request.shop)
            .await?
            .is_some_and(|install| !install.active());
        if uninstalled {
            return Err(AppError::UnknownShop(request.shop.to_string()));
        }
        Ok(Self(request))
    }
}

/// The storefront's own parameters as the query struct (all of them strings).
pub(super) fn parameters_of<T: serde::de::DeserializeOwned>(
    parameters: &[(String, String)],
) -> Result<T, AppError> {
    let mut object = Map::new();
    for (key, value) in parameters {
        if object
            .insert(key.clone(), Value::String(value.clone()))
            .is_some()
        {
            return Err(AppError::InvalidInput(format!(
                "`{key}` appears more than once"
            )));
        }
    }
    serde_json::from_value(Value::Object(object)).map_err(|e| AppError::InvalidInput(e.to_string()))
}

/// `GET /proxy/recommendations` (the storefront's `/apps/kindred/recommendations`).
pub async fn proxy_recommendations(
    State(state): State<AppState>,
    ProxyShop(request): ProxyShop,
) -> Result<Response, AppError> {
    Ok(private(proxied_answer(&state, request).await?))
}

/// `GET /proxy/recommendations/cards` (the storefront's
/// `{locale root}apps/kindred/recommendations/cards`): the same shelf as Liquid that Shopify
/// renders in the shopper's market and language.
pub async fn proxy_recommendation_cards(
    State(state): State<AppState>,
    ProxyShop(request): ProxyShop,
) -> Result<Response, AppError> {
    let Json(answer) = proxied_answer(&state, request).await?;
    Ok(super::cards::recommendations(&answer))
}

async fn proxied_answer(
    state: &AppState,
    request: ProxiedRequest,
) -> Result<Json<super::views::RecommendationsResponse>, AppError> {
    let params: RecommendationParams = parameters_of(&request.parameters)?;
    let mut asked = params.parse(None)?;
    // Only Shopify's signed word says who is logged in.
    asked.context.customer_id = request.customer_id;
    answer(state, &request.shop, asked).await
}

/// Personal answers must not sit in a shared cache between Shopify and the shopper.
pub(super) fn private(body: impl IntoResponse) -> Response {
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        )],
        body,
    )
        .into_response()
}

/// `POST /proxy/events` (the storefront's `/apps/kindred/events`): the same events as
/// `POST /api/v1/events`, the customer taken from Shopify's signature, never the body.
pub async fn proxy_events(
    State(state): State<AppState>,
    ProxyShop(request): ProxyShop,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, AppError> {
    let vouched = super::events::Vouched::Proxy(request.customer_id);
    super::events::record(&state, &request.shop, &body, vouched).await
}
