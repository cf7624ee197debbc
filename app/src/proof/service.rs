//! Measuring Kindred for one shop: its settings and experiments (kept in memory a few
//! seconds, since every storefront request asks which arm its shopper is in), the
//! attribution report and each experiment's results.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::assignment::{new_salt, BUCKETS};
use super::attribution::{attribute, RecommendationClick};
use super::experiments::{
    in_holdout, treatment, Experiment, ExperimentStatus, NewExperiment, Treatment, HOLDOUT_ID,
};
use super::plans::{over_limit, plan, PlanId, PlanRow};
use super::report::{build, count_carted, RecommendationDay, Report};
use super::results::{measure, Design, Results};
use super::settings::{ProofSettings, SettingsUpdate};
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::purchases::OrderBook;
use crate::stores::Stores;

/// How long a replica trusts what it read of a shop's settings and experiments; a change
/// made through this replica is seen at once.
const FRESH_FOR: Duration = Duration::from_secs(10);
const CACHED_SHOPS: usize = 10_000;
const DAY_MS: i64 = 86_400_000;
pub const MAX_REPORT_DAYS: i64 = 365;

struct ShopState {
    settings: ProofSettings,
    running: Vec<Experiment>,
    read: Instant,
}

#[derive(Clone)]
pub struct Proof {
    stores: Stores,
    event_retention_days: u32,
    /// The holdout a new shop starts with, in basis points.
    default_holdout_bp: u32,
    cache: Arc<quick_cache::sync::Cache<String, Arc<ShopState>>>,
}

impl Proof {
    pub fn new(stores: Stores, event_retention_days: u32, default_holdout_bp: u32) -> Self {
        Self {
            stores,
            event_retention_days,
            default_holdout_bp,
            cache: Arc::new(quick_cache::sync::Cache::new(CACHED_SHOPS)),
        }
    }

    pub async fn settings(&self, shop: &ShopDomain) -> Result<ProofSettings, AppError> {
        let initial = to_json(&ProofSettings::new_at(
            self.stores.now(),
            self.default_holdout_bp,
        ))?;
        let stored = self.stores.proof.settings_or_insert(shop, &initial).await?;
        serde_json::from_str(&stored)
            .map_err(|e| AppError::Internal(format!("stored proof settings: {e}")))
    }

    pub fn settings_view(&self, settings: &ProofSettings) -> Value {
        settings.view(self.event_retention_days)
    }

    pub async fn update_settings(
        &self,
        shop: &ShopDomain,
        update: &SettingsUpdate,
    ) -> Result<ProofSettings, AppError> {
        let next = self
            .settings(shop)
            .await?
            .updated(update, self.stores.now())?;
        self.stores
            .proof
            .put_settings(shop, &to_json(&next)?)
            .await?;
        self.cache.remove(shop.as_str());
        Ok(next)
    }

    /// What the shopper of a storefront request gets.
    pub async fn treatment(
        &self,
        shop: &ShopDomain,
        client_id: Option<&str>,
        placement: Option<&str>,
    ) -> Result<Option<Treatment>, AppError> {
        if client_id.is_none() {
            return Ok(None);
        }
        let state = self.state(shop).await?;
        Ok(treatment(
            &state.settings.holdout,
            &state.running,
            client_id,
            placement,
        ))
    }

    async fn state(&self, shop: &ShopDomain) -> Result<Arc<ShopState>, AppError> {
        if let Some(state) = self.cache.get(shop.as_str()) {
            if state.read.elapsed() < FRESH_FOR {
                return Ok(state);
            }
        }
        let settings = self.settings(shop).await?;
        let running = self
            .stores
            .proof
            .experiments(shop)
            .await?
            .into_iter()
            .filter(|e| e.status == ExperimentStatus::Running)
            .collect();
        let state = Arc::new(ShopState {
            settings,
            running,
            read: Instant::now(),
        });
        self.cache.insert(shop.as_str().to_owned(), state.clone());
        Ok(state)
    }

    pub async fn experiments(&self, shop: &ShopDomain) -> Result<Vec<Experiment>, AppError> {
        self.stores.proof.experiments(shop).await
    }

