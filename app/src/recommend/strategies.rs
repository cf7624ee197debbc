//! The strategies a storefront asks for by name (the theme block's setting, a headless
//! frontend's parameter), each answering for one context (`Recommender::recommend`), and
//! the shop-wide ones computed here: trending and new arrivals. The chain that falls back
//! from one to the next is `fallback`.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use kindred_retriever::recommend::Popularity;

use super::fallback::{Answer, Silence};
use super::ranked::on_sale;
use super::rules::MerchandisingRules;
use super::shop_cache::ShopCache;
pub use super::strategy::Strategy;
use super::tuned::SERVED;
use super::Recommender;
use super::{ForYouSource, ShoppingContext};
use super::{Recommendation, SimilarRequest};
use crate::domain::ShopDomain;
use crate::error::AppError;

const DAY_MS: i64 = 24 * 3600 * 1000;
/// A shop's trending scores are recomputed at most this often.
const TRENDING_MAX_AGE: Duration = Duration::from_secs(60);

/// Per shop: its trending scores, best first.
pub(crate) type TrendingCache = Arc<ShopCache<Vec<(u64, f64)>>>;

/// A shop's rules are read from the database at most this often. A replica other than the
/// one that stored new rules applies them within this time; that one applies them at once.
const RULES_MAX_AGE: Duration = Duration::from_secs(5);

/// Per shop: its merchandising rules as stored.
pub(crate) type RulesCache = Arc<ShopCache<MerchandisingRules>>;

impl Recommender {
    /// One strategy: what it says for this context (perhaps an empty list), or why it
    /// cannot speak here (a value: the fallback chain moves on from it).
    pub async fn recommend(
        &self,
        shop: &ShopDomain,
        strategy: Strategy,
        context: &ShoppingContext,
    ) -> Result<Answer, AppError> {
        let limit = context.limit;
        let needs = |what: &'static str| Ok(Answer::Silent(Silence::Needs { strategy, what }));
        let shopper_known = context.client_id.is_some() || context.customer_id.is_some();
        let answer = match strategy {
            Strategy::Similar => {
                let Some(id) = context.product_id else {
                    return needs("product_id");
                };
                let request = SimilarRequest {
                    limit,
                    ..SimilarRequest::default()
                };
                let mut found = match self.similar_if_known(shop, id, &request).await? {
                    Ok(found) => found,
                    Err(silence) => return Ok(Answer::Silent(silence)),
                };
                found.retain(|r| !context.cart.contains(&r.product.id));
                found
            }
            Strategy::ForYou => {
                if !shopper_known {
                    return needs("client_id");
                }
                return self.for_you_answer(shop, context, limit).await;
            }
            Strategy::Complementary => {
                let mut items = context.cart.clone();
                items.extend(context.product_id.map(|p| p.0));
                if items.is_empty() {
                    return needs("product_id` or `cart");
                }
                self.cart(shop, &items, limit).await?
            }
            Strategy::Trending => self.trending(shop, &context.in_view(), limit).await?,
            Strategy::RecentlyViewed => {
                if !shopper_known {
                    return needs("client_id");
                }
                let mut found = self.recently_viewed(shop, context, limit + 1).await?;
                // The product on screen is not "recently viewed" on its own page.
                found.retain(|r| Some(r.product.id) != context.product_id.map(|p| p.0));
                found.truncate(limit);
                found
            }
            Strategy::NewArrivals => self.new_arrivals(shop, &context.in_view(), limit).await?,
            Strategy::BuyAgain => {
                if !shopper_known {
                    return needs("client_id");
                }
                let found = self.buy_again(shop, context, limit).await?;
                let rebuys = found.iter().map(|r| r.product.id).collect();
                return Ok(Answer::Said {
                    strategy,
                    found,
                    rebuys,
                });
            }
        };
        Ok(Answer::Said {
            strategy,
            found: answer,
            rebuys: HashSet::new(),
        })
    }

    /// The rules shelves are served under: the stored ones, read at most every
    /// `RULES_MAX_AGE` (every request reads them).
    pub async fn serving_rules(
        &self,
        shop: &ShopDomain,
    ) -> Result<Arc<MerchandisingRules>, AppError> {
        if let Some((_, rules)) = self
            .rules_cache
            .get(shop)
            .filter(|(age, _)| *age < RULES_MAX_AGE)
        {
            return Ok(rules);
        }
        let rules = Arc::new(self.rules(shop).await?);
        self.rules_cache.put(shop, rules.clone());
        Ok(rules)
    }

    /// The shop's rules as stored now, the defaults when it has none (what the merchant edits).
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
        self.stores().shops.put_shop_rules(shop, &raw).await?;
        self.rules_cache.put(shop, Arc::new(rules.clone()));
        Ok(())
    }

    /// For-you, with the shopper's likely re-buys where the shop's buyers re-buy; trending
    /// (said so) for a shopper it knows nothing of.
    async fn for_you_answer(
        &self,
        shop: &ShopDomain,
        context: &ShoppingContext,
        limit: usize,
    ) -> Result<Answer, AppError> {
        let (source, found) = self.for_you(shop, context).await?;
        let (found, rebuys) = self
            .with_repeat_purchases(shop, context, found, limit)
            .await?;
        let strategy = match source {
            ForYouSource::Trending if rebuys.is_empty() => Strategy::Trending,
            _ => Strategy::ForYou,
        };
        Ok(Answer::Said {
            strategy,
            found,
            rebuys,
        })
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
        let mut products = self.first_admitted(shop, &ids, limit, on_sale).await?;
        let top = scores.first().map_or(1.0, |(_, s)| *s);
        Ok(ranked
            .into_iter()
            .filter_map(|(id, score)| {
                let product = products.remove(&id)?;
                Some(Recommendation {
                    product,
                    score: (score / top) as f32,
                    reason: "trending in this shop".to_owned(),
                })
            })
            .take(limit)
            .collect())
    }

    /// Every product with interest or sales in the window, best first: computed at most once a
    /// minute per shop (a busy shop's week is many rows), shared by every request meanwhile;
    /// a shop with none yet is asked again each time.
    async fn trending_scores(&self, shop: &ShopDomain) -> Result<Arc<Vec<(u64, f64)>>, AppError> {
        let cached = self.trending_cache.get(shop);
        if let Some((_, scores)) = cached.filter(|(age, _)| *age < TRENDING_MAX_AGE) {
            return Ok(scores);
        }
        let now = self.stores().now();
        let today = now / DAY_MS;
        let tuning = SERVED.trending;
        let since = now - tuning.window_days * DAY_MS;
        let interest = self
            .stores()
            .events
            .daily_product_interest(shop, since)
            .await?
            .into_iter()
            .map(|(product, day, count)| (product, day, count as f64));
        // Best-sellers: units bought, as many views each as `unit_sold_weight` says.
        let sold = self
            .purchases_since(shop, since)
            .await?
            .into_iter()
            .flat_map(|p| {
                let day = p.at_ms / DAY_MS;
                p.lines.into_iter().map(move |line| {
                    (
                        line.product_id,
                        day,
                        f64::from(line.quantity) * tuning.unit_sold_weight,
                    )
                })
            });
        let counts = interest.chain(sold).map(|(product, day, weight)| {
            let age_secs = ((today - day).max(0) * DAY_MS / 1000) as f64;
            (product, age_secs, weight)
        });
        let trending = Popularity::from_counts(counts, tuning.recency());
        let ranked = Arc::new(
            trending
                .ranked()
                .iter()
                .map(|c| (c.item, c.score))
                .collect::<Vec<_>>(),
        );
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
