//! Shopify's order shapes read into [`Order`]s and [`Refund`]s: the webhook body (Admin REST
//! field names: `line_items`, `note_attributes`, `refunds`) and the bulk query's GraphQL nodes
//! (`lineItems` as child lines, `customAttributes`). Errors name the bad field; a line
//! without a product (a custom line) is kept without one.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::domain::{ClientId, CustomerId};
use crate::ids::shopify_id;
use crate::purchases::{FinancialStatus, Order, OrderLine, Refund, RefundLine, CLIENT_ATTRIBUTE};

/// Most lines read from one order (Shopify allows far fewer in a checkout).
const MAX_LINES: usize = 1_000;

fn millis(value: Option<&Value>, name: &str) -> Result<Option<i64>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(raw)) => chrono::DateTime::parse_from_rfc3339(raw)
            .map(|t| Some(t.timestamp_millis()))
            .map_err(|_| format!("`{name}` is not an RFC 3339 time")),
        Some(_) => Err(format!("`{name}` must be a time")),
    }
}

fn required_millis(body: &Value, name: &str) -> Result<i64, String> {
    millis(body.get(name), name)?.ok_or_else(|| format!("the order has no `{name}`"))
}

fn id_field(body: &Value, name: &str) -> Result<u64, String> {
    body.get(name)
        .and_then(shopify_id)
        .ok_or_else(|| format!("`{name}` is missing or not a Shopify id"))
}

fn optional_id(value: Option<&Value>) -> Option<u64> {
    value.and_then(shopify_id)
}

fn quantity(value: Option<&Value>, name: &str) -> Result<u32, String> {
    value
        .and_then(Value::as_u64)
        .and_then(|q| u32::try_from(q).ok())
        .ok_or_else(|| format!("`{name}` must be a whole number"))
}

/// The order's custom attributes, and the browser the theme embed put among them.
fn attributes(pairs: Option<&Value>, key: &str) -> (BTreeMap<String, String>, Option<ClientId>) {
    let attributes: BTreeMap<String, String> = pairs
        .and_then(Value::as_array)
        .map(|pairs| {
            pairs
                .iter()
                .filter_map(|pair| {
                    let name = pair.get(key)?.as_str()?;
                    let value = match pair.get("value")? {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    Some((name.to_owned(), value))
                })
                .collect()
        })
        .unwrap_or_default();
    let client = attributes
        .get(CLIENT_ATTRIBUTE)
        .and_then(|id| ClientId::parse(id).ok());
    (attributes, client)
}

fn lines_array<'a>(body: &'a Value, name: &str) -> Result<&'a Vec<Value>, String> {
    let lines = body
        .get(name)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("the order has no `{name}` array"))?;
    if lines.len() > MAX_LINES {
        return Err(format!("more than {MAX_LINES} `{name}`"));
    }
    Ok(lines)
}

