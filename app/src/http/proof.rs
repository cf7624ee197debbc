//! What the merchant reads and steers of Kindred's proof of value (embedded admin with a
//! session token, or the shop's merchant key): the attribution report, the measurement
//! settings, experiments and their results.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::ShopAdmin;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::params::existing_shop;
use super::AppState;
use crate::error::AppError;
use crate::proof::experiments::NewExperiment;
use crate::proof::service::{experiment_view, holdout_view, MAX_REPORT_DAYS};
use crate::proof::settings::SettingsUpdate;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    days: Option<String>,
}

/// `GET .../report?days=30`: per day and per strategy and placement, what the shelves
/// showed, what was clicked and carted, the orders and revenue attributed; orders with and
/// without recommendations; the holdout's lift.
pub async fn report(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> Result<Json<Value>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let days = match params.days.as_deref() {
        None => 30,
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=MAX_REPORT_DAYS).contains(d))
            .ok_or_else(|| {
                AppError::InvalidInput(format!("`days` must be 1 to {MAX_REPORT_DAYS}"))
            })?,
    };
    let (report, holdout) = state.proof.report(&shop, days).await?;
    let kindred = holdout.arms.iter().find(|a| a.name != holdout.control_arm);
    let mut body = json!(report);
    body["shop"] = json!(shop.as_str());
    body["holdout"] = json!({
        "lift": kindred.and_then(|a| a.revenue_per_visitor_lift),
        "verdict": holdout.verdict,
        "arms": holdout.arms,
    });
    Ok(Json(body))
}

pub async fn get_settings(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
) -> Result<Json<Value>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let settings = state.proof.settings(&shop).await?;
    Ok(Json(state.proof.settings_view(&settings)))
}

/// `PUT .../settings`: the attribution window and the holdout; a change to the holdout
/// starts a new measurement period.
pub async fn put_settings(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiJson(update): ApiJson<SettingsUpdate>,
) -> Result<Json<Value>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let settings = state.proof.update_settings(&shop, &update).await?;
    Ok(Json(state.proof.settings_view(&settings)))
}

/// `GET .../experiments`: the holdout first, then the A/B experiments, newest first.
pub async fn list_experiments(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
) -> Result<Json<Value>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let settings = state.proof.settings(&shop).await?;
    let mut experiments = vec![holdout_view(&settings)];
    experiments.extend(
        state
            .proof
            .experiments(&shop)
            .await?
            .iter()
            .map(experiment_view),
    );
    Ok(Json(json!({ "experiments": experiments })))
}

pub async fn create_experiment(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiJson(new): ApiJson<NewExperiment>,
) -> Result<impl IntoResponse, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let experiment = state.proof.create_experiment(&shop, new).await?;
    Ok((StatusCode::CREATED, Json(experiment_view(&experiment))))
}

/// The experiment id of `.../experiments/{id}/...`, whichever prefix the route has.
fn experiment_id(path: &HashMap<String, String>) -> Result<&str, AppError> {
    path.get("id")
        .map(String::as_str)
        .ok_or_else(|| AppError::InvalidInput("the path names no experiment".into()))
}

pub async fn start_experiment(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiPath(path): ApiPath<HashMap<String, String>>,
) -> Result<Json<Value>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let experiment = state.proof.start(&shop, experiment_id(&path)?).await?;
    Ok(Json(experiment_view(&experiment)))
}

pub async fn stop_experiment(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiPath(path): ApiPath<HashMap<String, String>>,
) -> Result<Json<Value>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let experiment = state.proof.stop(&shop, experiment_id(&path)?).await?;
    Ok(Json(experiment_view(&experiment)))
}

/// `GET .../experiments/{id}/results` (`holdout` for the holdout): per arm visitors,
/// revenue per visitor, conversion and order value, lifts with 95% intervals, the
/// sample-ratio check and the verdict.
pub async fn experiment_results(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiPath(path): ApiPath<HashMap<String, String>>,
) -> Result<Json<Value>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let (experiment, results) = state.proof.results(&shop, experiment_id(&path)?).await?;
    let mut body = json!(results);
    body["experiment"] = experiment;
    Ok(Json(body))
}
