//! The attribution report: per day, and per strategy and placement, what shelves showed,
//! what shoppers clicked and carted, and the orders and revenue attributed to them.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::attribution::{AttributedLine, Attribution, OrderTotals};

const DAY_MS: i64 = 86_400_000;

/// Shelf activity of one day, strategy and placement (from the events).
#[derive(Debug, Clone, PartialEq)]
pub struct RecommendationDay {
    /// Days since the epoch (UTC).
    pub day: i64,
    pub strategy: String,
    pub placement: Option<String>,
    pub shown: i64,
    pub clicked: i64,
    /// Clicked products the same browser then added to its cart.
    pub carted: i64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Activity {
    pub shown: i64,
    pub clicked: i64,
    pub added_to_cart: i64,
    pub attributed_orders: u64,
    pub attributed_units: u64,
    pub attributed_revenue: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DailyPoint {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    #[serde(flatten)]
    pub activity: Activity,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportRow {
    pub strategy: String,
    pub placement: Option<String>,
    pub click_through_rate: f64,
    #[serde(flatten)]
    pub activity: Activity,
}

/// One day of one strategy at one placement.
#[derive(Debug, Clone, Serialize)]
pub struct DayRow {
    pub day: String,
    pub strategy: String,
    pub placement: Option<String>,
    #[serde(flatten)]
    pub activity: Activity,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderSplitView {
    pub orders: u64,
    pub revenue: f64,
    pub aov: f64,
}

impl From<OrderTotals> for OrderSplitView {
    fn from(t: OrderTotals) -> Self {
        Self {
            orders: t.orders,
            revenue: round_cents(t.revenue),
            aov: round_cents(t.average()),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub days: i64,
    pub window_hours: u32,
    pub currency: Option<String>,
    pub daily: Vec<DailyPoint>,
    pub rows: Vec<ReportRow>,
    /// Per day, strategy and placement: only the combinations that had activity.
    pub by_day: Vec<DayRow>,
    pub orders: BTreeMap<&'static str, OrderSplitView>,
}

type Key = (String, Option<String>);

/// The three tables the report sums into: per day, per strategy and placement, per both.
#[derive(Default)]
struct Tables {
    daily: BTreeMap<i64, Activity>,
    rows: BTreeMap<Key, Activity>,
    cells: BTreeMap<(i64, String, Option<String>), Activity>,
}

impl Tables {
    fn add_shelf_day(&mut self, day: &RecommendationDay) {
        let key = (day.strategy.clone(), day.placement.clone());
        let cell = (day.day, key.0.clone(), key.1.clone());
        for target in [
            self.daily.entry(day.day).or_default(),
            self.rows.entry(key).or_default(),
            self.cells.entry(cell).or_default(),
        ] {
            target.shown += day.shown;
            target.clicked += day.clicked;
            target.added_to_cart += day.carted;
        }
    }

    /// An order counts once per day and once per strategy and placement it has lines for.
    fn add_attributed(&mut self, lines: &[AttributedLine]) {
        let mut counted: HashSet<(u64, Option<Key>)> = HashSet::new();
        for line in lines {
            let key = (line.strategy.clone(), line.placement.clone());
            let day = line.ordered_at.div_euclid(DAY_MS);
            let new_for_day = counted.insert((line.order_id, None));
            let new_for_row = counted.insert((line.order_id, Some(key.clone())));
            let cell = (day, key.0.clone(), key.1.clone());
            for (target, new) in [
                (self.daily.entry(day).or_default(), new_for_day),
                (self.cells.entry(cell).or_default(), new_for_row),
                (self.rows.entry(key).or_default(), new_for_row),
            ] {
                target.attributed_orders += u64::from(new);
                target.attributed_units += u64::from(line.units);
                target.attributed_revenue += line.revenue;
            }
        }
    }
}

/// The report over the `days` days ending with today (`now`'s day), every day present.
pub fn build(
    days: i64,
    now: i64,
    window_hours: u32,
    activity: &[RecommendationDay],
    attribution: &Attribution,
) -> Report {
    let today = now.div_euclid(DAY_MS);
    let first = today - days + 1;
    let mut tables = Tables {
        daily: (first..=today).map(|d| (d, Activity::default())).collect(),
        ..Tables::default()
    };
    for day in activity.iter().filter(|d| d.day >= first) {
        tables.add_shelf_day(day);
    }
    tables.add_attributed(&attribution.lines);
    let in_range = |d: &i64| (first..=today).contains(d);
    Report {
        days,
        window_hours,
        currency: attribution.currency.clone(),
        daily: tables
            .daily
            .into_iter()
            .filter(|(d, _)| in_range(d))
            .map(|(d, a)| DailyPoint {
                day: day_text(d),
                activity: rounded(a),
            })
            .collect(),
        rows: tables
            .rows
            .into_iter()
            .map(|((strategy, placement), a)| ReportRow {
                strategy,
                placement,
                click_through_rate: if a.shown > 0 {
                    a.clicked as f64 / a.shown as f64
                } else {
                    0.0
                },
                activity: rounded(a),
            })
            .collect(),
        by_day: tables
            .cells
            .into_iter()
            .filter(|((d, _, _), _)| in_range(d))
            .map(|((d, strategy, placement), a)| DayRow {
                day: day_text(d),
                strategy,
                placement,
                activity: rounded(a),
            })
            .collect(),
        orders: BTreeMap::from([
            (
                "with_recommendations",
                attribution.with_recommendations.into(),
            ),
            ("without", attribution.without.into()),
        ]),
    }
}

fn rounded(mut activity: Activity) -> Activity {
    activity.attributed_revenue = round_cents(activity.attributed_revenue);
    activity
}

fn round_cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

fn day_text(day: i64) -> String {
    chrono::DateTime::from_timestamp_millis(day * DAY_MS)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_day_is_present_and_an_order_counts_once_per_row() {
        let now = 20_000 * DAY_MS + 5;
        let activity = [RecommendationDay {
            day: 19_999,
            strategy: "similar".into(),
            placement: Some("product".into()),
            shown: 10,
            clicked: 2,
            carted: 1,
        }];
        let line = |units: u32, revenue: f64| AttributedLine {
            order_id: 1,
            ordered_at: now,
            strategy: "similar".into(),
            placement: Some("product".into()),
            units,
            revenue,
        };
        let attribution = Attribution {
            lines: vec![line(1, 10.005), line(2, 5.0)],
            ..Attribution::default()
        };
        let report = build(7, now, 24, &activity, &attribution);
        assert_eq!(report.daily.len(), 7);
        assert_eq!(report.daily[6].day, "2024-10-04");
        assert_eq!(report.daily[5].activity.shown, 10);
        let row = &report.rows[0];
        assert_eq!(
            (
                row.activity.attributed_orders,
                row.activity.attributed_units
            ),
            (1, 3)
        );
        assert_eq!(row.activity.attributed_revenue, 15.01);
        assert_eq!(row.click_through_rate, 0.2);
        let cells: Vec<(&str, i64, f64)> = report
            .by_day
            .iter()
            .map(|c| {
                (
                    c.day.as_str(),
                    c.activity.shown,
                    c.activity.attributed_revenue,
                )
            })
            .collect();
        assert_eq!(cells, [("2024-10-03", 10, 0.0), ("2024-10-04", 0, 15.01)]);
    }
}
