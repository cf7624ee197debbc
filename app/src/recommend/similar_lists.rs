//! "Similar products" for a whole catalogue in one job: every product's nearest products by
//! exact cosine (blocked matrix products, on the GPU when the build has CUDA and one is
//! present, else on the CPU), stored, and served from storage. The ANN index answers
//! whatever the lists cannot: a shop whose lists are not built yet or were dropped by a
//! vector change, a product newer than its shop's lists, or a filter that leaves a list short.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kindred_retriever::exact_batched::ResidentVectors;

use super::Recommender;
use super::{Recommendation, SimilarRequest};
use crate::domain::{Product, ProductStatus, ShopDomain};
use crate::error::AppError;
use crate::stores::Neighbours;

/// Neighbours kept per product: at least the largest page the API serves (checked where
/// that page size is set).
pub const LIST_LENGTH: usize = 50;
/// Vectors read from the index per request while loading a catalogue.
const FETCH_CHUNK: usize = 1_000;

/// A shop's catalogue as vectors.
pub(crate) struct CatalogueVectors {
    pub ids: Vec<u64>,
    pub vectors: Vec<Vec<f32>>,
    /// Products whose current vector is not in the index yet.
    pub waiting: usize,
}

/// What a list job did.
#[derive(Debug, Clone, PartialEq)]
pub enum ListJob {
    Built {
        products: usize,
        device: &'static str,
        seconds: f64,
    },
    /// Some products wait for their vectors, or the catalogue changed while the job ran;
    /// nothing was written, and a later run tries again.
    CatalogueChanging,
}

impl Recommender {
    /// Computes and stores every product's similar list for the shop.
    pub async fn build_similar_lists(&self, shop: &ShopDomain) -> Result<ListJob, AppError> {
        let started = Instant::now();
        let read_at = self.stores().now();
        let writes_before = self.catalog.vector_write_count(shop);
        let catalogue = self.catalogue_vectors(shop).await?;
        if catalogue.waiting > 0 {
            return Ok(ListJob::CatalogueChanging);
        }
        let CatalogueVectors { ids, vectors, .. } = catalogue;
        // Minutes of matrix work for a large catalogue: on the blocking pool, never on the
        // runtime that serves requests.
        let exact_device = self.exact_device.clone();
        let (lists, device) = tokio::task::spawn_blocking(move || {
            let resident = ResidentVectors::on(&exact_device, ids.clone(), &vectors)?;
            drop(vectors);
            let device = resident.device_name();
            let neighbours = resident.all_pairs(LIST_LENGTH)?;
            Ok::<_, kindred_retriever::RetrieverError>((
                ids.into_iter()
                    .zip(neighbours)
                    .collect::<Vec<(u64, Neighbours)>>(),
                device,
            ))
        })
        .await
        .map_err(|e| AppError::Internal(format!("similar-list job: {e}")))??;
        // Under the catalogue writers' lock: no vector is written between the check that none
        // was written since the read and the lists' commit (the database check below also
        // catches rows another process changed).
        let written = {
            let _writer = self.catalog.write_lock.lock().await;
            self.catalog.vector_write_count(shop) == writes_before
                && self
                    .stores()
                    .similar
                    .replace_similar_lists(shop, read_at, &lists)
                    .await?
        };
        if !written {
            return Ok(ListJob::CatalogueChanging);
        }
        self.list_cache.invalidate(shop);
        let seconds = started.elapsed().as_secs_f64();
        tracing::info!(%shop, products = lists.len(), device, seconds, "similar lists built");
        Ok(ListJob::Built {
            products: lists.len(),
            device,
            seconds,
        })
    }

    /// Every product's current vector, read from the index in chunks.
    pub(crate) async fn catalogue_vectors(
        &self,
        shop: &ShopDomain,
    ) -> Result<CatalogueVectors, AppError> {
        let (ids, waiting) = self.stores().products.indexed_products(shop).await?;
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(FETCH_CHUNK) {
            found.extend(self.index().fetch_many(shop.as_str(), chunk).await?);
        }
        let (ids, vectors) = found.into_iter().map(|p| (p.product_id, p.vector)).unzip();
        Ok(CatalogueVectors {
            ids,
            vectors,
            waiting,
        })
    }

