//! Reconciliation: products updated in Shopify since the last watermark read back
//! periodically, so a webhook Shopify never delivered still arrives.

use serde_json::{json, Value};

use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::shopify::graphql::{product_from_graphql_node, PRODUCTS_UPDATED_SINCE};
use crate::shopify::service::{parse_time, Collections, ShopifyService};
use crate::stores::SyncState;

impl ShopifyService {
    /// Re-reads products updated since the shop's watermark: webhooks are neither
    /// guaranteed nor ordered, so this pass repairs what they missed. Returns products read.
    pub async fn reconcile(&self, shop: &ShopDomain) -> Result<usize, AppError> {
        let Some(sync) = self.stores().syncs.sync_state(shop).await? else {
            return Ok(0);
        };
        let Some(since) = sync
            .reconciled_until
            .filter(|_| sync.state == SyncState::Completed)
        else {
            return Ok(0); // the first full sync sets the watermark
        };
        let mut after: Option<String> = None;
        let mut watermark = parse_time(&since);
        let mut read = 0;
        loop {
            let data = self
                .admin_graphql(
                    shop,
                    PRODUCTS_UPDATED_SINCE,
                    json!({ "query": format!("updated_at:>'{since}'"), "after": after }),
                )
                .await?;
            let page = &data["products"];
            let mut products = Vec::new();
            for node in page["nodes"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                match product_from_graphql_node(node) {
                    Ok(product) => {
                        watermark =
                            watermark.max(product.updated_at.as_deref().and_then(parse_time));
                        products.push(product);
                    }
                    Err(reason) => {
                        tracing::warn!(%shop, %reason, "reconciliation skipped a product")
                    }
                }
            }
            read += products.len();
            self.upsert_from_shopify(shop, products, Collections::Included)
                .await?;
            match page.pointer("/pageInfo/endCursor").and_then(Value::as_str) {
                Some(cursor)
                    if page.pointer("/pageInfo/hasNextPage") == Some(&Value::Bool(true)) =>
                {
                    after = Some(cursor.to_owned())
                }
                _ => break,
            }
        }
        if let Some(mark) = watermark {
            self.stores()
                .syncs
                .save_watermark(
                    shop,
                    &mark.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                )
                .await?;
        }
        Ok(read)
    }

    /// One reconciliation pass over every installed shop.
    pub async fn reconcile_all(&self) {
        let shops = match self.stores().installs.active_installs().await {
            Ok(shops) => shops,
            Err(err) => return tracing::warn!(error = %err, "reconciliation could not list shops"),
        };
        for shop in shops {
            match self.reconcile(&shop).await {
                Ok(0) => {}
                Ok(read) => tracing::info!(%shop, read, "reconciled"),
                Err(err) => {
                    tracing::warn!(%shop, error = %err, "reconciliation failed; next pass retries")
                }
            }
        }
    }
}
