//! JSON shapes of the REST API. Product ids are strings: they exceed 2^53 and would lose
//! digits as JavaScript numbers.

use serde::Serialize;

use crate::catalog::service::{IngestReport, Recommendation};
use crate::catalog::SkippedRecord;
use crate::domain::{format_price, Product, ProductId};

#[derive(Debug, Serialize)]
pub struct ProductView {
    pub id: ProductId,
    pub handle: String,
    pub title: String,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    pub tags: Vec<String>,
    pub status: &'static str,
    pub available: bool,
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

#[derive(Debug, Serialize)]
pub struct RecommendationView {
    #[serde(flatten)]
    pub product: ProductView,
    /// Cosine similarity to the anchor product, in [-1, 1].
    pub score: f32,
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

#[derive(Debug, Serialize)]
pub struct SimilarResponse {
    pub product_id: ProductId,
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
