//! The catalogue core: products in, vectors kept in step, similar products out.
//!
//! The database is the source of truth. A product row is written first, with the hash of
//! its embedded text; its vector is written next; only then is the row marked indexed. A
//! crash anywhere leaves rows that read as "needs indexing", and the next import, reindex
//! or server start finishes the work, so nothing is lost and nothing is embedded twice.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use kindred_embedder::product_text::{content_hash, product_text, ProductFields};
use kindred_embedder::EmbeddingWorker;
use kindred_retriever::{ProductPayload, ProductPoint, VectorIndex};
use serde::Serialize;

use crate::domain::{CustomerId, Product, ProductId, ShopDomain};
use crate::error::AppError;
use crate::progress::Progress;
use crate::stores::{ProductRow, Stores};

/// Products embedded per call to the embedding worker; the worker batches by tokens inside.
const INDEX_CHUNK: i64 = 256;
/// Rows written per database transaction.
const WRITE_CHUNK: usize = 500;

/// What an ingest did, in counts.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct IngestReport {
    pub received: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Records with an id seen earlier in the same input; the last one wins.
    pub duplicates: usize,
    pub embedded: usize,
    pub payload_updates: usize,
}

#[derive(Clone)]
pub struct CatalogService {
    stores: Stores,
    index: Arc<dyn VectorIndex>,
    pub(crate) embedder: Arc<EmbeddingWorker>,
    model_id: String,
    /// Set when vectors changed since the last ANN index build.
    index_dirty: Arc<AtomicBool>,
    /// One catalogue writer at a time, so a row is never marked indexed with another
    /// writer's hash.
    pub(crate) write_lock: Arc<tokio::sync::Mutex<()>>,
    /// Per shop, how many times its vectors were written by this process: a similar-list job
    /// that read the vectors under one count writes its lists only under the same count.
    vector_writes: Arc<std::sync::Mutex<HashMap<ShopDomain, u64>>>,
    /// Each shop's lexical index, for search (`lexical`).
    pub(crate) lexical: super::lexical::LexicalIndexes,
}

impl CatalogService {
    pub fn new(
        stores: Stores,
        index: Arc<dyn VectorIndex>,
        embedder: Arc<EmbeddingWorker>,
        model_id: String,
    ) -> Self {
        Self {
            stores,
            index,
            embedder,
            model_id,
            index_dirty: Arc::new(AtomicBool::new(false)),
            write_lock: Default::default(),
            vector_writes: Default::default(),
            lexical: Default::default(),
        }
    }

    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    pub fn index(&self) -> &Arc<dyn VectorIndex> {
        &self.index
    }

    /// Stores new and changed products, then brings the vector index in step.
    /// Unchanged products cost one comparison: no write, no embedding.
    pub async fn ingest(
        &self,
        shop: &ShopDomain,
        products: Vec<Product>,
        progress: &dyn Progress,
    ) -> Result<IngestReport, AppError> {
        let _writer = self.write_lock.lock().await;
        let mut report = IngestReport {
            received: products.len(),
            ..Default::default()
        };
        self.stores.shops.ensure_shop(shop).await?;
        let states = self.stores.products.index_states(shop).await?;

        let mut latest: HashMap<u64, Product> = HashMap::with_capacity(products.len());
        let mut order = Vec::with_capacity(products.len());
        for product in products {
            if latest.contains_key(&product.id) {
                report.duplicates += 1;
            } else {
                order.push(product.id);
            }
            latest.insert(product.id, product);
        }

        let mut changed = Vec::new();
        for id in order {
            let Some(product) = latest.remove(&id) else {
                continue;
            };
            let row = self.row_for(product)?;
            match states.get(&id) {
                Some(state)
                    if state.document == row.document
                        && state.content_hash == row.content_hash
                        && state.vector_current()
                        && !state.payload_stale =>
                {
                    report.unchanged += 1;
                }
                Some(_) => {
                    report.updated += 1;
                    changed.push(row);
                }
                None => {
                    report.created += 1;
                    changed.push(row);
                }
            }
        }
        for chunk in changed.chunks(WRITE_CHUNK) {
            self.stores.products.upsert_products(shop, chunk).await?;
        }
        let (embedded, payload_updates) = self.sync_index_locked(shop, progress).await?;
        report.embedded = embedded;
        report.payload_updates = payload_updates;
        Ok(report)
    }

