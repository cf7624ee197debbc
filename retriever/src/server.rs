//! The server backend: a Qdrant server or cluster through `qdrant-client` (gRPC), for
//! catalogues and traffic beyond one process. One collection for all shops, with the shop
//! as an indexed tenant field (`is_tenant`, so Qdrant keeps each shop's points together)
//! and every request filtered by it. The server builds its HNSW index in the background
//! by itself, so `optimize` has nothing to do here.

use async_trait::async_trait;
use qdrant_client::qdrant::{
    Condition, CountPointsBuilder, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder,
    DeletePointsBuilder, Distance, FieldType, Filter, GetPointsBuilder, KeywordIndexParamsBuilder,
    PointId, PointStruct, Range, SearchParamsBuilder, SearchPointsBuilder, SetPayloadPointsBuilder,
    UpsertPointsBuilder, VectorParamsBuilder,
};
use qdrant_client::{Payload, Qdrant};

use crate::filter::{self, Clause};
use crate::model::{payload_from_json, payload_json, point_id, validate, SearchPlan};
use crate::{
    ProductPayload, ProductPoint, RetrieverError, ScoredProduct, SearchQuery, StoredProduct,
    VectorIndex,
};

/// Candidates kept during HNSW search on the server.
const HNSW_EF: u64 = 128;

/// A collection on a Qdrant server or cluster.
pub struct ServerIndex {
    client: Qdrant,
    collection: String,
    dimension: usize,
}

impl ServerIndex {
    /// Connects and creates the collection (cosine, `dimension`) and its payload indexes
    /// when missing. Fails if the collection exists with another dimension.
    pub async fn connect(
        url: &str,
        api_key: Option<String>,
        collection: &str,
        dimension: usize,
    ) -> Result<Self, RetrieverError> {
        let mut builder = Qdrant::from_url(url);
        if let Some(key) = api_key {
            builder = builder.api_key(key);
        }
        let client = builder.build()?;
        let index = Self {
            client,
            collection: collection.to_owned(),
            dimension,
        };
        index.ensure_collection().await?;
        Ok(index)
    }

    async fn ensure_collection(&self) -> Result<(), RetrieverError> {
        if !self.client.collection_exists(&self.collection).await? {
            let created = self
                .client
                .create_collection(
                    CreateCollectionBuilder::new(&self.collection).vectors_config(
                        VectorParamsBuilder::new(self.dimension as u64, Distance::Cosine),
                    ),
                )
                .await;
            // Another replica of the app may have created it a moment ago.
            if let Err(err) = created {
                if !self.client.collection_exists(&self.collection).await? {
                    return Err(err.into());
                }
            }
        }
        let info = self
            .client
            .collection_info(&self.collection)
            .await?
            .result
            .ok_or_else(|| RetrieverError::Backend("collection info came back empty".into()))?;
        let size = info
            .config
            .and_then(|c| c.params)
            .and_then(|p| p.vectors_config)
            .and_then(|v| v.config)
            .and_then(|c| match c {
                qdrant_client::qdrant::vectors_config::Config::Params(p) => Some(p.size as usize),
                _ => None,
            });
        if let Some(size) = size.filter(|s| *s != self.dimension) {
            return Err(RetrieverError::DimensionMismatch {
                expected: size,
                got: self.dimension,
            });
        }
        // Created one by one, so an earlier start that stopped half-way is completed here.
        let indexes = filter::KEYWORD_FIELDS
            .iter()
            .map(|f| (*f, FieldType::Keyword))
            .chain(
                filter::INTEGER_FIELDS
                    .iter()
                    .map(|f| (*f, FieldType::Integer)),
            )
            .chain(filter::BOOL_FIELDS.iter().map(|f| (*f, FieldType::Bool)))
            .chain(filter::FLOAT_FIELDS.iter().map(|f| (*f, FieldType::Float)))
            .filter(|(field, _)| !info.payload_schema.contains_key(*field));
        for (field, kind) in indexes {
            let mut request =
                CreateFieldIndexCollectionBuilder::new(&self.collection, field, kind).wait(true);
            if field == "shop" {
                request = request
                    .field_index_params(KeywordIndexParamsBuilder::default().is_tenant(true));
            }
            self.client.create_field_index(request).await?;
        }
        Ok(())
    }
}

fn condition(clause: &Clause) -> Condition {
    match clause {
        Clause::Keyword { field, value } => Condition::matches(*field, value.clone()),
        Clause::KeywordAny { field, values } => Condition::matches(*field, values.clone()),
        Clause::Integer { field, value } => Condition::matches(*field, *value),
        Clause::IntegerAny { field, values } => Condition::matches(*field, values.clone()),
        Clause::Bool { field, value } => Condition::matches(*field, *value),
        Clause::Range { field, gte, lte } => Condition::range(
            *field,
            Range {
                gte: *gte,
                lte: *lte,
                gt: None,
                lt: None,
            },
        ),
    }
}

fn all_of(clauses: &[Clause]) -> Filter {
    Filter::must(clauses.iter().map(condition))
}

fn id_of(shop: &str, product_id: u64) -> PointId {
    PointId::from(point_id(shop, product_id).to_string())
}

fn to_payload(json: serde_json::Value) -> Result<Payload, RetrieverError> {
    Payload::try_from(json).map_err(|e| RetrieverError::InvalidInput(e.to_string()))
}

