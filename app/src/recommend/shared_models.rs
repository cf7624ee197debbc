//! A shop's interaction models, shared by every replica on the database. One replica at a
//! time builds them (the lease `models <shop>`), from the shop's purchases and the training
//! log the previous build stored, topped up with only the events received since; it stores
//! the models and the log, and every replica serves that build, loading it when its own
//! copy is older. So N replicas train a shop once a minute, not N times, and no build scans
//! 90 days of events but the first. A request never waits for a build: it is served the
//! models in memory (the untrained ones, so content-based answers, for a shop that has
//! none yet) while one refresh per shop runs in the background.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::interactions::ShopInteractions;
use super::shop_cache::ShopCache;
use super::training_log::{TrainingLog, BASKET_WINDOW_MS};
use super::Recommender;
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::leases;

/// A shop's models are rebuilt at most this often (sooner after new purchases).
const MODEL_MAX_AGE_MS: i64 = 60_000;
/// ...but a build in the background starts no sooner than this after the last one: a busy
/// shop's orders arrive every few seconds, and each would otherwise start the next build.
const REBUILD_PAUSE_MS: i64 = 20_000;
/// A replica that found nothing newer to load or build looks again after this long, not at
/// every request meanwhile.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// How builds are shared: the lease a build holds (renewed while it runs), and how long
/// shopper events are kept (the training log drops what the retention drops).
#[derive(Debug, Clone, Copy)]
pub struct ModelSharing {
    pub lease: Duration,
    pub event_retention_ms: i64,
}

impl Default for ModelSharing {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            event_retention_ms: BASKET_WINDOW_MS,
        }
    }
}

/// Each shop's models in memory, one refresh per shop at a time, and the purchases that
/// want a newer build.
#[derive(Default)]
pub(crate) struct ModelCache {
    models: ShopCache<ShopInteractions>,
    /// Per shop: held while a refresh runs, with when the last one started.
    refreshes: Mutex<HashMap<ShopDomain, Arc<tokio::sync::Mutex<Option<Instant>>>>>,
    /// Per shop: purchases came in at this moment (stores' clock); a build that read the
    /// data before then is not new enough.
    wanted_after: Mutex<HashMap<ShopDomain, i64>>,
    trainings: AtomicU64,
    loads: AtomicU64,
    events_read: AtomicU64,
}

/// What this process did to keep models current: builds trained here, builds of another
/// replica loaded, and events read from the database for builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelBuilds {
    pub trainings: u64,
    pub loads: u64,
    pub events_read: u64,
}

pub(crate) type InteractionModels = Arc<ModelCache>;

impl ModelCache {
    fn refresh_slot(&self, shop: &ShopDomain) -> Arc<tokio::sync::Mutex<Option<Instant>>> {
        self.refreshes
            .lock()
            .map(|mut slots| slots.entry(shop.clone()).or_default().clone())
            .unwrap_or_default()
    }

    fn wanted_after(&self, shop: &ShopDomain) -> Option<i64> {
        self.wanted_after.lock().ok()?.get(shop).copied()
    }

    /// Keeps `models` if they are newer than what memory holds; they stay marked old when
    /// purchases came in after they were read.
    fn keep(&self, shop: &ShopDomain, models: Arc<ShopInteractions>) {
        if self
            .built_at(shop)
            .is_some_and(|held| held >= models.built_at)
        {
            return;
        }
        let built_at = models.built_at;
        self.models.put(shop, models);
        if let Ok(mut wanted) = self.wanted_after.lock() {
            match wanted.get(shop) {
                Some(after) if *after >= built_at => self.models.make_stale(shop),
                Some(_) => {
                    wanted.remove(shop);
                }
                None => {}
            }
        }
    }

    fn built_at(&self, shop: &ShopDomain) -> Option<i64> {
        self.models.get(shop).map(|(_, models)| models.built_at)
    }

    /// Drops what is held of a shop (deleted, or a customer redacted: their sessions are in
    /// the models), so the next build starts afresh from what the database still has.
    pub(crate) fn forget(&self, shop: &ShopDomain) {
        self.models.forget(shop);
    }

