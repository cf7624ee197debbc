//! Each topic applied to the catalogue: products created, updated and deleted (newest
//! version wins, tombstones keep deletions), inventory changes, and app/uninstalled.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::inbox::Failure;
use crate::domain::{Product, ProductId, ShopDomain};
use crate::error::AppError;
use crate::progress::Silent;
use crate::shopify::graphql::{product_from_graphql_node, PRODUCT_OF_INVENTORY_ITEM};
use crate::shopify::service::{parse_time, Collections, ShopifyService};
use crate::shopify::webhooks::Topic;
use crate::stores::PendingDelivery;

impl ShopifyService {
    pub(super) async fn apply_one(
        &self,
        shop: &ShopDomain,
        topic: Topic,
        delivery: &PendingDelivery,
    ) -> Result<(), Failure> {
        let body: Value = serde_json::from_str(&delivery.body).map_err(|e| e.to_string())?;
        let result = match topic {
            Topic::ProductsCreate | Topic::ProductsUpdate => {
                unreachable!("product upserts are applied in groups")
            }
            Topic::ProductsDelete => {
                let id = body
                    .get("id")
                    .and_then(Value::as_u64)
                    .ok_or("products/delete without a numeric `id`")?;
                self.delete_from_shopify(shop, id).await
            }
            Topic::InventoryLevelsUpdate => self.apply_inventory_update(shop, &body).await,
            Topic::AppUninstalled => self.uninstall(shop).await,
            Topic::BulkOperationsFinish => {
                // The sync task waits on this; it reads the operation's result itself.
                self.inner.bulk_finished.notify_waiters();
                Ok(())
            }
            Topic::OrdersCreate
            | Topic::OrdersUpdated
            | Topic::OrdersCancelled
            | Topic::OrdersDelete
            | Topic::RefundsCreate => self.apply_order_topic(shop, topic, &body).await,
            Topic::CustomersDataRequest => self.export_customer(shop, &body).await,
            Topic::CustomersRedact => self.redact_customer(shop, &body).await,
            Topic::ShopRedact => self.redact_shop(shop).await,
        };
        result.map_err(Failure::from)
    }

    /// Creates and updates from Shopify (webhooks, bulk sync, reconciliation), minus what
    /// was deleted there and what is older than what Kindred already has.
    pub async fn upsert_from_shopify(
        &self,
        shop: &ShopDomain,
        products: Vec<Product>,
        collections: Collections,
    ) -> Result<usize, AppError> {
        if !self.serving(shop).await? {
            return Ok(0);
        }
        let mut newest: HashMap<u64, Product> = HashMap::with_capacity(products.len());
        for product in products {
            match newest.get(&product.id) {
                Some(kept) if is_older(&product, kept) => {}
                _ => {
                    newest.insert(product.id, product);
                }
            }
        }
        let ids: Vec<u64> = newest.keys().copied().collect();
        for id in self.stores().syncs.tombstoned(shop, &ids).await? {
            newest.remove(&id);
        }
        for chunk in ids.chunks(500) {
            for stored in self.stores().products.get_products(shop, chunk).await? {
                if newest
                    .get(&stored.id)
                    .is_some_and(|incoming| is_older(incoming, &stored))
                {
                    newest.remove(&stored.id);
                } else if let (Collections::Unknown, Some(incoming)) =
                    (collections, newest.get_mut(&stored.id))
                {
                    incoming.collections = stored.collections;
                }
            }
        }
        let mut products: Vec<Product> = newest.into_values().collect();
        products.sort_by_key(|p| p.id);
        let count = products.len();
        if count > 0 {
            self.inner
                .recommender
                .catalog()
                .ingest(shop, products, &Silent)
                .await?;
        }
        Ok(count)
    }

    pub(in crate::shopify) async fn delete_from_shopify(
        &self,
        shop: &ShopDomain,
        id: u64,
    ) -> Result<(), AppError> {
        let id = ProductId::parse(&id.to_string())?;
        // The tombstone first: from here on no late update can bring the product back.
        self.stores().syncs.add_tombstone(shop, id.0).await?;
        self.inner
            .recommender
            .catalog()
            .delete_product(shop, id)
            .await?;
        Ok(())
    }

    async fn apply_inventory_update(
        &self,
        shop: &ShopDomain,
        body: &Value,
    ) -> Result<(), AppError> {
        if !self.serving(shop).await? {
            return Ok(());
        }
        let item = body
            .get("inventory_item_id")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                AppError::InvalidInput("inventory_levels/update without `inventory_item_id`".into())
            })?;
        // The delivery names only the inventory item: read the product it belongs to, whole,
        // so availability is computed from every variant as Shopify has it now.
        let data = self
            .admin_graphql(
                shop,
                PRODUCT_OF_INVENTORY_ITEM,
                json!({ "id": format!("gid://shopify/InventoryItem/{item}") }),
            )
            .await?;
        let Some(node) = data
            .pointer("/inventoryItem/variant/product")
            .filter(|n| !n.is_null())
        else {
            return Ok(()); // the item or its product is gone; products/delete covers that
        };
        let product = product_from_graphql_node(node).map_err(AppError::Upstream)?;
        self.upsert_from_shopify(shop, vec![product], Collections::Included)
            .await?;
        Ok(())
    }

    /// app/uninstalled: tokens revoked and the storefront no longer served at once; the
    /// catalogue waits for shop/redact (Shopify sends it 48 hours later), so a merchant who
    /// reinstalls in between finds it intact.
    async fn uninstall(&self, shop: &ShopDomain) -> Result<(), AppError> {
        self.stores().installs.mark_uninstalled(shop).await?;
        self.inner.keys.invalidate();
        tracing::info!(%shop, "app uninstalled; tokens and storefront keys revoked");
        Ok(())
    }
}

/// Whether `incoming` is an older version than `kept`, by Shopify's `updated_at`. Equal
/// times are not older: inventory changes keep the product's `updated_at`, so a re-read at
/// the same time must still apply.
fn is_older(incoming: &Product, kept: &Product) -> bool {
    match (
        incoming.updated_at.as_deref().and_then(parse_time),
        kept.updated_at.as_deref().and_then(parse_time),
    ) {
        (Some(incoming), Some(kept)) => incoming < kept,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(updated_at: Option<&str>) -> Product {
        let mut p = crate::catalog::product_from_json(&json!({"id": 1, "title": "Mat"})).unwrap();
        p.updated_at = updated_at.map(str::to_owned);
        p
    }

    #[test]
    fn older_means_earlier_in_time_across_offsets() {
        let utc = product(Some("2026-01-13T10:00:00Z"));
        let same_in_new_york = product(Some("2026-01-13T05:00:00-05:00"));
        let earlier = product(Some("2026-01-13T09:59:59+00:00"));
        assert!(!is_older(&same_in_new_york, &utc));
        assert!(is_older(&earlier, &utc));
        assert!(!is_older(&utc, &earlier));
        assert!(!is_older(&product(None), &utc));
    }
}
