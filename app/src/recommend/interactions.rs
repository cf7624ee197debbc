//! What a shop's shoppers did together, as trained models: co-occurrence from purchases
//! (orders, and checkouts no order covers) and carts ("often bought with"), session-kNN and
//! sequential rules from browsing sessions ("shoppers who viewed this also viewed", "often
//! viewed next"), a two-step walk on the co-view graph (what is viewed with what is viewed
//! with this) and every buyer's purchases (buy again). Trained from the shop's own data only,
//! kept per shop and rebuilt at most once a minute (sooner after new orders), one build at a
//! time, off the request that found them old.
//! Their parameters are the served ones of `tuned`, which `kindred eval` measures too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kindred_retriever::recommend::{
    repeat_share, BuyAgain, CoOccurrence, ItemWalk, SequentialRules, Session, SessionKnn, ShopperId,
};

use super::shop_cache::ShopCache;
use super::tuned::SERVED;
use super::Recommender;
use crate::domain::{Buyer, ShopDomain};
use crate::error::AppError;
use crate::purchases::{histories, merge, Purchase};

/// Baskets of the last 90 days teach what goes together.
const BASKET_WINDOW_MS: i64 = 90 * 24 * 3600 * 1000;
/// Browsing of the last 30 days teaches what is viewed together and next.
const VIEW_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;
/// A browser idle this long starts a new session.
const SESSION_IDLE_MS: i64 = 30 * 60 * 1000;
/// A shop's models are rebuilt at most this often, not on every request.
const MODEL_MAX_AGE: Duration = Duration::from_secs(60);

pub(crate) struct ShopInteractions {
    pub together: Arc<CoOccurrence>,
    pub neighbours: Arc<SessionKnn>,
    pub next: Arc<SequentialRules>,
    pub nearby: Arc<ItemWalk>,
    /// Every buyer's purchase history, for buy-again's neighbours.
    pub buy_again: Arc<BuyAgain>,
    /// Which trained history is whose, so a shopper is never their own neighbour.
    pub buyers: HashMap<Buyer, ShopperId>,
    /// How much this shop's buyers re-buy: the share of a repeat buyer's basket items they
    /// had bought before.
    pub repeat_share: f64,
}

/// Each shop's models with when they were built, and one build lock per shop: however many
/// requests find a shop's models old, one build runs, and they are served the last good
/// models meanwhile. Only a shop with no models yet waits, for that one build.
#[derive(Default)]
pub(crate) struct ModelCache {
    models: ShopCache<ShopInteractions>,
    builds: Mutex<HashMap<ShopDomain, Arc<tokio::sync::Mutex<()>>>>,
    /// Builds run so far, for operators' metrics and tests.
    trainings: std::sync::atomic::AtomicU64,
}

pub(crate) type InteractionModels = Arc<ModelCache>;

impl ModelCache {
    fn build_lock(&self, shop: &ShopDomain) -> Arc<tokio::sync::Mutex<()>> {
        self.builds
            .lock()
            .map(|mut builds| builds.entry(shop.clone()).or_default().clone())
            .unwrap_or_default()
    }

    /// Drops what is held of a shop (deleted, or a customer redacted: their sessions are in
    /// the models), so the next request trains afresh from what the database still has.
    pub(crate) fn forget(&self, shop: &ShopDomain) {
        self.models.forget(shop);
    }

    /// New purchases: the next request rebuilds the shop's models in the background and is
    /// served the current ones meanwhile.
    pub(crate) fn make_stale(&self, shop: &ShopDomain) {
        self.models.make_stale(shop);
    }
}

impl Recommender {
    /// The shop's models: fresh ones from the cache; old ones while one rebuild runs in the
    /// background; none yet, after the one build every waiting request shares.
    pub(crate) async fn interactions(
        &self,
        shop: &ShopDomain,
    ) -> Result<Arc<ShopInteractions>, AppError> {
        let cache = &self.interaction_models;
        match cache.models.get(shop) {
            Some((age, models)) if age < MODEL_MAX_AGE => Ok(models),
            Some((_, models)) => {
                if let Ok(guard) = cache.build_lock(shop).try_lock_owned() {
                    let service = self.clone();
                    let shop = shop.clone();
                    tokio::spawn(async move {
                        match service.train_interactions(&shop).await {
                            Ok(models) => service.interaction_models.models.put(&shop, models),
                            Err(err) => {
                                tracing::warn!(%shop, error = %err, "interaction models not rebuilt; the old ones serve")
                            }
                        }
                        drop(guard);
                    });
                }
                Ok(models)
            }
            None => {
                let lock = cache.build_lock(shop);
                let _building = lock.lock().await;
                if let Some((_, models)) = cache.models.get(shop) {
                    return Ok(models);
                }
                let models = self.train_interactions(shop).await?;
                cache.models.put(shop, models.clone());
                Ok(models)
            }
        }
    }

    /// The shop's purchases since `since_ms`, each once: its orders, and the checkout
    /// events no order covers (`purchases::merge`).
    pub(crate) async fn purchases_since(
        &self,
        shop: &ShopDomain,
        since_ms: i64,
    ) -> Result<Vec<Purchase>, AppError> {
        let orders = self.stores().orders.orders_since(shop, since_ms).await?;
        let checkouts = self.stores().events.checkouts(shop, since_ms).await?;
        Ok(merge(&orders, &checkouts))
    }

    /// How many times this process trained interaction models.
    pub fn interaction_trainings(&self) -> u64 {
        self.interaction_models
            .trainings
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn train_interactions(
        &self,
        shop: &ShopDomain,
    ) -> Result<Arc<ShopInteractions>, AppError> {
        self.interaction_models
            .trainings
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        metrics::counter!("kindred_interaction_trainings_total").increment(1);
        let now = self.stores().now();
        let bought = self.purchases_since(shop, now - BASKET_WINDOW_MS).await?;
        // What goes together: every purchase (a guest's too) and each browser's cart.
        let baskets: Vec<Session> = bought
            .iter()
            .map(Purchase::products)
            .chain(
                self.stores()
                    .events
                    .cart_baskets(shop, now - BASKET_WINDOW_MS)
                    .await?,
            )
            .map(|items| Session { items, time: 0 })
            .collect();
        let purchases = histories(&bought);
        let browsing: Vec<Session> = self
            .stores()
            .events
            .view_sessions(shop, now - VIEW_WINDOW_MS, SESSION_IDLE_MS)
            .await?
            .into_iter()
            .map(|(items, time)| Session { items, time })
            .collect();
        // Training is CPU work: off the async runtime, so other requests keep being served.
        tokio::task::spawn_blocking(move || {
            let buyers: HashMap<Buyer, ShopperId> = purchases
                .iter()
                .enumerate()
                .map(|(index, (buyer, _))| (buyer.clone(), index as ShopperId))
                .collect();
            let histories: Vec<(ShopperId, Vec<Session>)> = purchases
                .into_iter()
                .enumerate()
                .map(|(index, (_, history))| (index as ShopperId, history))
                .collect();
            Arc::new(ShopInteractions {
                repeat_share: repeat_share(&histories),
                buy_again: Arc::new(BuyAgain::train(&histories, SERVED.buy_again)),
                buyers,
                together: Arc::new(SERVED.cooccurrence.train(&baskets)),
                neighbours: Arc::new(SERVED.session_knn.train(&browsing)),
                next: Arc::new(SERVED.sequential_rules.train(&browsing)),
                nearby: Arc::new(SERVED.walk.train(&browsing)),
            })
        })
        .await
        .map_err(|e| AppError::Internal(format!("training the shop's models: {e}")))
    }
}
