//! An experiment's outcome per arm: visitors, revenue per visitor, conversion and order
//! value, each arm against the control with its interval, the sample-ratio check and the
//! verdict. Every visitor of the period counts in their arm (intent to treat): whether or
//! not they reached a shelf, so an arm that shows fewer shelves is not flattered.

use std::collections::HashMap;

use serde::Serialize;

use super::stats::{
    relative_lift, sample_ratio_p_value, verdict, Interval, Sample, METHOD, MIN_CONVERTED,
    MIN_VISITORS, SAMPLE_RATIO_ALPHA,
};
use crate::purchases::OrderBook;

/// How arms are compared: their names, weights, and which one is the control.
pub struct Design<'a> {
    pub arms: Vec<String>,
    pub weights: Vec<u32>,
    pub control: usize,
    /// How the verdict names an arm ("Kindred", "the holdout", "arm b").
    pub label: &'a (dyn Fn(&str) -> String + Sync),
}

#[derive(Debug, Clone, Serialize)]
pub struct ArmResult {
    pub name: String,
    pub visitors: u64,
    pub orders: u64,
    pub converted: u64,
    pub revenue: f64,
    pub revenue_per_visitor: f64,
    pub conversion_rate: f64,
    pub aov: f64,
    pub revenue_per_visitor_lift: Option<Interval>,
    pub conversion_lift: Option<Interval>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SampleRatio {
    pub p_value: f64,
    pub mismatch: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub control_arm: String,
    pub arms: Vec<ArmResult>,
    pub sample_ratio: SampleRatio,
    pub verdict: String,
    pub method: &'static str,
    /// The currency of the orders' amounts (the shop's).
    pub currency: Option<String>,
}

#[derive(Default)]
struct Tally {
    visitors: u64,
    orders: u64,
    converted: u64,
    revenue: f64,
    revenue_squares: f64,
}

/// Sums each visitor's orders created in [from, to] into their arm (`arm_of` says which;
/// `None` leaves a visitor out) and compares the arms.
pub fn measure(
    design: &Design,
    visitors: &[String],
    arm_of: impl Fn(&str) -> Option<usize>,
    book: &OrderBook,
    from: i64,
    to: i64,
) -> Results {
    let refunds = book.refunds_by_order();
    let mut spent: HashMap<&str, (u64, f64)> = HashMap::new();
    let mut currency = None;
    for order in book
        .orders
        .iter()
        .filter(|o| (from..=to).contains(&o.created_at) && o.counts())
    {
        let Some(client) = order.client_id.as_ref() else {
            continue;
        };
        let lines = order.standing_lines(refunds.get(&order.id).map(Vec::as_slice).unwrap_or(&[]));
        if lines.is_empty() {
            continue;
        }
        if currency.is_none() {
            currency = order.currency.clone();
        }
        let entry = spent.entry(client.as_str()).or_default();
        entry.0 += 1;
        entry.1 += lines.iter().map(|l| l.revenue()).sum::<f64>();
    }
    let mut tallies: Vec<Tally> = design.arms.iter().map(|_| Tally::default()).collect();
    for visitor in visitors {
        let Some(arm) = arm_of(visitor).filter(|a| *a < tallies.len()) else {
            continue;
        };
        let tally = &mut tallies[arm];
        tally.visitors += 1;
        if let Some((orders, revenue)) = spent.get(visitor.as_str()) {
            tally.orders += orders;
            tally.converted += 1;
            tally.revenue += revenue;
            tally.revenue_squares += revenue * revenue;
        }
    }
    compare(design, &tallies, currency)
}

fn compare(design: &Design, tallies: &[Tally], currency: Option<String>) -> Results {
    let counts: Vec<u64> = tallies.iter().map(|t| t.visitors).collect();
    let p_value = sample_ratio_p_value(&counts, &design.weights);
    let mismatch = p_value < SAMPLE_RATIO_ALPHA;
    let revenue = |t: &Tally| Sample::from_sums(t.visitors, t.revenue, t.revenue_squares);
    let conversion = |t: &Tally| Sample::proportion(t.converted, t.visitors);
    let enough = |t: &Tally| t.visitors >= MIN_VISITORS && t.converted >= MIN_CONVERTED;
    let control = &tallies[design.control];
    let mut sentences = Vec::new();
    let arms = design
        .arms
        .iter()
        .zip(tallies)
        .enumerate()
        .map(|(index, (name, tally))| {
            let compared = index != design.control && enough(tally) && enough(control);
            let rpv_lift = compared
                .then(|| relative_lift(&revenue(tally), &revenue(control)))
                .flatten();
            if index != design.control {
                sentences.push(verdict(
                    &(design.label)(name),
                    &(design.label)(&design.arms[design.control]),
                    rpv_lift.as_ref(),
                    mismatch,
                ));
            }
            let per = |n: f64, of: u64| if of == 0 { 0.0 } else { n / of as f64 };
            ArmResult {
                name: name.clone(),
                visitors: tally.visitors,
                orders: tally.orders,
                converted: tally.converted,
                revenue: tally.revenue,
                revenue_per_visitor: per(tally.revenue, tally.visitors),
                conversion_rate: per(tally.converted as f64, tally.visitors),
                aov: per(tally.revenue, tally.orders),
                revenue_per_visitor_lift: rpv_lift,
                conversion_lift: compared
                    .then(|| relative_lift(&conversion(tally), &conversion(control)))
                    .flatten(),
            }
        })
        .collect();
    sentences.dedup();
    Results {
        control_arm: design.arms[design.control].clone(),
        arms,
        sample_ratio: SampleRatio { p_value, mismatch },
        verdict: sentences.join(" "),
        method: METHOD,
        currency,
    }
}
