//! A/B experiments between strategies on a placement, and what a request's shopper gets:
//! the holdout's control, an experiment's arm, or Kindred as asked.

use serde::{Deserialize, Serialize};

use super::assignment::{arm_of, bucket};
use super::settings::{Control, Holdout};
use crate::error::AppError;
use crate::events::well_formed_label;
use crate::recommend::strategy::Strategy;

pub const MAX_ARMS: usize = 4;
const MAX_NAME_CHARS: usize = 80;
const MAX_ARM_NAME_CHARS: usize = 40;
/// The holdout's id among the experiments.
pub const HOLDOUT_ID: &str = "holdout";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExperimentStatus {
    Draft,
    Running,
    Stopped,
}

impl ExperimentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Running => "running",
            Self::Stopped => "stopped",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Draft, Self::Running, Self::Stopped]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// One arm: its share (relative weight) and the strategy its shoppers get (`None`: the
/// strategy the block or frontend asked for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arm {
    pub name: String,
    pub weight: u32,
    #[serde(default)]
    pub strategy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Experiment {
    pub id: String,
    pub name: String,
    /// `None`: every placement.
    pub placement: Option<String>,
    pub arms: Vec<Arm>,
    #[serde(skip)]
    pub salt: String,
    pub status: ExperimentStatus,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub stopped_at: Option<i64>,
}

impl Experiment {
    pub fn weights(&self) -> Vec<u32> {
        self.arms.iter().map(|a| a.weight).collect()
    }

    /// The arm of a browser, by index.
    pub fn arm_index(&self, client_id: &str) -> usize {
        arm_of(bucket(&self.salt, client_id), &self.weights())
    }

    /// Whether it applies to shelves at `placement`.
    pub fn covers(&self, placement: Option<&str>) -> bool {
        match (&self.placement, placement) {
            (None, _) => true,
            (Some(own), Some(asked)) => own == asked,
            (Some(_), None) => false,
        }
    }

    /// Whether two experiments could claim the same shelf.
    pub fn overlaps(&self, other: &Experiment) -> bool {
        self.placement.is_none() || other.placement.is_none() || self.placement == other.placement
    }
}

/// What the merchant sends to create one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewExperiment {
    pub name: String,
    #[serde(default)]
    pub placement: Option<String>,
    pub arms: Vec<Arm>,
}

impl NewExperiment {
    /// A draft, or a 400 naming what is wrong.
    pub fn validated(self, id: String, salt: String, now: i64) -> Result<Experiment, AppError> {
        let bad = |message: String| Err(AppError::InvalidInput(message));
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return bad(format!("`name` must be 1 to {MAX_NAME_CHARS} characters"));
        }
        let placement = match self.placement.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(
                well_formed_label(raw)
                    .ok_or_else(|| {
                        AppError::InvalidInput(
                            "`placement` must be 1 to 40 characters of a-z, 0-9 and _".into(),
                        )
                    })?
                    .to_owned(),
            ),
        };
        if !(2..=MAX_ARMS).contains(&self.arms.len()) {
            return bad(format!("`arms` must list 2 to {MAX_ARMS} arms"));
        }
        let mut arms = Vec::with_capacity(self.arms.len());
        for (at, arm) in self.arms.into_iter().enumerate() {
            let arm_name = arm.name.trim();
            if arm_name.is_empty()
                || arm_name.chars().count() > MAX_ARM_NAME_CHARS
                || arm_name.chars().any(char::is_control)
            {
                return bad(format!(
                    "arms[{at}].name must be 1 to {MAX_ARM_NAME_CHARS} printable characters"
                ));
            }
            if arm_name == HOLDOUT_ID || arms.iter().any(|a: &Arm| a.name == arm_name) {
                return bad(format!("arms[{at}].name `{arm_name}` is taken"));
            }
            if !(1..=100).contains(&arm.weight) {
                return bad(format!("arms[{at}].weight must be 1 to 100"));
            }
            let strategy = arm
                .strategy
                .as_deref()
                .map(|raw| Strategy::parse(raw, &format!("arms[{at}].strategy")))
                .transpose()?
                .map(|s| s.as_str().to_owned());
            arms.push(Arm {
                name: arm_name.to_owned(),
                weight: arm.weight,
                strategy,
            });
        }
        Ok(Experiment {
            id,
            name,
            placement,
            arms,
            salt,
            status: ExperimentStatus::Draft,
            created_at: now,
            started_at: None,
            stopped_at: None,
        })
    }
}

