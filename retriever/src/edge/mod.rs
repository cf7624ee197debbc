//! The embedded backend: Qdrant's engine in the process (`qdrant-edge` 0.7.2, the newest
//! release that builds on stable Rust), one shard on disk for all shops.
//!
//! # Tenancy
//! One shard with the shop as an indexed tenant field, rather than a shard per shop: it is
//! the layout Qdrant's own multitenancy uses, keeps one write-ahead log and one set of open
//! files however many shops install the app, and gives this backend the same semantics as
//! the server backend's one collection. Every read, count and delete carries a `shop`
//! filter, point ids are derived from (shop, product id), and a fetched record whose payload
//! names another shop is treated as absent. Small shops stay exact even in a large shard:
//! when the shop filter leaves fewer vectors than `full_scan_threshold`, Qdrant's planner
//! searches them by brute force through the payload index instead of walking the graph.
//! `drop_shop` deletes by the shop filter; the space comes back when `optimize` vacuums a
//! segment (more than 20% of it deleted), though the WAL keeps the old writes (see below).
//!
//! # What `qdrant-edge` 0.7.2 does, read from its source
//! - It is synchronous, so every call runs on tokio's blocking pool.
//! - HNSW is built only inside `EdgeShard::optimize()`, which blocks until no optimiser has
//!   work left (seconds for thousands of vectors). It wraps the segments it rebuilds in
//!   proxies under a brief exclusive lock, builds without that lock, and swaps the result in
//!   under another brief one; searches and writes go on meanwhile (exact search on the
//!   unindexed segments, writes into a copy-on-write segment). `optimize` takes `&self`, so
//!   no exclusive access is needed; two at once would only race for the same segments, so a
//!   mutex runs them one after the other. A steady stream of writes during an optimisation
//!   can keep it going: whatever outgrows the indexing threshold meanwhile is indexed too.
//! - Nothing is durable until `EdgeShard::flush()` (or the shard's `Drop`): the WAL is
//!   written but never replayed on load, and edge has no flush timer, so a crash loses
//!   every write since the last flush (a test here lost all 2,000 points that way). A flush
//!   syncs every segment file, 0.1–0.4 s here, too slow after each of thousands of
//!   single-product payload updates; so a thread flushes within `flush_interval` (1 s) of
//!   a write, [`VectorIndex::flush`] flushes at once, and dropping the index flushes.
//! - `flush()` `try_lock`s the WAL and the segment list and panics when either is busy, i.e.
//!   when it meets a concurrent update or an optimisation's brief exclusive lock. So writes
//!   and flushes are serialised, and no flush runs during an optimisation: writes made
//!   meanwhile become durable when it ends.
//! - The WAL is never truncated either: it grows by roughly the size of everything ever
//!   written (about 1.6 KB per 384-dimension upsert). A known limit of this release.

mod convert;
mod durability;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use qdrant_edge::{
    CountRequest, Distance, EdgeConfigBuilder, EdgeOptimizersConfig, EdgeShard,
    EdgeVectorParamsBuilder, HnswIndexConfig, NamedQuery, PayloadOps, PointId,
    PointInsertOperations, PointOperations, PointStruct, QueryEnum, SearchParams, SearchRequest,
    SetPayloadOp, UpdateOperation, WithPayloadInterface, WithVector,
};

use crate::filter;
use crate::model::{payload_json, point_id, validate, SearchPlan};
use crate::{
    ProductPayload, ProductPoint, RetrieverError, ScoredProduct, SearchQuery, StoredProduct,
    VectorIndex,
};
use convert::{all_of, ensure_payload_indexes, field_path, retrieve, retrieve_many, to_payload};
use durability::{flush_caught, Flusher, Guards, Shard, DEFAULT_FLUSH_INTERVAL};

/// Filters leaving fewer than about 20,000 vectors of 384 floats are searched exactly.
const EXACT_BELOW_KB: usize = 30_000;

/// Tuning of the embedded engine.
#[derive(Debug, Clone)]
pub struct EdgeOptions {
    /// Segments smaller than this (in KiB of vectors) are never indexed, so searched
    /// exactly. 2 MiB is about 1,300 vectors of 384 floats.
    pub indexing_threshold_kb: usize,
    /// Searches whose filter (one shop, say) leaves fewer vectors than this (in KiB) score
    /// every one of them instead of walking the graph: perfect recall, and below this size
    /// cheaper than the graph at `hnsw_ef` (BENCHMARKS.md, *Recall at 10,000 vectors*).
    pub exact_below_kb: usize,
    /// Links per node of the HNSW graph.
    pub hnsw_m: usize,
    /// Candidates kept while building the graph.
    pub hnsw_ef_construct: usize,
    /// Candidates kept during search; higher is slower and more exact.
    pub hnsw_ef: usize,
    /// How long a write may stay in memory only; a crash loses at most this much.
    pub flush_interval: Duration,
}

