//! Each shop's lexical index (what search matches words against), kept in memory and shared
//! by its searches. An index is good
//! while this process has written no vector of the shop since it was built, and for at
//! most `MAX_AGE` (what another replica wrote reaches this one within that). An old index
//! keeps answering while a new one is built in the background, one build at a time per
//! process; only a shop's first search waits for its build. Results are always read
//! fresh from the database, so a product sold out or deleted since never shows from here.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kindred_retriever::search::{LexicalIndex, ProductText};

use crate::domain::{Product, ShopDomain};
use crate::error::AppError;
use crate::stores::Stores;

/// How long an index is served without a rebuild.
const MAX_AGE: Duration = Duration::from_secs(60);

/// A shop's index, when it was built and the count of the shop's vector writes it was
/// built after.
struct Built {
    index: Arc<LexicalIndex>,
    at: Instant,
    vector_writes: u64,
}

impl Built {
    fn good(&self, vector_writes: u64) -> bool {
        self.at.elapsed() < MAX_AGE && self.vector_writes == vector_writes
    }
}

#[derive(Clone, Default)]
pub(crate) struct LexicalIndexes {
    built: Arc<Mutex<HashMap<ShopDomain, Arc<Built>>>>,
    /// Shops whose index is being rebuilt in the background.
    rebuilding: Arc<Mutex<HashSet<ShopDomain>>>,
    /// One build at a time: a build reads the whole catalogue.
    build_lock: Arc<tokio::sync::Mutex<()>>,
}

impl LexicalIndexes {
    /// The shop's index: as built, when still good; the old one while a new one is built.
    /// `vector_writes`: how many times this process has written the shop's vectors.
    pub(crate) async fn of(
        &self,
        stores: &Stores,
        shop: &ShopDomain,
        vector_writes: u64,
    ) -> Result<Arc<LexicalIndex>, AppError> {
        match self.get(shop) {
            Some(built) if built.good(vector_writes) => Ok(built.index.clone()),
            Some(built) => {
                self.rebuild_in_background(stores, shop, vector_writes);
                Ok(built.index.clone())
            }
            None => self.build(stores, shop, vector_writes).await,
        }
    }

    fn get(&self, shop: &ShopDomain) -> Option<Arc<Built>> {
        self.built.lock().ok()?.get(shop).cloned()
    }

    /// Forgets the shop's index (the shop was deleted).
    pub(crate) fn forget(&self, shop: &ShopDomain) {
        if let Ok(mut built) = self.built.lock() {
            built.remove(shop);
        }
    }

    async fn build(
        &self,
        stores: &Stores,
        shop: &ShopDomain,
        writes: u64,
    ) -> Result<Arc<LexicalIndex>, AppError> {
        let _one_at_a_time = self.build_lock.lock().await;
        // Another search may have built it while this one waited.
        if let Some(built) = self.get(shop).filter(|b| b.good(writes)) {
            return Ok(built.index.clone());
        }
        let ids = stores.products.on_sale_products(shop).await?;
        let products = stores.products.get_products(shop, &ids).await?;
        let index = tokio::task::spawn_blocking(move || {
            let texts: Vec<ProductText> = products.iter().map(searchable_text).collect();
            LexicalIndex::build(&texts)
        })
        .await
        .map_err(|e| AppError::Internal(format!("building a search index: {e}")))?;
        let index = Arc::new(index);
        let built = Built {
            index: index.clone(),
            at: Instant::now(),
            vector_writes: writes,
        };
        if let Ok(mut all) = self.built.lock() {
            all.insert(shop.clone(), Arc::new(built));
        }
        tracing::debug!(%shop, products = index.len(), "search index built");
        Ok(index)
    }

    fn rebuild_in_background(&self, stores: &Stores, shop: &ShopDomain, writes: u64) {
        let Ok(mut rebuilding) = self.rebuilding.lock() else {
            return;
        };
        if !rebuilding.insert(shop.clone()) {
            return;
        }
        let (indexes, stores, shop) = (self.clone(), stores.clone(), shop.clone());
        tokio::spawn(async move {
            if let Err(error) = indexes.build(&stores, &shop, writes).await {
                tracing::warn!(%shop, %error, "search index not rebuilt; the old one serves");
            }
            if let Ok(mut rebuilding) = indexes.rebuilding.lock() {
                rebuilding.remove(&shop);
            }
        });
    }
}

/// What search reads of a product, by field.
pub fn searchable_text(product: &Product) -> ProductText {
    ProductText {
        id: product.id,
        title: product.title.clone(),
        product_type: product.product_type.clone().unwrap_or_default(),
        tags: product.tags.join(" "),
        vendor: product.vendor.clone().unwrap_or_default(),
        description: kindred_embedder::product_text::html_to_text(&product.description_html),
    }
}
