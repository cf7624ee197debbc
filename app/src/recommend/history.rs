//! A shopper's history as the strategies read it: their browser's latest events and, for a
//! customer a signed source named, those of every browser they used, with their orders as
//! the checkouts they were; and the strategy that is nothing but that history (recently viewed).

use std::collections::HashSet;
use std::sync::Arc;

use super::Recommendation;
use super::Recommender;
use super::ShoppingContext;
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::events::{EventKind, ShopperEvent, MAX_HISTORY_EVENTS};
use crate::purchases::purchases_as_checkouts;

/// A shopper's orders read with their history: their latest, a person's orders, not a shop's.
const MAX_SHOPPER_ORDERS: usize = 100;

impl Recommender {
    /// What the shopper did, oldest first: the browser's events, and for a logged-in
    /// customer those of every browser that sent their id; their orders (the customer's, and
    /// those placed in this browser) stand for their checkouts.
    pub(crate) async fn shopper_history(
        &self,
        shop: &ShopDomain,
        context: &ShoppingContext,
    ) -> Result<Arc<Vec<ShopperEvent>>, AppError> {
        // Read once per request: the rules (purchases) and the strategy share it.
        if let Some(history) = &context.history {
            return Ok(history.clone());
        }
        let mut history = match &context.client_id {
            Some(client) => self.stores().events.client_events(shop, client).await?,
            None => Vec::new(),
        };
        if let Some(customer) = context.customer_id {
            let known: HashSet<String> = history.iter().map(|e| e.event_id.clone()).collect();
            let theirs = self.stores().events.customer_events(shop, customer).await?;
            history.extend(
                theirs
                    .into_iter()
                    .filter(|e| e.kind.is_shopper_intent() && !known.contains(&e.event_id)),
            );
        }
        let orders = self
            .stores()
            .orders
            .shopper_orders(
                shop,
                context.customer_id,
                context.client_id.as_ref(),
                MAX_SHOPPER_ORDERS,
            )
            .await?;
        // In time order with the orders in it (`purchases_as_checkouts` sorts); capped reads
        // together: still only the latest count.
        let mut history = purchases_as_checkouts(&history, &orders);
        let surplus = history.len().saturating_sub(MAX_HISTORY_EVENTS);
        history.drain(..surplus);
        Ok(Arc::new(history))
    }

    /// What the shopper looked at, most recent first, each product once; sold-out and
    /// deleted products are left out.
    pub async fn recently_viewed(
        &self,
        shop: &ShopDomain,
        context: &ShoppingContext,
        limit: usize,
    ) -> Result<Vec<Recommendation>, AppError> {
        let history = self.shopper_history(shop, context).await?;
        let mut seen = HashSet::new();
        let ids: Vec<u64> = history
            .iter()
            .rev()
            .filter(|e| e.kind == EventKind::ProductViewed)
            .filter_map(|e| e.product_id)
            .filter(|id| seen.insert(*id))
            .collect();
        let mut products = self.stores().products.products_by_id(shop, &ids).await?;
        Ok(ids
            .into_iter()
            .filter_map(|id| products.remove(&id))
            .filter(|p| p.available)
            .take(limit)
            .map(|product| Recommendation {
                product,
                score: 1.0,
                reason: "you viewed this".to_owned(),
            })
            .collect())
    }
}

/// What the shopper bought (their checkouts).
pub(super) fn purchased(history: &[ShopperEvent]) -> HashSet<u64> {
    history
        .iter()
        .filter(|e| e.kind == EventKind::CheckoutCompleted)
        .flat_map(|e| e.line_items.iter().map(|l| l.product_id))
        .collect()
}
