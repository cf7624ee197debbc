//! The merchant's plan (embedded admin): what they pay for, the plans to choose from, and
//! the way back from Shopify's approval page.

use axum::extract::{RawQuery, State};
use axum::response::Redirect;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::ShopAdmin;
use super::extract::{query_pairs, ApiJson};
use super::params::existing_shop;
use super::AppState;
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::proof::plans::{PlanId, PlanRow, PLANS};

/// `GET /app/api/billing`: the plan in force (read again from Shopify) and the plans.
pub async fn billing(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
) -> Result<Json<Value>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let row = state.shopify()?.refresh_plan(&shop).await?;
    Ok(Json(json!({
        "plan": PlanRow::in_force(Some(&row)),
        "subscription": (row.plan != "free").then(|| json!({
            "status": row.status, "test": row.test, "id": row.subscription_id,
        })),
        "plans": PLANS,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscribe {
    plan: String,
}

/// `POST /app/api/billing/subscribe {"plan": "growth"}`: Shopify's approval page for the
/// admin to open in the top frame (none for the free plan: it applies at once).
pub async fn subscribe(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiJson(body): ApiJson<Subscribe>,
) -> Result<Json<Value>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let choice = PlanId::parse(&body.plan)?;
    let confirmation = state.shopify()?.subscribe(&shop, choice).await?;
    Ok(Json(
        json!({ "plan": choice, "confirmation_url": confirmation }),
    ))
}

/// `GET /app/billing/return?shop=…&charge_id=…`: Shopify's redirect after the approval
/// page. Nothing in the query is believed: the plan is what Shopify's API then says.
pub async fn billing_return(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Redirect, AppError> {
    let pairs = query_pairs(query.as_deref());
    let shop = crate::shopify::signature::single_value(&pairs, "shop")
        .ok_or_else(|| AppError::InvalidInput("`shop` must appear exactly once".into()))?;
    let shop = existing_shop(&state, ShopDomain::parse(shop)?).await?;
    let service = state.shopify()?;
    service.refresh_plan(&shop).await?;
    Ok(Redirect::to(&format!(
        "{}/admin/apps/{}#billing",
        service.api().admin_base(&shop),
        service.api().client_id()
    )))
}
