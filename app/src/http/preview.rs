//! What the merchant previews in the admin: each strategy's shelf for a product, a
//! collection page or a recent shopper, exactly as the storefront would answer; and a
//! draft of the rules' effect before it is saved.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::ShopAdmin;
use super::extract::{ApiJson, ApiQuery};
use super::params::{checked_limit, existing_shop, optional_client_id};
use super::views::RecommendationView;
use super::AppState;
use crate::domain::{ProductId, ShopDomain};
use crate::error::AppError;
use crate::recommend::rules::MerchandisingRules;
use crate::recommend::strategy::Strategy;
use crate::recommend::{Recommendation, ShoppingContext};

const STRATEGIES: [Strategy; 7] = [
    Strategy::Similar,
    Strategy::Complementary,
    Strategy::ForYou,
    Strategy::RecentlyViewed,
    Strategy::BuyAgain,
    Strategy::Trending,
    Strategy::NewArrivals,
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewParams {
    product_id: Option<String>,
    collection_id: Option<String>,
    client_id: Option<String>,
    limit: Option<String>,
}

struct Asked {
    context: ShoppingContext,
    collection: Option<u64>,
}

fn asked(
    product_id: Option<&str>,
    collection_id: Option<&str>,
    client_id: Option<String>,
    limit: Option<&str>,
) -> Result<Asked, AppError> {
    let product_id = product_id
        .filter(|p| !p.trim().is_empty())
        .map(ProductId::parse)
        .transpose()?;
    let collection = collection_id
        .filter(|c| !c.trim().is_empty())
        .map(|c| {
            crate::ids::shopify_id(&Value::String(c.to_owned())).ok_or_else(|| {
                AppError::InvalidInput("`collection_id` must be a Shopify collection id".into())
            })
        })
        .transpose()?;
    Ok(Asked {
        context: ShoppingContext {
            product_id,
            client_id: optional_client_id(client_id)?,
            limit: checked_limit(limit)?,
            ..ShoppingContext::default()
        },
        collection,
    })
}

/// Whether the strategy can answer this context (a product for similar, a browser for
/// for-you).
fn applies(strategy: Strategy, context: &ShoppingContext) -> bool {
    match strategy {
        Strategy::Similar | Strategy::Complementary => context.product_id.is_some(),
        Strategy::ForYou | Strategy::RecentlyViewed | Strategy::BuyAgain => {
            context.client_id.is_some()
        }
        Strategy::Trending | Strategy::NewArrivals => true,
    }
}

fn shelf(
    strategy: Strategy,
    answer: Result<(Strategy, Vec<Recommendation>), AppError>,
    collection: Option<u64>,
) -> Value {
    match answer {
        Ok((used, items)) => json!({
            "strategy": strategy.as_str(),
            "used_strategy": used.as_str(),
            "recommendations": items.iter().map(|r| {
                let mut item = json!(RecommendationView::from(r));
                if let Some(collection) = collection {
                    item["in_collection"] = json!(r.product.collections.contains(&collection));
                }
                item
            }).collect::<Vec<_>>(),
        }),
        // One shelf's problem (a product not embedded yet) is shown on that shelf.
        Err(err) => {
            json!({ "strategy": strategy.as_str(), "recommendations": [], "error": err.to_string() })
        }
    }
}

/// `GET .../preview?product_id=&collection_id=&client_id=&limit=`: every strategy that
/// applies, answered as the storefront answers (fallbacks aside), the shop's rules applied.
pub async fn preview(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiQuery(params): ApiQuery<PreviewParams>,
) -> Result<Json<Value>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let asked = asked(
        params.product_id.as_deref(),
        params.collection_id.as_deref(),
        params.client_id,
        params.limit.as_deref(),
    )?;
    let rules = state.recommender.rules(&shop).await?;
    let mut shelves = Vec::new();
    for strategy in STRATEGIES
        .into_iter()
        .filter(|s| applies(*s, &asked.context))
    {
        let answer = state
            .recommender
            .recommend_under(&shop, strategy, None, &asked.context, &rules)
            .await;
        shelves.push(shelf(strategy, answer, asked.collection));
    }
    Ok(Json(json!({
        "shop": shop.as_str(),
        "currency": state.proof.shop_currency(&shop).await?,
        "shelves": shelves,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesPreview {
    rules: MerchandisingRules,
    product_id: Option<String>,
    client_id: Option<String>,
    strategy: Option<String>,
}

/// `POST .../rules/preview`: one shelf under the saved rules and under the draft.
pub async fn rules_preview(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiJson(body): ApiJson<RulesPreview>,
) -> Result<Json<Value>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let asked = asked(body.product_id.as_deref(), None, body.client_id, None)?;
    let strategy = match body.strategy.as_deref() {
        Some(raw) => Strategy::parse(raw, "strategy")?,
        None if asked.context.product_id.is_some() => Strategy::Similar,
        None => Strategy::Trending,
    };
    body.rules.compile()?;
    let saved = state.recommender.rules(&shop).await?;
    let mut sides = Vec::new();
    for rules in [&saved, &body.rules] {
        let answer = state
            .recommender
            .recommend_under(
                &shop,
                strategy,
                Some(Strategy::Trending),
                &asked.context,
                rules,
            )
            .await;
        sides.push(shelf(strategy, answer, None));
    }
    let after = sides.pop();
    let before = sides.pop();
    Ok(Json(json!({
        "currency": state.proof.shop_currency(&shop).await?,
        "before": before,
        "after": after,
    })))
}

/// `GET .../shoppers/recent`: browsers seen in the last day, to preview as one of them.
pub async fn recent_shoppers(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
) -> Result<Json<Value>, AppError> {
    let shop: ShopDomain = existing_shop(&state, shop).await?;
    let shoppers: Vec<Value> = state
        .catalog
        .stores()
        .proof
        .recent_shoppers(&shop, 20)
        .await?
        .into_iter()
        .map(|(client, last_seen, events)| {
            json!({ "client_id": client.as_str(), "last_seen_ms": last_seen, "events": events })
        })
        .collect();
    Ok(Json(json!({ "shoppers": shoppers })))
}
