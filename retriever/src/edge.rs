//! The embedded backend: Qdrant's engine in the process (`qdrant-edge` 0.7.2, the newest
//! release that builds on stable Rust), one shard on disk for all shops.
//!
//! One shard with the shop as an indexed tenant field, rather than a shard per shop: it is
//! the layout Qdrant's own multitenancy uses, keeps one write-ahead log instead of one per
//! shop, and gives this backend the same semantics as the server backend's one collection.
//!
//! `qdrant-edge` is synchronous, so every call runs on tokio's blocking pool. Its HNSW
//! index is built only inside `optimize()`, which blocks for seconds on large shards; it
//! works on proxied copies of the segments, so searches and writes go on meanwhile (exact
//! search on segments not yet indexed). A mutex keeps two optimisations from overlapping.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use qdrant_edge::external::ordered_float::OrderedFloat;
use qdrant_edge::{
    Condition, CountRequest, CreateIndex, Distance, EdgeConfigBuilder, EdgeOptimizersConfig,
    EdgeShard, EdgeVectorParamsBuilder, FieldCondition, FieldIndexOperations, Filter,
    HnswIndexConfig, JsonPath, KeywordIndexParams, Match, NamedQuery, Payload, PayloadFieldSchema,
    PayloadOps, PayloadSchemaParams, PayloadSchemaType, PointId, PointInsertOperations,
    PointOperations, PointStruct, QueryEnum, Range, SearchParams, SearchRequest, SetPayloadOp,
    UpdateOperation, ValueVariants, VectorStructInternal, WithPayloadInterface, WithVector,
};

use crate::filter::{self, Clause};
use crate::model::{payload_from_json, payload_json, point_id, validate};
use crate::{
    ProductPayload, ProductPoint, RetrieverError, ScoredProduct, SearchQuery, StoredProduct,
    VectorIndex,
};

/// Tuning of the embedded engine.
#[derive(Debug, Clone)]
pub struct EdgeOptions {
    /// Segments smaller than this (in KiB of vectors) are searched exactly, never indexed.
    /// 2 MiB is about 1,300 vectors of 384 floats: exact search there takes well under a
    /// millisecond and has perfect recall.
    pub indexing_threshold_kb: usize,
    pub hnsw_m: usize,
    pub hnsw_ef_construct: usize,
    /// Candidates kept during search; higher is slower and more exact.
    pub hnsw_ef: usize,
}

impl Default for EdgeOptions {
    fn default() -> Self {
        Self {
            indexing_threshold_kb: 2_048,
            hnsw_m: 32,
            hnsw_ef_construct: 256,
            hnsw_ef: 256,
        }
    }
}

pub struct EdgeIndex {
    shard: Arc<EdgeShard>,
    dimension: usize,
    hnsw_ef: usize,
    optimizing: Arc<parking_lot::Mutex<()>>,
    path: PathBuf,
}

impl EdgeIndex {
    /// Opens the shard in `dir`, creating it (with payload indexes) on first use.
    pub fn open(dir: &Path, dimension: usize) -> Result<Self, RetrieverError> {
        Self::open_with(dir, dimension, EdgeOptions::default())
    }

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
            full_scan_threshold: options.indexing_threshold_kb,
            max_indexing_threads: 0,
            on_disk: Some(false),
            payload_m: None,
            inline_storage: None,
        };
        let config = EdgeConfigBuilder::new()
            .vector(
                "",
                EdgeVectorParamsBuilder::new(dimension, Distance::Cosine).build(),
            )
            .hnsw_config(hnsw)
            .optimizers(EdgeOptimizersConfig {
                indexing_threshold: Some(options.indexing_threshold_kb),
                ..Default::default()
            })
            .build();
        let existing = dir.join("edge_config.json").exists()
            || dir
                .join("segments")
                .read_dir()
                .map(|mut d| d.next().is_some())
                .unwrap_or(false);
        let shard = if existing {
            EdgeShard::load(dir, None)?
        } else {
            let shard = EdgeShard::new(dir, config)?;
            create_payload_indexes(&shard)?;
            shard
        };
        let stored_dimension = shard.config().vectors.get("").map(|v| v.size);
        if let Some(stored) = stored_dimension {
            if stored != dimension {
                return Err(RetrieverError::DimensionMismatch {
                    expected: stored,
                    got: dimension,
                });
            }
        }
        Ok(Self {
            shard: Arc::new(shard),
            dimension,
            hnsw_ef: options.hnsw_ef,
            optimizing: Arc::default(),
            path: dir.to_path_buf(),
        })
    }

    /// Points in the shard that sit in an HNSW-indexed segment (for tests and benchmarks).
    pub fn indexed_vectors(&self) -> usize {
        self.shard.info().indexed_vectors_count
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&EdgeShard) -> Result<T, RetrieverError> + Send + 'static,
    ) -> Result<T, RetrieverError> {
        let shard = self.shard.clone();
        tokio::task::spawn_blocking(move || work(&shard)).await?
    }
}

