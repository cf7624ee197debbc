//! Search for shoppers: `GET /api/v1/search` and `/api/v1/search/suggest` for headless
//! frontends (storefront key), and the same through the App Proxy (`/proxy/search`, the
//! storefront's `/apps/kindred/search`). Thin: parsing here, searching in `crate::search`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;

use super::auth::StorefrontShop;
use super::extract::ApiQuery;
use super::params::{checked_limit, optional_client_id};
use super::proxy::{parameters_of, private, ProxyShop};
use super::views::{RecommendationView, SearchResponse, SuggestResponse};
use super::AppState;
use crate::domain::{CustomerId, ShopDomain};
use crate::error::AppError;
use crate::recommend::ShoppingContext;
use crate::search::SearchRequest;
use crate::shopify::app_proxy::ProxiedRequest;

/// Longest query searched, in characters.
const MAX_QUERY_CHARS: usize = 200;
/// Products a suggestion list shows unless asked otherwise.
const DEFAULT_SUGGESTED_PRODUCTS: usize = 4;
/// Where the holdout and experiments see search.
const PLACEMENT: &str = "search";

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What the shopper typed, 1 to 200 characters. For suggestions the last word may be
    /// unfinished.
    q: Option<String>,
    /// The shopper's anonymous browser id: their live session re-ranks the results.
    client_id: Option<String>,
    /// 1 to 50; default 10 results, 4 suggested products.
    limit: Option<String>,
}

impl SearchParams {
    fn parse(
        self,
        default_limit: usize,
        customer_id: Option<CustomerId>,
    ) -> Result<SearchRequest, AppError> {
        let query = self.q.as_deref().map(str::trim).unwrap_or_default();
        if query.is_empty() {
            return Err(AppError::InvalidInput("`q` is required".into()));
        }
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(AppError::InvalidInput(format!(
                "`q` must be at most {MAX_QUERY_CHARS} characters"
            )));
        }
        let limit = match self.limit {
            None => default_limit,
            raw => checked_limit(raw.as_deref())?,
        };
        Ok(SearchRequest {
            query: query.to_owned(),
            context: ShoppingContext {
                client_id: optional_client_id(self.client_id)?,
                customer_id,
                limit,
                ..ShoppingContext::default()
            },
            personalise: true,
        })
    }
}

/// The request's session re-rank is off for a shopper the holdout keeps from Kindred.
async fn under_treatment(
    state: &AppState,
    shop: &ShopDomain,
    mut request: SearchRequest,
) -> Result<SearchRequest, AppError> {
    let client = request.context.client_id.as_ref().map(|c| c.as_str());
    let treatment = state.proof.treatment(shop, client, Some(PLACEMENT)).await?;
    request.personalise = !treatment.is_some_and(|t| t.holdout);
    Ok(request)
}

async fn search_answer(
    state: &AppState,
    shop: &ShopDomain,
    request: SearchRequest,
) -> Result<SearchResponse, AppError> {
    let request = under_treatment(state, shop, request).await?;
    let found = state.search.search(shop, &request).await?;
    Ok(SearchResponse {
        query: request.query,
        personalised: found.personalised,
        results: found.results.iter().map(RecommendationView::from).collect(),
    })
}

async fn suggest_answer(
    state: &AppState,
    shop: &ShopDomain,
    request: SearchRequest,
) -> Result<SuggestResponse, AppError> {
    let request = under_treatment(state, shop, request).await?;
    let suggestions = state.search.suggest(shop, &request).await?;
    Ok(SuggestResponse {
        query: request.query,
        queries: suggestions.queries,
        personalised: suggestions.found.personalised,
        products: suggestions
            .found
            .results
            .iter()
            .map(RecommendationView::from)
            .collect(),
    })
}