    /// New purchases at `now`: the next request has the models rebuilt in the background
    /// and is served the current ones meanwhile.
    pub(crate) fn make_stale(&self, shop: &ShopDomain, now: i64) {
        if let Ok(mut wanted) = self.wanted_after.lock() {
            wanted.insert(shop.clone(), now);
        }
        self.models.make_stale(shop);
        // The next request looks at once, however recently the last look was.
        let slot = self
            .refreshes
            .lock()
            .ok()
            .and_then(|s| s.get(shop).cloned());
        if let Some(slot) = slot {
            if let Ok(mut looked) = slot.try_lock() {
                *looked = None;
            }
        }
    }
}

/// The models of a shop with no build yet.
fn untrained() -> Arc<ShopInteractions> {
    static UNTRAINED: OnceLock<Arc<ShopInteractions>> = OnceLock::new();
    UNTRAINED
        .get_or_init(|| Arc::new(ShopInteractions::untrained()))
        .clone()
}

impl Recommender {
    /// The shop's models as memory holds them, at once; a refresh starts in the background
    /// when they are old (or there are none yet).
    pub(crate) async fn interactions(
        &self,
        shop: &ShopDomain,
    ) -> Result<Arc<ShopInteractions>, AppError> {
        let now = self.stores().now();
        let held = self.interaction_models.models.get(shop);
        let fresh = held.as_ref().is_some_and(|(age, models)| {
            *age != Duration::MAX && now - models.built_at < MODEL_MAX_AGE_MS
        });
        if !fresh {
            self.refresh_in_background(shop);
        }
        Ok(held.map_or_else(untrained, |(_, models)| models))
    }

    /// Brings the shop's models up to date before returning (after a refresh already
    /// running): for commands and tests that want trained answers at once.
    pub async fn refresh_interactions(&self, shop: &ShopDomain) -> Result<(), AppError> {
        let slot = self.interaction_models.refresh_slot(shop);
        let mut looked = slot.lock().await;
        *looked = Some(Instant::now());
        self.refresh(shop, 0).await
    }

    pub fn interaction_builds(&self) -> ModelBuilds {
        let cache = &self.interaction_models;
        ModelBuilds {
            trainings: cache.trainings.load(Ordering::Relaxed),
            loads: cache.loads.load(Ordering::Relaxed),
            events_read: cache.events_read.load(Ordering::Relaxed),
        }
    }

    fn refresh_in_background(&self, shop: &ShopDomain) {
        let Ok(mut looked) = self.interaction_models.refresh_slot(shop).try_lock_owned() else {
            return;
        };
        if looked.is_some_and(|at| at.elapsed() < LOOK_EVERY) {
            return;
        }
        *looked = Some(Instant::now());
        let service = self.clone();
        let shop = shop.clone();
        tokio::spawn(async move {
            if let Err(err) = service.refresh(&shop, REBUILD_PAUSE_MS).await {
                tracing::warn!(%shop, error = %err, "interaction models not refreshed; the held ones serve");
            }
            drop(looked);
        });
    }

    /// Loads the stored build when it is newer than memory's; builds anew, under the lease,
    /// when the stored one is old or older than the latest purchases, and at least
    /// `pause_ms` old.
    async fn refresh(&self, shop: &ShopDomain, pause_ms: i64) -> Result<(), AppError> {
        let cache = &self.interaction_models;
        let now = self.stores().now();
        let new_enough_after = cache
            .wanted_after(shop)
            .unwrap_or(i64::MIN)
            .max(now - MODEL_MAX_AGE_MS);
        if let Some(stored_at) = self.stores().models.models_built_at(shop).await? {
            if cache.built_at(shop).is_none_or(|held| stored_at > held) {
                self.load_stored(shop).await?;
            }
            if stored_at > new_enough_after || now - stored_at < pause_ms {
                return Ok(());
            }
        }
        let lease = format!("models {shop}");
        let ttl = self.model_sharing.lease;
        // When another replica holds the lease it is building: its build is loaded at a
        // later look.
        leases::while_holding(&self.stores().leases, &lease, ttl, self.build(shop))
            .await?
            .unwrap_or(Ok(()))
    }