    /// Writes every missing or stale vector and payload of the shop; returns
    /// (products embedded, payload-only updates).
    pub async fn sync_index(
        &self,
        shop: &ShopDomain,
        progress: &dyn Progress,
    ) -> Result<(usize, usize), AppError> {
        let _writer = self.write_lock.lock().await;
        self.sync_index_locked(shop, progress).await
    }

    async fn sync_index_locked(
        &self,
        shop: &ShopDomain,
        progress: &dyn Progress,
    ) -> Result<(usize, usize), AppError> {
        let (total, current) = self.stores.products.catalogue_counts(shop).await?;
        progress.start((total - current).max(0) as u64);
        let (mut embedded, mut payload_only) = (0, 0);
        loop {
            let batch = self
                .stores
                .products
                .products_needing_index(shop, INDEX_CHUNK)
                .await?;
            if batch.is_empty() {
                break;
            }
            let (fresh, stale): (Vec<_>, Vec<_>) = batch
                .into_iter()
                .partition(|(_, vector_current)| *vector_current);
            let mut indexed = Vec::with_capacity(fresh.len() + stale.len());

            for (product, _) in &fresh {
                self.index
                    .set_payload(shop.as_str(), product.id, payload_of(product))
                    .await?;
                indexed.push((product.id, self.content_hash_of(product)));
            }
            if !stale.is_empty() {
                let texts: Vec<String> = stale.iter().map(|(p, _)| text_of(p)).collect();
                let vectors = self.embedder.embed(texts).await?;
                let points = stale
                    .iter()
                    .zip(vectors)
                    .map(|((product, _), vector)| ProductPoint {
                        product_id: product.id,
                        vector,
                        payload: payload_of(product),
                    })
                    .collect();
                self.index.upsert(shop.as_str(), points).await?;
                self.count_vector_write(shop);
                indexed.extend(stale.iter().map(|(p, _)| (p.id, self.content_hash_of(p))));
            }
            // Durable vectors before the rows say so: a crash here re-does this batch, never skips it.
            self.index.flush().await?;
            self.stores
                .products
                .mark_indexed(shop, &indexed, !stale.is_empty())
                .await?;
            self.index_dirty.store(true, Ordering::Release);
            embedded += stale.len();
            payload_only += fresh.len();
            metrics::counter!("kindred_products_embedded_total").increment(stale.len() as u64);
            progress.advance(indexed.len() as u64);
        }
        progress.finish();
        Ok((embedded, payload_only))
    }

    fn count_vector_write(&self, shop: &ShopDomain) {
        if let Ok(mut writes) = self.vector_writes.lock() {
            *writes.entry(shop.clone()).or_default() += 1;
        }
    }

    /// How many times this process wrote the shop's vectors.
    pub(crate) fn vector_write_count(&self, shop: &ShopDomain) -> u64 {
        self.vector_writes
            .lock()
            .map(|writes| writes.get(shop).copied().unwrap_or(0))
            .unwrap_or(u64::MAX)
    }

    /// The shop's lexical index, for search (`lexical`).
    pub async fn lexical_index(
        &self,
        shop: &ShopDomain,
    ) -> Result<Arc<kindred_retriever::search::LexicalIndex>, AppError> {
        let writes = self.vector_write_count(shop);
        self.lexical.of(&self.stores, shop, writes).await
    }

