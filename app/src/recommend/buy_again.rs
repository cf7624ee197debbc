//! Buy again: what this shopper bought before and is likely to buy again, by how often and
//! how lately they bought it, helped by what the buyers most like them re-buy
//! (`retriever::recommend::BuyAgain`, trained with the shop's other interaction models).

use std::collections::{HashMap, HashSet};

use kindred_retriever::recommend::{distinct, Candidate, Session};

use super::history::purchased;
use super::interactions::ShopInteractions;
use super::ranked::on_sale;
use super::tuned::SERVED;
use super::{Recommendation, Recommender, ShoppingContext};
use crate::domain::{Buyer, ShopDomain};
use crate::error::AppError;
use crate::events::{EventKind, ShopperEvent};

impl Recommender {
    /// The shopper's likely repeat purchases, best first; nothing for a shopper who has not
    /// bought yet. Never held back by the "already bought" rule: re-buying is the point.
    pub(crate) async fn buy_again(
        &self,
        shop: &ShopDomain,
        context: &ShoppingContext,
        limit: usize,
    ) -> Result<Vec<Recommendation>, AppError> {
        let history = self.shopper_history(shop, context).await?;
        if checkouts(&history).is_empty() {
            return Ok(Vec::new());
        }
        let models = self.interactions(shop).await?;
        self.rebuys(shop, context, &history, &models, limit).await
    }

    /// The re-buys of a shopper who has bought, by the shop's trained buyers.
    async fn rebuys(
        &self,
        shop: &ShopDomain,
        context: &ShoppingContext,
        history: &[ShopperEvent],
        models: &ShopInteractions,
        limit: usize,
    ) -> Result<Vec<Recommendation>, AppError> {
        let me = Buyer::of(context.customer_id, context.client_id.as_ref())
            .and_then(|buyer| models.buyers.get(&buyer).copied());
        // More than asked: some may be sold out or unpublished now.
        let found =
            models
                .buy_again
                .recommend(me, &checkouts(history), limit * 3 + 10, &context.in_view());
        let bought = purchased(history);
        let ids: Vec<u64> = found.iter().map(|c| c.item).collect();
        let mut products = self.first_admitted(shop, &ids, limit, on_sale).await?;
        let top = found.first().map_or(1.0, |c| c.score);
        Ok(found
            .into_iter()
            .filter_map(|candidate| {
                let product = products.remove(&candidate.item)?;
                let reason = if bought.contains(&product.id) {
                    "you bought this before"
                } else {
                    "shoppers who buy what you buy buy this again"
                };
                Some(Recommendation {
                    product,
                    score: (candidate.score / top) as f32,
                    reason: reason.to_owned(),
                })
            })
            .take(limit)
            .collect())
    }
}

/// The shopper's checkouts as baskets (time in seconds), oldest first.
fn checkouts(history: &[ShopperEvent]) -> Vec<Session> {
    history
        .iter()
        .filter(|e| e.kind == EventKind::CheckoutCompleted && !e.line_items.is_empty())
        .map(|e| Session {
            items: distinct(
                &e.line_items
                    .iter()
                    .map(|l| l.product_id)
                    .collect::<Vec<_>>(),
            ),
            time: e.occurred_at / 1000,
        })
        .collect()
}

impl Recommender {
    /// For-you in a shop whose buyers re-buy: its own list fused with the shopper's likely
    /// re-buys by reciprocal rank, and which products of it are re-buys. Elsewhere, or for
    /// a shopper who has not bought yet, for-you's list as it was.
    pub(crate) async fn with_repeat_purchases(
        &self,
        shop: &ShopDomain,
        context: &ShoppingContext,
        for_you: Vec<Recommendation>,
        limit: usize,
    ) -> Result<(Vec<Recommendation>, HashSet<u64>), AppError> {
        let tuning = SERVED.repeat;
        // A shopper who has not bought is answered before the shop's models are asked for.
        let again = self.buy_again(shop, context, limit).await?;
        if again.is_empty() || self.interactions(shop).await?.repeat_share < tuning.min_repeat_share
        {
            return Ok((for_you, HashSet::new()));
        }
        let rebuys: HashSet<u64> = again.iter().map(|r| r.product.id).collect();
        let ranked = |list: &[Recommendation]| -> Vec<Candidate> {
            list.iter()
                .map(|r| Candidate {
                    item: r.product.id,
                    score: f64::from(r.score),
                })
                .collect()
        };
        let fused = tuning.fuse(ranked(&for_you), ranked(&again), limit);
        let mut by_id: HashMap<u64, Recommendation> = for_you
            .into_iter()
            .chain(again)
            .map(|r| (r.product.id, r))
            .collect();
        let top = fused.first().map_or(1.0, |c| c.score);
        let found = fused
            .into_iter()
            .filter_map(|c| {
                by_id.remove(&c.item).map(|r| Recommendation {
                    score: (c.score / top) as f32,
                    ..r
                })
            })
            .collect();
        Ok((found, rebuys))
    }
}
