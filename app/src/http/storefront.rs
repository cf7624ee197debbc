//! What shoppers' browsers call: recommendations by strategy and events, through Shopify's
//! App Proxy (`/proxy/...`, signed by Shopify) or directly from a headless frontend
//! (`/api/v1/...`, with the shop's public storefront key, from an allowed origin).

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::{ShopAdmin, StorefrontShop};
use super::extract::{query_pairs, ApiJson, ApiPath, ApiQuery};
use super::views::{RecommendationView, RecommendationsResponse};
use super::AppState;
use crate::catalog::rules::MerchandisingRules;
use crate::catalog::strategies::{ShoppingContext, Strategy};
use crate::domain::{split_list, ProductId, ShopDomain};
use crate::error::AppError;
use crate::shopify::app_proxy::{self, ProxiedRequest};

pub const MAX_LIMIT: usize = 50;
// A page of similar products can always come from a stored list.
const _: () = assert!(MAX_LIMIT <= crate::catalog::similar_lists::LIST_LENGTH);
const DEFAULT_LIMIT: usize = 10;
const MAX_CART_ITEMS: usize = 50;

/// The query of every recommendation request. Strings first, so each mistake gets a precise
/// message rather than serde's.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecommendationParams {
    /// similar, for_you, complementary, trending, recently_viewed or new_arrivals. Required
    /// on `/recommendations`; left out on `/recommendations/{strategy}`.
    strategy: Option<String>,
    /// Asked when the strategy has nothing to say (a new shopper, a product not embedded
    /// yet); after it, new arrivals. `none` (the default) returns what the strategy had.
    fallback: Option<String>,
    /// The product on screen (similar, complementary; excluded from the others).
    product_id: Option<String>,
    /// The shopper's anonymous browser id (for_you, recently_viewed), 1-128 characters.
    client_id: Option<String>,
    /// Comma-separated product ids in the cart (complementary; excluded from the others).
    cart: Option<String>,
    /// 1 to 50, default 10.
    limit: Option<String>,
}

/// A parsed recommendation request.
pub(super) struct Asked {
    pub strategy: Strategy,
    pub fallback: Option<Strategy>,
    pub context: ShoppingContext,
}

impl RecommendationParams {
    fn parse(self, path_strategy: Option<&str>) -> Result<Asked, AppError> {
        let strategy = match (path_strategy, self.strategy.as_deref()) {
            (Some(raw), None) => Strategy::parse(raw, "strategy")?,
            (None, Some(raw)) => Strategy::parse(raw, "strategy")?,
            (Some(_), Some(_)) => {
                return Err(AppError::InvalidInput(
                    "the path already names the strategy; leave out `strategy`".into(),
                ))
            }
            (None, None) => return Err(AppError::InvalidInput("`strategy` is required".into())),
        };
        let fallback = match self.fallback.as_deref().map(str::trim) {
            None | Some("") | Some("none") => None,
            Some(raw) => Some(Strategy::parse(raw, "fallback")?),
        };
        let limit = checked_limit(self.limit.as_deref())?;
        let product_id = self
            .product_id
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(ProductId::parse)
            .transpose()?;
        let client_id = optional_client_id(self.client_id)?;
        let cart = product_ids(self.cart.as_deref().unwrap_or_default(), "cart")?;
        Ok(Asked {
            strategy,
            fallback,
            context: ShoppingContext {
                product_id,
                client_id,
                customer_id: None,
                cart,
                limit,
                ..ShoppingContext::default()
            },
        })
    }
}

/// Items wanted: 10 unless asked, at most 50.
pub fn checked_limit(raw: Option<&str>) -> Result<usize, AppError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                AppError::InvalidInput(format!(
                    "`limit` must be a whole number from 1 to {MAX_LIMIT}"
                ))
            }),
    }
}

/// A client id as given (trimmed; empty is none), checked.
fn optional_client_id(raw: Option<String>) -> Result<Option<String>, AppError> {
    raw.map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .map(checked_client_id)
        .transpose()
}

pub fn checked_client_id(client: String) -> Result<String, AppError> {
    if client.len() > 128 || client.chars().any(char::is_control) {
        return Err(AppError::InvalidInput(
            "`client_id` must be 1 to 128 printable characters".into(),
        ));
    }
    Ok(client)
}

/// A comma-separated list of at most 50 product ids.
pub fn product_ids(raw: &str, parameter: &str) -> Result<Vec<u64>, AppError> {
    let ids: Vec<u64> = split_list(raw)
        .iter()
        .map(|id| ProductId::parse(id).map(|p| p.0))
        .collect::<Result<_, _>>()?;
    if ids.len() > MAX_CART_ITEMS {
        return Err(AppError::InvalidInput(format!(
            "`{parameter}` lists more than {MAX_CART_ITEMS} product ids"
        )));
    }
    Ok(ids)
}