    /// Removes a product from the index and the catalogue.
    pub async fn delete_product(&self, shop: &ShopDomain, id: ProductId) -> Result<bool, AppError> {
        let _writer = self.write_lock.lock().await;
        // Vector first: a crash in between leaves a row that a re-import can delete again,
        // never a vector that nothing knows about.
        self.index.delete(shop.as_str(), &[id.0]).await?;
        self.index.flush().await?;
        self.index_dirty.store(true, Ordering::Release);
        self.stores.products.delete_product(shop, id.0).await
    }

    /// Removes a shop and everything it owns, in the database and the index (the
    /// recommender's memory of it: `Recommender::delete_shop`).
    pub(crate) async fn delete_shop(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        let _writer = self.write_lock.lock().await;
        self.index.drop_shop(shop.as_str()).await?;
        self.index.flush().await?;
        self.lexical.forget(shop);
        self.stores.shops.delete_shop(shop).await
    }

    /// Erases a customer's events and exports (what the recommender learnt from them in
    /// memory is its to forget: `Recommender::redact_customer`).
    pub(crate) async fn redact_customer(
        &self,
        shop: &ShopDomain,
        customer: CustomerId,
    ) -> Result<u64, AppError> {
        self.stores.privacy.redact_customer(shop, customer).await
    }

    pub async fn product(&self, shop: &ShopDomain, id: ProductId) -> Result<Product, AppError> {
        self.stores
            .products
            .get_product(shop, id.0)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("product {id}")))
    }

    /// A product shoppers may see: active (published). Drafts and archived products are
    /// "not found" to the storefront, so unreleased products cannot be read or walked by id.
    pub async fn published_product(
        &self,
        shop: &ShopDomain,
        id: ProductId,
    ) -> Result<Product, AppError> {
        self.shown_product(shop, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("product {id}")))
    }

    /// The product, if shoppers may see it (`published_product`), else `None`.
    pub async fn shown_product(
        &self,
        shop: &ShopDomain,
        id: ProductId,
    ) -> Result<Option<Product>, AppError> {
        Ok(self
            .stores
            .products
            .get_product(shop, id.0)
            .await?
            .filter(|product| product.status == crate::domain::ProductStatus::Active))
    }

    /// Builds the ANN index if vectors changed since the last build. Blocking work runs in
    /// the index's own thread pool, off the request path.
    pub async fn optimize_if_dirty(&self) -> Result<bool, AppError> {
        if !self.index_dirty.swap(false, Ordering::AcqRel) {
            return Ok(false);
        }
        if let Err(err) = self.index.optimize().await {
            self.index_dirty.store(true, Ordering::Release);
            return Err(err.into());
        }
        Ok(true)
    }

    fn row_for(&self, product: Product) -> Result<ProductRow, AppError> {
        let document = serde_json::to_string(&product).map_err(|err| {
            AppError::InvalidInput(format!("product {} cannot be stored: {err}", product.id))
        })?;
        let content_hash = self.content_hash_of(&product);
        Ok(ProductRow {
            product,
            document,
            content_hash,
        })
    }

    fn content_hash_of(&self, product: &Product) -> String {
        content_hash(&self.model_id, &text_of(product))
    }
}

/// The text the model embeds for a product.
pub fn text_of(product: &Product) -> String {
    let options: Vec<(String, Vec<String>)> = product
        .options
        .iter()
        .map(|o| (o.name.clone(), o.values.clone()))
        .collect();
    product_text(&ProductFields {
        title: &product.title,
        product_type: product.product_type.as_deref(),
        vendor: product.vendor.as_deref(),
        tags: &product.tags,
        options: &options,
        description_html: &product.description_html,
    })
}

fn payload_of(product: &Product) -> ProductPayload {
    ProductPayload {
        available: product.available,
        price: product.price_cents.map(cents_to_amount),
        product_type: product.product_type.clone(),
        vendor: product.vendor.clone(),
        tags: product.tags.clone(),
        collections: product.collections.clone(),
        status: product.status.as_str().to_owned(),
    }
}

pub(crate) fn cents_to_amount(cents: i64) -> f64 {
    cents as f64 / 100.0
}
