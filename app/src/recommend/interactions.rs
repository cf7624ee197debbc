//! What a shop's shoppers did together, as trained models: co-occurrence from purchases
//! (orders, and checkouts no order covers) and carts ("often bought with"), session-kNN and
//! sequential rules from browsing sessions ("shoppers who viewed this also viewed", "often
//! viewed next"), a two-step walk on the co-view graph (what is viewed with what is viewed
//! with this) and every buyer's purchases (buy again). Trained from the shop's own data only:
//! its orders and checkouts of the last 90 days, read whole (orders change after they are
//! placed), and its browsing and carts from the training log (`training_log`), which each
//! build only tops up. Built by one replica at a time and shared (`shared_models`).
//! Their parameters are the served ones of `tuned`, which `kindred eval` measures too.

use std::collections::HashMap;
use std::sync::Arc;

use kindred_retriever::recommend::{
    repeat_share, BuyAgain, CoOccurrence, ItemWalk, SequentialRules, Session, SessionKnn, ShopperId,
};
use serde::{Deserialize, Serialize};

use super::training_log::{TrainingLog, BASKET_WINDOW_MS};
use super::tuned::SERVED;
use super::Recommender;
use crate::domain::{Buyer, ShopDomain};
use crate::error::AppError;
use crate::purchases::{histories, merge, Purchase};

#[derive(Serialize, Deserialize)]
pub(crate) struct ShopInteractions {
    /// When the build read the shop's data (milliseconds, the stores' clock).
    pub built_at: i64,
    #[serde(with = "shared")]
    pub together: Arc<CoOccurrence>,
    #[serde(with = "shared")]
    pub neighbours: Arc<SessionKnn>,
    #[serde(with = "shared")]
    pub next: Arc<SequentialRules>,
    #[serde(with = "shared")]
    pub nearby: Arc<ItemWalk>,
    /// Every buyer's purchase history, for buy-again's neighbours.
    #[serde(with = "shared")]
    pub buy_again: Arc<BuyAgain>,
    /// Which trained history is whose, so a shopper is never their own neighbour.
    #[serde(with = "buyer_list")]
    pub buyers: HashMap<Buyer, ShopperId>,
    /// How much this shop's buyers re-buy: the share of a repeat buyer's basket items they
    /// had bought before.
    pub repeat_share: f64,
}

impl ShopInteractions {
    /// Models trained on nothing: what a shop with no build yet is served (its answers
    /// are then the content-based ones).
    pub(crate) fn untrained() -> Self {
        Self::train(0, &[], &[], Vec::new())
    }

    /// Training is CPU work: callers run it off the async runtime.
    fn train(
        built_at: i64,
        baskets: &[Session],
        browsing: &[Session],
        purchases: Vec<(Buyer, Vec<Session>)>,
    ) -> Self {
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
        Self {
            built_at,
            repeat_share: repeat_share(&histories),
            buy_again: Arc::new(BuyAgain::train(&histories, SERVED.buy_again)),
            buyers,
            together: Arc::new(SERVED.cooccurrence.train(baskets)),
            neighbours: Arc::new(SERVED.session_knn.train(browsing)),
            next: Arc::new(SERVED.sequential_rules.train(browsing)),
            nearby: Arc::new(SERVED.walk.train(browsing)),
        }
    }
}

impl Recommender {
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

    /// Trains the shop's models on its purchases of the last 90 days and the browsing and
    /// carts `log` holds, as of `now`.
    pub(super) async fn train_interactions(
        &self,
        shop: &ShopDomain,
        log: &TrainingLog,
        now: i64,
    ) -> Result<ShopInteractions, AppError> {
        let bought = self.purchases_since(shop, now - BASKET_WINDOW_MS).await?;
        // What goes together: every purchase (a guest's too) and each browser's cart.
        let baskets: Vec<Session> = bought
            .iter()
            .map(Purchase::products)
            .chain(log.carts())
            .map(|items| Session { items, time: 0 })
            .collect();
        let purchases = histories(&bought);
        let browsing: Vec<Session> = log
            .sessions()
            .into_iter()
            .map(|(items, time)| Session { items, time })
            .collect();
        // Off the async runtime and behind the requests being served.
        super::low_priority::run("training", move || {
            ShopInteractions::train(now, &baskets, &browsing, purchases)
        })
        .await
    }
}

/// A model shared between requests, stored as the model itself.
mod shared {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        model: &Arc<T>,
        to: S,
    ) -> Result<S::Ok, S::Error> {
        model.as_ref().serialize(to)
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        from: D,
    ) -> Result<Arc<T>, D::Error> {
        T::deserialize(from).map(Arc::new)
    }
}

/// Buyers in their stored form: a list of (customer, browser, history), since a map keyed
/// by an enum has no portable encoding.
mod buyer_list {
    use std::collections::HashMap;

    use kindred_retriever::recommend::ShopperId;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::domain::{Buyer, ClientId, CustomerId};

    type Stored = (Option<u64>, Option<String>, ShopperId);

    pub fn serialize<S: Serializer>(
        buyers: &HashMap<Buyer, ShopperId>,
        to: S,
    ) -> Result<S::Ok, S::Error> {
        to.collect_seq(buyers.iter().map(|(buyer, id)| match buyer {
            Buyer::Customer(customer) => (Some(customer.0), None, *id),
            Buyer::Client(client) => (None, Some(client.as_str().to_owned()), *id),
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        from: D,
    ) -> Result<HashMap<Buyer, ShopperId>, D::Error> {
        let stored: Vec<Stored> = Vec::deserialize(from)?;
        Ok(stored
            .into_iter()
            .filter_map(|(customer, client, id)| {
                let buyer = match (customer, client) {
                    (Some(customer), _) => Buyer::Customer(CustomerId(customer)),
                    (None, Some(client)) => Buyer::Client(ClientId::stored(client)),
                    (None, None) => return None,
                };
                Some((buyer, id))
            })
            .collect())
    }
}
