//! Cart recommendations ("frequently bought together"): co-occurrence learned from the
//! shop's own checkouts and carts, for the items in the cart; when the shop's history has
//! too little to say (a new shop, a new product), the gap is filled with the products
//! nearest in meaning to the cart.

use std::collections::{HashMap, HashSet};

use kindred_retriever::recommend::CandidateSource;
use kindred_retriever::{SearchFilter, SearchQuery};

use super::Recommendation;
use super::Recommender;
use crate::domain::ShopDomain;
use crate::error::AppError;

impl Recommender {
    pub async fn cart(
        &self,
        shop: &ShopDomain,
        cart: &[u64],
        limit: usize,
    ) -> Result<Vec<Recommendation>, AppError> {
        let in_cart: HashSet<u64> = cart.iter().copied().collect();
        let together = self.interactions(shop).await?.together.clone();
        // Ask for more than needed: some may be sold out or gone.
        let candidates = together.recommend(cart, limit * 3, &in_cart);
        let ids: Vec<u64> = candidates
            .iter()
            .map(|c| c.item)
            .chain(cart.iter().copied())
            .collect();
        let mut products = self.stores().products.products_by_id(shop, &ids).await?;
        let titles: HashMap<u64, String> = cart
            .iter()
            .filter_map(|id| products.get(id).map(|p| (*id, p.title.clone())))
            .collect();
        // Each cart item's own partners, to say which one a suggestion goes with.
        let partners: Vec<(&String, HashSet<u64>)> = cart
            .iter()
            .filter_map(|id| {
                let items = together.recommend(&[*id], limit * 3, &in_cart);
                Some((titles.get(id)?, items.into_iter().map(|c| c.item).collect()))
            })
            .collect();
        let best = candidates.first().map_or(1.0, |c| c.score);
        let mut picked: Vec<Recommendation> = Vec::new();
        for candidate in &candidates {
            if picked.len() == limit {
                break;
            }
            let Some(product) = products.remove(&candidate.item).filter(|p| p.available) else {
                continue;
            };
            // The reason: the first cart item it is a partner of.
            let partner = partners
                .iter()
                .find(|(_, items)| items.contains(&candidate.item))
                .map(|(title, _)| (*title).clone());
            let reason = match partner {
                Some(title) => format!("often bought with {title}"),
                None => "often bought together".to_owned(),
            };
            picked.push(Recommendation {
                product,
                score: (candidate.score / best) as f32,
                reason,
            });
        }
        if picked.len() < limit {
            let taken: HashSet<u64> = picked
                .iter()
                .map(|r| r.product.id)
                .chain(in_cart.iter().copied())
                .collect();
            picked.extend(
                self.nearest_to_cart(shop, cart, &titles, &taken, limit - picked.len())
                    .await?,
            );
        }
        Ok(picked)
    }

    /// Products nearest in meaning to the cart's items (their mean vector).
    async fn nearest_to_cart(
        &self,
        shop: &ShopDomain,
        cart: &[u64],
        titles: &HashMap<u64, String>,
        taken: &HashSet<u64>,
        limit: usize,
    ) -> Result<Vec<Recommendation>, AppError> {
        let mut mean: Vec<f32> = Vec::new();
        for point in self.index().fetch_many(shop.as_str(), cart).await? {
            if mean.is_empty() {
                mean = vec![0.0; point.vector.len()];
            }
            mean.iter_mut()
                .zip(&point.vector)
                .for_each(|(m, v)| *m += v);
        }
        if mean.is_empty() {
            return Ok(Vec::new());
        }
        let query = SearchQuery {
            vector: mean,
            limit,
            filter: SearchFilter {
                available_only: true,
                exclude_product_ids: taken.iter().copied().collect(),
                status: Some("active".to_owned()),
                ..SearchFilter::default()
            },
        };
        let anchor = cart
            .iter()
            .find_map(|id| titles.get(id))
            .cloned()
            .unwrap_or_default();
        self.search_with_reason(shop, &query, &format!("goes with {anchor}"))
            .await
    }
}
