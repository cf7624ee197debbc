//! JSON shapes of the REST API. Product ids are strings: they exceed 2^53 and would lose
//! digits as JavaScript numbers.

use serde::Serialize;
use utoipa::ToSchema;

use crate::catalog::service::IngestReport;
use crate::catalog::SkippedRecord;
use crate::domain::{format_price, Product, ProductId};
use crate::recommend::Recommendation;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    /// Shopify's product id, as a string (ids exceed 2^53).
    #[schema(value_type = String, example = "4357742755898")]
    pub id: ProductId,
    pub handle: String,
    pub title: String,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    pub tags: Vec<String>,
    /// `active`, `draft` or `archived`.
    #[schema(value_type = String)]
    pub status: &'static str,
    pub available: bool,
    /// Lowest variant price in the shop's currency, e.g. `"144.00"`.
    pub price: Option<String>,
    pub compare_at_price: Option<String>,
    pub image_url: Option<String>,
    /// Storefront path of the product page.
    pub url: String,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        Self {
            id: ProductId(p.id),
            handle: p.handle.clone(),
            title: p.title.clone(),
            vendor: p.vendor.clone(),
            product_type: p.product_type.clone(),
            tags: p.tags.clone(),
            status: p.status.as_str(),
            available: p.available,
            price: p.price_cents.map(format_price),
            compare_at_price: p.compare_at_price_cents.map(format_price),
            image_url: p.image_url.clone(),
            url: format!("/products/{}", p.handle),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendationView {
    #[serde(flatten)]
    pub product: ProductView,
    /// The strategy's score, higher is better (cosine similarity for content strategies).
    pub score: f32,
    /// Why this item, for the shopper: "similar to …", "often bought with …", "trending in this shop".
    pub reason: String,
}

impl From<&Recommendation> for RecommendationView {
    fn from(r: &Recommendation) -> Self {
        Self {
            product: ProductView::from(&r.product),
            score: r.score,
            reason: r.reason.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarResponse {
    #[schema(value_type = String)]
    pub product_id: ProductId,
    #[schema(value_type = String)]
    pub strategy: &'static str,
    pub recommendations: Vec<RecommendationView>,
}

#[derive(Debug, Serialize)]
pub struct IngestResponse {
    pub shop: String,
    #[serde(flatten)]
    pub report: IngestReport,
    pub skipped: Vec<SkippedRecord>,
}

/// Recommendations of one strategy.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendationsResponse {
    /// The strategy that answered: the one asked for, or its fallback when it had nothing.
    #[schema(example = "similar")]
    pub strategy: String,
    /// The strategy asked for.
    pub requested_strategy: String,
    pub recommendations: Vec<RecommendationView>,
    /// The experiment the shopper is in, when one applies: `{"id", "arm", "holdout",
    /// "control"}`. A holdout shopper gets no recommendations; `control` says what to show
    /// instead (`none`, or `shopify`: Shopify's own product recommendations).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub experiment: Option<crate::proof::experiments::Treatment>,
}

/// Search results, best first, each with why it matched.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    /// The query as searched (trimmed).
    pub query: String,
    /// Whether the shopper's live session re-ranked the results (never for a shopper in the
    /// holdout, nor one Kindred has no session for).
    pub personalised: bool,
    pub results: Vec<RecommendationView>,
}

/// As-you-type suggestions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestResponse {
    pub query: String,
    /// Whole queries completing the last word, most products first; each finds a product.
    pub queries: Vec<String>,
    /// Products the first completion finds (with none, the words typed so far), best first.
    pub products: Vec<RecommendationView>,
    pub personalised: bool,
}
