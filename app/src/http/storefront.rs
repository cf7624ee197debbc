//! What shoppers' browsers call: recommendations by strategy and events, through Shopify's
//! App Proxy (`/proxy/...`, signed by Shopify) or directly from a headless frontend
//! (`/api/v1/...`, with the shop's public storefront key, from an allowed origin).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;

use super::auth::StorefrontShop;
use super::extract::{ApiPath, ApiQuery};
use super::params::{checked_limit, optional_client_id, product_ids};
use super::views::{RecommendationView, RecommendationsResponse};
use super::AppState;
use crate::domain::{CustomerId, ProductId, ShopDomain};
use crate::error::AppError;
use crate::recommend::{strategies::Strategy, ShoppingContext};

/// The query of every recommendation request. Strings first, so each mistake gets a precise
/// message rather than serde's.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecommendationParams {
    /// similar, for_you, complementary, trending, recently_viewed, new_arrivals or
    /// buy_again. Required
    /// on `/recommendations`; left out on `/recommendations/{strategy}`.
    strategy: Option<String>,
    /// Asked when the strategy has nothing to say (a new shopper, a product not embedded
    /// yet); after it, new arrivals. `none` (the default) returns what the strategy had.
    fallback: Option<String>,
    /// The product on screen (similar, complementary; excluded from the others).
    product_id: Option<String>,
    /// The shopper's anonymous browser id (for_you, recently_viewed, buy_again), 1-128
    /// characters.
    client_id: Option<String>,
    /// Comma-separated product ids in the cart (complementary; excluded from the others).
    cart: Option<String>,
    /// 1 to 50, default 10.
    limit: Option<String>,
    /// Where the shelf is (`product`, `cart`, `index`, ...: a-z, 0-9 and _): an experiment
    /// on that placement may choose the strategy; events name it too.
    placement: Option<String>,
}

/// A parsed recommendation request.
pub(super) struct Asked {
    pub strategy: Strategy,
    pub fallback: Option<Strategy>,
    pub context: ShoppingContext,
    pub placement: Option<String>,
}

impl RecommendationParams {
    pub(super) fn parse(self, path_strategy: Option<&str>) -> Result<Asked, AppError> {
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
        let placement = self
            .placement
            .filter(|p| !p.trim().is_empty())
            .map(|p| crate::events::parse_label(&serde_json::Value::String(p), "placement"))
            .transpose()
            .map_err(AppError::InvalidInput)?;
        Ok(Asked {
            strategy,
            fallback,
            placement,
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

/// Runs a request through the shopper's experiment arm (the holdout gets its control, an
/// A/B arm may choose the strategy), then the strategies, fallbacks and the shop's rules.
pub(super) async fn answer(
    state: &AppState,
    shop: &ShopDomain,
    asked: Asked,
) -> Result<Json<RecommendationsResponse>, AppError> {
    let client = asked.context.client_id.as_ref().map(|c| c.as_str());
    let experiment = state
        .proof
        .treatment(shop, client, asked.placement.as_deref())
        .await?;
    if experiment.as_ref().is_some_and(|t| t.holdout) {
        return Ok(Json(RecommendationsResponse {
            strategy: asked.strategy.as_str().to_owned(),
            requested_strategy: asked.strategy.as_str().to_owned(),
            recommendations: Vec::new(),
            experiment,
        }));
    }
    let strategy = experiment
        .as_ref()
        .and_then(|t| t.strategy)
        .unwrap_or(asked.strategy);
    let (used, recommendations) = state
        .recommender
        .recommend_with_fallback(shop, strategy, asked.fallback, &asked.context)
        .await?;
    Ok(Json(RecommendationsResponse {
        strategy: used.as_str().to_owned(),
        requested_strategy: asked.strategy.as_str().to_owned(),
        recommendations: recommendations
            .iter()
            .map(RecommendationView::from)
            .collect(),
        experiment,
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
pub(super) fn signed_customer(
    state: &AppState,
    shop: &ShopDomain,
    headers: &HeaderMap,
) -> Result<Option<CustomerId>, AppError> {
    super::params::customer_token(headers)?
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
        (status = 400, description = "A parameter is wrong", body = super::error::ErrorBody),
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
        placement: None,
    };
    answer(&state, &shop, asked).await
}
