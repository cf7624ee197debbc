//! Real baskets as Shopify orders: Online Retail's repeat customers, each invoice an order of
//! the real yoga-store products (an item is mapped onto a product on sale), in the Admin
//! REST shape Shopify's order webhooks carry. Their real times are squeezed into the last
//! 50 days (Shopify lets the app read 60), in order. Shared by the purchase tests and the
//! order ingest benchmark.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_json::{json, Value};

use crate::fake_shopify::shared_data;

/// Order ids start here (Shopify's are 13-digit numbers).
const FIRST_ORDER_ID: u64 = 6_100_000_000_000;
/// Shopify customer ids of the retail customers: this plus their `CustomerID`.
pub const CUSTOMER_ID_BASE: u64 = 8_800_000_000_000;

/// The browser id the theme embed would have put on a customer's orders.
pub fn client_of(customer: u64) -> String {
    format!("retail-{customer}")
}

/// The products of a (storefront-shaped) catalogue that can be bought now.
pub fn on_sale(catalogue: &[Value]) -> Vec<&Value> {
    catalogue
        .iter()
        .filter(|p| {
            p["variants"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["available"] == true)
        })
        .collect()
}

/// Orders of the first `customers` repeat customers of Online Retail, oldest first, their
/// lines the on-sale products of `catalogue` (storefront-shaped products).
pub fn retail_orders(catalogue: &[Value], customers: usize, now: DateTime<Utc>) -> Vec<Value> {
    let on_sale = on_sale(catalogue);
    let path = shared_data("interactions/online-retail/online_retail_first49999rows.csv");
    let buyers = kindred::eval::online_retail_customers(&path).unwrap();
    let chosen: Vec<_> = buyers
        .into_iter()
        .filter(|(_, baskets)| baskets.len() >= 2)
        .take(customers)
        .collect();
    let times: Vec<i64> = chosen
        .iter()
        .flat_map(|(_, baskets)| baskets.iter().map(|b| b.time))
        .collect();
    let (first, last) = (*times.iter().min().unwrap(), *times.iter().max().unwrap());
    let span = 50 * 24 * 3600;
    let mut baskets: Vec<(i64, u64, Vec<u64>)> = chosen
        .iter()
        .flat_map(|(customer, baskets)| {
            baskets.iter().map(move |b| {
                let at = now.timestamp() - span + (b.time - first) * span / (last - first).max(1);
                (at, *customer, b.items.clone())
            })
        })
        .collect();
    baskets.sort();
    baskets
        .into_iter()
        .enumerate()
        .map(|(n, (at, customer, items))| {
            let id = FIRST_ORDER_ID + n as u64;
            let lines: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let product = on_sale[(*item as usize) % on_sale.len()];
                    let variant = product["variants"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|v| v["available"] == true)
                        .unwrap();
                    json!({
                        "id": id * 100 + i as u64, "product_id": product["id"], "variant_id": variant["id"],
                        "title": product["title"], "quantity": 1, "current_quantity": 1,
                        "price": variant["price"], "total_discount": "0.00",
                    })
                })
                .collect();
            order_body(id, at, customer, lines)
        })
        .collect()
}

fn order_body(id: u64, at: i64, customer: u64, lines: Vec<Value>) -> Value {
    let time = |t: i64| {
        Utc.timestamp_opt(t, 0)
            .unwrap()
            .to_rfc3339_opts(SecondsFormat::Secs, true)
    };
    json!({
        "id": id, "admin_graphql_api_id": format!("gid://shopify/Order/{id}"),
        "name": format!("#{}", id - FIRST_ORDER_ID + 1001),
        "created_at": time(at), "updated_at": time(at + 60), "cancelled_at": null,
        "financial_status": "paid", "test": false, "currency": "EUR",
        "checkout_token": format!("{:032x}", id.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        "customer": {"id": CUSTOMER_ID_BASE + customer},
        "note_attributes": [{"name": "_kindred_client_id", "value": client_of(customer)}],
        "line_items": lines,
        "refunds": [],
    })
}

/// The order after its first line was refunded in full, an hour later.
pub fn refunded_first_line(order: &Value) -> (Value, Value) {
    let id = order["id"].as_u64().unwrap();
    let line = &order["line_items"][0];
    let at = DateTime::parse_from_rfc3339(order["updated_at"].as_str().unwrap()).unwrap()
        + chrono::Duration::hours(1);
    let refund = json!({
        "id": id + 7, "order_id": id, "created_at": at.to_rfc3339(),
        "refund_line_items": [{"id": id + 8, "line_item_id": line["id"], "quantity": line["quantity"], "line_item": line}],
    });
    let mut updated = order.clone();
    updated["updated_at"] = json!(at.to_rfc3339());
    updated["financial_status"] = json!("partially_refunded");
    updated["line_items"][0]["current_quantity"] = json!(0);
    updated["refunds"] = json!([refund.clone()]);
    (updated, refund)
}

/// The order cancelled (and refunded whole), two hours later.
pub fn cancelled(order: &Value) -> Value {
    let at = DateTime::parse_from_rfc3339(order["updated_at"].as_str().unwrap()).unwrap()
        + chrono::Duration::hours(2);
    let mut cancelled = order.clone();
    cancelled["updated_at"] = json!(at.to_rfc3339());
    cancelled["cancelled_at"] = json!(at.to_rfc3339());
    cancelled["financial_status"] = json!("refunded");
    cancelled
}
