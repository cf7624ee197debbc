//! The fallback chain that keeps a block from ever showing an empty shelf: the asked-for
//! strategy, then the fallback, then the shop's new arrivals, which any shop with one
//! available product has from its first day. A strategy with nothing to say answers so as
//! a value ([`Silence`]); only real errors stop the chain.

use std::collections::{HashMap, HashSet};

use super::diversity::POOL_PER_PLACE;
use super::history::purchased;
use super::ranked::on_sale;
use super::rules::{CompiledRules, MerchandisingRules};
use super::shelf::Variety;
use super::strategy::Strategy;
use super::{Recommendation, Recommender, ShoppingContext};
use crate::domain::ShopDomain;
use crate::error::AppError;

/// What one strategy says for a context.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Its recommendations (perhaps none), under the strategy that made them (for-you
    /// answers as trending for a shopper it knows nothing of yet), and which of them are
    /// the shopper's likely re-buys, which the "already bought" rule does not hold back.
    Said {
        strategy: Strategy,
        found: Vec<Recommendation>,
        rebuys: HashSet<u64>,
    },
    /// It cannot speak here, and why.
    Silent(Silence),
}

/// Why a strategy cannot speak for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Silence {
    /// The request lacks what the strategy reads (`product_id`, `client_id`, …).
    Needs {
        strategy: Strategy,
        what: &'static str,
    },
    /// The product is not one shoppers can see, or it has no vector yet.
    UnknownProduct(String),
}

/// Where the chain must answer and cannot, the silence is the request's error: a bad
/// request (400) or a product not found (404).
impl From<Silence> for AppError {
    fn from(silence: Silence) -> Self {
        match silence {
            Silence::Needs { strategy, what } => {
                AppError::InvalidInput(format!("`{}` needs `{what}`", strategy.as_str()))
            }
            Silence::UnknownProduct(what) => AppError::NotFound(what),
        }
    }
}

impl Recommender {
    /// The strategy asked for; when it has nothing (a new shopper, a product not embedded
    /// yet, a shop with no history), the fallback; then new arrivals. The shop's
    /// merchandising rules shape whichever answers.
    pub async fn recommend_with_fallback(
        &self,
        shop: &ShopDomain,
        strategy: Strategy,
        fallback: Option<Strategy>,
        context: &ShoppingContext,
    ) -> Result<(Strategy, Vec<Recommendation>), AppError> {
        let rules = self.serving_rules(shop).await?;
        self.recommend_under(shop, strategy, fallback, context, &rules)
            .await
    }