fn create_payload_indexes(shard: &EdgeShard) -> Result<(), RetrieverError> {
    let mut schemas: Vec<(&str, PayloadFieldSchema)> = Vec::new();
    // The shop is the tenant key: Qdrant keeps each tenant's points together.
    schemas.push((
        "shop",
        PayloadFieldSchema::FieldParams(PayloadSchemaParams::Keyword(KeywordIndexParams {
            is_tenant: Some(true),
            ..keyword_params()
        })),
    ));
    for field in filter::KEYWORD_FIELDS.iter().filter(|f| **f != "shop") {
        schemas.push((
            field,
            PayloadFieldSchema::FieldType(PayloadSchemaType::Keyword),
        ));
    }
    for field in filter::INTEGER_FIELDS {
        schemas.push((
            field,
            PayloadFieldSchema::FieldType(PayloadSchemaType::Integer),
        ));
    }
    for field in filter::BOOL_FIELDS {
        schemas.push((
            field,
            PayloadFieldSchema::FieldType(PayloadSchemaType::Bool),
        ));
    }
    for field in filter::FLOAT_FIELDS {
        schemas.push((
            field,
            PayloadFieldSchema::FieldType(PayloadSchemaType::Float),
        ));
    }
    for (field, schema) in schemas {
        shard.update(UpdateOperation::FieldIndexOperation(
            FieldIndexOperations::CreateIndex(CreateIndex {
                field_name: field_path(field),
                field_schema: Some(schema),
            }),
        ))?;
    }
    Ok(())
}

/// Paths of Kindred's own constant field names, which always parse.
fn field_path(name: &str) -> JsonPath {
    JsonPath::try_from(name).unwrap_or_else(|_| unreachable!("`{name}` is a plain field name"))
}

fn keyword_params() -> KeywordIndexParams {
    KeywordIndexParams {
        r#type: Default::default(),
        is_tenant: None,
        on_disk: None,
        enable_hnsw: None,
    }
}

fn condition(clause: &Clause) -> Condition {
    let field = field_path;
    Condition::Field(match clause {
        Clause::Keyword { field: f, value } => FieldCondition::new_match(
            field(f),
            Match::new_value(ValueVariants::String(value.clone())),
        ),
        Clause::KeywordAny { field: f, values } => {
            FieldCondition::new_match(field(f), Match::from(values.clone()))
        }
        Clause::Integer { field: f, value } => {
            FieldCondition::new_match(field(f), Match::new_value(ValueVariants::Integer(*value)))
        }
        Clause::Bool { field: f, value } => {
            FieldCondition::new_match(field(f), Match::new_value(ValueVariants::Bool(*value)))
        }
        Clause::Range { field: f, gte, lte } => FieldCondition::new_range(
            field(f),
            Range {
                lt: None,
                gt: None,
                gte: gte.map(OrderedFloat),
                lte: lte.map(OrderedFloat),
            },
        ),
    })
}

fn all_of(clauses: &[Clause]) -> Filter {
    Filter {
        should: None,
        min_should: None,
        must: Some(clauses.iter().map(condition).collect()),
        must_not: None,
    }
}

fn to_payload(json: serde_json::Value) -> Payload {
    match json {
        serde_json::Value::Object(map) => Payload(map.into_iter().collect()),
        _ => Payload(Default::default()),
    }
}

