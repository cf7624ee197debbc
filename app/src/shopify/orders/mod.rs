//! Orders from Shopify: the order webhooks applied (`orders/create`, `orders/updated`,
//! `orders/cancelled`, `orders/delete`, `refunds/create`), the order history's bulk read
//! (`sync`) and the reading of both shapes (`payload`). Every write is idempotent and the
//! newest version of an order wins, so duplicates, reordering and replays change nothing.

pub mod payload;
pub mod sync;

use serde_json::Value;

use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::purchases::OrderSource;
use crate::shopify::service::ShopifyService;
use crate::shopify::webhooks::Topic;

impl ShopifyService {
    /// One order webhook. A body that cannot be read is an error the inbox parks (it would
    /// never apply); nothing already stored changes.
    pub(in crate::shopify) async fn apply_order_topic(
        &self,
        shop: &ShopDomain,
        topic: Topic,
        body: &Value,
    ) -> Result<(), AppError> {
        if !self.serving(shop).await? {
            return Ok(());
        }
        let invalid = |reason: String| AppError::InvalidInput(format!("{topic}: {reason}"));
        let orders = &self.stores().orders;
        match topic {
            Topic::OrdersCreate | Topic::OrdersUpdated | Topic::OrdersCancelled => {
                let order = payload::order_from_webhook(body).map_err(invalid)?;
                // The refunds it lists are stored too, so a refunds/create that comes later
                // (or came first) is counted once.
                let refunds = payload::refund_list(body, order.id).map_err(invalid)?;
                orders.add_refunds(shop, &refunds).await?;
                orders
                    .upsert_orders(shop, std::slice::from_ref(&order), OrderSource::Webhook)
                    .await?;
            }
            Topic::RefundsCreate => {
                let refund = payload::refund_from(body, None).map_err(invalid)?;
                orders
                    .add_refunds(shop, std::slice::from_ref(&refund))
                    .await?;
            }
            Topic::OrdersDelete => {
                let id = body
                    .get("id")
                    .and_then(crate::ids::shopify_id)
                    .ok_or_else(|| invalid("no order `id`".into()))?;
                orders.delete_order(shop, id).await?;
            }
            _ => return Err(AppError::Internal(format!("{topic} is not an order topic"))),
        }
        self.inner.recommender.purchases_changed(shop);
        Ok(())
    }
}