    /// Builds the lists of every shop whose catalogue is fully embedded, has none, and has
    /// not changed for `quiet` (a sync in progress would drop them at once). One shop at a
    /// time; a failure is logged and retried on the next round.
    pub async fn build_due_similar_lists(&self, quiet: Duration) -> Result<usize, AppError> {
        let quiet_since = self.stores().now() - quiet.as_millis() as i64;
        let mut built = 0;
        for shop in self
            .stores()
            .similar
            .shops_needing_similar_lists(quiet_since)
            .await?
        {
            match self.build_similar_lists(&shop).await {
                Ok(ListJob::Built { .. }) => built += 1,
                Ok(ListJob::CatalogueChanging) => {}
                Err(err) => tracing::warn!(%shop, error = %err, "similar-list job failed"),
            }
        }
        Ok(built)
    }

    /// The product's stored list, from memory while it is good there (`list_cache`).
    async fn stored_list(
        &self,
        shop: &ShopDomain,
        product_id: u64,
    ) -> Result<Option<Arc<Neighbours>>, AppError> {
        let generation = self
            .list_cache
            .generation(shop, self.catalog.vector_write_count(shop));
        if let Some(list) = self.list_cache.get(shop, product_id, generation) {
            return Ok(list);
        }
        let list = self
            .stores()
            .similar
            .similar_list(shop, product_id)
            .await?
            .map(Arc::new);
        self.list_cache
            .put(shop, product_id, generation, list.clone());
        Ok(list)
    }

    /// The anchor's similar products from its stored list, filtered as the request asks.
    /// The anchor is read with the list's first products, in one read.
    pub(crate) async fn similar_from_list(
        &self,
        shop: &ShopDomain,
        anchor_id: u64,
        request: &SimilarRequest,
    ) -> Result<FromList, AppError> {
        let Some(list) = self.stored_list(shop, anchor_id).await? else {
            return Ok(FromList::NoList);
        };
        let ids: Vec<u64> = std::iter::once(anchor_id)
            .chain(list.iter().map(|(id, _)| *id))
            .collect();
        let mut products = self
            .first_admitted(shop, &ids, request.limit + 1, |p| {
                p.id == anchor_id || admits(request, p)
            })
            .await?;
        let Some(anchor) = products
            .remove(&anchor_id)
            .filter(|a| a.status == ProductStatus::Active)
        else {
            return Ok(FromList::UnknownAnchor);
        };
        let reason = format!("similar to {}", anchor.title);
        let found: Vec<Recommendation> = list
            .iter()
            .filter_map(|(id, score)| {
                let product = products.remove(id)?;
                Some(Recommendation {
                    product,
                    score: *score,
                    reason: reason.clone(),
                })
            })
            .take(request.limit)
            .collect();
        // A list shorter than its full length already holds the whole catalogue.
        let complete = list.len() < LIST_LENGTH;
        Ok(if found.len() == request.limit || complete {
            FromList::Shelf(found)
        } else {
            FromList::Short(anchor)
        })
    }
}

/// What a stored list says for a request.
pub(crate) enum FromList {
    /// The shelf, as long as asked or the whole catalogue.
    Shelf(Vec<Recommendation>),
    /// The filter leaves the list shorter than asked while the catalogue holds more: the
    /// ANN index answers, for this anchor.
    Short(Product),
    /// The shop has no current list for the product (not built, dropped, or newer).
    NoList,
    /// The product is gone or not shown.
    UnknownAnchor,
}

/// Whether a product passes the request's filters: the conditions the index applies to its
/// payload, read from the product itself.
fn admits(request: &SimilarRequest, product: &Product) -> bool {
    let price_within = |bound: Option<i64>, holds: fn(i64, i64) -> bool| match bound {
        None => true,
        Some(bound) => product.price_cents.is_some_and(|price| holds(price, bound)),
    };
    product.status == ProductStatus::Active
        && (request.include_unavailable || product.available)
        && price_within(request.price_min_cents, |price, min| price >= min)
        && price_within(request.price_max_cents, |price, max| price <= max)
        && request
            .product_type
            .as_ref()
            .is_none_or(|wanted| product.product_type.as_ref() == Some(wanted))
        && request
            .vendor
            .as_ref()
            .is_none_or(|wanted| product.vendor.as_ref() == Some(wanted))
        && (request.tags.is_empty() || request.tags.iter().any(|t| product.tags.contains(t)))
}
