//! Every GraphQL document Kindred sends to the Admin API (each is validated against
//! Shopify's published 2025-10 schema in the tests), and the reading of its answers into
//! [`Product`]s through the same field parser as every other Shopify shape.

use serde_json::{json, Map, Value};

use crate::catalog::product_from_json;
use crate::domain::Product;

/// The product fields Kindred keeps. One list for the bulk query, reconciliation and
/// single-product reads, so they can never disagree.
macro_rules! product_fields {
    () => {
        "id title handle descriptionHtml vendor productType tags status updatedAt publishedAt createdAt isGiftCard \
         options { name values } \
         featuredMedia { preview { image { url } } }"
    };
}

macro_rules! variant_fields {
    () => {
        "id price compareAtPrice availableForSale inventoryItem { id }"
    };
}

/// The bulk query: every product with its variants and collections. In the JSONL output
/// variants and collections are lines of their own carrying `__parentId`.
pub const BULK_PRODUCTS_QUERY: &str = concat!(
    "{ products { edges { node { ",
    product_fields!(),
    " variants { edges { node { ",
    variant_fields!(),
    " } } } collections { edges { node { id } } } } } } }"
);

/// The order history bulk query: every order the app may read (Shopify keeps that to the
/// last 60 days with `read_orders`), its line items as child lines. `currentQuantity` is
/// what stands after edits and refunds; the refund ids say which refunds it counts.
pub const BULK_ORDERS_QUERY: &str = "{ orders { edges { node { \
     id createdAt updatedAt cancelledAt test displayFinancialStatus currencyCode \
     customer { id } customAttributes { key value } refunds { id } \
     lineItems { edges { node { id quantity currentQuantity product { id } variant { id } \
     discountedUnitPriceAfterAllDiscountsSet { shopMoney { amount currencyCode } } } } } } } } }";

/// The app's web pixel in the shop (one per app), with its settings.
pub const WEB_PIXEL: &str = "query KindredWebPixel {
  webPixel { id settings }
}";

pub const WEB_PIXEL_CREATE: &str = "mutation KindredWebPixelCreate($settings: JSON!) {
  webPixelCreate(webPixel: { settings: $settings }) {
    webPixel { id settings }
    userErrors { field message code }
  }
}";

pub const WEB_PIXEL_UPDATE: &str = "mutation KindredWebPixelUpdate($id: ID!, $settings: JSON!) {
  webPixelUpdate(id: $id, webPixel: { settings: $settings }) {
    webPixel { id settings }
    userErrors { field message code }
  }
}";

pub const RUN_BULK_QUERY: &str = "mutation KindredStartBulkRead($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}";

pub const BULK_OPERATION_STATUS: &str = "query KindredBulkOperation($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode objectCount url partialDataUrl }
  }
}";

/// Products updated after a watermark, oldest first, for reconciliation.
pub const PRODUCTS_UPDATED_SINCE: &str = concat!(
    "query KindredProductsUpdatedSince($query: String!, $after: String) {
  products(first: 100, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ",
    product_fields!(),
    " variants(first: 100) { nodes { ",
    variant_fields!(),
    " } } collections(first: 50) { nodes { id } } }
  }
}"
);

/// The product an inventory item belongs to (inventory_levels/update names only the item).
pub const PRODUCT_OF_INVENTORY_ITEM: &str = concat!(
    "query KindredProductOfInventoryItem($id: ID!) {
  inventoryItem(id: $id) {
    variant { product { ",
    product_fields!(),
    " variants(first: 100) { nodes { ",
    variant_fields!(),
    " } } collections(first: 50) { nodes { id } } } }
  }
}"
);

/// Whether the shop is a development store (its charges are test charges).
pub const SHOP_PLAN: &str = "query KindredShopPlan { shop { plan { partnerDevelopment } } }";

/// The app's active subscriptions on the shop: Shopify's word on what the merchant pays.
pub const ACTIVE_SUBSCRIPTIONS: &str = "query KindredActiveSubscriptions {
  currentAppInstallation { activeSubscriptions { id name status test } }
}";

/// A recurring charge the merchant approves on Shopify's page (`confirmationUrl`).
pub const APP_SUBSCRIPTION_CREATE: &str = "mutation KindredSubscribe($name: String!, $returnUrl: URL!, \
$test: Boolean, $trialDays: Int, $price: Decimal!, $currency: CurrencyCode!) {
  appSubscriptionCreate(name: $name, returnUrl: $returnUrl, test: $test, trialDays: $trialDays,
    lineItems: [{ plan: { appRecurringPricingDetails: { price: { amount: $price, currencyCode: $currency }, interval: EVERY_30_DAYS } } }]) {
    appSubscription { id status test }
    confirmationUrl
    userErrors { field message }
  }
}";

pub const APP_SUBSCRIPTION_CANCEL: &str = "mutation KindredCancelSubscription($id: ID!) {
  appSubscriptionCancel(id: $id) {
    appSubscription { id status }
    userErrors { field message }
  }
}";

