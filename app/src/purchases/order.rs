//! An order as Kindred keeps it: who bought, when, what (each line's product and the units
//! that still stand after removals and refunds), and whether it counts as a purchase at all.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::domain::{ClientId, CustomerId};
use crate::events::LineItem;

/// Shopify's financial status of an order (REST `financial_status`, GraphQL
/// `displayFinancialStatus`, in lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinancialStatus {
    Pending,
    Authorized,
    PartiallyPaid,
    Paid,
    PartiallyRefunded,
    Refunded,
    Voided,
    Expired,
}

impl FinancialStatus {
    pub fn parse(raw: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(raw.trim().to_ascii_lowercase())).ok()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Authorized => "authorized",
            Self::PartiallyPaid => "partially_paid",
            Self::Paid => "paid",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
            Self::Voided => "voided",
            Self::Expired => "expired",
        }
    }

    /// Money that never changed hands or went back whole: not a purchase.
    fn undone(self) -> bool {
        matches!(self, Self::Refunded | Self::Voided | Self::Expired)
    }
}

/// Where a stored version of an order came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSource {
    /// The order history bulk read.
    Bulk,
    /// An order webhook.
    Webhook,
}

impl OrderSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bulk => "bulk",
            Self::Webhook => "webhook",
        }
    }
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub line_id: u64,
    /// None for a custom line (no product), or a product deleted since.
    pub product_id: Option<u64>,
    pub variant_id: Option<u64>,
    /// Units ordered.
    pub quantity: u32,
    /// Units that stand in this version of the order (after edits and the refunds it knows).
    pub current_quantity: u32,
    /// What one unit cost the shopper after discounts, in the order's currency (decimal text).
    pub unit_price: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLine {
    pub line_id: u64,
    pub quantity: u32,
}

/// A refund of some of an order's lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refund {
    pub id: u64,
    pub order_id: u64,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    pub lines: Vec<RefundLine>,
}

/// An order, as its newest known version says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    pub id: u64,
    pub customer_id: Option<CustomerId>,
    /// The browser that placed it (the `_kindred_client_id` attribute), when known.
    pub client_id: Option<ClientId>,
    pub checkout_token: Option<String>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    pub updated_at: i64,
    pub cancelled_at: Option<i64>,
    pub financial_status: Option<FinancialStatus>,
    pub test: bool,
    pub currency: Option<String>,
    pub lines: Vec<OrderLine>,
    pub attributes: BTreeMap<String, String>,
    /// Refunds this version already counts in its lines' `current_quantity`.
    pub refund_ids: Vec<u64>,
}

impl Order {
    /// A paid order a browser placed at `at`, as it reads before anything happens to it:
    /// what the proof tests and benchmarks replay.
    pub fn paid(id: u64, client: &str, at: i64, currency: &str, lines: Vec<OrderLine>) -> Self {
        Self {
            id,
            customer_id: None,
            client_id: ClientId::parse(client).ok(),
            checkout_token: None,
            created_at: at,
            updated_at: at,
            cancelled_at: None,
            financial_status: Some(FinancialStatus::Paid),
            test: false,
            currency: Some(currency.to_owned()),
            lines,
            attributes: BTreeMap::new(),
            refund_ids: Vec::new(),
        }
    }

    /// Whether it is a purchase at all: not a test, not cancelled, not refunded or voided whole.
    pub fn counts(&self) -> bool {
        !self.test
            && self.cancelled_at.is_none()
            && !self.financial_status.is_some_and(|s| s.undone())
    }

    /// Each line that still stands, after the refunds in `refunds` this version does not
    /// know yet: its product, its units and what one cost. Empty for an order that does not
    /// count.
    pub fn standing_lines(&self, refunds: &[&Refund]) -> Vec<StandingLine> {
        if !self.counts() {
            return Vec::new();
        }
        let mut refunded: HashMap<u64, u32> = HashMap::new();
        for refund in refunds
            .iter()
            .filter(|r| r.order_id == self.id && !self.refund_ids.contains(&r.id))
        {
            for line in &refund.lines {
                *refunded.entry(line.line_id).or_default() += line.quantity;
            }
        }
        self.lines
            .iter()
            .filter_map(|line| {
                let product_id = line.product_id?;
                let units = line
                    .current_quantity
                    .saturating_sub(refunded.get(&line.line_id).copied().unwrap_or(0));
                let unit_price = line
                    .unit_price
                    .as_deref()
                    .and_then(|p| p.trim().parse::<f64>().ok())
                    .filter(|p| p.is_finite() && *p >= 0.0)
                    .unwrap_or(0.0);
                (units > 0).then_some(StandingLine {
                    product_id,
                    units,
                    unit_price,
                })
            })
            .collect()
    }

