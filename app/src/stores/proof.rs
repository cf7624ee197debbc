//! What measuring Kindred needs: the shop's measurement settings, its experiments, the plan
//! the merchant chose, and the shelf activity, clicks and visitors the reports read.

use async_trait::async_trait;

use crate::domain::{ClientId, ShopDomain};
use crate::error::AppError;
use crate::proof::attribution::RecommendationClick;
use crate::proof::experiments::{Experiment, ExperimentStatus};
use crate::proof::plans::PlanRow;
use crate::proof::report::{CartAddition, RecommendationDay};

#[async_trait]
pub trait ProofStore: Send + Sync {
    /// The shop's settings (JSON), storing `initial` first when it has none; concurrent
    /// first reads all get the one stored.
    async fn settings_or_insert(
        &self,
        shop: &ShopDomain,
        initial: &str,
    ) -> Result<String, AppError>;

    async fn put_settings(&self, shop: &ShopDomain, settings: &str) -> Result<(), AppError>;

    /// The shop's experiments, newest first.
    async fn experiments(&self, shop: &ShopDomain) -> Result<Vec<Experiment>, AppError>;

    async fn insert_experiment(
        &self,
        shop: &ShopDomain,
        experiment: &Experiment,
    ) -> Result<(), AppError>;

    /// Moves it from `from` to `to`, stamping the start or stop; false when it was not in
    /// `from` (another request moved it first).
    async fn move_experiment(
        &self,
        shop: &ShopDomain,
        id: &str,
        from: ExperimentStatus,
        to: ExperimentStatus,
        at: i64,
    ) -> Result<bool, AppError>;

    /// Impressions and clicks per day, strategy and placement since `since_ms`; `carted` is
    /// left at 0 for `count_carted`, which matches the clicks to the cart additions (a
    /// correlated subquery for it is planned through the kind index by SQLite, without table
    /// statistics: every cart addition of the period once per click).
    async fn recommendation_days(
        &self,
        shop: &ShopDomain,
        since_ms: i64,
    ) -> Result<Vec<RecommendationDay>, AppError>;

    /// Every product a browser put in its cart since `since_ms`.
    async fn cart_additions(
        &self,
        shop: &ShopDomain,
        since_ms: i64,
    ) -> Result<Vec<CartAddition>, AppError>;

    /// Every click on a Kindred shelf since `since_ms`, for attribution.
    async fn recommendation_clicks(
        &self,
        shop: &ShopDomain,
        since_ms: i64,
    ) -> Result<Vec<RecommendationClick>, AppError>;

    /// The browsers with any event in [from, to]: an experiment's visitors.
    async fn visitors(
        &self,
        shop: &ShopDomain,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<String>, AppError>;

    /// The browsers seen last, newest first: (browser, last event, events in the last day
    /// it was seen).
    async fn recent_shoppers(
        &self,
        shop: &ShopDomain,
        limit: usize,
    ) -> Result<Vec<(ClientId, i64, i64)>, AppError>;

    /// The currency of the shop's latest order (amounts are in the shop's currency).
    async fn shop_currency(&self, shop: &ShopDomain) -> Result<Option<String>, AppError>;

    async fn plan(&self, shop: &ShopDomain) -> Result<Option<PlanRow>, AppError>;

    async fn put_plan(&self, shop: &ShopDomain, plan: &PlanRow) -> Result<(), AppError>;
}
