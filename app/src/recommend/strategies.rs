//! The strategies a storefront asks for by name (the theme block's setting, a headless
//! frontend's parameter), and the fallback chain that keeps a block from ever showing an
//! empty shelf: the asked-for strategy, then the fallback, then the shop's new arrivals,
//! which any shop with one available product has from its first day.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::rules::MerchandisingRules;
use super::shop_cache::ShopCache;
use super::Recommender;
use super::{ForYouSource, ShoppingContext};
use super::{Recommendation, SimilarRequest};
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::events::{EventKind, ShopperEvent};

/// Trending: interest of the last week...
const TRENDING_WINDOW_DAYS: i64 = 7;
/// ...where a day's views and cart additions count half as much as the next day's.
const TRENDING_HALF_LIFE_DAYS: f64 = 1.0;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// A shop's trending scores are recomputed at most this often.
const TRENDING_MAX_AGE: Duration = Duration::from_secs(60);

/// Per shop: its trending scores, best first.
pub(crate) type TrendingCache = Arc<ShopCache<Vec<(u64, f64)>>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Nearest in meaning to the current product.
    Similar,
    /// From the shopper's live session (or the customer's history when logged in).
    ForYou,
    /// Bought together with the current product or the cart.
    Complementary,
    /// Most viewed and carted lately, recent days weighing more.
    Trending,
    /// The shopper's own viewed products, newest first.
    RecentlyViewed,
    /// The most recently published products.
    NewArrivals,
}

impl Strategy {
    pub const ALL: [Strategy; 6] = [
        Self::Similar,
        Self::ForYou,
        Self::Complementary,
        Self::Trending,
        Self::RecentlyViewed,
        Self::NewArrivals,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Similar => "similar",
            Self::ForYou => "for_you",
            Self::Complementary => "complementary",
            Self::Trending => "trending",
            Self::RecentlyViewed => "recently_viewed",
            Self::NewArrivals => "new_arrivals",
        }
    }

    pub fn parse(raw: &str, parameter: &str) -> Result<Self, AppError> {
        let raw = raw.trim();
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw || s.as_str().replace('_', "-") == raw)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
                AppError::InvalidInput(format!(
                    "`{parameter}` must be one of {}, not `{}`",
                    names.join(", "),
                    raw.chars().take(40).collect::<String>()
                ))
            })
    }
}