fn stored_of(payload: Option<&Payload>) -> Option<(u64, ProductPayload)> {
    let map: serde_json::Map<String, serde_json::Value> = payload?.0.clone().into_iter().collect();
    payload_from_json(&map)
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
        let shop = shop.to_owned();
        self.blocking(move |shard| {
            let points = points
                .into_iter()
                .map(|p| {
                    let payload = payload_json(&shop, p.product_id, &p.payload);
                    PointStruct::new(
                        PointId::Uuid(point_id(&shop, p.product_id)),
                        p.vector,
                        payload,
                    )
                    .into()
                })
                .collect();
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
        if self.fetch_record(shop, product_id, false).await?.is_none() {
            return Err(RetrieverError::NotFound);
        }
        let id = PointId::Uuid(point_id(shop, product_id));
        let payload = to_payload(payload_json(shop, product_id, &payload));
        self.blocking(move |shard| {
            shard.update(UpdateOperation::PayloadOperation(
                PayloadOps::OverwritePayload(SetPayloadOp {
                    payload,
                    points: Some(vec![id]),
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
        // Ids are derived from the shop, so another shop's points cannot be named here.
        let ids: Vec<PointId> = product_ids
            .iter()
            .map(|id| PointId::Uuid(point_id(shop, *id)))
            .collect();
        self.blocking(move |shard| {
            shard.update(UpdateOperation::PointOperation(
                PointOperations::DeletePoints { ids },
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
        validate(&query.vector, self.dimension)?;
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        let filter = all_of(&filter::clauses(shop, &query.filter));
        let excluded = query.filter.exclude_product_ids.clone();
        // Excluded products are dropped after the search, so ask for that many more.
        let limit = query.limit + excluded.len();
        let vector = query.vector.clone();
        let ef = self.hnsw_ef.max(limit);
        let wanted = query.limit;
        self.blocking(move |shard| {
            let hits = shard.search(SearchRequest {
                query: QueryEnum::Nearest(NamedQuery {
                    query: vector.into(),
                    using: None,
                }),
                filter: Some(filter),
                params: Some(SearchParams {
                    hnsw_ef: Some(ef),
                    exact: false,
                    quantization: None,
                    indexed_only: false,
                    acorn: None,
                }),
                limit,
                offset: 0,
                with_payload: Some(WithPayloadInterface::Fields(vec![field_path("product_id")])),
                with_vector: Some(WithVector::Bool(false)),
                score_threshold: None,
            })?;
            Ok(hits
                .into_iter()
                .filter_map(|hit| {
                    let id = hit.payload.as_ref()?.0.get("product_id")?.as_i64()? as u64;
                    Some(ScoredProduct {
                        product_id: id,
                        score: hit.score,
                    })
                })
                .filter(|hit| !excluded.contains(&hit.product_id))
                .take(wanted)
                .collect())
        })
        .await
    }

    async fn fetch(
        &self,
        shop: &str,
        product_id: u64,
    ) -> Result<Option<StoredProduct>, RetrieverError> {
        self.fetch_record(shop, product_id, true).await
    }

    async fn count(&self, shop: &str) -> Result<u64, RetrieverError> {
        let filter = all_of(&[filter::shop_clause(shop)]);
        self.blocking(move |shard| {
            Ok(shard.count(CountRequest {
                filter: Some(filter),
                exact: true,
            })? as u64)
        })
        .await
    }

    async fn drop_shop(&self, shop: &str) -> Result<(), RetrieverError> {
        let filter = all_of(&[filter::shop_clause(shop)]);
        self.blocking(move |shard| {
            shard.update(UpdateOperation::PointOperation(
                PointOperations::DeletePointsByFilter(filter),
            ))?;
            Ok(())
        })
        .await
    }

    async fn optimize(&self) -> Result<(), RetrieverError> {
        let lock = self.optimizing.clone();
        self.blocking(move |shard| {
            let _one_at_a_time = lock.lock();
            shard.optimize()?;
            Ok(())
        })
        .await
    }

    fn backend_name(&self) -> &'static str {
        "qdrant-edge"
    }
}

impl EdgeIndex {
    async fn fetch_record(
        &self,
        shop: &str,
        product_id: u64,
        with_vector: bool,
    ) -> Result<Option<StoredProduct>, RetrieverError> {
        let id = PointId::Uuid(point_id(shop, product_id));
        let shop = shop.to_owned();
        self.blocking(move |shard| {
            let records = shard.retrieve(
                &[id],
                Some(WithPayloadInterface::Bool(true)),
                Some(WithVector::Bool(with_vector)),
            )?;
            let Some(record) = records.into_iter().next() else {
                return Ok(None);
            };
            // Defence in depth: the id already encodes the shop, and the payload must agree.
            let belongs = record
                .payload
                .as_ref()
                .and_then(|p| p.0.get("shop"))
                .and_then(|s| s.as_str())
                == Some(shop.as_str());
            if !belongs {
                return Ok(None);
            }
            let Some((stored_id, payload)) = stored_of(record.payload.as_ref()) else {
                return Ok(None);
            };
            let vector = match record.vector {
                Some(VectorStructInternal::Single(v)) => v,
                _ => Vec::new(),
            };
            Ok(Some(StoredProduct {
                product_id: stored_id,
                vector,
                payload,
            }))
        })
        .await
    }
}