    /// The products bought and the units that stand (per product, in the order's order).
    pub fn bought(&self, refunds: &[&Refund]) -> Vec<LineItem> {
        let mut units: BTreeMap<u64, u32> = BTreeMap::new();
        let mut order_of_first: Vec<u64> = Vec::new();
        for line in self.standing_lines(refunds) {
            if !units.contains_key(&line.product_id) {
                order_of_first.push(line.product_id);
            }
            *units.entry(line.product_id).or_default() += line.units;
        }
        order_of_first
            .into_iter()
            .map(|product_id| LineItem {
                product_id,
                quantity: units[&product_id],
            })
            .collect()
    }
}

/// A line of an order that stands: what it earned is `units × unit_price`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StandingLine {
    pub product_id: u64,
    pub units: u32,
    /// In the shop's currency, after discounts.
    pub unit_price: f64,
}

impl StandingLine {
    pub fn revenue(&self) -> f64 {
        f64::from(self.units) * self.unit_price
    }
}

/// Orders and the refunds stored for them, read together.
#[derive(Debug, Clone, Default)]
pub struct OrderBook {
    pub orders: Vec<Order>,
    pub refunds: Vec<Refund>,
}

impl OrderBook {
    /// Every order's refunds, by order id.
    pub fn refunds_by_order(&self) -> HashMap<u64, Vec<&Refund>> {
        let mut by_order: HashMap<u64, Vec<&Refund>> = HashMap::new();
        for refund in &self.refunds {
            by_order.entry(refund.order_id).or_default().push(refund);
        }
        by_order
    }

    /// Every order's standing lines, by order id (orders that do not count have none).
    pub fn bought(&self) -> HashMap<u64, Vec<LineItem>> {
        let by_order = self.refunds_by_order();
        self.orders
            .iter()
            .map(|order| {
                let refunds = by_order.get(&order.id).map(Vec::as_slice).unwrap_or(&[]);
                (order.id, order.bought(refunds))
            })
            .collect()
    }

    pub fn ids(&self) -> HashSet<u64> {
        self.orders.iter().map(|o| o.id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(line_id: u64, product: u64, quantity: u32, current: u32) -> OrderLine {
        OrderLine {
            line_id,
            product_id: Some(product),
            variant_id: None,
            quantity,
            current_quantity: current,
            unit_price: None,
        }
    }

    fn order(lines: Vec<OrderLine>) -> Order {
        Order {
            id: 1,
            customer_id: None,
            client_id: None,
            checkout_token: None,
            created_at: 0,
            updated_at: 0,
            cancelled_at: None,
            financial_status: Some(FinancialStatus::Paid),
            test: false,
            currency: Some("EUR".into()),
            lines,
            attributes: BTreeMap::new(),
            refund_ids: vec![9],
        }
    }

    #[test]
    fn standing_units_are_what_refunds_and_edits_left() {
        let o = order(vec![
            line(10, 100, 2, 2),
            line(11, 200, 1, 0),
            line(12, 100, 1, 1),
        ]);
        assert_eq!(
            o.bought(&[]),
            [LineItem {
                product_id: 100,
                quantity: 3
            }]
        );
        // A refund the order already counts is not taken twice; a newer one is.
        let known = Refund {
            id: 9,
            order_id: 1,
            created_at: 0,
            lines: vec![RefundLine {
                line_id: 10,
                quantity: 2,
            }],
        };
        let newer = Refund {
            id: 8,
            order_id: 1,
            created_at: 0,
            lines: vec![RefundLine {
                line_id: 10,
                quantity: 2,
            }],
        };
        assert_eq!(o.bought(&[&known]).len(), 1);
        assert_eq!(
            o.bought(&[&known, &newer]),
            [LineItem {
                product_id: 100,
                quantity: 1
            }]
        );
    }

    #[test]
    fn cancelled_test_refunded_and_voided_orders_are_no_purchase() {
        let mut o = order(vec![line(10, 100, 1, 1)]);
        assert!(o.counts());
        o.cancelled_at = Some(5);
        assert!(o.bought(&[]).is_empty());
        let mut o = order(vec![line(10, 100, 1, 1)]);
        o.test = true;
        assert!(!o.counts());
        for status in ["refunded", "VOIDED", "expired"] {
            let mut o = order(vec![line(10, 100, 1, 1)]);
            o.financial_status = FinancialStatus::parse(status);
            assert!(!o.counts(), "{status}");
        }
        let mut o = order(vec![line(10, 100, 1, 1)]);
        o.financial_status = FinancialStatus::parse("PARTIALLY_REFUNDED");
        assert!(o.counts());
    }
}