    async fn load_stored(&self, shop: &ShopDomain) -> Result<(), AppError> {
        let Some(stored) = self.stores().models.stored_models(shop).await? else {
            return Ok(());
        };
        let decoded = tokio::task::spawn_blocking(move || {
            rmp_serde::from_slice::<ShopInteractions>(&stored.models)
        })
        .await
        .map_err(|e| AppError::Internal(format!("reading stored models: {e}")))?;
        match decoded {
            Ok(models) => {
                self.interaction_models
                    .loads
                    .fetch_add(1, Ordering::Relaxed);
                metrics::counter!("kindred_interaction_model_loads_total").increment(1);
                self.interaction_models.keep(shop, Arc::new(models));
            }
            // Written by another version of Kindred: the next build replaces it.
            Err(err) => tracing::info!(%shop, error = %err, "stored models unreadable; rebuilding"),
        }
        Ok(())
    }

    /// One build: the stored log topped up with the events received since, the models
    /// trained on it and the shop's purchases, both stored for every replica.
    async fn build(&self, shop: &ShopDomain) -> Result<(), AppError> {
        let stores = self.stores();
        let now = stores.now();
        let mut log = self.stored_log(shop, now).await?;
        let events = stores
            .events
            .logged_events(shop, log.read_from(), now - BASKET_WINDOW_MS)
            .await?;
        let read = events.len() as u64;
        self.interaction_models
            .events_read
            .fetch_add(read, Ordering::Relaxed);
        metrics::counter!("kindred_training_log_events_read_total").increment(read);
        let keep_since = now - self.model_sharing.event_retention_ms;
        log.absorb(events, now, keep_since);
        metrics::gauge!("kindred_training_log_touches").set(log.len() as f64);
        let models = Arc::new(self.train_interactions(shop, &log, now).await?);
        let encoding = models.clone();
        let (stored_models, stored_log) = super::low_priority::run("encoding", move || {
            Ok::<_, rmp_serde::encode::Error>((
                rmp_serde::to_vec(encoding.as_ref())?,
                rmp_serde::to_vec(&log)?,
            ))
        })
        .await?
        .map_err(|e| AppError::Internal(format!("encoding the shop's models: {e}")))?;
        stores
            .models
            .put_models(shop, now, &stored_models, &stored_log)
            .await?;
        self.interaction_models
            .trainings
            .fetch_add(1, Ordering::Relaxed);
        metrics::counter!("kindred_interaction_trainings_total").increment(1);
        metrics::gauge!("kindred_interaction_models_bytes").set(stored_models.len() as f64);
        self.interaction_models.keep(shop, models);
        Ok(())
    }

    /// The log the last build stored; a new one (so a full scan) when there is none, it is
    /// due for its daily full scan, or another version of Kindred wrote it.
    async fn stored_log(&self, shop: &ShopDomain, now: i64) -> Result<TrainingLog, AppError> {
        let Some(bytes) = self.stores().models.training_log(shop).await? else {
            return Ok(TrainingLog::new(now));
        };
        let log = tokio::task::spawn_blocking(move || rmp_serde::from_slice::<TrainingLog>(&bytes))
            .await
            .map_err(|e| AppError::Internal(format!("reading the training log: {e}")))?;
        Ok(log
            .ok()
            .filter(|log| !log.is_due_for_full_scan(now))
            .unwrap_or_else(|| TrainingLog::new(now)))
    }

    /// Runs an erasure of the shop's shopper data under the shop's build lease, so no build
    /// that read the data before it can store models learnt from it after.
    pub(crate) async fn erasing<T>(
        &self,
        shop: &ShopDomain,
        erase: impl std::future::Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let lease = format!("models {shop}");
        let ttl = self.model_sharing.lease;
        leases::when_free(&self.stores().leases, &lease, ttl, 3 * ttl, erase)
            .await?
            .ok_or(AppError::Overloaded)?
    }
}
