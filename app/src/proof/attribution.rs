//! Which order lines Kindred earned: a line counts for a recommendation when the same
//! shopper (browser or customer) clicked that product on a Kindred shelf within the window
//! before ordering. The latest such click takes the line, so each line is attributed once.
//! What stands of the order counts: refunds and edits lower it, a cancelled, voided, wholly
//! refunded or test order earns nothing.

use std::collections::HashMap;

use crate::domain::CustomerId;
use crate::purchases::{Order, OrderBook};

/// A click on a Kindred shelf, as the report reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecommendationClick {
    pub client_id: String,
    pub customer_id: Option<CustomerId>,
    pub product_id: u64,
    pub strategy: String,
    pub placement: Option<String>,
    /// Milliseconds since the epoch.
    pub at: i64,
}

#[cfg(test)]
impl RecommendationClick {
    /// A click on the similar shelf of a product page: what the proof tests replay.
    pub(crate) fn similar_on_product(client: &str, product: u64, at: i64) -> Self {
        Self {
            client_id: client.into(),
            customer_id: None,
            product_id: product,
            strategy: "similar".into(),
            placement: Some("product".into()),
            at,
        }
    }
}

/// One order line Kindred earned.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributedLine {
    pub order_id: u64,
    /// When the order was placed.
    pub ordered_at: i64,
    pub strategy: String,
    pub placement: Option<String>,
    pub units: u32,
    pub revenue: f64,
}

/// Orders with or without an attributed line: how many, what they took.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OrderTotals {
    pub orders: u64,
    pub revenue: f64,
}