/// The shop's products for a query: words and meaning together, re-ranked by the
/// shopper's session, under the shop's rules.
#[utoipa::path(
    get,
    path = "/search",
    tag = "storefront",
    params(
        SearchParams,
        ("X-Kindred-Customer-Token" = Option<String>, Header, description = "A customer token the shop's server minted: the session is that logged-in customer's")
    ),
    security(("storefront_key" = [])),
    responses(
        (status = 200, description = "Results, each with its reason", body = SearchResponse),
        (status = 400, description = "A parameter is wrong; the body says which", body = super::error::ErrorBody),
        (status = 401, description = "Missing or unknown key", body = super::error::ErrorBody),
        (status = 429, description = "Over the key's rate limit; see `Retry-After`", body = super::error::ErrorBody),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    StorefrontShop(shop): StorefrontShop,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<SearchResponse>, AppError> {
    let customer = super::storefront::signed_customer(&state, &shop, &headers)?;
    let request = params.parse(super::params::DEFAULT_LIMIT, customer)?;
    Ok(Json(search_answer(&state, &shop, request).await?))
}

/// Predictive search: whole-query completions and the products found so far, for each
/// keystroke (the words alone: no model work per keystroke).
#[utoipa::path(
    get,
    path = "/search/suggest",
    tag = "storefront",
    params(
        SearchParams,
        ("X-Kindred-Customer-Token" = Option<String>, Header, description = "A customer token the shop's server minted: the session is that logged-in customer's")
    ),
    security(("storefront_key" = [])),
    responses(
        (status = 200, description = "Completions and products", body = SuggestResponse),
        (status = 400, description = "A parameter is wrong; the body says which", body = super::error::ErrorBody),
        (status = 401, description = "Missing or unknown key", body = super::error::ErrorBody),
        (status = 429, description = "Over the key's rate limit; see `Retry-After`", body = super::error::ErrorBody),
    )
)]
pub async fn suggest(
    State(state): State<AppState>,
    StorefrontShop(shop): StorefrontShop,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<SuggestResponse>, AppError> {
    let customer = super::storefront::signed_customer(&state, &shop, &headers)?;
    let request = params.parse(DEFAULT_SUGGESTED_PRODUCTS, customer)?;
    Ok(Json(suggest_answer(&state, &shop, request).await?))
}

/// A search through the App Proxy: the storefront's own parameters, the customer from
/// Shopify's signature.
async fn proxied_search(
    state: &AppState,
    request: ProxiedRequest,
) -> Result<SearchResponse, AppError> {
    let params: SearchParams = parameters_of(&request.parameters)?;
    let asked = params.parse(super::params::DEFAULT_LIMIT, request.customer_id)?;
    search_answer(state, &request.shop, asked).await
}

/// Suggestions through the App Proxy, likewise.
async fn proxied_suggestions(
    state: &AppState,
    request: ProxiedRequest,
) -> Result<SuggestResponse, AppError> {
    let params: SearchParams = parameters_of(&request.parameters)?;
    let asked = params.parse(DEFAULT_SUGGESTED_PRODUCTS, request.customer_id)?;
    suggest_answer(state, &request.shop, asked).await
}

/// `GET /proxy/search` (the storefront's `/apps/kindred/search`).
pub async fn proxy_search(
    State(state): State<AppState>,
    ProxyShop(request): ProxyShop,
) -> Result<Response, AppError> {
    Ok(private(Json(proxied_search(&state, request).await?)))
}

/// `GET /proxy/search/cards` (the storefront's `{locale root}apps/kindred/search/cards`): the
/// results as Liquid that Shopify renders in the shopper's market and language.
pub async fn proxy_search_cards(
    State(state): State<AppState>,
    ProxyShop(request): ProxyShop,
) -> Result<Response, AppError> {
    Ok(super::cards::search(
        &proxied_search(&state, request).await?,
    ))
}

/// `GET /proxy/search/suggest` (the storefront's `/apps/kindred/search/suggest`).
pub async fn proxy_suggest(
    State(state): State<AppState>,
    ProxyShop(request): ProxyShop,
) -> Result<Response, AppError> {
    Ok(private(Json(proxied_suggestions(&state, request).await?)))
}

/// `GET /proxy/search/suggest/cards` (the storefront's
/// `{locale root}apps/kindred/search/suggest/cards`): the suggestions as Liquid that Shopify
/// renders in the shopper's market and language.
pub async fn proxy_suggest_cards(
    State(state): State<AppState>,
    ProxyShop(request): ProxyShop,
) -> Result<Response, AppError> {
    Ok(super::cards::suggestions(
        &proxied_suggestions(&state, request).await?,
    ))
}
