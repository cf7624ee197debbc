//! How a shop measures Kindred: the attribution window and the always-on holdout.

use serde::{Deserialize, Serialize};

use super::assignment::{new_salt, BUCKETS};
use crate::error::AppError;

pub const DEFAULT_WINDOW_HOURS: u32 = 24;
/// A click counts for an order at most this long before it (what any peer offers at most).
pub const MAX_WINDOW_HOURS: u32 = 30 * 24;
/// 5% of shoppers, in basis points.
pub const DEFAULT_HOLDOUT_BP: u32 = 500;
/// Half the shop at most: past that the holdout is the product.
pub const MAX_HOLDOUT_BP: u32 = 5_000;

/// What the holdout's shoppers see where Kindred would have answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// No shelf at all.
    None,
    /// Shopify's own product recommendations (the theme block asks Shopify instead).
    Shopify,
}

/// The holdout: a share of browsers (by hash) that get the control, for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holdout {
    pub enabled: bool,
    /// Basis points of browsers held out.
    pub share_bp: u32,
    pub control: Control,
    /// New for each period, so a change of share does not move shoppers between arms
    /// mid-measurement.
    pub salt: String,
    /// When the current period began (a change starts a new one).
    pub started_at: i64,
    /// When it was switched off; `None` while it runs.
    pub stopped_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProofSettings {
    pub attribution_window_hours: u32,
    pub holdout: Holdout,
}

impl ProofSettings {
    /// A new shop's: a 24-hour window and a holdout of `share_bp` (none when 0) shown
    /// Shopify's own shelf.
    pub fn new_at(now: i64, share_bp: u32) -> Self {
        Self {
            attribution_window_hours: DEFAULT_WINDOW_HOURS,
            holdout: Holdout {
                enabled: share_bp > 0,
                share_bp: if share_bp > 0 {
                    share_bp
                } else {
                    DEFAULT_HOLDOUT_BP
                },
                control: Control::Shopify,
                salt: new_salt(),
                started_at: now,
                stopped_at: None,
            },
        }
    }

    pub fn window_ms(&self) -> i64 {
        i64::from(self.attribution_window_hours) * 3_600_000
    }

    /// The settings with `update` applied, or a 400 naming what is wrong. Any change to the
    /// holdout starts a new period with a new salt.
    pub fn updated(&self, update: &SettingsUpdate, now: i64) -> Result<Self, AppError> {
        let mut next = self.clone();
        if let Some(hours) = update.attribution_window_hours {
            if !(1..=MAX_WINDOW_HOURS).contains(&hours) {
                return Err(AppError::InvalidInput(format!(
                    "`attribution_window_hours` must be 1 to {MAX_WINDOW_HOURS}"
                )));
            }
            next.attribution_window_hours = hours;
        }
        if let Some(holdout) = &update.holdout {
            let share_bp = match holdout.share_percent {
                None => self.holdout.share_bp,
                Some(percent) => match share_of(percent)? {
                    0 => return Err(AppError::InvalidInput(
                        "`holdout.share_percent` must be above 0; set `enabled: false` to stop it"
                            .into(),
                    )),
                    bp => bp,
                },
            };
            let enabled = holdout.enabled.unwrap_or(self.holdout.enabled);
            let control = holdout.control.unwrap_or(self.holdout.control);
            let changed = enabled != self.holdout.enabled
                || share_bp != self.holdout.share_bp
                || control != self.holdout.control;
            if changed {
                next.holdout = Holdout {
                    enabled,
                    share_bp,
                    control,
                    salt: if enabled {
                        new_salt()
                    } else {
                        self.holdout.salt.clone()
                    },
                    started_at: if enabled {
                        now
                    } else {
                        self.holdout.started_at
                    },
                    stopped_at: (!enabled).then_some(now),
                };
            }
        }
        Ok(next)
    }

    /// What the merchant reads and writes.
    pub fn view(&self, event_retention_days: u32) -> serde_json::Value {
        serde_json::json!({
            "attribution_window_hours": self.attribution_window_hours,
            "event_retention_days": event_retention_days,
            "holdout": {
                "enabled": self.holdout.enabled,
                "share_percent": f64::from(self.holdout.share_bp) / 100.0,
                "control": self.holdout.control,
                "started_at_ms": self.holdout.started_at,
                "stopped_at_ms": self.holdout.stopped_at,
            },
        })
    }
}

/// A share in percent as basis points: 0 (none) or 0.01 to 50.
pub fn share_of(percent: f64) -> Result<u32, AppError> {
    let bp = (percent * 100.0).round();
    if !percent.is_finite() || bp < 0.0 || bp > f64::from(MAX_HOLDOUT_BP) {
        return Err(AppError::InvalidInput(format!(
            "`holdout.share_percent` must be 0 to {}",
            MAX_HOLDOUT_BP / 100
        )));
    }
    debug_assert!(MAX_HOLDOUT_BP <= BUCKETS);
    Ok(bp as u32)
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    pub attribution_window_hours: Option<u32>,
    pub holdout: Option<HoldoutUpdate>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldoutUpdate {
    pub enabled: Option<bool>,
    pub share_percent: Option<f64>,
    pub control: Option<Control>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holdout_change_starts_a_new_period_and_bad_values_are_refused() {
        let settings = ProofSettings::new_at(1, DEFAULT_HOLDOUT_BP);
        let same = settings
            .updated(
                &SettingsUpdate {
                    attribution_window_hours: Some(48),
                    holdout: Some(HoldoutUpdate {
                        share_percent: Some(5.0),
                        ..HoldoutUpdate::default()
                    }),
                },
                2,
            )
            .unwrap();
        assert_eq!(
            (same.window_ms(), &same.holdout),
            (48 * 3_600_000, &settings.holdout)
        );
        let wider = HoldoutUpdate {
            share_percent: Some(10.0),
            ..HoldoutUpdate::default()
        };
        let update = SettingsUpdate {
            holdout: Some(wider),
            ..SettingsUpdate::default()
        };
        let wider = settings.updated(&update, 3).unwrap();
        assert_eq!(
            (wider.holdout.share_bp, wider.holdout.started_at),
            (1_000, 3)
        );
        assert_ne!(wider.holdout.salt, settings.holdout.salt);
        for bad in [
            r#"{"attribution_window_hours": 0}"#,
            r#"{"holdout": {"share_percent": 80}}"#,
        ] {
            let update: SettingsUpdate = serde_json::from_str(bad).unwrap();
            assert!(settings.updated(&update, 4).is_err(), "{bad}");
        }
    }
}