fn json_of(
    payload: std::collections::HashMap<String, qdrant_client::qdrant::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    payload
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::from(v)))
        .collect()
}

#[async_trait]
impl VectorIndex for ServerIndex {
    async fn upsert(&self, shop: &str, points: Vec<ProductPoint>) -> Result<(), RetrieverError> {
        if points.is_empty() {
            return Ok(());
        }
        let mut structs = Vec::with_capacity(points.len());
        for point in points {
            validate(&point.vector, self.dimension)?;
            let payload = to_payload(payload_json(shop, point.product_id, &point.payload))?;
            structs.push(PointStruct::new(
                id_of(shop, point.product_id),
                point.vector,
                payload,
            ));
        }
        self.client
            .upsert_points(UpsertPointsBuilder::new(&self.collection, structs).wait(true))
            .await?;
        Ok(())
    }

    async fn set_payload(
        &self,
        shop: &str,
        product_id: u64,
        payload: ProductPayload,
    ) -> Result<(), RetrieverError> {
        if self.fetch(shop, product_id).await?.is_none() {
            return Err(RetrieverError::NotFound);
        }
        let payload = to_payload(payload_json(shop, product_id, &payload))?;
        self.client
            .overwrite_payload(
                SetPayloadPointsBuilder::new(&self.collection, payload)
                    .points_selector(all_of(&filter::products_of(shop, &[product_id])))
                    .wait(true),
            )
            .await?;
        Ok(())
    }

    async fn delete(&self, shop: &str, product_ids: &[u64]) -> Result<(), RetrieverError> {
        if product_ids.is_empty() {
            return Ok(());
        }
        self.client
            .delete_points(
                DeletePointsBuilder::new(&self.collection)
                    .points(all_of(&filter::products_of(shop, product_ids)))
                    .wait(true),
            )
            .await?;
        Ok(())
    }

    async fn search(
        &self,
        shop: &str,
        query: &SearchQuery,
    ) -> Result<Vec<ScoredProduct>, RetrieverError> {
        let Some(plan) = SearchPlan::new(query, self.dimension)? else {
            return Ok(Vec::new());
        };
        let limit = plan.ask as u64;
        let request = SearchPointsBuilder::new(&self.collection, query.vector.clone(), limit)
            .filter(all_of(&filter::clauses(shop, &query.filter)))
            .params(SearchParamsBuilder::default().hnsw_ef(HNSW_EF.max(limit)))
            .with_payload(true);
        let response = self.client.search_points(request).await?;
        Ok(plan.finish(response.result.into_iter().filter_map(|hit| {
            let id = hit.payload.get("product_id")?.as_integer()? as u64;
            Some(ScoredProduct {
                product_id: id,
                score: hit.score,
            })
        })))
    }

    async fn fetch(
        &self,
        shop: &str,
        product_id: u64,
    ) -> Result<Option<StoredProduct>, RetrieverError> {
        Ok(self
            .fetch_many(shop, &[product_id])
            .await?
            .into_iter()
            .next())
    }

    async fn fetch_many(
        &self,
        shop: &str,
        product_ids: &[u64],
    ) -> Result<Vec<StoredProduct>, RetrieverError> {
        if product_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = product_ids
            .iter()
            .map(|id| id_of(shop, *id))
            .collect::<Vec<_>>();
        let response = self
            .client
            .get_points(
                GetPointsBuilder::new(&self.collection, ids)
                    .with_payload(true)
                    .with_vectors(true),
            )
            .await?;
        Ok(response
            .result
            .into_iter()
            .filter_map(|point| {
                let vector = point
                    .vectors
                    .and_then(|v| v.get_vector())
                    .and_then(|v| match v {
                        qdrant_client::qdrant::vector_output::Vector::Dense(d) => Some(d.data),
                        _ => None,
                    });
                let payload = json_of(point.payload);
                // The id already encodes the shop; the payload check is defence in depth.
                if payload.get("shop").and_then(|s| s.as_str()) != Some(shop) {
                    return None;
                }
                let (stored_id, payload) = payload_from_json(&payload)?;
                Some(StoredProduct {
                    product_id: stored_id,
                    vector: vector.unwrap_or_default(),
                    payload,
                })
            })
            .collect())
    }

    async fn count(&self, shop: &str) -> Result<u64, RetrieverError> {
        let response = self
            .client
            .count(
                CountPointsBuilder::new(&self.collection)
                    .filter(all_of(&[filter::shop_clause(shop)]))
                    .exact(true),
            )
            .await?;
        Ok(response.result.map(|r| r.count).unwrap_or_default())
    }

    async fn drop_shop(&self, shop: &str) -> Result<(), RetrieverError> {
        self.client
            .delete_points(
                DeletePointsBuilder::new(&self.collection)
                    .points(all_of(&[filter::shop_clause(shop)]))
                    .wait(true),
            )
            .await?;
        Ok(())
    }

    async fn optimize(&self) -> Result<(), RetrieverError> {
        // The server indexes in the background on its own.
        Ok(())
    }

    async fn ready(&self) -> Result<(), RetrieverError> {
        self.client.health_check().await?;
        Ok(())
    }

    fn backend_name(&self) -> &'static str {
        "qdrant-server"
    }
}
