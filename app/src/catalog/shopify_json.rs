//! Products in Shopify's JSON shapes: the storefront `products.json` (tags as a list,
//! `available` on variants) and the Admin REST / webhook shape (tags as one string,
//! inventory fields on variants). One function reads both, field by field, so one bad
//! record never spoils the rest of a file.

use serde_json::Value;

use crate::domain::{parse_price, split_list, Product, ProductOption, ProductStatus};

/// Reads one product object; the error says which field was wrong.
pub fn product_from_json(value: &Value) -> Result<Product, String> {
    let object = value.as_object().ok_or("product is not a JSON object")?;
    let id = read_id(object.get("id")).ok_or("`id` is missing or not a positive 64-bit integer")?;
    let title = non_empty(object.get("title")).ok_or("`title` is missing or empty")?;
    let handle = non_empty(object.get("handle")).unwrap_or_else(|| slug(&title));
    let variants = object
        .get("variants")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);

    let prices: Vec<i64> = variants
        .iter()
        .filter_map(|v| v.get("price"))
        .filter_map(price_of)
        .collect();
    let compare_at: Vec<i64> = variants
        .iter()
        .filter_map(|v| v.get("compare_at_price"))
        .filter_map(price_of)
        .collect();
    let status = match object.get("status").and_then(Value::as_str) {
        Some(raw) => {
            ProductStatus::parse(raw).ok_or_else(|| format!("unknown `status` `{raw}`"))?
        }
        // Storefront feeds list only published products.
        None => ProductStatus::Active,
    };

    Ok(Product {
        id,
        handle,
        title,
        description_html: object
            .get("body_html")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        vendor: non_empty(object.get("vendor")),
        product_type: non_empty(object.get("product_type")),
        tags: read_tags(object.get("tags")),
        options: read_options(object.get("options")),
        status,
        available: variants.iter().any(variant_available),
        price_cents: prices.iter().copied().min(),
        compare_at_price_cents: compare_at.iter().copied().min(),
        image_url: read_image(object),
        collections: Vec::new(),
        updated_at: object
            .get("updated_at")
            .and_then(Value::as_str)
            .map(str::to_owned),
        // A draft has a `created_at` but was never published: it is no arrival yet.
        published_at: ["published_at", "created_at"]
            .iter()
            .find_map(|key| object.get(*key).and_then(Value::as_str))
            .map(str::to_owned),
        // GraphQL says `isGiftCard`; the Admin REST shape says it through the variants'
        // fulfilment service; storefront feeds only through the product type.
        gift_card: object.get("is_gift_card").and_then(Value::as_bool) == Some(true)
            || variants
                .iter()
                .any(|v| v.get("fulfillment_service").and_then(Value::as_str) == Some("gift_card"))
            || object
                .get("product_type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("gift card")),
    })
}

/// Ids arrive as JSON integers (possibly above 2^53) or, in GraphQL-shaped data, as strings.
fn read_id(value: Option<&Value>) -> Option<u64> {
    crate::ids::shopify_id(value?)
}

fn non_empty(value: Option<&Value>) -> Option<String> {
    let text = value?.as_str()?.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn price_of(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => parse_price(s),
        Value::Number(n) => parse_price(&n.to_string()),
        _ => None,
    }
}

fn read_tags(value: Option<&Value>) -> Vec<String> {
    let mut tags = match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(Value::String(joined)) => split_list(joined),
        _ => Vec::new(),
    };
    tags.dedup();
    tags
}

fn read_options(value: Option<&Value>) -> Vec<ProductOption> {
    let Some(options) = value.and_then(Value::as_array) else {
        return Vec::new();
    };
    options
        .iter()
        .filter_map(|option| {
            let name = non_empty(option.get("name"))?;
            let values = option
                .get("values")
                .and_then(Value::as_array)
                .map(|vs| {
                    vs.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            Some(ProductOption { name, values })
        })
        .collect()
}

/// Storefront variants say `available`; Admin variants carry inventory fields instead.
fn variant_available(variant: &Value) -> bool {
    if let Some(available) = variant.get("available").and_then(Value::as_bool) {
        return available;
    }
    let tracked = variant
        .get("inventory_management")
        .and_then(Value::as_str)
        .is_some();
    let oversell = variant.get("inventory_policy").and_then(Value::as_str) == Some("continue");
    let quantity = variant.get("inventory_quantity").and_then(Value::as_i64);
    !tracked || oversell || quantity.is_none_or(|q| q > 0)
}

fn read_image(object: &serde_json::Map<String, Value>) -> Option<String> {
    let from_image = object
        .get("image")
        .and_then(|i| i.get("src"))
        .and_then(Value::as_str);
    let from_images = object
        .get("images")
        .and_then(Value::as_array)
        .and_then(|images| images.first())
        .and_then(|i| i.get("src"))
        .and_then(Value::as_str);
    from_image.or(from_images).map(str::to_owned)
}

/// A handle from a title, for records that lack one.
pub fn slug(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_admin_webhook_shape_with_large_ids() {
        let body = include_str!("../../../../shared/data/webhooks/products_create.json");
        let value: Value = serde_json::from_str(body).unwrap();
        let product = product_from_json(&value).unwrap();
        assert_eq!(product.id, 788032119674292922);
        assert_eq!(product.tags, ["example", "mens", "t-shirt"]);
        assert_eq!(product.price_cents, Some(1999));
        assert_eq!(product.status, ProductStatus::Active);
        assert!(product.available);
    }

    #[test]
    fn reads_storefront_shape() {
        let body =
            include_str!("../../../../shared/data/catalogs/yoga-stores/2026-01-13/manduka.json");
        let value: Value = serde_json::from_str(body).unwrap();
        let products: Vec<Product> = value["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| product_from_json(p).unwrap())
            .collect();
        let pro = products.iter().find(|p| p.id == 4357742755898).unwrap();
        assert_eq!(pro.product_type.as_deref(), Some("Mats"));
        assert_eq!(pro.vendor.as_deref(), Some("Manduka"));
        assert!(pro.tags.contains(&"PRO Mat".to_owned()));
        assert_eq!(pro.options[1].name, "Size");
        assert!(pro.image_url.as_deref().unwrap().starts_with("https://"));
    }

    #[test]
    fn rejects_records_with_the_reason() {
        for (record, reason) in [
            (serde_json::json!([]), "not a JSON object"),
            (serde_json::json!({"title": "x"}), "`id`"),
            (serde_json::json!({"id": 1.5, "title": "x"}), "`id`"),
            (serde_json::json!({"id": -3, "title": "x"}), "`id`"),
            (serde_json::json!({"id": 3, "title": "  "}), "`title`"),
            (
                serde_json::json!({"id": 3, "title": "x", "status": "gone"}),
                "status",
            ),
        ] {
            let err = product_from_json(&record).unwrap_err();
            assert!(err.contains(reason), "{err}");
        }
    }

    #[test]
    fn admin_inventory_decides_availability() {
        let sold_out = serde_json::json!({"id": 1, "title": "t", "variants": [
            {"price": "1.00", "inventory_management": "shopify", "inventory_policy": "deny", "inventory_quantity": 0}]});
        let oversold = serde_json::json!({"id": 1, "title": "t", "variants": [
            {"price": "1.00", "inventory_management": "shopify", "inventory_policy": "continue", "inventory_quantity": 0}]});
        assert!(!product_from_json(&sold_out).unwrap().available);
        assert!(product_from_json(&oversold).unwrap().available);
    }
}