impl OrderTotals {
    pub fn average(&self) -> f64 {
        if self.orders == 0 {
            0.0
        } else {
            self.revenue / self.orders as f64
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attribution {
    pub lines: Vec<AttributedLine>,
    pub with_recommendations: OrderTotals,
    pub without: OrderTotals,
    /// The currency the orders' amounts are in (the shop's).
    pub currency: Option<String>,
}

/// Clicks by who clicked and what, each list in time order.
struct ClickIndex<'c> {
    by_browser: HashMap<(&'c str, u64), Vec<&'c RecommendationClick>>,
    by_customer: HashMap<(CustomerId, u64), Vec<&'c RecommendationClick>>,
}

impl<'c> ClickIndex<'c> {
    fn new(clicks: &'c [RecommendationClick]) -> Self {
        let mut index = Self {
            by_browser: HashMap::new(),
            by_customer: HashMap::new(),
        };
        for click in clicks {
            index
                .by_browser
                .entry((click.client_id.as_str(), click.product_id))
                .or_default()
                .push(click);
            if let Some(customer) = click.customer_id {
                index
                    .by_customer
                    .entry((customer, click.product_id))
                    .or_default()
                    .push(click);
            }
        }
        for list in index
            .by_browser
            .values_mut()
            .chain(index.by_customer.values_mut())
        {
            list.sort_by_key(|c| c.at);
        }
        index
    }

    /// The latest click on `product` by the order's browser or customer in [from, to].
    fn latest(
        &self,
        order: &Order,
        product: u64,
        from: i64,
        to: i64,
    ) -> Option<&'c RecommendationClick> {
        let in_window = |list: Option<&Vec<&'c RecommendationClick>>| {
            let list = list?;
            let end = list.partition_point(|c| c.at <= to);
            list[..end].last().copied().filter(|c| c.at >= from)
        };
        let by_browser = order
            .client_id
            .as_ref()
            .and_then(|client| in_window(self.by_browser.get(&(client.as_str(), product))));
        let by_customer = order
            .customer_id
            .and_then(|customer| in_window(self.by_customer.get(&(customer, product))));
        match (by_browser, by_customer) {
            (Some(a), Some(b)) => Some(if b.at > a.at { b } else { a }),
            (a, b) => a.or(b),
        }
    }
}

/// Attributes the book's orders created at or after `since` to the clicks (which should
/// reach `window_ms` further back, so the first day's orders find theirs).
pub fn attribute(
    clicks: &[RecommendationClick],
    book: &OrderBook,
    since: i64,
    window_ms: i64,
) -> Attribution {
    let index = ClickIndex::new(clicks);
    let refunds = book.refunds_by_order();
    let mut attribution = Attribution::default();
    for order in book
        .orders
        .iter()
        .filter(|o| o.created_at >= since && o.counts())
    {
        let lines = order.standing_lines(refunds.get(&order.id).map(Vec::as_slice).unwrap_or(&[]));
        if lines.is_empty() {
            continue;
        }
        if attribution.currency.is_none() {
            attribution.currency = order.currency.clone();
        }
        let revenue: f64 = lines.iter().map(|l| l.revenue()).sum();
        let mut earned = false;
        for line in &lines {
            let from = order.created_at - window_ms;
            let Some(click) = index.latest(order, line.product_id, from, order.created_at) else {
                continue;
            };
            earned = true;
            attribution.lines.push(AttributedLine {
                order_id: order.id,
                ordered_at: order.created_at,
                strategy: click.strategy.clone(),
                placement: click.placement.clone(),
                units: line.units,
                revenue: line.revenue(),
            });
        }
        let totals = if earned {
            &mut attribution.with_recommendations
        } else {
            &mut attribution.without
        };
        totals.orders += 1;
        totals.revenue += revenue;
    }
    attribution
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::purchases::{OrderLine, Refund, RefundLine};

    const HOUR: i64 = 3_600_000;

    fn click(client: &str, product: u64, at: i64) -> RecommendationClick {
        RecommendationClick::similar_on_product(client, product, at)
    }

    fn order(id: u64, client: &str, at: i64, lines: &[(u64, u64, u32, &str)]) -> Order {
        let lines = lines
            .iter()
            .map(|(line_id, product, units, price)| OrderLine {
                line_id: *line_id,
                product_id: Some(*product),
                variant_id: None,
                quantity: *units,
                current_quantity: *units,
                unit_price: Some((*price).into()),
            })
            .collect();
        Order::paid(id, client, at, "EUR", lines)
    }

    #[test]
    fn a_click_in_the_window_earns_the_line_and_refunds_take_it_back() {
        let clicks = [
            click("a", 1, 10 * HOUR),
            click("a", 1, 20 * HOUR),
            click("b", 2, 0),
        ];
        let mut cancelled = order(3, "a", 30 * HOUR, &[(30, 1, 1, "9.00")]);
        cancelled.cancelled_at = Some(31 * HOUR);
        let book = OrderBook {
            orders: vec![
                // Ten hours after the second click: 2 × 20.00 of product 1 earned, 5.00 not.
                order(
                    1,
                    "a",
                    30 * HOUR,
                    &[(10, 1, 2, "20.00"), (11, 9, 1, "5.00")],
                ),
                // Product 2, clicked 30 hours before: outside the 24-hour window.
                order(2, "b", 30 * HOUR, &[(20, 2, 1, "12.50")]),
                cancelled,
            ],
            refunds: vec![Refund {
                id: 7,
                order_id: 1,
                created_at: 40 * HOUR,
                lines: vec![RefundLine {
                    line_id: 10,
                    quantity: 1,
                }],
            }],
        };
        let got = attribute(&clicks, &book, 0, 24 * HOUR);
        assert_eq!(got.lines.len(), 1);
        let line = &got.lines[0];
        assert_eq!((line.order_id, line.units, line.revenue), (1, 1, 20.0));
        assert_eq!(
            got.with_recommendations,
            OrderTotals {
                orders: 1,
                revenue: 25.0
            }
        );
        assert_eq!(
            got.without,
            OrderTotals {
                orders: 1,
                revenue: 12.5
            }
        );
        assert_eq!(got.currency.as_deref(), Some("EUR"));
        // A longer window reaches the older click.
        assert_eq!(attribute(&clicks, &book, 0, 48 * HOUR).lines.len(), 2);
        // Orders before the report's start are not counted at all.
        assert_eq!(
            attribute(&clicks, &book, 31 * HOUR, 24 * HOUR),
            Attribution::default()
        );
    }
}