/// What one request's shopper gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Treatment {
    /// `holdout`, or the experiment's id.
    pub id: String,
    pub arm: String,
    pub holdout: bool,
    /// The holdout's control.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<Control>,
    /// The arm's strategy, replacing the one asked for.
    #[serde(skip)]
    pub strategy: Option<Strategy>,
}

/// The shopper's treatment: none without a browser id (no consent, no assignment), the
/// holdout's control for its share, else the arm of a running experiment on this placement.
pub fn treatment(
    holdout: &Holdout,
    running: &[Experiment],
    client_id: Option<&str>,
    placement: Option<&str>,
) -> Option<Treatment> {
    let client_id = client_id?;
    if in_holdout(holdout, client_id) {
        return Some(Treatment {
            id: HOLDOUT_ID.to_owned(),
            arm: HOLDOUT_ID.to_owned(),
            holdout: true,
            control: Some(holdout.control),
            strategy: None,
        });
    }
    let experiment = running
        .iter()
        .find(|e| e.status == ExperimentStatus::Running && e.covers(placement))?;
    let arm = &experiment.arms[experiment.arm_index(client_id)];
    Some(Treatment {
        id: experiment.id.clone(),
        arm: arm.name.clone(),
        holdout: false,
        control: None,
        strategy: arm
            .strategy
            .as_deref()
            .and_then(|s| Strategy::parse(s, "strategy").ok()),
    })
}

/// Whether the browser is held out now.
pub fn in_holdout(holdout: &Holdout, client_id: &str) -> bool {
    holdout.enabled && bucket(&holdout.salt, client_id) < holdout.share_bp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn experiment(placement: Option<&str>) -> Experiment {
        let new: NewExperiment = serde_json::from_value(serde_json::json!({
            "name": "Similar against for-you", "placement": placement,
            "arms": [{"name": "a", "weight": 1}, {"name": "b", "weight": 1, "strategy": "for_you"}]
        }))
        .unwrap();
        let mut e = new.validated("e1".into(), "salt".into(), 0).unwrap();
        e.status = ExperimentStatus::Running;
        e
    }

    #[test]
    fn shoppers_get_the_holdout_first_then_the_experiment_of_their_placement() {
        let mut holdout = super::super::settings::ProofSettings::new_at(0, 500).holdout;
        holdout.share_bp = 5_000;
        let running = [experiment(Some("product"))];
        let mut arms = std::collections::BTreeMap::new();
        for i in 0..400 {
            let client = format!("c{i}");
            let got = treatment(&holdout, &running, Some(&client), Some("product")).unwrap();
            assert_eq!(
                got,
                treatment(&holdout, &running, Some(&client), Some("product")).unwrap()
            );
            *arms.entry(got.arm.clone()).or_insert(0) += 1;
            if got.arm == "b" {
                assert_eq!(got.strategy, Some(Strategy::ForYou));
            }
            if !got.holdout {
                assert!(treatment(&holdout, &running, Some(&client), Some("cart")).is_none());
            }
        }
        assert_eq!(arms.len(), 3, "{arms:?}");
        assert!(treatment(&holdout, &running, None, Some("product")).is_none());
        holdout.enabled = false;
        assert!(!in_holdout(&holdout, "c1"));
        assert!(experiment(None).overlaps(&experiment(Some("cart"))));
        assert!(!experiment(Some("product")).overlaps(&experiment(Some("cart"))));
    }

    #[test]
    fn a_bad_experiment_is_refused_with_its_reason() {
        for (body, reason) in [
            (serde_json::json!({"name": "", "arms": []}), "`name`"),
            (
                serde_json::json!({"name": "x", "arms": [{"name": "a", "weight": 1}]}),
                "2 to 4",
            ),
            (
                serde_json::json!({"name": "x", "arms": [{"name": "a", "weight": 1}, {"name": "a", "weight": 1}]}),
                "taken",
            ),
            (
                serde_json::json!({"name": "x", "arms": [{"name": "a", "weight": 0}, {"name": "b", "weight": 1}]}),
                "weight",
            ),
            (
                serde_json::json!({"name": "x", "arms": [{"name": "a", "weight": 1}, {"name": "b", "weight": 1, "strategy": "magic"}]}),
                "strategy",
            ),
            (
                serde_json::json!({"name": "x", "placement": "Product page", "arms": [{"name": "a", "weight": 1}, {"name": "b", "weight": 1}]}),
                "placement",
            ),
        ] {
            let new: NewExperiment = serde_json::from_value(body).unwrap();
            let err = new
                .validated("e".into(), "s".into(), 0)
                .unwrap_err()
                .to_string();
            assert!(err.contains(reason), "{err}");
        }
    }
}
