//! What a shop's shoppers did together, as trained models: co-occurrence from checkouts and
//! carts ("often bought with"), session-kNN and sequential rules from browsing sessions
//! ("shoppers who viewed this also viewed", "often viewed next") and a two-step walk on the
//! co-view graph (what is viewed with what is viewed with this). Trained from the shop's own
//! events only, kept per shop and rebuilt at most once a minute, so a request never trains.
//! The parameters are those the offline evaluation tuned (BENCHMARKS.md): co-occurrence's
//! popularity damping, session-kNN and sequential rules as on Online Retail, the walk's second
//! step as on Diginetica's view sessions (Online Retail's baskets turned it off).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kindred_retriever::recommend::{CoOccurrence, ItemWalk, SequentialRules, Session, SessionKnn};

use super::service::CatalogService;
use crate::domain::ShopDomain;
use crate::error::AppError;

/// Baskets of the last 90 days teach what goes together.
const BASKET_WINDOW_MS: i64 = 90 * 24 * 3600 * 1000;
/// Browsing of the last 30 days teaches what is viewed together and next.
const VIEW_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;
/// A browser idle this long starts a new session.
const SESSION_IDLE_MS: i64 = 30 * 60 * 1000;
/// Items co-occurring with everything are dampened by count^this.
const POPULARITY_DAMPING: f64 = 0.25;
/// The walk's second step counts this much more than the first (tuned on Diginetica: in
/// browsing, the items two steps away are where most unseen next views are).
const WALK_SECOND_STEP: f64 = 4.0;
/// A co-view walk follows an item's strongest links only, and skips sessions that viewed
/// more items than this (they link everything with everything).
const WALK_MAX_LINKS: usize = 100;
const WALK_MAX_SESSION: usize = 100;
/// A shop's models are rebuilt at most this often, not on every request.
const MODEL_MAX_AGE: Duration = Duration::from_secs(60);

pub(crate) struct ShopInteractions {
    pub together: Arc<CoOccurrence>,
    pub neighbours: Arc<SessionKnn>,
    pub next: Arc<SequentialRules>,
    pub nearby: Arc<ItemWalk>,
}

/// Per shop: when its models were built, and the models.
pub(crate) type InteractionModels =
    Arc<Mutex<HashMap<ShopDomain, (Instant, Arc<ShopInteractions>)>>>;

impl CatalogService {
    /// The shop's models, from the cache while they are fresh.
    pub(crate) async fn interactions(
        &self,
        shop: &ShopDomain,
    ) -> Result<Arc<ShopInteractions>, AppError> {
        let cached = self
            .interaction_models
            .lock()
            .ok()
            .and_then(|models| models.get(shop).cloned());
        if let Some((_, models)) = cached.filter(|(built, _)| built.elapsed() < MODEL_MAX_AGE) {
            return Ok(models);
        }
        let now = crate::storage::now_millis();
        let baskets: Vec<Session> = self
            .store()
            .baskets(shop, now - BASKET_WINDOW_MS)
            .await?
            .into_iter()
            .map(|items| Session { items, time: 0 })
            .collect();
        let browsing: Vec<Session> = self
            .store()
            .view_sessions(shop, now - VIEW_WINDOW_MS, SESSION_IDLE_MS)
            .await?
            .into_iter()
            .map(|(items, time)| Session { items, time })
            .collect();
        // Training is CPU work: off the async runtime, so other requests keep being served.
        let models = tokio::task::spawn_blocking(move || {
            Arc::new(ShopInteractions {
                together: Arc::new(CoOccurrence::train(&baskets, POPULARITY_DAMPING, 0.0, 100)),
                neighbours: Arc::new(SessionKnn::train(&browsing, 20, 200, 0.5)),
                next: Arc::new(SequentialRules::train(&browsing, 3, 0.5)),
                nearby: Arc::new(ItemWalk::train(
                    &browsing,
                    WALK_MAX_LINKS,
                    WALK_MAX_SESSION,
                    WALK_SECOND_STEP,
                    0.0,
                )),
            })
        })
        .await
        .map_err(|e| AppError::Internal(format!("training the shop's models: {e}")))?;
        if let Ok(mut cache) = self.interaction_models.lock() {
            cache.insert(shop.clone(), (Instant::now(), models.clone()));
        }
        Ok(models)
    }
}