    /// The same chain under the rules given (the merchant's draft, to preview them).
    pub async fn recommend_under(
        &self,
        shop: &ShopDomain,
        strategy: Strategy,
        fallback: Option<Strategy>,
        context: &ShoppingContext,
        rules: &MerchandisingRules,
    ) -> Result<(Strategy, Vec<Recommendation>), AppError> {
        let rules = rules.compile()?;
        let mut wide = context.clone();
        if context.client_id.is_some() || context.customer_id.is_some() {
            wide.history = Some(self.shopper_history(shop, context).await?);
        }
        let purchased = match (&wide.history, rules.exclude_purchased) {
            (Some(history), true) => purchased(history),
            _ => HashSet::new(),
        };
        let pinned = self.pinned(shop, rules.pins(), context).await?;
        // Filters may remove candidates: ask each strategy for more than the shelf holds.
        if rules.caps_vendors() {
            // A vendor cap needs breadth: one vendor may fill the first few dozen.
            wide.limit = 150;
        } else if rules.collapses_variants() {
            // So may one product line in many colourways.
            wide.limit = (context.limit * 6).min(150);
        } else if rules.filters() || !purchased.is_empty() {
            wide.limit = (context.limit * 3).min(150);
        }
        let mut chain = vec![strategy];
        if let Some(fallback) = fallback {
            chain.push(fallback);
            chain.push(Strategy::NewArrivals);
        }
        chain.dedup();
        let mut last = strategy;
        for (position, step) in chain.iter().enumerate() {
            let last_step = position + 1 == chain.len();
            match self.recommend(shop, *step, &wide).await? {
                Answer::Said {
                    strategy: used,
                    found,
                    rebuys,
                } => {
                    last = used;
                    // A likely re-buy is shown though the shopper bought it: the "already
                    // bought" rule is for what they will not want twice.
                    let held_back: HashSet<u64> = purchased.difference(&rebuys).copied().collect();
                    let vectors = if used.mixes_on_embeddings() {
                        self.shelf_vectors(shop, &rules, &found, &pinned, context.limit)
                            .await
                    } else {
                        HashMap::new()
                    };
                    let variety = used.variety(&vectors);
                    let limit = context.limit;
                    let shelf = rules.apply(found, pinned.clone(), &held_back, limit, variety);
                    // Pins alone do not make an answer while a fallback may still fill the shelf.
                    if shelf.len() > pinned.len().min(context.limit) || last_step {
                        return Ok((used, shelf));
                    }
                }
                // A product the index does not know yet is no reason to show nothing...
                Answer::Silent(Silence::UnknownProduct(_)) if !last_step => {}
                // ...and a fallback that cannot apply here (for_you without a client) is
                // skipped; the strategy asked for must be answerable as asked.
                Answer::Silent(Silence::Needs { .. }) if position > 0 => {}
                Answer::Silent(silence) => return Err(silence.into()),
            }
        }
        Ok((
            last,
            rules.apply(Vec::new(), pinned, &purchased, context.limit, Variety::Kept),
        ))
    }

    /// For-you for many shoppers at once: their sessions scored in one batch, then each
    /// answered as `recommend_with_fallback` answers one (fallback, rules and all).
    pub async fn for_you_many(
        &self,
        shop: &ShopDomain,
        mut contexts: Vec<ShoppingContext>,
    ) -> Result<Vec<(Strategy, Vec<Recommendation>)>, AppError> {
        self.batch_for_you(shop, &mut contexts).await?;
        let mut answers = Vec::with_capacity(contexts.len());
        for context in &contexts {
            answers.push(
                self.recommend_with_fallback(shop, Strategy::ForYou, None, context)
                    .await?,
            );
        }
        Ok(answers)
    }

    /// The embeddings that diversity needs for a shelf: the pins' and the first
    /// candidates'. Novelty refines a shelf: with the index unreachable, relevance alone
    /// orders it.
    async fn shelf_vectors(
        &self,
        shop: &ShopDomain,
        rules: &CompiledRules,
        found: &[Recommendation],
        pinned: &[crate::domain::Product],
        limit: usize,
    ) -> HashMap<u64, Vec<f32>> {
        if rules.diversity() <= 0.0 || found.len() < 2 {
            return HashMap::new();
        }
        // The pool, and as many again for the candidates the rules leave out or hold back
        // as repeats of a variant family.
        let pool = limit * POOL_PER_PLACE * 2;
        let ids: Vec<u64> = pinned
            .iter()
            .map(|p| p.id)
            .chain(found.iter().take(pool).map(|r| r.product.id))
            .collect();
        match self.index().fetch_many(shop.as_str(), &ids).await {
            Ok(stored) => stored
                .into_iter()
                .map(|p| (p.product_id, p.vector))
                .collect(),
            Err(error) => {
                tracing::warn!(%shop, %error, "shelf ordered without diversity: no vectors");
                HashMap::new()
            }
        }
    }

    /// The pinned products that can be shown here: on sale, published, not on screen.
    async fn pinned(
        &self,
        shop: &ShopDomain,
        pins: &[u64],
        context: &ShoppingContext,
    ) -> Result<Vec<crate::domain::Product>, AppError> {
        let in_view = context.in_view();
        Ok(self
            .stores()
            .products
            .get_products(shop, pins)
            .await?
            .into_iter()
            .filter(|p| on_sale(p) && !in_view.contains(&p.id))
            .collect())
    }
}