/// Every document above, by name, for the schema test.
pub const ALL_DOCUMENTS: &[(&str, &str)] = &[
    ("bulk products query", BULK_PRODUCTS_QUERY),
    ("bulk orders query", BULK_ORDERS_QUERY),
    ("web pixel", WEB_PIXEL),
    ("web pixel create", WEB_PIXEL_CREATE),
    ("web pixel update", WEB_PIXEL_UPDATE),
    ("run bulk query", RUN_BULK_QUERY),
    ("bulk operation status", BULK_OPERATION_STATUS),
    ("products updated since", PRODUCTS_UPDATED_SINCE),
    ("product of inventory item", PRODUCT_OF_INVENTORY_ITEM),
    ("shop plan", SHOP_PLAN),
    ("active subscriptions", ACTIVE_SUBSCRIPTIONS),
    ("app subscription create", APP_SUBSCRIPTION_CREATE),
    ("app subscription cancel", APP_SUBSCRIPTION_CANCEL),
];

/// A product node (GraphQL field names) with its variant and collection nodes, read into a
/// [`Product`]. Errors name the bad field.
pub fn product_from_graphql(
    node: &Value,
    variants: &[Value],
    collections: &[Value],
) -> Result<Product, String> {
    let object = node.as_object().ok_or("product is not a JSON object")?;
    let field = |name: &str| object.get(name).cloned().unwrap_or(Value::Null);
    let rest_variants: Vec<Value> = variants
        .iter()
        .map(|v| {
            json!({
                "price": v.get("price").cloned().unwrap_or(Value::Null),
                "compare_at_price": v.get("compareAtPrice").cloned().unwrap_or(Value::Null),
                "available": v.get("availableForSale").and_then(Value::as_bool).unwrap_or(false),
            })
        })
        .collect();
    let mut rest = Map::new();
    rest.insert("id".into(), field("id"));
    rest.insert("title".into(), field("title"));
    rest.insert("handle".into(), field("handle"));
    rest.insert("body_html".into(), field("descriptionHtml"));
    rest.insert("vendor".into(), field("vendor"));
    rest.insert("product_type".into(), field("productType"));
    rest.insert("tags".into(), field("tags"));
    rest.insert("status".into(), field("status"));
    rest.insert("options".into(), field("options"));
    rest.insert("variants".into(), Value::Array(rest_variants));
    rest.insert("updated_at".into(), field("updatedAt"));
    rest.insert("published_at".into(), field("publishedAt"));
    rest.insert("created_at".into(), field("createdAt"));
    rest.insert("is_gift_card".into(), field("isGiftCard"));
    if let Some(url) = node
        .pointer("/featuredMedia/preview/image/url")
        .and_then(Value::as_str)
    {
        rest.insert("image".into(), json!({ "src": url }));
    }
    let mut product = product_from_json(&Value::Object(rest))?;
    product.collections = collections
        .iter()
        .filter_map(|c| {
            c.get("id")
                .and_then(Value::as_str)
                .and_then(crate::ids::shopify_id_text)
        })
        .collect();
    product.collections.sort_unstable();
    product.collections.dedup();
    Ok(product)
}

/// A product node from a paginated query (`variants { nodes }`, `collections { nodes }`).
pub fn product_from_graphql_node(node: &Value) -> Result<Product, String> {
    let nodes = |path: &str| {
        node.pointer(path)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    product_from_graphql(
        node,
        &nodes("/variants/nodes"),
        &nodes("/collections/nodes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_products_read_like_every_other_shape() {
        let node = json!({
            "id": "gid://shopify/Product/7982927872151", "title": "PRO Yoga Mat 6mm", "handle": "pro-yoga-mat",
            "descriptionHtml": "<p>Dense <b>cushioning</b></p>", "vendor": "Manduka", "productType": "Mats",
            "tags": ["PRO Mat", "yoga"], "status": "ACTIVE", "updatedAt": "2026-01-13T09:12:44Z",
            "options": [{"name": "Color", "values": ["Black", "Verve"]}],
            "featuredMedia": {"preview": {"image": {"url": "https://cdn.shopify.com/pro.jpg"}}},
            "variants": {"nodes": [
                {"id": "gid://shopify/ProductVariant/1", "price": "144.00", "compareAtPrice": null, "availableForSale": false},
                {"id": "gid://shopify/ProductVariant/2", "price": "129.00", "compareAtPrice": "149.00", "availableForSale": true}
            ]},
            "collections": {"nodes": [{"id": "gid://shopify/Collection/44"}, {"id": "gid://shopify/Collection/12"}]}
        });
        let product = product_from_graphql_node(&node).unwrap();
        assert_eq!(product.id, 7982927872151);
        assert_eq!(product.price_cents, Some(12900));
        assert_eq!(product.compare_at_price_cents, Some(14900));
        assert!(product.available);
        assert_eq!(product.collections, [12, 44]);
        assert_eq!(
            product.image_url.as_deref(),
            Some("https://cdn.shopify.com/pro.jpg")
        );
        assert_eq!(product.updated_at.as_deref(), Some("2026-01-13T09:12:44Z"));
        assert_eq!(product.status.as_str(), "active");
        let no_id = json!({"title": "x"});
        assert!(product_from_graphql_node(&no_id)
            .unwrap_err()
            .contains("`id`"));
    }
}
