//! Thin handlers: parse, call the catalogue core, shape the answer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{Admin, ShopAdmin, StorefrontShop};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::params::existing_shop;
use super::views::{IngestResponse, ProductView, RecommendationView, SimilarResponse};
use super::AppState;
use crate::catalog::read_json_document;
use crate::domain::{parse_price, split_list, ProductId, ShopDomain};
use crate::error::AppError;
use crate::progress::Silent;
use crate::recommend::SimilarRequest;
use crate::stores::KeyScope;

pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn ready(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    state.catalog.stores().shops.ping().await?;
    state.catalog.index().ready().await?;
    Ok(Json(json!({
        "status": "ready",
        "database": "ok",
        "vector_index": state.catalog.index().backend_name(),
        "model": state.model_id,
    })))
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
}

/// One product of the key's shop.
#[utoipa::path(
    get,
    path = "/products/{id}",
    tag = "storefront",
    params(("id" = String, Path, description = "Shopify product id")),
    security(("storefront_key" = [])),
    responses(
        (status = 200, body = ProductView),
        (status = 404, description = "No such product in this shop, or not published", body = super::error::ErrorBody),
    )
)]
pub async fn get_product(
    State(state): State<AppState>,
    StorefrontShop(shop): StorefrontShop,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ProductView>, AppError> {
    let product = state
        .catalog
        .published_product(&shop, ProductId::parse(&id)?)
        .await?;
    Ok(Json(ProductView::from(&product)))
}

/// Query of `GET /api/v1/products/{id}/similar`. Strings first, so every mistake gets a precise message.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SimilarParams {
    /// 1 to 50, default 10.
    limit: Option<String>,
    /// `true` to include sold-out products.
    include_unavailable: Option<String>,
    /// Lowest price, e.g. `25` or `25.50`.
    price_min: Option<String>,
    price_max: Option<String>,
    product_type: Option<String>,
    vendor: Option<String>,
    /// Comma-separated; a product matches when it has any of them.
    tags: Option<String>,
}

impl SimilarParams {
    fn parse(self) -> Result<SimilarRequest, AppError> {
        let limit = super::params::checked_limit(self.limit.as_deref())?;
        let include_unavailable = match self.include_unavailable.as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                return Err(AppError::InvalidInput(format!(
                    "`include_unavailable` must be true or false, not `{other}`"
                )))
            }
        };
        let price = |name: &str, raw: Option<String>| -> Result<Option<i64>, AppError> {
            raw.map(|r| {
                parse_price(&r).ok_or_else(|| {
                    AppError::InvalidInput(format!(
                        "`{name}` must be an amount such as 25 or 25.50"
                    ))
                })
            })
            .transpose()
        };
        let price_min_cents = price("price_min", self.price_min)?;
        let price_max_cents = price("price_max", self.price_max)?;
        if let (Some(min), Some(max)) = (price_min_cents, price_max_cents) {
            if min > max {
                return Err(AppError::InvalidInput(
                    "`price_min` is above `price_max`".into(),
                ));
            }
        }
        let tags = self.tags.as_deref().map(split_list).unwrap_or_default();
        let non_empty =
            |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(SimilarRequest {
            limit,
            include_unavailable,
            price_min_cents,
            price_max_cents,
            product_type: non_empty(self.product_type),
            vendor: non_empty(self.vendor),
            tags,
        })
    }
}

/// Products nearest in meaning to one product.
#[utoipa::path(
    get,
    path = "/products/{id}/similar",
    tag = "storefront",
    params(("id" = String, Path, description = "Shopify product id"), SimilarParams),
    security(("storefront_key" = [])),
    responses(
        (status = 200, body = SimilarResponse),
        (status = 400, description = "A parameter is wrong; the body says which", body = super::error::ErrorBody),
        (status = 404, description = "No such product, or not embedded yet", body = super::error::ErrorBody),
    )
)]
pub async fn similar_products(
    State(state): State<AppState>,
    StorefrontShop(shop): StorefrontShop,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<SimilarParams>,
) -> Result<Json<SimilarResponse>, AppError> {
    let id = ProductId::parse(&id)?;
    let request = params.parse()?;
    let recommendations = state.recommender.similar(&shop, id, &request).await?;
    Ok(Json(SimilarResponse {
        product_id: id,
        strategy: "similar",
        recommendations: recommendations
            .iter()
            .map(RecommendationView::from)
            .collect(),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateShop {
    shop: String,
}

/// Creates the shop when new and issues a storefront key (public, for browsers) and a
/// merchant key (secret, for the shop's own server), both shown only in this response.
pub async fn create_shop(
    State(state): State<AppState>,
    _admin: Admin,
    ApiJson(body): ApiJson<CreateShop>,
) -> Result<impl IntoResponse, AppError> {
    let shop = ShopDomain::parse(&body.shop)?;
    let created = state.catalog.stores().shops.ensure_shop(&shop).await?;
    let keys = &state.catalog.stores().keys;
    let (key, _) = keys.issue_key(KeyScope::Storefront, Some(&shop)).await?;
    let (merchant_key, _) = keys.issue_key(KeyScope::Merchant, Some(&shop)).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({
            "shop": shop.as_str(),
            "created": created,
            "storefront_key": key,
            "merchant_key": merchant_key,
        })),
    ))
}

pub async fn shop_status(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
) -> Result<Json<Value>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let (products, indexed) = state
        .catalog
        .stores()
        .products
        .catalogue_counts(&shop)
        .await?;
    let vectors = state.catalog.index().count(shop.as_str()).await?;
    Ok(Json(
        json!({ "shop": shop.as_str(), "products": products, "indexed": indexed, "vectors": vectors }),
    ))
}

/// Upserts products sent in any Shopify JSON shape; bad records are listed, good ones kept.
pub async fn upsert_products(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<IngestResponse>, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let (products, skipped): (Vec<_>, Vec<_>) = read_json_document(&body, "body")
        .into_iter()
        .partition(Result::is_ok);
    let products = products.into_iter().filter_map(Result::ok).collect();
    let skipped = skipped.into_iter().filter_map(Result::err).collect();
    let report = state.catalog.ingest(&shop, products, &Silent).await?;
    Ok(Json(IngestResponse {
        shop: shop.to_string(),
        report,
        skipped,
    }))
}

pub async fn delete_product(
    State(state): State<AppState>,
    ShopAdmin(shop): ShopAdmin,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<StatusCode, AppError> {
    let shop = existing_shop(&state, shop).await?;
    let id = ProductId::parse(&id)?;
    if state.catalog.delete_product(&shop, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound(format!("product {id}")))
    }
}

/// Operators only: a merchant key cannot delete its shop (Shopify's `shop/redact` does, for
/// an uninstalled app).
pub async fn delete_shop(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(shop): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    let shop = existing_shop(&state, ShopDomain::parse(&shop)?).await?;
    state.recommender.delete_shop(&shop).await?;
    state.keys.invalidate();
    Ok(StatusCode::NO_CONTENT)
}