impl Default for EdgeOptions {
    /// Higher than Qdrant's defaults (m 16, ef_construct 100): 384-dimension embeddings are
    /// hard for HNSW, and these keep recall@10 near 0.998 (BENCHMARKS.md) at a build cost
    /// paid in the background.
    fn default() -> Self {
        Self {
            indexing_threshold_kb: 2_048,
            exact_below_kb: EXACT_BELOW_KB,
            hnsw_m: 32,
            hnsw_ef_construct: 256,
            hnsw_ef: 256,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
        }
    }
}

/// Qdrant's engine embedded in the process, with its data in one directory.
pub struct EdgeIndex {
    /// First, so it is stopped before the shard is released: fields drop in this order.
    _flusher: Flusher,
    shard: Arc<Shard>,
    guards: Arc<Guards>,
    dimension: usize,
    hnsw_ef: usize,
    path: PathBuf,
}

impl EdgeIndex {
    /// Opens the shard in `dir`, creating it (with payload indexes) on first use.
    pub fn open(dir: &Path, dimension: usize) -> Result<Self, RetrieverError> {
        Self::open_with(dir, dimension, EdgeOptions::default())
    }

    /// [`EdgeIndex::open`] with explicit tuning. Changed options apply to an existing shard
    /// too: its next `optimize` rebuilds the index to match.
    pub fn open_with(
        dir: &Path,
        dimension: usize,
        options: EdgeOptions,
    ) -> Result<Self, RetrieverError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| RetrieverError::Backend(format!("{}: {e}", dir.display())))?;
        let hnsw = HnswIndexConfig {
            m: options.hnsw_m,
            ef_construct: options.hnsw_ef_construct,
            full_scan_threshold: options.exact_below_kb.max(options.indexing_threshold_kb),
            max_indexing_threads: 0,
            on_disk: Some(false),
            payload_m: None,
            inline_storage: None,
        };
        let optimizers = EdgeOptimizersConfig {
            indexing_threshold: Some(options.indexing_threshold_kb),
            ..Default::default()
        };
        let shard = if dir.join("edge_config.json").exists() {
            // Loaded with its stored config, so a different dimension is reported as such
            // rather than as an incompatible segment.
            let shard = EdgeShard::load(dir, None)?;
            let stored = shard.config().vectors.get("").map(|v| v.size);
            if let Some(stored) = stored.filter(|s| *s != dimension) {
                return Err(RetrieverError::DimensionMismatch {
                    expected: stored,
                    got: dimension,
                });
            }
            if shard.config().hnsw_config != hnsw {
                shard.set_hnsw_config(hnsw)?;
            }
            if shard.config().optimizers != optimizers {
                shard.set_optimizers_config(optimizers)?;
            }
            shard
        } else {
            let config = EdgeConfigBuilder::new()
                .vector(
                    "",
                    EdgeVectorParamsBuilder::new(dimension, Distance::Cosine).build(),
                )
                .hnsw_config(hnsw)
                .optimizers(optimizers)
                .build();
            EdgeShard::new(dir, config)?
        };
        ensure_payload_indexes(&shard)?;
        let shard = Arc::new(Shard::new(shard));
        flush_caught(&shard)
            .map_err(|_| RetrieverError::Backend(format!("cannot write {}", dir.display())))?;
        let guards = Arc::new(Guards::default());
        Ok(Self {
            _flusher: Flusher::start(
                Arc::downgrade(&shard),
                guards.clone(),
                options.flush_interval,
            )?,
            shard,
            guards,
            dimension,
            hnsw_ef: options.hnsw_ef,
            path: dir.to_path_buf(),
        })
    }

    /// Candidates kept during search from now on: the recall/latency trade-off without
    /// rebuilding the graph (benchmarks sweep it).
    pub fn set_search_ef(&mut self, ef: usize) {
        self.hnsw_ef = ef.max(1);
    }

    /// Points in the shard that sit in an HNSW-indexed segment (for tests and benchmarks).
    pub fn indexed_vectors(&self) -> usize {
        self.shard.info().indexed_vectors_count
    }

    /// The directory the shard lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` on the blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&EdgeShard) -> Result<T, RetrieverError> + Send + 'static,
    ) -> Result<T, RetrieverError> {
        let shard = self.shard.clone();
        tokio::task::spawn_blocking(move || work(&shard)).await?
    }

    /// Runs a write on the blocking pool; the flush thread makes it durable.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&EdgeShard) -> Result<T, RetrieverError> + Send + 'static,
    ) -> Result<T, RetrieverError> {
        let guards = self.guards.clone();
        self.blocking(move |shard| guards.write(|| work(shard)))
            .await
    }
}

