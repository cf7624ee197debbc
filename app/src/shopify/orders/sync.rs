//! The order history at install and on demand: one bulk query over the orders Shopify lets
//! the app read (the last 60 days with `read_orders`), its JSONL assembled into orders and
//! stored newest-version-wins, so a resumed or repeated read changes nothing twice.

use crate::catalog::SkippedRecord;
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::purchases::{Order, OrderSource};
use crate::shopify::orders::payload::order_from_graphql;
use crate::shopify::service::ShopifyService;
use crate::shopify::sync::bulk::BulkLines;
use crate::shopify::sync::BulkRead;
use crate::stores::{OrdersWritten, SyncState};

/// Orders written per transaction.
const WRITE_CHUNK: usize = 500;

impl ShopifyService {
    /// Asks for the shop's order history and reads it in the background (after any
    /// catalogue sync under way: one bulk operation per shop at a time).
    pub async fn request_order_sync(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        if !self.serving(shop).await? {
            return Err(AppError::UnknownShop(shop.to_string()));
        }
        let requested = self.stores().syncs.request_order_sync(shop).await?;
        self.spawn_sync(shop.clone());
        Ok(requested)
    }

    /// Runs (or resumes) a requested order history read to the end.
    pub(in crate::shopify) async fn run_order_sync(
        &self,
        shop: &ShopDomain,
    ) -> Result<(), AppError> {
        let Some(sync) = self.stores().syncs.order_sync_state(shop).await? else {
            return Ok(());
        };
        let Some(operation_id) = self
            .operation_to_wait_on(shop, BulkRead::Orders, sync.state, &sync.operation_id)
            .await?
        else {
            return Ok(());
        };
        let (url, objects) = self
            .wait_for_bulk(shop, &operation_id, BulkRead::Orders)
            .await?;
        self.stores()
            .syncs
            .order_sync_progress(shop, SyncState::Ingesting, objects, 0)
            .await?;
        let mut lines = order_lines();
        self.read_bulk_file(url, |line| lines.push_line(line))
            .await?;
        let (orders, skipped) = orders_of(lines);
        for skip in &skipped {
            tracing::warn!(%shop, location = %skip.location, reason = %skip.reason, "order record skipped");
        }
        let (mut written, mut outcome) = (0, OrdersWritten::default());
        for chunk in orders.chunks(WRITE_CHUNK) {
            let done = self
                .stores()
                .orders
                .upsert_orders(shop, chunk, OrderSource::Bulk)
                .await?;
            outcome.created += done.created;
            outcome.updated += done.updated;
            outcome.stale += done.stale;
            written += chunk.len() as i64;
            self.stores()
                .syncs
                .order_sync_progress(shop, SyncState::Ingesting, objects, written)
                .await?;
        }
        self.stores().syncs.order_sync_finished(shop, None).await?;
        self.inner.recommender.purchases_changed(shop);
        tracing::info!(%shop, orders = written, created = outcome.created, updated = outcome.updated,
            stale = outcome.stale, skipped = skipped.len(), "order history sync completed");
        Ok(())
    }
}

/// The order history's bulk file: orders with their line items.
fn order_lines() -> BulkLines {
    BulkLines::new(
        "orders.jsonl",
        "gid://shopify/Order/",
        &["gid://shopify/LineItem/"],
    )
}

/// The orders of an order history bulk file.
fn orders_of(lines: BulkLines) -> (Vec<Order>, Vec<SkippedRecord>) {
    lines.finish(|node, kids| order_from_graphql(node, &kids[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_items_join_their_order_wherever_they_are() {
        let mut bulk = order_lines();
        for line in [
            r#"{"id":"gid://shopify/LineItem/11","quantity":2,"currentQuantity":1,"product":{"id":"gid://shopify/Product/5"},"variant":null,"discountedUnitPriceAfterAllDiscountsSet":{"shopMoney":{"amount":"9.5","currencyCode":"EUR"}},"__parentId":"gid://shopify/Order/1"}"#,
            r#"{"id":"gid://shopify/Order/1","createdAt":"2026-11-01T10:00:00Z","updatedAt":"2026-11-02T10:00:00Z","cancelledAt":null,"test":true,"displayFinancialStatus":"PAID","currencyCode":"EUR","customer":{"id":"gid://shopify/Customer/8"},"customAttributes":[{"key":"_kindred_client_id","value":"b-1"}],"refunds":[{"id":"gid://shopify/Refund/3"}]}"#,
            r#"{"id":"gid://shopify/Order/2","createdAt":"not a time","updatedAt":"2026-11-02T10:00:00Z"}"#,
            r#"{"id":"gid://shopify/LineItem/12","quantity":1,"currentQuantity":1,"__parentId":"gid://shopify/Order/404"}"#,
            "{",
        ] {
            bulk.push_line(line);
        }
        let (orders, skipped) = orders_of(bulk);
        assert_eq!(orders.len(), 1);
        let order = &orders[0];
        assert!(order.test);
        assert_eq!(order.client_id.as_ref().map(|c| c.as_str()), Some("b-1"));
        assert_eq!(order.refund_ids, [3]);
        assert_eq!(order.lines[0].current_quantity, 1);
        assert_eq!(order.lines[0].product_id, Some(5));
        assert_eq!(order.lines[0].unit_price.as_deref(), Some("9.5"));
        assert_eq!(
            skipped.len(),
            3,
            "{:?}",
            skipped.iter().map(|s| &s.reason).collect::<Vec<_>>()
        );
    }
}
