//! The webhook topics Kindred subscribes to, and the body each one carries.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    ProductsCreate,
    ProductsUpdate,
    ProductsDelete,
    InventoryLevelsUpdate,
    AppUninstalled,
    BulkOperationsFinish,
    OrdersCreate,
    OrdersUpdated,
    OrdersCancelled,
    OrdersDelete,
    RefundsCreate,
    CustomersDataRequest,
    CustomersRedact,
    ShopRedact,
}

impl Topic {
    pub const ALL: [Topic; 14] = [
        Topic::ProductsCreate,
        Topic::ProductsUpdate,
        Topic::ProductsDelete,
        Topic::InventoryLevelsUpdate,
        Topic::AppUninstalled,
        Topic::BulkOperationsFinish,
        Topic::OrdersCreate,
        Topic::OrdersUpdated,
        Topic::OrdersCancelled,
        Topic::OrdersDelete,
        Topic::RefundsCreate,
        Topic::CustomersDataRequest,
        Topic::CustomersRedact,
        Topic::ShopRedact,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProductsCreate => "products/create",
            Self::ProductsUpdate => "products/update",
            Self::ProductsDelete => "products/delete",
            Self::InventoryLevelsUpdate => "inventory_levels/update",
            Self::AppUninstalled => "app/uninstalled",
            Self::BulkOperationsFinish => "bulk_operations/finish",
            Self::OrdersCreate => "orders/create",
            Self::OrdersUpdated => "orders/updated",
            Self::OrdersCancelled => "orders/cancelled",
            Self::OrdersDelete => "orders/delete",
            Self::RefundsCreate => "refunds/create",
            Self::CustomersDataRequest => "customers/data_request",
            Self::CustomersRedact => "customers/redact",
            Self::ShopRedact => "shop/redact",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    /// Whether a signed body is the kind of body this topic carries. Shopify signs the body
    /// alone, not the topic or shop headers, so a captured body replayed under another topic
    /// (a product update as `products/delete`, as `app/uninstalled`) or another shop must
    /// not be believed: each topic's body has fields the others lack, and the privacy and
    /// shop topics name their shop in the body.
    pub fn check_body(self, body: &serde_json::Value, shop: &str) -> Result<(), String> {
        let has = |field: &str| body.get(field).is_some_and(|v| !v.is_null());
        let named_shop = body
            .get("shop_domain")
            .or_else(|| body.get("myshopify_domain"))
            .and_then(|v| v.as_str());
        if named_shop.is_some_and(|named| !named.eq_ignore_ascii_case(shop)) {
            return Err(format!("the body names another shop than {shop}"));
        }
        let fits = match self {
            Self::ProductsCreate | Self::ProductsUpdate => has("id") && has("title"),
            // Shopify's delete body is the id alone.
            Self::ProductsDelete => has("id") && !has("title") && !has("variants"),
            Self::InventoryLevelsUpdate => has("inventory_item_id") && !has("title"),
            // The shop object.
            Self::AppUninstalled => {
                has("id") && body.get("name").is_some() && !has("title") && !has("line_items")
            }
            Self::BulkOperationsFinish => {
                has("admin_graphql_api_id") && !has("title") && !has("line_items")
            }
            // The order object; a cancellation carries `cancelled_at`.
            Self::OrdersCreate | Self::OrdersUpdated => {
                has("id") && has("line_items") && has("created_at")
            }
            Self::OrdersCancelled => has("id") && has("line_items") && has("cancelled_at"),
            // Shopify's delete body is the id alone.
            Self::OrdersDelete => has("id") && !has("line_items") && !has("title"),
            Self::RefundsCreate => has("id") && has("order_id") && has("refund_line_items"),
            Self::CustomersDataRequest => {
                has("data_request") && has("customer") && named_shop.is_some()
            }
            Self::CustomersRedact => {
                has("customer") && !has("data_request") && named_shop.is_some()
            }
            Self::ShopRedact => !has("customer") && named_shop.is_some(),
        };
        if !fits {
            return Err(format!("the body is not a {self} body"));
        }
        // An order or refund that cannot be read would never apply: refused at the door.
        use crate::shopify::orders::payload::{order_from_webhook, refund_from};
        match self {
            Self::OrdersCreate | Self::OrdersUpdated | Self::OrdersCancelled => {
                order_from_webhook(body).map(|_| ())
            }
            Self::RefundsCreate => refund_from(body, None).map(|_| ()),
            _ => Ok(()),
        }
        .map_err(|reason| format!("{self}: {reason}"))
    }

    /// The order topics (`shopify::orders` applies them).
    pub fn is_order(self) -> bool {
        matches!(
            self,
            Self::OrdersCreate
                | Self::OrdersUpdated
                | Self::OrdersCancelled
                | Self::OrdersDelete
                | Self::RefundsCreate
        )
    }

    /// The mandatory privacy topics, delivered to their own endpoint.
    pub fn is_compliance(self) -> bool {
        matches!(
            self,
            Self::CustomersDataRequest | Self::CustomersRedact | Self::ShopRedact
        )
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_and_compliance_is_separate() {
        for topic in Topic::ALL {
            assert_eq!(Topic::parse(topic.as_str()), Some(topic));
        }
        assert_eq!(Topic::parse("orders/paid"), None);
        assert_eq!(Topic::ALL.into_iter().filter(|t| t.is_order()).count(), 5);
        let compliance: Vec<_> = Topic::ALL
            .into_iter()
            .filter(|t| t.is_compliance())
            .collect();
        assert_eq!(compliance.len(), 3);
    }
}