    pub async fn experiment(&self, shop: &ShopDomain, id: &str) -> Result<Experiment, AppError> {
        self.experiments(shop)
            .await?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| AppError::NotFound(format!("experiment `{id}`")))
    }

    pub async fn create_experiment(
        &self,
        shop: &ShopDomain,
        new: NewExperiment,
    ) -> Result<Experiment, AppError> {
        let id = format!("exp_{}", &new_salt()[..12]);
        let experiment = new.validated(id, new_salt(), self.stores.now())?;
        self.stores
            .proof
            .insert_experiment(shop, &experiment)
            .await?;
        Ok(experiment)
    }

    /// Starts a draft; refused past the plan's limit or beside a running experiment on the
    /// same shelves (a shopper can be in one arm per shelf).
    pub async fn start(&self, shop: &ShopDomain, id: &str) -> Result<Experiment, AppError> {
        let experiment = self.experiment(shop, id).await?;
        let running: Vec<Experiment> = self
            .experiments(shop)
            .await?
            .into_iter()
            .filter(|e| e.status == ExperimentStatus::Running)
            .collect();
        let allowed = plan(self.plan_in_force(shop).await?).running_experiments;
        if running.len() >= allowed {
            return Err(if allowed == 0 {
                over_limit("A/B experiments")
            } else {
                AppError::PlanLimit(format!(
                    "your plan runs at most {allowed} experiments at once"
                ))
            });
        }
        if let Some(other) = running.iter().find(|e| e.overlaps(&experiment)) {
            return Err(AppError::Conflict(format!(
                "experiment `{}` already runs on these shelves; stop it first",
                other.name
            )));
        }
        self.move_to(
            shop,
            &experiment,
            ExperimentStatus::Draft,
            ExperimentStatus::Running,
        )
        .await
    }

    pub async fn stop(&self, shop: &ShopDomain, id: &str) -> Result<Experiment, AppError> {
        let experiment = self.experiment(shop, id).await?;
        self.move_to(
            shop,
            &experiment,
            ExperimentStatus::Running,
            ExperimentStatus::Stopped,
        )
        .await
    }

    async fn move_to(
        &self,
        shop: &ShopDomain,
        experiment: &Experiment,
        from: ExperimentStatus,
        to: ExperimentStatus,
    ) -> Result<Experiment, AppError> {
        let moved = self
            .stores
            .proof
            .move_experiment(shop, &experiment.id, from, to, self.stores.now())
            .await?;
        if !moved {
            return Err(AppError::Conflict(format!(
                "experiment `{}` is {}, not {}",
                experiment.id,
                experiment.status.as_str(),
                from.as_str()
            )));
        }
        self.cache.remove(shop.as_str());
        self.experiment(shop, &experiment.id).await
    }

    /// The shop's currency, as its orders' amounts are in; none before its first order.
    pub async fn shop_currency(&self, shop: &ShopDomain) -> Result<Option<String>, AppError> {
        self.stores.proof.shop_currency(shop).await
    }

    pub async fn plan_in_force(&self, shop: &ShopDomain) -> Result<PlanId, AppError> {
        Ok(PlanRow::in_force(
            self.stores.proof.plan(shop).await?.as_ref(),
        ))
    }

    /// The attribution report over the last `days` days, with the holdout's verdict. One
    /// read of the orders serves both: those since the earlier of the report's first day
    /// and the holdout period's start.
    pub async fn report(
        &self,
        shop: &ShopDomain,
        days: i64,
    ) -> Result<(Report, Results), AppError> {
        let settings = self.settings(shop).await?;
        let now = self.stores.now();
        let since = (now.div_euclid(DAY_MS) - days + 1) * DAY_MS;
        let clicks = self
            .stores
            .proof
            .recommendation_clicks(shop, since - settings.window_ms())
            .await?;
        let activity = self.days_with_carts(shop, since, &clicks).await?;
        let (from, to) = holdout_period(&settings, now);
        let book = self
            .stores
            .orders
            .orders_since(shop, since.min(from))
            .await?;
        let attribution = attribute(&clicks, &book, since, settings.window_ms());
        let report = build(
            days,
            now,
            settings.attribution_window_hours,
            &activity,
            &attribution,
        );
        let visitors = self.stores.proof.visitors(shop, from, to).await?;
        let holdout = measure_holdout(&settings, &visitors, &book, from, to);
        Ok((report, holdout))
    }

    /// Shelf activity per day, strategy and placement since `since_ms`, with the clicks a
    /// cart addition followed.
    pub async fn shelf_days(
        &self,
        shop: &ShopDomain,
        since_ms: i64,
    ) -> Result<Vec<RecommendationDay>, AppError> {
        let clicks = self
            .stores
            .proof
            .recommendation_clicks(shop, since_ms)
            .await?;
        self.days_with_carts(shop, since_ms, &clicks).await
    }

    /// `clicks` must hold every click since `since_ms` (earlier ones are ignored).
    async fn days_with_carts(
        &self,
        shop: &ShopDomain,
        since_ms: i64,
        clicks: &[RecommendationClick],
    ) -> Result<Vec<RecommendationDay>, AppError> {
        let mut days = self
            .stores
            .proof
            .recommendation_days(shop, since_ms)
            .await?;
        let additions = self.stores.proof.cart_additions(shop, since_ms).await?;
        count_carted(&mut days, clicks, &additions);
        Ok(days)
    }

    /// The holdout's current period: Kindred's shoppers against the held-out ones.
    pub async fn holdout_results(
        &self,
        shop: &ShopDomain,
        settings: &ProofSettings,
    ) -> Result<Results, AppError> {
        let (from, to) = holdout_period(settings, self.stores.now());
        let visitors = self.stores.proof.visitors(shop, from, to).await?;
        let book = self.stores.orders.orders_since(shop, from).await?;
        Ok(measure_holdout(settings, &visitors, &book, from, to))
    }

    /// An A/B experiment's results; the holdout's shoppers are not in it.
    pub async fn results(&self, shop: &ShopDomain, id: &str) -> Result<(Value, Results), AppError> {
        let settings = self.settings(shop).await?;
        if id == HOLDOUT_ID {
            return Ok((
                holdout_view(&settings),
                self.holdout_results(shop, &settings).await?,
            ));
        }
        let experiment = self.experiment(shop, id).await?;
        let from = experiment.started_at.unwrap_or(self.stores.now());
        let to = experiment.stopped_at.unwrap_or(self.stores.now());
        let design = Design {
            arms: experiment.arms.iter().map(|a| a.name.clone()).collect(),
            weights: experiment.weights(),
            control: 0,
            label: &|arm| format!("arm {arm}"),
        };
        let results = self
            .measured(shop, &design, from, to, |client| {
                (!in_holdout(&settings.holdout, client)).then(|| experiment.arm_index(client))
            })
            .await?;
        Ok((experiment_view(&experiment), results))
    }

    async fn measured(
        &self,
        shop: &ShopDomain,
        design: &Design<'_>,
        from: i64,
        to: i64,
        arm_of: impl Fn(&str) -> Option<usize>,
    ) -> Result<Results, AppError> {
        let visitors = self.stores.proof.visitors(shop, from, to).await?;
        let book = self.stores.orders.orders_since(shop, from).await?;
        Ok(measure(design, &visitors, arm_of, &book, from, to))
    }
}

