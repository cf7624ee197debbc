//! What the merchant (embedded admin, merchant key) and the operator (admin key) call for
//! one shop: merchandising rules, for-you for many shoppers at once, and what the shelves
//! earned.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::ShopAdmin;
use super::extract::{ApiJson, ApiQuery};
use super::params::{checked_limit, existing_shop, optional_client_id};
use super::views::RecommendationView;
use super::AppState;
use crate::domain::{CustomerId, ShopDomain};
use crate::error::AppError;
use crate::recommend::rules::MerchandisingRules;
use crate::recommend::ShoppingContext;

/// Shoppers one batch request may ask for.
pub const MAX_BATCH_SHOPPERS: usize = 1_000;

/// `GET /api/v1/shops/{shop}/rules` (and `/app/api/rules`): the shop's merchandising rules
/// (defaults when unset).
pub async fn get_rules(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
) -> Result<Json<MerchandisingRules>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    Ok(Json(state.recommender.rules(&shop).await?))
}

/// `PUT /api/v1/shops/{shop}/rules` (and `/app/api/rules`): replaces them; a bad rule is a
/// 400 naming it.
pub async fn put_rules(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiJson(rules): ApiJson<MerchandisingRules>,
) -> Result<Json<MerchandisingRules>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    state.recommender.set_rules(&shop, &rules).await?;
    Ok(Json(state.recommender.rules(&shop).await?))
}

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
    let shop = existing_shop(&state, shop).await?;
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
                CustomerId::parse(raw).ok_or_else(|| {
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
    // A held-out shopper gets the holdout's nothing here too (a mailing is a surface).
    let mut held_out = Vec::with_capacity(contexts.len());
    for context in &contexts {
        let client = context.client_id.as_ref().map(|c| c.as_str());
        let treatment = state.proof.treatment(&shop, client, None).await?;
        held_out.push(treatment.filter(|t| t.holdout));
    }
    let answers = state.recommender.for_you_many(&shop, contexts).await?;
    let results: Vec<Value> = request
        .shoppers
        .iter()
        .zip(answers)
        .zip(held_out)
        .map(|((shopper, (used, recommendations)), held_out)| {
            let shown = if held_out.is_some() {
                &[][..]
            } else {
                &recommendations[..]
            };
            let mut result = json!({
                "client_id": shopper.client_id,
                "customer_id": shopper.customer_id,
                "strategy": used.as_str(),
                "recommendations": shown.iter().map(RecommendationView::from).collect::<Vec<_>>(),
            });
            if let Some(treatment) = held_out {
                result["experiment"] = json!(treatment);
            }
            result
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
    let shop = existing_shop(&state, shop).await?;
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
    let since = state.catalog.stores().now() - days * 24 * 3600 * 1000;
    let days_of_shelves = state.proof.shelf_days(shop, since).await?;
    // (impressions, clicks, carted) per strategy, over every day and placement.
    let mut by_strategy: std::collections::BTreeMap<String, (i64, i64, i64)> =
        std::collections::BTreeMap::new();
    for day in days_of_shelves {
        let sums = by_strategy.entry(day.strategy).or_default();
        sums.0 += day.shown;
        sums.1 += day.clicked;
        sums.2 += day.carted;
    }
    let strategies: Vec<Value> = by_strategy
        .into_iter()
        .map(|(strategy, (impressions, clicks, carted))| {
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