#[async_trait]
impl VectorIndex for EdgeIndex {
    async fn upsert(&self, shop: &str, points: Vec<ProductPoint>) -> Result<(), RetrieverError> {
        if points.is_empty() {
            return Ok(());
        }
        for point in &points {
            validate(&point.vector, self.dimension)?;
        }
        let points = points
            .into_iter()
            .map(|p| {
                let payload = payload_json(shop, p.product_id, &p.payload);
                PointStruct::new(
                    PointId::Uuid(point_id(shop, p.product_id)),
                    p.vector,
                    payload,
                )
                .into()
            })
            .collect();
        self.write(move |shard| {
            shard.update(UpdateOperation::PointOperation(
                PointOperations::UpsertPoints(PointInsertOperations::PointsList(points)),
            ))?;
            Ok(())
        })
        .await
    }

    async fn set_payload(
        &self,
        shop: &str,
        product_id: u64,
        payload: ProductPayload,
    ) -> Result<(), RetrieverError> {
        let shop = shop.to_owned();
        let payload = to_payload(payload_json(&shop, product_id, &payload));
        // Checked under the write lock, so no delete can slip in between.
        self.write(move |shard| {
            if retrieve(shard, &shop, product_id, false)?.is_none() {
                return Err(RetrieverError::NotFound);
            }
            shard.update(UpdateOperation::PayloadOperation(
                PayloadOps::OverwritePayload(SetPayloadOp {
                    payload,
                    points: Some(vec![PointId::Uuid(point_id(&shop, product_id))]),
                    filter: None,
                    key: None,
                }),
            ))?;
            Ok(())
        })
        .await
    }

    async fn delete(&self, shop: &str, product_ids: &[u64]) -> Result<(), RetrieverError> {
        if product_ids.is_empty() {
            return Ok(());
        }
        let filter = all_of(&filter::products_of(shop, product_ids))?;
        self.write(move |shard| {
            shard.update(UpdateOperation::PointOperation(
                PointOperations::DeletePointsByFilter(filter),
            ))?;
            Ok(())
        })
        .await
    }

    async fn search(
        &self,
        shop: &str,
        query: &SearchQuery,
    ) -> Result<Vec<ScoredProduct>, RetrieverError> {
        let Some(plan) = SearchPlan::new(query, self.dimension)? else {
            return Ok(Vec::new());
        };
        let request = SearchRequest {
            query: QueryEnum::Nearest(NamedQuery {
                query: query.vector.clone().into(),
                using: None,
            }),
            filter: Some(all_of(&filter::clauses(shop, &query.filter))?),
            params: Some(SearchParams {
                hnsw_ef: Some(self.hnsw_ef.max(plan.ask)),
                exact: false,
                quantization: None,
                indexed_only: false,
                acorn: None,
            }),
            limit: plan.ask,
            offset: 0,
            with_payload: Some(WithPayloadInterface::Fields(vec![field_path(
                "product_id",
            )?])),
            with_vector: Some(WithVector::Bool(false)),
            score_threshold: None,
        };
        self.blocking(move |shard| {
            let hits = shard.search(request)?;
            Ok(plan.finish(hits.into_iter().filter_map(|hit| {
                let id = hit.payload.as_ref()?.0.get("product_id")?.as_i64()? as u64;
                Some(ScoredProduct {
                    product_id: id,
                    score: hit.score,
                })
            })))
        })
        .await
    }

    async fn fetch(
        &self,
        shop: &str,
        product_id: u64,
    ) -> Result<Option<StoredProduct>, RetrieverError> {
        let shop = shop.to_owned();
        self.blocking(move |shard| retrieve(shard, &shop, product_id, true))
            .await
    }

    async fn fetch_many(
        &self,
        shop: &str,
        product_ids: &[u64],
    ) -> Result<Vec<StoredProduct>, RetrieverError> {
        let (shop, ids) = (shop.to_owned(), product_ids.to_vec());
        self.blocking(move |shard| retrieve_many(shard, &shop, &ids, true))
            .await
    }

    async fn count(&self, shop: &str) -> Result<u64, RetrieverError> {
        let filter = all_of(&[filter::shop_clause(shop)])?;
        self.blocking(move |shard| {
            let count = shard.count(CountRequest {
                filter: Some(filter),
                exact: true,
            })?;
            Ok(count as u64)
        })
        .await
    }

    async fn drop_shop(&self, shop: &str) -> Result<(), RetrieverError> {
        let filter = all_of(&[filter::shop_clause(shop)])?;
        self.write(move |shard| {
            shard.update(UpdateOperation::PointOperation(
                PointOperations::DeletePointsByFilter(filter),
            ))?;
            Ok(())
        })
        .await
    }

    async fn optimize(&self) -> Result<(), RetrieverError> {
        let guards = self.guards.clone();
        self.blocking(move |shard| guards.optimize(shard).map(drop))
            .await
    }

    async fn flush(&self) -> Result<(), RetrieverError> {
        let guards = self.guards.clone();
        self.blocking(move |shard| guards.flush(shard)).await
    }

    fn backend_name(&self) -> &'static str {
        "qdrant-edge"
    }
}