/// An order webhook's body (orders/create, orders/updated, orders/cancelled).
pub fn order_from_webhook(body: &Value) -> Result<Order, String> {
    let id = id_field(body, "id")?;
    let refunds = refund_list(body, id)?;
    // The units each refund this version lists took back, by line.
    let mut refunded: BTreeMap<u64, u32> = BTreeMap::new();
    for line in refunds.iter().flat_map(|r| &r.lines) {
        *refunded.entry(line.line_id).or_default() += line.quantity;
    }
    let lines = lines_array(body, "line_items")?
        .iter()
        .map(|line| {
            let line_id = id_field(line, "id").map_err(|e| format!("line_items[]: {e}"))?;
            let quantity = quantity(line.get("quantity"), "line_items[].quantity")?;
            // `current_quantity` counts edits and refunds; older payloads lack it.
            let after_refunds =
                quantity.saturating_sub(refunded.get(&line_id).copied().unwrap_or(0));
            let current = match line.get("current_quantity") {
                Some(Value::Null) | None => after_refunds,
                Some(q) => quantity_of(q)?.min(after_refunds),
            };
            Ok(OrderLine {
                line_id,
                product_id: optional_id(line.get("product_id")),
                variant_id: optional_id(line.get("variant_id")),
                quantity,
                current_quantity: current,
                unit_price: paid_unit_price(line, quantity),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let (attributes, client_id) = attributes(body.get("note_attributes"), "name");
    Ok(Order {
        id,
        customer_id: optional_id(body.pointer("/customer/id")).map(CustomerId),
        client_id,
        checkout_token: body
            .get("checkout_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .map(str::to_owned),
        created_at: required_millis(body, "created_at")?,
        updated_at: required_millis(body, "updated_at")?,
        cancelled_at: millis(body.get("cancelled_at"), "cancelled_at")?,
        financial_status: body
            .get("financial_status")
            .and_then(Value::as_str)
            .and_then(FinancialStatus::parse),
        test: body.get("test").and_then(Value::as_bool).unwrap_or(false),
        currency: text(body.get("currency")),
        lines,
        attributes,
        refund_ids: refunds.iter().map(|r| r.id).collect(),
    })
}

fn quantity_of(value: &Value) -> Result<u32, String> {
    quantity(Some(value), "line_items[].current_quantity")
}

fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_owned)
}

/// What one unit cost after the line's discounts, in the shop's currency: `price` less
/// `total_discount` spread over the units, to the cent.
fn paid_unit_price(line: &Value, quantity: u32) -> Option<String> {
    let amount = |v: Option<&Value>| -> Option<f64> {
        match v? {
            Value::String(s) => s.parse().ok(),
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    };
    let price = amount(line.get("price"))?;
    let discount = amount(line.get("total_discount")).unwrap_or(0.0);
    let unit = (price - discount / f64::from(quantity.max(1))).max(0.0);
    Some(format!("{unit:.2}"))
}

/// The refunds an order's body lists, with the lines each took back.
pub fn refund_list(body: &Value, order_id: u64) -> Result<Vec<Refund>, String> {
    let Some(refunds) = body.get("refunds").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    refunds
        .iter()
        .map(|refund| refund_from(refund, Some(order_id)))
        .collect()
}

/// A refunds/create body, or one refund of an order's body.
pub fn refund_from(body: &Value, order_id: Option<u64>) -> Result<Refund, String> {
    let id = id_field(body, "id")?;
    let order_id = match order_id {
        Some(id) => id,
        None => id_field(body, "order_id")?,
    };
    let lines = body
        .get("refund_line_items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|line| {
            Ok(RefundLine {
                line_id: id_field(line, "line_item_id")
                    .map_err(|e| format!("refund_line_items[]: {e}"))?,
                quantity: quantity(line.get("quantity"), "refund_line_items[].quantity")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Refund {
        id,
        order_id,
        created_at: millis(body.get("created_at"), "created_at")?.unwrap_or(0),
        lines,
    })
}

/// An order node of the bulk query with its line item nodes.
pub fn order_from_graphql(node: &Value, line_nodes: &[Value]) -> Result<Order, String> {
    let id = id_field(node, "id")?;
    let lines = line_nodes
        .iter()
        .map(|line| {
            Ok(OrderLine {
                line_id: id_field(line, "id").map_err(|e| format!("lineItems: {e}"))?,
                product_id: optional_id(line.pointer("/product/id")),
                variant_id: optional_id(line.pointer("/variant/id")),
                quantity: quantity(line.get("quantity"), "lineItems.quantity")?,
                current_quantity: quantity(
                    line.get("currentQuantity"),
                    "lineItems.currentQuantity",
                )?,
                unit_price: text(
                    line.pointer("/discountedUnitPriceAfterAllDiscountsSet/shopMoney/amount"),
                ),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let (attributes, client_id) = attributes(node.get("customAttributes"), "key");
    Ok(Order {
        id,
        customer_id: optional_id(node.pointer("/customer/id")).map(CustomerId),
        client_id,
        checkout_token: None,
        created_at: required_millis(node, "createdAt")?,
        updated_at: required_millis(node, "updatedAt")?,
        cancelled_at: millis(node.get("cancelledAt"), "cancelledAt")?,
        financial_status: node
            .get("displayFinancialStatus")
            .and_then(Value::as_str)
            .and_then(FinancialStatus::parse),
        test: node.get("test").and_then(Value::as_bool).unwrap_or(false),
        currency: text(node.get("currencyCode")),
        lines,
        attributes,
        // `currentQuantity` already counts every refund the order has.
        refund_ids: node
            .get("refunds")
            .and_then(Value::as_array)
            .map(|refunds| {
                refunds
                    .iter()
                    .filter_map(|r| optional_id(r.get("id")))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_webhook_order_reads_its_lines_refunds_and_browser() {
        let body = json!({
            "id": 820982911946154508u64, "created_at": "2026-11-30T10:00:00-05:00",
            "updated_at": "2026-11-30T11:00:00-05:00", "cancelled_at": null,
            "financial_status": "partially_refunded", "test": false, "currency": "EUR",
            "checkout_token": "bd5a8aa1ecd019dd3520ff791ee3a24c",
            "customer": {"id": 115310627314723954u64},
            "note_attributes": [{"name": "_kindred_client_id", "value": "c-42"}, {"name": "gift", "value": "yes"}],
            "line_items": [
                {"id": 1, "product_id": 4357742755898u64, "variant_id": 31, "quantity": 2, "price": "20.00", "total_discount": "4.00"},
                {"id": 2, "product_id": null, "variant_id": null, "quantity": 1, "price": "5.00"},
                {"id": 3, "product_id": "gid://shopify/Product/7", "quantity": 3, "current_quantity": 3, "price": "1.00"}
            ],
            "refunds": [{"id": 77, "created_at": "2026-11-30T11:00:00-05:00",
                         "refund_line_items": [{"line_item_id": 3, "quantity": 1}]}]
        });
        let order = order_from_webhook(&body).unwrap();
        assert_eq!(order.customer_id, Some(CustomerId(115310627314723954)));
        assert_eq!(order.client_id.as_ref().map(ClientId::as_str), Some("c-42"));
        assert_eq!(order.attributes["gift"], "yes");
        assert_eq!(order.lines[0].unit_price.as_deref(), Some("18.00"));
        assert_eq!(order.lines[1].product_id, None);
        // Refunded units no longer stand, whether or not the payload says `current_quantity`.
        assert_eq!(order.lines[2].current_quantity, 2);
        assert_eq!(order.refund_ids, [77]);
        assert_eq!(order.created_at, 1_796_050_800_000);

        for (field, bad) in [
            ("id", json!("x")),
            ("line_items", json!({})),
            ("created_at", json!("yesterday")),
        ] {
            let mut broken = body.clone();
            broken[field] = bad;
            let err = order_from_webhook(&broken).unwrap_err();
            assert!(err.contains(field), "{field}: {err}");
        }
    }

    #[test]
    fn a_refund_webhook_names_its_order() {
        let refund = refund_from(
            &json!({"id": 5, "order_id": 9, "created_at": "2026-11-30T12:00:00Z",
                    "refund_line_items": [{"id": 1, "line_item_id": 3, "quantity": 1}]}),
            None,
        )
        .unwrap();
        assert_eq!((refund.id, refund.order_id, refund.lines.len()), (5, 9, 1));
        assert!(refund_from(&json!({"id": 5}), None)
            .unwrap_err()
            .contains("order_id"));
    }
}