impl Recommender {
    /// One strategy; an empty list when it has nothing to say for this context.
    pub async fn recommend(
        &self,
        shop: &ShopDomain,
        strategy: Strategy,
        context: &ShoppingContext,
    ) -> Result<(Strategy, Vec<Recommendation>), AppError> {
        let limit = context.limit;
        let needs =
            |what: &str| AppError::InvalidInput(format!("`{}` needs `{what}`", strategy.as_str()));
        let answer = match strategy {
            Strategy::Similar => {
                let id = context.product_id.ok_or_else(|| needs("product_id"))?;
                let request = SimilarRequest {
                    limit,
                    ..SimilarRequest::default()
                };
                let mut found = self.similar(shop, id, &request).await?;
                found.retain(|r| !context.cart.contains(&r.product.id));
                found
            }
            Strategy::ForYou => {
                if context.client_id.is_none() && context.customer_id.is_none() {
                    return Err(needs("client_id"));
                }
                let (source, found) = self.for_you(shop, context).await?;
                if matches!(source, ForYouSource::Trending) {
                    return Ok((Strategy::Trending, found));
                }
                found
            }
            Strategy::Complementary => {
                let mut items = context.cart.clone();
                items.extend(context.product_id.map(|p| p.0));
                if items.is_empty() {
                    return Err(needs("product_id` or `cart"));
                }
                self.cart(shop, &items, limit).await?
            }
            Strategy::Trending => self.trending(shop, &context.in_view(), limit).await?,
            Strategy::RecentlyViewed => {
                if context.client_id.is_none() && context.customer_id.is_none() {
                    return Err(needs("client_id"));
                }
                let mut found = self.recently_viewed(shop, context, limit + 1).await?;
                // The product on screen is not "recently viewed" on its own page.
                found.retain(|r| Some(r.product.id) != context.product_id.map(|p| p.0));
                found.truncate(limit);
                found
            }
            Strategy::NewArrivals => self.new_arrivals(shop, &context.in_view(), limit).await?,
        };
        Ok((strategy, answer))
    }

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
        let rules = self.rules(shop).await?.compile()?;
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
            let attempt = self.recommend(shop, *step, &wide).await;
            match attempt {
                Ok((used, found)) => {
                    last = used;
                    let shelf = rules.apply(found, pinned.clone(), &purchased, context.limit);
                    // Pins alone do not make an answer while a fallback may still fill the shelf.
                    if shelf.len() > pinned.len().min(context.limit) || position + 1 == chain.len()
                    {
                        return Ok((used, shelf));
                    }
                }
                // A product the index does not know yet is no reason to show nothing.
                Err(AppError::NotFound(_)) if position + 1 < chain.len() => {}
                // A fallback that cannot apply here (for_you without a client) is skipped.
                Err(AppError::InvalidInput(_)) if position > 0 => {}
                Err(err) => return Err(err),
            }
        }
        Ok((
            last,
            rules.apply(Vec::new(), pinned, &purchased, context.limit),
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

    /// The shop's merchandising rules (the defaults when it has none).
    pub async fn rules(&self, shop: &ShopDomain) -> Result<MerchandisingRules, AppError> {
        match self.stores().shops.shop_rules(shop).await? {
            None => Ok(MerchandisingRules::default()),
            Some(raw) => serde_json::from_str(&raw)
                .map_err(|e| AppError::Internal(format!("stored rules of {shop}: {e}"))),
        }
    }

    /// Checks and stores the shop's rules.
    pub async fn set_rules(
        &self,
        shop: &ShopDomain,
        rules: &MerchandisingRules,
    ) -> Result<(), AppError> {
        rules.compile()?;
        let raw = serde_json::to_string(rules).map_err(|e| AppError::Internal(e.to_string()))?;
        self.stores().shops.put_shop_rules(shop, &raw).await
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
            .filter(|p| {
                p.available
                    && p.status == crate::domain::ProductStatus::Active
                    && !in_view.contains(&p.id)
            })
            .collect())
    }

    /// The products shoppers looked at and carted most in the last week, each day counting
    /// half as much as the next, so what is rising shows before what has peaked.
    pub(crate) async fn trending(
        &self,
        shop: &ShopDomain,
        exclude: &HashSet<u64>,
        limit: usize,
    ) -> Result<Vec<Recommendation>, AppError> {
        let scores = self.trending_scores(shop).await?;
        let ranked: Vec<(u64, f64)> = scores
            .iter()
            .filter(|(id, _)| !exclude.contains(id))
            // Some of the top may be sold out: read a few more than asked.
            .take(limit * 2 + 10)
            .copied()
            .collect();
        let ids: Vec<u64> = ranked.iter().map(|(id, _)| *id).collect();
        let mut products = self.stores().products.products_by_id(shop, &ids).await?;
        let top = scores.first().map_or(1.0, |(_, s)| *s);
        Ok(ranked
            .into_iter()
            .filter_map(|(id, score)| {
                let product = products
                    .remove(&id)
                    .filter(|p| p.available && p.status == crate::domain::ProductStatus::Active)?;
                Some(Recommendation {
                    product,
                    score: (score / top) as f32,
                    reason: "trending in this shop".to_owned(),
                })
            })
            .take(limit)
            .collect())
    }

    /// Every product with interest in the window, best first: computed at most once a
    /// minute per shop (a busy shop's week is many rows), shared by every request meanwhile;
    /// a shop with none yet is asked again each time.
    async fn trending_scores(&self, shop: &ShopDomain) -> Result<Arc<Vec<(u64, f64)>>, AppError> {
        let cached = self.trending_cache.get(shop);
        if let Some((_, scores)) = cached.filter(|(at, _)| at.elapsed() < TRENDING_MAX_AGE) {
            return Ok(scores);
        }
        let now = self.stores().now();
        let today = now / DAY_MS;
        let rows = self
            .stores()
            .events
            .daily_product_interest(shop, now - TRENDING_WINDOW_DAYS * DAY_MS)
            .await?;
        let mut scores: HashMap<u64, f64> = HashMap::new();
        for (product, day, count) in rows {
            let age_days = (today - day).max(0) as f64;
            *scores.entry(product).or_default() +=
                count as f64 * 0.5f64.powf(age_days / TRENDING_HALF_LIFE_DAYS);
        }
        let mut ranked: Vec<(u64, f64)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let ranked = Arc::new(ranked);
        // Nothing to rank is cheap to find again, and a shop's first views should show at once.
        if !ranked.is_empty() {
            self.trending_cache.put(shop, ranked.clone());
        }
        Ok(ranked)
    }

    /// The most recently published products that are on sale.
    pub(crate) async fn new_arrivals(
        &self,
        shop: &ShopDomain,
        exclude: &HashSet<u64>,
        limit: usize,
    ) -> Result<Vec<Recommendation>, AppError> {
        let newest = self
            .stores()
            .products
            .newest_products(shop, limit + exclude.len())
            .await?;
        Ok(newest
            .into_iter()
            .filter(|p| !exclude.contains(&p.id))
            .take(limit)
            .enumerate()
            .map(|(rank, product)| Recommendation {
                product,
                score: 1.0 / (rank as f32 + 1.0),
                reason: "new in the shop".to_owned(),
            })
            .collect())
    }
}

/// What the shopper bought (their checkouts).
fn purchased(history: &[ShopperEvent]) -> HashSet<u64> {
    history
        .iter()
        .filter(|e| e.kind == EventKind::CheckoutCompleted)
        .flat_map(|e| e.line_items.iter().map(|l| l.product_id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_parse_by_their_names_and_refuse_others_clearly() {
        for strategy in Strategy::ALL {
            assert_eq!(
                Strategy::parse(strategy.as_str(), "strategy").unwrap(),
                strategy
            );
        }
        assert_eq!(
            Strategy::parse("new-arrivals", "strategy").unwrap(),
            Strategy::NewArrivals
        );
        let err = Strategy::parse("bestsellers", "fallback").unwrap_err();
        assert!(err
            .to_string()
            .contains("`fallback` must be one of similar, for_you"));
    }
}