/// Runs a request through the strategies, fallbacks and the shop's rules.
pub(super) async fn answer(
    state: &AppState,
    shop: &ShopDomain,
    asked: Asked,
) -> Result<Json<RecommendationsResponse>, AppError> {
    let (used, recommendations) = state
        .catalog
        .recommend_with_fallback(shop, asked.strategy, asked.fallback, &asked.context)
        .await?;
    Ok(Json(RecommendationsResponse {
        strategy: used.as_str().to_owned(),
        requested_strategy: asked.strategy.as_str().to_owned(),
        recommendations: recommendations
            .iter()
            .map(RecommendationView::from)
            .collect(),
    }))
}

/// Recommendations of any strategy, for headless frontends.
#[utoipa::path(
    get,
    path = "/recommendations",
    tag = "storefront",
    params(
        RecommendationParams,
        ("X-Kindred-Customer-Token" = Option<String>, Header, description = "A customer token the shop's server minted: the answer is that logged-in customer's")
    ),
    security(("storefront_key" = [])),
    responses(
        (status = 200, description = "Recommendations, each with its reason", body = RecommendationsResponse),
        (status = 400, description = "A parameter is wrong; the body says which", body = super::error::ErrorBody),
        (status = 401, description = "Missing or unknown key", body = super::error::ErrorBody),
        (status = 403, description = "Called from a browser origin the shop has not allowed", body = super::error::ErrorBody),
        (status = 404, description = "The product is unknown", body = super::error::ErrorBody),
        (status = 429, description = "Over the key's rate limit; see `Retry-After`", body = super::error::ErrorBody),
    )
)]
pub async fn recommendations(
    State(state): State<AppState>,
    StorefrontShop(shop): StorefrontShop,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<RecommendationParams>,
) -> Result<Json<RecommendationsResponse>, AppError> {
    let mut asked = params.parse(None)?;
    asked.context.customer_id = signed_customer(&state, &shop, &headers)?;
    answer(&state, &shop, asked).await
}

/// The customer a headless request's `X-Kindred-Customer-Token` vouches for, if it sent one.
fn signed_customer(
    state: &AppState,
    shop: &ShopDomain,
    headers: &HeaderMap,
) -> Result<Option<u64>, AppError> {
    super::events::customer_token(headers)?
        .map(|token| state.customer_token(&token, shop))
        .transpose()
}

/// One strategy named in the path (`for-you`, `trending`, `new-arrivals`, `similar`,
/// `complementary`, `recently-viewed`).
#[utoipa::path(
    get,
    path = "/recommendations/{strategy}",
    tag = "storefront",
    params(
        ("strategy" = String, Path, description = "similar, for-you, complementary, trending, recently-viewed or new-arrivals"),
        RecommendationParams,
        ("X-Kindred-Customer-Token" = Option<String>, Header, description = "A customer token the shop's server minted: the answer is that logged-in customer's")
    ),
    security(("storefront_key" = [])),
    responses(
        (status = 200, description = "Recommendations, each with its reason", body = RecommendationsResponse),
        (status = 400, description = "A parameter is wrong; the body says which", body = super::error::ErrorBody),
        (status = 401, description = "Missing or unknown key", body = super::error::ErrorBody),
        (status = 429, description = "Over the key's rate limit; see `Retry-After`", body = super::error::ErrorBody),
    )
)]
pub async fn recommendations_by_path(
    State(state): State<AppState>,
    StorefrontShop(shop): StorefrontShop,
    headers: HeaderMap,
    ApiPath(strategy): ApiPath<String>,
    ApiQuery(params): ApiQuery<RecommendationParams>,
) -> Result<Json<RecommendationsResponse>, AppError> {
    let mut asked = params.parse(Some(&strategy))?;
    asked.context.customer_id = signed_customer(&state, &shop, &headers)?;
    answer(&state, &shop, asked).await
}

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
        if !state.catalog.store().shop_exists(&request.shop).await? {
            return Err(AppError::UnknownShop(request.shop.to_string()));
        }
        // After app/uninstalled Shopify may still forward for a while: nothing is served or
        // stored for a shop that removed the app.
        let uninstalled = state
            .catalog
            .store()
            .install(&request.shop)
            .await?
            .is_some_and(|install| !install.active());
        if uninstalled {
            return Err(AppError::UnknownShop(request.shop.to_string()));
        }
        state.limits.proxy.admit(request.shop.as_str(), 1)?;
        // One shopper (or one script) spends at most a client's budget of the shop's.
        state.limits.proxy_shopper.admit(
            &super::limits::proxy_shopper_key(parts, request.shop.as_str()),
            1,
        )?;
        Ok(Self(request))
    }
}

/// The storefront's own parameters as the query struct (all of them strings).
fn parameters_of<T: serde::de::DeserializeOwned>(
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
    let params: RecommendationParams = parameters_of(&request.parameters)?;
    let mut asked = params.parse(None)?;
    // Only Shopify's signed word says who is logged in.
    asked.context.customer_id = request.customer_id;
    let body = answer(&state, &request.shop, asked).await?;
    // Personal answers must not sit in a shared cache between Shopify and the shopper.
    Ok((
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        )],
        body,
    )
        .into_response())
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

