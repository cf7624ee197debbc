//! The privacy topics: shop/redact (every row and vector of the shop),
//! customers/data_request (what Kindred holds about the customer, kept for the merchant) and
//! customers/redact (their orders, those named, and everything else of theirs).

use chrono::Utc;
use serde_json::{json, Value};

use crate::domain::{CustomerId, ShopDomain};
use crate::error::AppError;
use crate::shopify::service::ShopifyService;

impl ShopifyService {
    /// shop/redact: every row and vector of the shop.
    pub(in crate::shopify) async fn redact_shop(&self, shop: &ShopDomain) -> Result<(), AppError> {
        self.inner.recommender.delete_shop(shop).await?;
        self.inner.keys.invalidate();
        tracing::info!(%shop, "shop redacted");
        Ok(())
    }

    /// customers/data_request: what Kindred holds about the customer, kept for the merchant
    /// (`GET /api/v1/shops/{shop}/privacy/exports`). Kindred's catalogue holds no customer
    /// data; the export lists every store of shopper data it has, each empty or filled.
    pub(in crate::shopify) async fn export_customer(
        &self,
        shop: &ShopDomain,
        body: &Value,
    ) -> Result<(), AppError> {
        let customer = customer_id(body).map_err(|e| AppError::InvalidInput(e.to_owned()))?;
        let request_id = body
            .pointer("/data_request/id")
            .map(|v| v.to_string())
            .unwrap_or_else(|| format!("customer-{customer}-{}", self.stores().now()));
        let requested = order_ids(body, "orders_requested");
        let orders = self
            .stores()
            .orders
            .customer_orders(shop, customer, &requested)
            .await?;
        let export = json!({
            "shop": shop.as_str(),
            "customer_id": customer.to_string(),
            "generated_at": Utc::now().to_rfc3339(),
            "orders_requested": body.get("orders_requested").cloned().unwrap_or(json!([])),
            "data": {
                "events": self.stores().events.customer_export_events(shop, customer).await?,
                "orders": orders.orders,
                "refunds": orders.refunds,
            },
        });
        self.stores()
            .privacy
            .save_customer_export(shop, customer, &request_id, &export.to_string())
            .await
    }

    /// customers/redact: the customer's orders, those the request names, and everything
    /// else of theirs.
    pub(in crate::shopify) async fn redact_customer(
        &self,
        shop: &ShopDomain,
        body: &Value,
    ) -> Result<(), AppError> {
        let customer = customer_id(body).map_err(|e| AppError::InvalidInput(e.to_owned()))?;
        let named = order_ids(body, "orders_to_redact");
        self.inner
            .recommender
            .redact_customer(shop, customer, &named)
            .await?;
        Ok(())
    }
}

/// The order ids a privacy request lists (`orders_to_redact`, `orders_requested`).
fn order_ids(body: &Value, field: &str) -> Vec<u64> {
    body.get(field)
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(crate::ids::shopify_id).collect())
        .unwrap_or_default()
}

/// The customer a privacy request names.
fn customer_id(body: &Value) -> Result<CustomerId, &'static str> {
    body.pointer("/customer/id")
        .and_then(crate::ids::shopify_id)
        .map(CustomerId)
        .ok_or("privacy request without `customer.id`")
}
