//! Products of a ranked list read a few at a time, best first, until enough of them may be
//! shown: a shelf of ten drawn from fifty candidates reads about a dozen product documents,
//! not fifty (each is a database row and a JSON document to decode).

use std::collections::HashMap;

use kindred_retriever::recommend::Candidate;
use kindred_retriever::{SearchFilter, SearchQuery};

use super::Recommender;
use crate::domain::{Product, ProductStatus, ShopDomain};
use crate::error::AppError;

/// On sale and published: what every shelf may show.
pub(crate) fn on_sale(product: &Product) -> bool {
    product.available && product.status == ProductStatus::Active
}

impl Recommender {
    /// The best `want` products of `ranked` that `admit` lets through, by id (callers keep
    /// the rank order from `ranked`). Each read asks for a quarter more than is still
    /// missing, so one read is the rule and a shelf with sold-out candidates takes two.
    pub(crate) async fn first_admitted(
        &self,
        shop: &ShopDomain,
        ranked: &[u64],
        want: usize,
        admit: impl Fn(&Product) -> bool,
    ) -> Result<HashMap<u64, Product>, AppError> {
        let mut found = HashMap::with_capacity(want);
        let mut next = 0;
        while found.len() < want && next < ranked.len() {
            let missing = want - found.len();
            let batch = (missing + missing / 4 + 2).min(ranked.len() - next);
            let ids = &ranked[next..next + batch];
            next += batch;
            let products = self.stores().products.products_by_id(shop, ids).await?;
            found.extend(products.into_iter().filter(|(_, p)| admit(p)));
        }
        Ok(found)
    }

    /// The on-sale products nearest to `vector` in the index, best first, none of `exclude`.
    pub(crate) async fn nearest_on_sale(
        &self,
        shop: &ShopDomain,
        vector: Vec<f32>,
        limit: usize,
        exclude: Vec<u64>,
    ) -> Result<Vec<Candidate>, AppError> {
        let query = SearchQuery {
            vector,
            limit,
            filter: SearchFilter {
                available_only: true,
                exclude_product_ids: exclude,
                status: Some(ProductStatus::Active.as_str().to_owned()),
                ..SearchFilter::default()
            },
        };
        Ok(self
            .index()
            .search(shop.as_str(), &query)
            .await?
            .iter()
            .map(|h| Candidate {
                item: h.product_id,
                score: f64::from(h.score),
            })
            .collect())
    }
}