/// `GET /api/v1/shops/{shop}/rules` (and `/app/api/rules`): the shop's merchandising rules
/// (defaults when unset).
pub async fn get_rules(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
) -> Result<Json<MerchandisingRules>, AppError> {
    let shop = super::routes::existing_shop(&state, shop).await?;
    Ok(Json(state.catalog.rules(&shop).await?))
}

/// `PUT /api/v1/shops/{shop}/rules` (and `/app/api/rules`): replaces them; a bad rule is a
/// 400 naming it.
pub async fn put_rules(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiJson(rules): ApiJson<MerchandisingRules>,
) -> Result<Json<MerchandisingRules>, AppError> {
    let shop = super::routes::existing_shop(&state, shop).await?;
    state.catalog.set_rules(&shop, &rules).await?;
    Ok(Json(state.catalog.rules(&shop).await?))
}

/// Shoppers one batch request may ask for.
pub const MAX_BATCH_SHOPPERS: usize = 1_000;

/// A shopper of a batch: their browser, their customer account, or both.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchShopper {
    client_id: Option<String>,
    customer_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForYouBatchRequest {
    shoppers: Vec<BatchShopper>,
    limit: Option<usize>,
}

/// `POST /api/v1/shops/{shop}/recommendations/for-you`: for-you for up to 1,000 shoppers at
/// once (a mailing, a back-office job), their sessions scored in one exact batched search;
/// each then goes through the storefront's pipeline (strategy, trending for a shopper with no
/// history, the shop's rules). The operator's or the shop's merchant key: it reads any of the
/// shop's customers' history.
pub async fn for_you_batch(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiJson(request): ApiJson<ForYouBatchRequest>,
) -> Result<Json<Value>, AppError> {
    let shop = super::routes::existing_shop(&state, shop).await?;
    let limit = checked_limit(request.limit.map(|n| n.to_string()).as_deref())?;
    if request.shoppers.is_empty() || request.shoppers.len() > MAX_BATCH_SHOPPERS {
        return Err(AppError::InvalidInput(format!(
            "`shoppers` must list 1 to {MAX_BATCH_SHOPPERS} shoppers"
        )));
    }
    let mut contexts = Vec::with_capacity(request.shoppers.len());
    for (position, shopper) in request.shoppers.iter().enumerate() {
        let named = |err: AppError| AppError::InvalidInput(format!("shoppers[{position}]: {err}"));
        let client_id = optional_client_id(shopper.client_id.clone()).map_err(named)?;
        let customer_id = shopper
            .customer_id
            .as_deref()
            .map(|raw| {
                raw.trim().parse::<u64>().map_err(|_| {
                    AppError::InvalidInput(format!(
                        "shoppers[{position}]: `customer_id` must be a Shopify customer id"
                    ))
                })
            })
            .transpose()?;
        if client_id.is_none() && customer_id.is_none() {
            return Err(AppError::InvalidInput(format!(
                "shoppers[{position}]: needs `client_id` or `customer_id`"
            )));
        }
        contexts.push(ShoppingContext {
            client_id,
            customer_id,
            limit,
            ..ShoppingContext::default()
        });
    }
    let answers = state.catalog.for_you_many(&shop, contexts).await?;
    let results: Vec<Value> = request
        .shoppers
        .iter()
        .zip(answers)
        .map(|(shopper, (used, recommendations))| {
            json!({
                "client_id": shopper.client_id,
                "customer_id": shopper.customer_id,
                "strategy": used.as_str(),
                "recommendations": recommendations.iter().map(RecommendationView::from).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({ "results": results })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerformanceParams {
    days: Option<String>,
}

/// `GET /api/v1/shops/{shop}/recommendations/performance?days=30`: what recommendations
/// earned, per strategy.
pub async fn performance(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiQuery(params): ApiQuery<PerformanceParams>,
) -> Result<Json<Value>, AppError> {
    let shop = super::routes::existing_shop(&state, shop).await?;
    let days = match params.days.as_deref() {
        None => 30,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=365).contains(d))
            .ok_or_else(|| AppError::InvalidInput("`days` must be 1 to 365".into()))?,
    };
    Ok(Json(performance_of(&state, &shop, days).await?))
}

/// Impressions, clicks, click-through rate and carts that followed a click, per strategy.
pub async fn performance_of(
    state: &AppState,
    shop: &ShopDomain,
    days: i64,
) -> Result<Value, AppError> {
    let since = crate::storage::now_millis() - days * 24 * 3600 * 1000;
    let rows = state
        .catalog
        .store()
        .recommendation_performance(shop, since)
        .await?;
    let strategies: Vec<Value> = rows
        .into_iter()
        .map(|(strategy, impressions, clicks, carted)| {
            let rate = |n: i64, of: i64| if of > 0 { n as f64 / of as f64 } else { 0.0 };
            json!({
                "strategy": strategy,
                "impressions": impressions,
                "clicks": clicks,
                "click_through_rate": rate(clicks, impressions),
                "added_to_cart_after_click": carted,
            })
        })
        .collect();
    Ok(json!({ "shop": shop.as_str(), "days": days, "strategies": strategies }))
}
