//! Which browser origins may call a shop's public API: CORS per shop's allow-list, and the
//! endpoints that keep the list.

use std::collections::HashSet;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{presented_key, ShopAdmin};
use super::extract::ApiJson;
use super::AppState;
use crate::error::AppError;
use crate::stores::KeyGrant;

/// CORS for the public API, per shop. A preflight carries no key, so it is answered for any
/// origin and grants nothing by itself; the request that follows is served to a browser only
/// when its origin is on the shop's allow-list, and refused with a clear 403 otherwise.
/// Requests without `Origin` (servers, curl) pass untouched.
pub async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        return next.run(request).await;
    };
    if request.method() == Method::OPTIONS {
        return preflight(&origin);
    }
    match allowed(&state, request.headers(), &origin).await {
        Ok(()) => {
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("retry-after"),
            );
            headers.append(header::VARY, HeaderValue::from_static("origin"));
            response
        }
        Err(err) => err.into_response(),
    }
}

fn preflight(origin: &HeaderValue) -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()),
            (
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(
                    "authorization, content-type, x-kindred-key, x-kindred-customer-token",
                ),
            ),
            (
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            ),
            (header::VARY, HeaderValue::from_static("origin")),
        ],
    )
        .into_response()
}

async fn allowed(
    state: &AppState,
    headers: &HeaderMap,
    origin: &HeaderValue,
) -> Result<(), AppError> {
    let origin = origin
        .to_str()
        .ok()
        .and_then(|o| normalise_origin(o).ok())
        .ok_or_else(|| AppError::OriginNotAllowed("the Origin header is malformed".into()))?;
    // No key: let the handler answer 401 as it would to anyone.
    let Ok(key) = presented_key(headers) else {
        return Ok(());
    };
    let Some(KeyGrant::Storefront(shop)) = state.keys.grant_for(key).await? else {
        return Err(AppError::OriginNotAllowed(
            "only storefront keys may be used from a browser".into(),
        ));
    };
    if state
        .catalog
        .stores()
        .shops
        .allowed_origins(&shop)
        .await?
        .contains(&origin)
    {
        Ok(())
    } else {
        Err(AppError::OriginNotAllowed(format!(
            "{origin} is not an allowed origin of {shop}; add it with PUT /api/v1/shops/{shop}/allowed-origins"
        )))
    }
}

/// `scheme://host[:port]`, lower-cased, default ports dropped: how browsers send `Origin`.
pub fn normalise_origin(raw: &str) -> Result<String, AppError> {
    let invalid = || {
        AppError::InvalidInput(format!(
            "`{}` is not an origin such as https://shop.example.com",
            raw.chars().take(100).collect::<String>()
        ))
    };
    let url = url::Url::parse(raw.trim()).map_err(|_| invalid())?;
    let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    if !matches!(url.scheme(), "http" | "https") || !bare || url.host().is_none() {
        return Err(invalid());
    }
    Ok(url.origin().ascii_serialization())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowedOrigins {
    origins: Vec<String>,
}

/// `GET /api/v1/shops/{shop}/allowed-origins` (and `/app/api/allowed-origins`)
pub async fn get_allowed_origins(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
) -> Result<Json<Value>, AppError> {
    let shop = super::params::existing_shop(&state, shop).await?;
    let origins = state.catalog.stores().shops.allowed_origins(&shop).await?;
    Ok(Json(json!({ "shop": shop.as_str(), "origins": origins })))
}

/// `PUT /api/v1/shops/{shop}/allowed-origins` (and `/app/api/allowed-origins`): replaces the list.
pub async fn put_allowed_origins(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiJson(body): ApiJson<AllowedOrigins>,
) -> Result<Json<Value>, AppError> {
    let shop = super::params::existing_shop(&state, shop).await?;
    if body.origins.len() > 50 {
        return Err(AppError::InvalidInput("at most 50 origins per shop".into()));
    }
    let origins: Vec<String> = body
        .origins
        .iter()
        .map(|o| normalise_origin(o))
        .collect::<Result<HashSet<_>, _>>()?
        .into_iter()
        .collect();
    state
        .catalog
        .stores()
        .shops
        .replace_allowed_origins(&shop, &origins)
        .await?;
    let origins = state.catalog.stores().shops.allowed_origins(&shop).await?;
    Ok(Json(json!({ "shop": shop.as_str(), "origins": origins })))
}