/// The holdout's current period, [start, stop or now].
fn holdout_period(settings: &ProofSettings, now: i64) -> (i64, i64) {
    let holdout = &settings.holdout;
    (holdout.started_at, holdout.stopped_at.unwrap_or(now))
}

fn measure_holdout(
    settings: &ProofSettings,
    visitors: &[String],
    book: &OrderBook,
    from: i64,
    to: i64,
) -> Results {
    let holdout = &settings.holdout;
    let design = Design {
        arms: vec!["kindred".into(), HOLDOUT_ID.into()],
        weights: vec![BUCKETS - holdout.share_bp, holdout.share_bp],
        control: 1,
        label: &|arm| {
            if arm == HOLDOUT_ID {
                "the holdout".into()
            } else {
                "Kindred".into()
            }
        },
    };
    // Whoever the current split holds out, even after the holdout was stopped.
    let mut current = holdout.clone();
    current.enabled = true;
    measure(
        &design,
        visitors,
        |client| Some(usize::from(in_holdout(&current, client))),
        book,
        from,
        to,
    )
}

/// An experiment as the admin reads it.
pub fn experiment_view(e: &Experiment) -> Value {
    json!({
        "id": e.id, "name": e.name, "kind": "ab", "placement": e.placement,
        "status": e.status, "arms": e.arms,
        "created_at_ms": e.created_at, "started_at_ms": e.started_at, "stopped_at_ms": e.stopped_at,
    })
}

/// The holdout, listed among the experiments.
pub fn holdout_view(settings: &ProofSettings) -> Value {
    let h = &settings.holdout;
    json!({
        "id": HOLDOUT_ID, "name": "Always-on holdout", "kind": "holdout", "placement": null,
        "status": if h.enabled { "running" } else { "stopped" },
        "control": h.control,
        "arms": [
            {"name": "kindred", "weight": BUCKETS - h.share_bp, "strategy": null},
            {"name": HOLDOUT_ID, "weight": h.share_bp, "strategy": null},
        ],
        "created_at_ms": h.started_at, "started_at_ms": h.started_at, "stopped_at_ms": h.stopped_at,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(|e| AppError::Internal(e.to_string()))
}
