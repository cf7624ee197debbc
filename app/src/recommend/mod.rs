//! Recommendations: every strategy a shelf can ask for (`strategies`) and the chain that
//! falls back from one to the next (`fallback`), the live session's
//! for-you (`for_you`), the cart (`cart`), the shopper's history (`history`), the
//! merchant's rules (`rules`), the interaction models learnt from sessions
//! (`interactions`), stored similar-products lists (`similar_lists`) and shoppers' search
//! texts (`searches`). It reads the catalogue through `CatalogService` and keeps in memory
//! only what it learnt from shoppers, which it forgets on redaction.

mod buy_again;
mod cart;
pub mod diversity;
pub mod fallback;
pub(crate) mod for_you;
mod history;
mod interactions;
mod list_cache;
mod low_priority;
pub(crate) mod ranked;
mod shared_models;
pub(crate) mod shelf;
pub use shared_models::{ModelBuilds, ModelSharing};
pub mod rules;
mod searches;
mod shop_cache;
mod similar;
pub mod similar_lists;
pub mod strategies;
pub mod strategy;
pub mod training_log;
pub mod tuned;

pub use for_you::ForYouSource;
pub use searches::MAX_SESSION_SEARCHES;
pub use similar::SimilarRequest;

use std::collections::HashSet;
use std::sync::Arc;

use kindred_retriever::exact_batched::ExactDevice;
use kindred_retriever::VectorIndex;
use serde::Serialize;

use crate::catalog::service::CatalogService;
use crate::domain::{ClientId, CustomerId, Product, ProductId, ShopDomain};
use crate::error::AppError;
use crate::events::ShopperEvent;
use crate::stores::Stores;

/// A recommended product and why it was recommended.
#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    pub product: Product,
    pub score: f32,
    pub reason: String,
}

/// Who is shopping and what they are looking at.
#[derive(Debug, Clone, Default)]
pub struct ShoppingContext {
    /// The product page the shopper is on, if any.
    pub product_id: Option<ProductId>,
    /// The anonymous browser id the storefront script keeps.
    pub client_id: Option<ClientId>,
    /// The logged-in customer; only ever from a source Shopify signed (the App Proxy).
    pub customer_id: Option<CustomerId>,
    /// Products in the cart.
    pub cart: Vec<u64>,
    pub limit: usize,
    /// The shopper's events, once read for this request.
    pub(crate) history: Option<Arc<Vec<ShopperEvent>>>,
    /// The for-you session and candidates, when a batch prepared them.
    pub(crate) batched: Option<Arc<for_you::Batched>>,
}

impl ShoppingContext {
    /// Products that are no news to the shopper here: the one on screen and the cart's.
    pub(crate) fn in_view(&self) -> HashSet<u64> {
        self.product_id
            .map(|p| p.0)
            .into_iter()
            .chain(self.cart.iter().copied())
            .collect()
    }
}

/// The recommendation service: the catalogue it reads, and what it keeps in memory per shop.
#[derive(Clone)]
pub struct Recommender {
    catalog: CatalogService,
    /// Where exact searches over a shop's vectors run (stored lists, batched for-you).
    exact_device: ExactDevice,
    /// Vectors of shoppers' search texts (`searches`).
    search_cache: searches::SearchVectors,
    /// Each shop's interaction models, shared with the other replicas (`shared_models`).
    interaction_models: shared_models::InteractionModels,
    model_sharing: ModelSharing,
    /// Each shop's trending scores, recomputed when they get old.
    trending_cache: strategies::TrendingCache,
    /// Each shop's merchandising rules, read again when they get old.
    rules_cache: strategies::RulesCache,
    /// Stored similar lists as last read (`list_cache`).
    list_cache: Arc<list_cache::ListCache>,
}

impl Recommender {
    /// Exact searches on the CPU.
    pub fn new(catalog: CatalogService) -> Self {
        Self::with_exact_device(catalog, ExactDevice::cpu())
    }

    pub fn with_exact_device(catalog: CatalogService, exact_device: ExactDevice) -> Self {
        Self {
            catalog,
            exact_device,
            search_cache: searches::search_vector_cache(),
            interaction_models: Default::default(),
            model_sharing: ModelSharing::default(),
            trending_cache: Default::default(),
            rules_cache: Default::default(),
            list_cache: Default::default(),
        }
    }

    /// Shares interaction models with the other replicas under leases of `sharing.lease`,
    /// keeping what they learn from no longer than the event retention.
    pub fn sharing_models(mut self, sharing: ModelSharing) -> Self {
        self.model_sharing = sharing;
        self
    }

    pub fn catalog(&self) -> &CatalogService {
        &self.catalog
    }

    pub(crate) fn stores(&self) -> &Stores {
        self.catalog.stores()
    }

    pub(crate) fn index(&self) -> &Arc<dyn VectorIndex> {
        self.catalog.index()
    }

    /// Removes a shop and everything it owns, in the database, the index and in memory.
    pub async fn delete_shop(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        let existed = self.erasing(shop, self.catalog.delete_shop(shop)).await?;
        self.forget_shoppers(shop);
        self.rules_cache.forget(shop);
        self.list_cache.invalidate(shop);
        Ok(existed)
    }

    /// Erases a customer's orders (theirs, those placed in their browsers, and `orders`,
    /// which the request names), their events and exports, and what memory holds that was
    /// learnt from them (the shop's models and trending are rebuilt from what is left).
    /// Orders go first: the customer's browsers are found through their events.
    pub async fn redact_customer(
        &self,
        shop: &ShopDomain,
        customer: CustomerId,
        orders: &[u64],
    ) -> Result<u64, AppError> {
        let erased = self
            .erasing(shop, async {
                let orders = self
                    .stores()
                    .orders
                    .redact_orders(shop, customer, orders)
                    .await?;
                Ok(orders + self.catalog.redact_customer(shop, customer).await?)
            })
            .await?;
        self.forget_shoppers(shop);
        Ok(erased)
    }

    /// New or changed purchases: the shop's trending is recomputed at the next request and
    /// its models rebuilt then in the background (the current ones serve meanwhile, so a
    /// busy shop's orders never make a shopper wait for a training).
    pub fn purchases_changed(&self, shop: &ShopDomain) {
        self.interaction_models
            .make_stale(shop, self.stores().now());
        self.trending_cache.make_stale(shop);
    }

    /// Forgets what memory holds that was learnt from the shop's shoppers.
    fn forget_shoppers(&self, shop: &ShopDomain) {
        self.interaction_models.forget(shop);
        self.trending_cache.forget(shop);
    }
}
