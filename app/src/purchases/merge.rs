//! Orders and checkout events into one list of purchases, each purchase once: an order
//! wins over any checkout event that names it, and a web pixel's checkout is never a
//! purchase by itself (anyone can send one; only Shopify's signed orders are believed).

use std::collections::{BTreeMap, HashSet};

use kindred_retriever::recommend::{distinct, Session};

use super::OrderBook;
use crate::domain::{Buyer, ClientId};
use crate::events::{EventKind, EventSource, LineItem, ShopperEvent};

/// One purchase, from an order or from a headless frontend's checkout event.
#[derive(Debug, Clone, PartialEq)]
pub struct Purchase {
    pub order_id: Option<u64>,
    /// Who bought: the customer, else the browser; nobody for a guest order no browser claimed.
    pub buyer: Option<Buyer>,
    /// Milliseconds since the epoch.
    pub at_ms: i64,
    pub lines: Vec<LineItem>,
}

impl Purchase {
    pub fn products(&self) -> Vec<u64> {
        distinct(&self.lines.iter().map(|l| l.product_id).collect::<Vec<_>>())
    }
}

/// Whether a checkout event stands for a purchase no order covers.
fn stands_alone(event: &ShopperEvent, orders: &HashSet<u64>) -> bool {
    event.kind == EventKind::CheckoutCompleted
        && !event.line_items.is_empty()
        && event.source != Some(EventSource::Pixel)
        && !event.order_id.is_some_and(|id| orders.contains(&id))
}

/// Every purchase of the book and of the checkout events, oldest first.
pub fn merge(book: &OrderBook, checkouts: &[ShopperEvent]) -> Vec<Purchase> {
    let known = book.ids();
    let bought = book.bought();
    let mut purchases: Vec<Purchase> = book
        .orders
        .iter()
        .filter_map(|order| {
            let lines = bought.get(&order.id).filter(|l| !l.is_empty())?.clone();
            Some(Purchase {
                order_id: Some(order.id),
                buyer: Buyer::of(order.customer_id, order.client_id.as_ref()),
                at_ms: order.created_at,
                lines,
            })
        })
        .collect();
    purchases.extend(
        checkouts
            .iter()
            .filter(|e| stands_alone(e, &known))
            .map(|e| Purchase {
                order_id: e.order_id,
                buyer: Buyer::of(believed_customer(e), Some(&e.client_id)),
                at_ms: e.occurred_at,
                lines: e.line_items.clone(),
            }),
    );
    purchases.sort_by_key(|p| (p.at_ms, p.order_id));
    purchases
}

/// A customer id a signed source vouched for; events stored before provenance was kept
/// name nobody.
fn believed_customer(event: &ShopperEvent) -> Option<crate::domain::CustomerId> {
    event.source.and(event.customer_id)
}

/// Each buyer's purchases as baskets (time in seconds), oldest first.
pub fn histories(purchases: &[Purchase]) -> Vec<(Buyer, Vec<Session>)> {
    let mut buyers: BTreeMap<Buyer, Vec<Session>> = BTreeMap::new();
    for purchase in purchases {
        if let Some(buyer) = &purchase.buyer {
            buyers.entry(buyer.clone()).or_default().push(Session {
                items: purchase.products(),
                time: purchase.at_ms / 1000,
            });
        }
    }
    buyers.into_iter().collect()
}

/// A shopper's history with their orders in it: each order as the checkout it was, and
/// checkout events it covers (or a pixel's, which never stand alone) left out. Oldest first.
pub fn purchases_as_checkouts(history: &[ShopperEvent], book: &OrderBook) -> Vec<ShopperEvent> {
    let known = book.ids();
    let bought = book.bought();
    let mut events: Vec<ShopperEvent> = history
        .iter()
        .filter(|e| e.kind != EventKind::CheckoutCompleted || stands_alone(e, &known))
        .cloned()
        .collect();
    let seen: HashSet<String> = events.iter().map(|e| e.event_id.clone()).collect();
    for order in &book.orders {
        let Some(lines) = bought.get(&order.id).filter(|l| !l.is_empty()) else {
            continue;
        };
        let event_id = format!("order:{}", order.id);
        if seen.contains(&event_id) {
            continue;
        }
        events.push(ShopperEvent {
            client_id: order
                .client_id
                .clone()
                .unwrap_or_else(|| ClientId::stored(event_id.clone())),
            event_id,
            customer_id: order.customer_id,
            kind: EventKind::CheckoutCompleted,
            product_id: None,
            collection_id: None,
            search_query: None,
            line_items: lines.clone(),
            strategy: None,
            placement: None,
            occurred_at: order.created_at,
            source: None,
            order_id: Some(order.id),
            checkout_token: None,
        });
    }
    events.sort_by(|a, b| {
        a.occurred_at
            .cmp(&b.occurred_at)
            .then_with(|| a.event_id.cmp(&b.event_id))
    });
    events
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::CustomerId;
    use crate::purchases::{FinancialStatus, Order, OrderLine};

    fn order(id: u64, product: u64, client: Option<&str>) -> Order {
        Order {
            id,
            customer_id: None,
            client_id: client.map(|c| ClientId::parse(c).unwrap()),
            checkout_token: None,
            created_at: id as i64 * 1000,
            updated_at: 0,
            cancelled_at: None,
            financial_status: Some(FinancialStatus::Paid),
            test: false,
            currency: None,
            lines: vec![OrderLine {
                line_id: id * 10,
                product_id: Some(product),
                variant_id: None,
                quantity: 1,
                current_quantity: 1,
                unit_price: None,
            }],
            attributes: BTreeMap::new(),
            refund_ids: vec![],
        }
    }

    fn checkout(id: &str, order: Option<u64>, source: EventSource, product: u64) -> ShopperEvent {
        ShopperEvent {
            event_id: id.into(),
            client_id: ClientId::parse("browser-1").unwrap(),
            customer_id: Some(CustomerId(7)),
            kind: EventKind::CheckoutCompleted,
            product_id: None,
            collection_id: None,
            search_query: None,
            line_items: vec![LineItem {
                product_id: product,
                quantity: 1,
            }],
            strategy: None,
            placement: None,
            occurred_at: 500,
            source: Some(source),
            order_id: order,
            checkout_token: None,
        }
    }

    #[test]
    fn each_purchase_counts_once_and_pixels_never_alone() {
        let book = OrderBook {
            orders: vec![order(1, 100, Some("browser-1"))],
            refunds: vec![],
        };
        let events = [
            // The pixel's report of order 1, and a forged one of an order that does not exist.
            checkout("p1", Some(1), EventSource::Pixel, 100),
            checkout("p2", Some(99), EventSource::Pixel, 300),
            // A headless shop's checkout: no order will come.
            checkout("h1", None, EventSource::Merchant, 200),
        ];
        let purchases = merge(&book, &events);
        let products: Vec<Vec<u64>> = purchases.iter().map(Purchase::products).collect();
        assert_eq!(products, [vec![200], vec![100]]);
        assert_eq!(purchases[0].buyer, Some(Buyer::Customer(CustomerId(7))));
        assert_eq!(
            purchases[1].buyer,
            Some(Buyer::Client(ClientId::parse("browser-1").unwrap()))
        );

        let history = purchases_as_checkouts(&events, &book);
        let ids: Vec<&str> = history.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, ["h1", "order:1"]);
    }
}
