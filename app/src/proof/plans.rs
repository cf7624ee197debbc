//! The plans a merchant chooses from (billed through Shopify's Billing API) and what each
//! allows; the server enforces the limits, with a message saying which plan lifts them.

use serde::Serialize;

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanId {
    Free,
    Growth,
}

impl PlanId {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Growth => "growth",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        match raw.trim() {
            "free" => Ok(Self::Free),
            "growth" => Ok(Self::Growth),
            other => Err(AppError::InvalidInput(format!(
                "`plan` must be free or growth, not `{}`",
                other.chars().take(40).collect::<String>()
            ))),
        }
    }
}

/// A plan as the admin shows it and Shopify bills it.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub id: PlanId,
    pub name: &'static str,
    /// Per 30 days, in `currency`.
    pub price: f64,
    pub currency: &'static str,
    pub interval: &'static str,
    pub trial_days: u32,
    pub features: &'static [&'static str],
    /// A/B experiments running at once.
    pub running_experiments: usize,
}

pub const PLANS: [Plan; 2] = [
    Plan {
        id: PlanId::Free,
        name: "Free",
        price: 0.0,
        currency: "USD",
        interval: "EVERY_30_DAYS",
        trial_days: 0,
        features: &[
            "Every recommendation strategy on the storefront and through the API",
            "Attributed revenue report",
            "Always-on holdout measuring what Kindred adds",
        ],
        running_experiments: 0,
    },
    Plan {
        id: PlanId::Growth,
        name: "Growth",
        price: 49.0,
        currency: "USD",
        interval: "EVERY_30_DAYS",
        trial_days: 14,
        features: &[
            "Everything in Free",
            "A/B experiments between strategies (up to 4 at once)",
        ],
        running_experiments: 4,
    },
];

pub fn plan(id: PlanId) -> &'static Plan {
    match id {
        PlanId::Free => &PLANS[0],
        PlanId::Growth => &PLANS[1],
    }
}

/// The stored choice: the plan asked for and Shopify's word on its subscription.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRow {
    pub plan: String,
    pub subscription_id: Option<String>,
    /// Shopify's AppSubscriptionStatus in lower case.
    pub status: String,
    pub test: bool,
    pub updated_at: i64,
}

impl PlanRow {
    /// The plan in force: a paid one only while Shopify says its subscription is active.
    pub fn in_force(row: Option<&PlanRow>) -> PlanId {
        match row {
            Some(row) if row.status == "active" => PlanId::parse(&row.plan).unwrap_or(PlanId::Free),
            _ => PlanId::Free,
        }
    }
}

/// The 402 a request over the plan's limits gets.
pub fn over_limit(what: &str) -> AppError {
    AppError::PlanLimit(format!(
        "{what} is not in your plan: choose Growth under Billing in Kindred's admin"
    ))
}
