//! Similar products: the stored list when the shop has one (`similar_lists`), else the
//! nearest neighbours of the product's vector under the request's filters.

use kindred_retriever::{SearchFilter, SearchQuery};

use super::fallback::Silence;
use super::similar_lists::FromList;
use super::{Recommendation, Recommender};
use crate::catalog::service::cents_to_amount;
use crate::domain::{ProductId, ShopDomain};
use crate::error::AppError;

/// The options of a similar-products request.
#[derive(Debug, Clone, Default)]
pub struct SimilarRequest {
    pub limit: usize,
    pub include_unavailable: bool,
    pub price_min_cents: Option<i64>,
    pub price_max_cents: Option<i64>,
    pub product_type: Option<String>,
    pub vendor: Option<String>,
    pub tags: Vec<String>,
}

impl Recommender {
    /// Products most similar in meaning to one product, best first, never the product itself;
    /// "not found" for a product shoppers cannot see or that has no vector yet.
    pub async fn similar(
        &self,
        shop: &ShopDomain,
        id: ProductId,
        request: &SimilarRequest,
    ) -> Result<Vec<Recommendation>, AppError> {
        match self.similar_if_known(shop, id, request).await? {
            Ok(found) => Ok(found),
            Err(silence) => Err(silence.into()),
        }
    }

    /// As `similar`, with "this product is unknown here" as a value: the fallback chain
    /// moves on from it, while a real error stops the chain.
    pub(crate) async fn similar_if_known(
        &self,
        shop: &ShopDomain,
        id: ProductId,
        request: &SimilarRequest,
    ) -> Result<Result<Vec<Recommendation>, Silence>, AppError> {
        let unknown = || Ok(Err(Silence::UnknownProduct(format!("product {id}"))));
        let anchor = match self.similar_from_list(shop, id.0, request).await? {
            FromList::Shelf(found) => return Ok(Ok(found)),
            FromList::UnknownAnchor => return unknown(),
            FromList::Short(anchor) => anchor,
            FromList::NoList => match self.catalog.shown_product(shop, id).await? {
                Some(anchor) => anchor,
                None => return unknown(),
            },
        };
        let Some(stored) = self.index().fetch(shop.as_str(), id.0).await? else {
            return Ok(Err(Silence::UnknownProduct(format!(
                "product {id} is not indexed yet"
            ))));
        };
        let filter = SearchFilter {
            available_only: !request.include_unavailable,
            exclude_product_ids: vec![id.0],
            price_min: request.price_min_cents.map(cents_to_amount),
            price_max: request.price_max_cents.map(cents_to_amount),
            product_type: request.product_type.clone(),
            vendor: request.vendor.clone(),
            tags_any: request.tags.clone(),
            collection: None,
            status: Some("active".to_owned()),
        };
        let query = SearchQuery {
            vector: stored.vector,
            limit: request.limit,
            filter,
        };
        self.search_with_reason(shop, &query, &format!("similar to {}", anchor.title))
            .await
            .map(Ok)
    }

    /// Searches the index and reads the hits' products, all with one reason. A hit whose row
    /// is gone (deleted a moment ago) is dropped rather than shown half-known.
    pub(crate) async fn search_with_reason(
        &self,
        shop: &ShopDomain,
        query: &SearchQuery,
        reason: &str,
    ) -> Result<Vec<Recommendation>, AppError> {
        let hits = self.index().search(shop.as_str(), query).await?;
        let ids: Vec<u64> = hits.iter().map(|h| h.product_id).collect();
        let mut products = self.stores().products.products_by_id(shop, &ids).await?;
        Ok(hits
            .into_iter()
            .filter_map(|hit| {
                Some(Recommendation {
                    product: products.remove(&hit.product_id)?,
                    score: hit.score,
                    reason: reason.to_owned(),
                })
            })
            .collect())
    }
}
