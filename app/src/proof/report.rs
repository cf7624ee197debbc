//! The attribution report: per day, and per strategy and placement, what shelves showed,
//! what shoppers clicked and carted, and the orders and revenue attributed to them.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::attribution::{AttributedLine, Attribution, OrderTotals, RecommendationClick};

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

/// A product a browser put in its cart, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct CartAddition {
    pub client_id: String,
    pub product_id: u64,
    /// Milliseconds since the epoch.
    pub at: i64,
}

/// Fills each day's `carted`: its clicks after which the same browser added the clicked
/// product to its cart (at the click's moment or later).
pub fn count_carted(
    days: &mut [RecommendationDay],
    clicks: &[RecommendationClick],
    additions: &[CartAddition],
) {
    let mut latest: HashMap<(&str, u64), i64> = HashMap::new();
    for addition in additions {
        let at = latest
            .entry((addition.client_id.as_str(), addition.product_id))
            .or_insert(addition.at);
        *at = (*at).max(addition.at);
    }
    let mut carted: HashMap<(i64, &str, Option<&str>), i64> = HashMap::new();
    for click in clicks {
        let followed = latest
            .get(&(click.client_id.as_str(), click.product_id))
            .is_some_and(|at| *at >= click.at);
        if followed {
            let key = (
                click.at.div_euclid(DAY_MS),
                click.strategy.as_str(),
                click.placement.as_deref(),
            );
            *carted.entry(key).or_default() += 1;
        }
    }
    for day in days {
        let key = (day.day, day.strategy.as_str(), day.placement.as_deref());
        day.carted = carted.get(&key).copied().unwrap_or(0);
    }
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
    fn a_click_counts_as_carted_when_its_browser_carted_the_product_after_it() {
        let click = RecommendationClick::similar_on_product;
        let added = |client: &str, product: u64, at: i64| CartAddition {
            client_id: client.into(),
            product_id: product,
            at,
        };
        let day = |day: i64| RecommendationDay {
            day,
            strategy: "similar".into(),
            placement: Some("product".into()),
            shown: 9,
            clicked: 9,
            carted: 0,
        };
        let mut days = [day(1), day(2)];
        let clicks = [
            click("a", 1, DAY_MS + 10),     // carted later the same day
            click("a", 1, DAY_MS + 20),     // and that addition follows this one too
            click("b", 1, DAY_MS + 30),     // another browser's addition does not count
            click("a", 2, DAY_MS + 40),     // nor one of another product
            click("a", 3, 2 * DAY_MS + 50), // carted before the click: no
        ];
        let additions = [
            added("a", 1, DAY_MS + 25),
            added("c", 1, DAY_MS + 35),
            added("a", 3, 2 * DAY_MS + 5),
        ];
        count_carted(&mut days, &clicks, &additions);
        assert_eq!((days[0].carted, days[1].carted), (2, 0));
    }

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
