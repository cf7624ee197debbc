//! Product search for shoppers: the shop's lexical index (`catalog::lexical`) and the semantic
//! neighbours of the query's vector, fused by score (meaning weighing in as far as the words
//! leave the query unanswered), re-ranked by the shopper's live session,
//! shaped by the merchant's rules (exclusions, boosts, buries), each result with its reason.
//! Predictive suggestions (`suggest`) answer each keystroke from the lexical index alone:
//! the model is asked only for a submitted search, whose vector is then cached.

mod reasons;

use std::collections::{HashMap, HashSet};

use kindred_retriever::recommend::Candidate;
use kindred_retriever::search::{fuse, hybrid, rerank_for_session, Hit, HybridWeights};

use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::recommend::ranked::on_sale;
use crate::recommend::{Recommendation, Recommender, ShoppingContext};

/// What search serves with; `kindred eval --search` measures the same.
pub const WEIGHTS: HybridWeights = hybrid::SERVED;
/// Whole-query completions a suggestion list offers.
pub const MAX_COMPLETIONS: usize = 5;

/// A search, as asked.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: String,
    /// The shopper, for the session re-rank (`limit` is the results wanted).
    pub context: ShoppingContext,
    /// Re-rank by the session; off for shoppers in the holdout.
    pub personalise: bool,
}

/// Search results, best first.
#[derive(Debug, Clone)]
pub struct Found {
    pub results: Vec<Recommendation>,
    /// Whether the shopper's session re-ranked them (they had one, and were not held out).
    pub personalised: bool,
}

/// As-you-type suggestions: whole queries and products.
#[derive(Debug, Clone)]
pub struct Suggestions {
    pub queries: Vec<String>,
    pub found: Found,
}

#[derive(Clone)]
pub struct Search {
    recommender: Recommender,
}

impl Search {
    pub fn new(recommender: Recommender) -> Self {
        Self { recommender }
    }

    /// Hybrid results for a submitted query.
    pub async fn search(
        &self,
        shop: &ShopDomain,
        request: &SearchRequest,
    ) -> Result<Found, AppError> {
        let index = self.recommender.catalog().lexical_index(shop).await?;
        let lexical = index.search(&request.query, false, WEIGHTS.depth);
        let semantic = self.semantic(shop, &request.query).await?;
        let hits = fuse(&lexical, &semantic, &WEIGHTS, WEIGHTS.depth);
        self.finish(shop, request, hits).await
    }

    /// Completions of what is being typed and the products it already finds.
    pub async fn suggest(
        &self,
        shop: &ShopDomain,
        request: &SearchRequest,
    ) -> Result<Suggestions, AppError> {
        let index = self.recommender.catalog().lexical_index(shop).await?;
        let queries = index.completions(&request.query, MAX_COMPLETIONS);
        // The products agree with the first completion, what the list offers first; with
        // none, what the words typed so far find.
        let lexical = match queries.first() {
            Some(best) => index.search(best, false, WEIGHTS.depth),
            None => index.search(&request.query, true, WEIGHTS.depth),
        };
        let hits = fuse(&lexical, &[], &WEIGHTS, WEIGHTS.depth);
        let found = self.finish(shop, request, hits).await?;
        Ok(Suggestions { queries, found })
    }

    /// The query's nearest products in meaning; none when the model's storefront lane is
    /// full (the lexical half answers alone rather than failing the search).
    async fn semantic(&self, shop: &ShopDomain, query: &str) -> Result<Vec<Candidate>, AppError> {
        let vectors = self.recommender.search_vectors(&[query.to_owned()]).await?;
        let Some(Some(vector)) = vectors.into_iter().next() else {
            return Ok(Vec::new());
        };
        self.recommender
            .nearest_on_sale(shop, vector.as_ref().clone(), WEIGHTS.depth, Vec::new())
            .await
    }

    /// The hits re-ranked for the shopper, read fresh (on sale only), under the rules.
    async fn finish(
        &self,
        shop: &ShopDomain,
        request: &SearchRequest,
        hits: Vec<Hit>,
    ) -> Result<Found, AppError> {
        let (hits, moved_up) = self.for_the_shopper(shop, request, hits).await?;
        let personalised = moved_up.is_some();
        let moved_up = moved_up.unwrap_or_default();
        let limit = request.context.limit;
        let ids: Vec<u64> = hits.iter().map(|h| h.item).collect();
        let rules = self
            .recommender
            .serving_rules(shop)
            .await?
            .compile()?
            .for_search();
        // Exclusions may remove some: read more than the page holds.
        let mut products = self
            .recommender
            .first_admitted(shop, &ids, limit * 2, |p| {
                on_sale(p) && !rules.excludes(p, &Default::default())
            })
            .await?;
        let top = hits.first().map_or(1.0, |h| h.score);
        let candidates = hits
            .iter()
            .filter_map(|hit| {
                let product = products.remove(&hit.item)?;
                Some(Recommendation {
                    reason: reasons::why(&request.query, hit, moved_up.contains(&hit.item)),
                    score: (hit.score / top) as f32,
                    product,
                })
            })
            .collect();
        let results = rules.apply(
            candidates,
            Vec::new(),
            &Default::default(),
            limit,
            crate::recommend::shelf::Variety::Kept,
        );
        Ok(Found {
            results,
            personalised,
        })
    }

    /// The hits re-ranked by the shopper's session where there is one, with which of them it
    /// moved up (by id); `None` where no session re-ranked them.
    async fn for_the_shopper(
        &self,
        shop: &ShopDomain,
        request: &SearchRequest,
        hits: Vec<Hit>,
    ) -> Result<(Vec<Hit>, Option<HashSet<u64>>), AppError> {
        let context = &request.context;
        let known = context.client_id.is_some() || context.customer_id.is_some();
        if !request.personalise || !known || hits.len() < 2 {
            return Ok((hits, None));
        }
        let Some(session) = self.recommender.session_vector(shop, context).await? else {
            return Ok((hits, None));
        };
        let ids: Vec<u64> = hits.iter().map(|h| h.item).collect();
        let vectors = self.recommender.vectors_of(shop, &ids).await?;
        let closeness: HashMap<u64, f32> = vectors
            .iter()
            .map(|(id, v)| (*id, v.iter().zip(&session).map(|(a, b)| a * b).sum()))
            .collect();
        let before: HashMap<u64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let reranked = rerank_for_session(hits, &closeness, &WEIGHTS);
        let moved_up = reranked
            .iter()
            .enumerate()
            .filter(|(rank, h)| before.get(&h.item).is_some_and(|b| b > rank))
            .map(|(_, h)| h.item)
            .collect();
        Ok((reranked, Some(moved_up)))
    }
}
