//! Translation between Kindred's types and `qdrant-edge`'s: filters, payloads, records and
//! the payload indexes the shard must have.

use std::collections::HashSet;

use qdrant_edge::external::ordered_float::OrderedFloat;
use qdrant_edge::{
    Condition, CreateIndex, EdgeShard, FieldCondition, FieldIndexOperations, Filter, JsonPath,
    KeywordIndexParams, Match, Payload, PayloadFieldSchema, PayloadSchemaParams, PayloadSchemaType,
    PointId, Range, UpdateOperation, ValueVariants, VectorStructInternal, WithPayloadInterface,
    WithVector,
};

use crate::filter::{self, Clause};
use crate::model::{payload_from_json, point_id};
use crate::{RetrieverError, StoredProduct};

/// `JsonPath` has no infallible constructor outside Qdrant's tests, so even Kindred's own
/// constant field names go through the parser; a failure is reported, never unwrapped.
pub(super) fn field_path(name: &str) -> Result<JsonPath, RetrieverError> {
    name.parse()
        .map_err(|_| RetrieverError::Backend(format!("`{name}` is not a payload path")))
}

fn condition(clause: &Clause) -> Result<Condition, RetrieverError> {
    let condition = match clause {
        Clause::Keyword { field, value } => FieldCondition::new_match(
            field_path(field)?,
            Match::new_value(ValueVariants::String(value.clone())),
        ),
        Clause::KeywordAny { field, values } => {
            FieldCondition::new_match(field_path(field)?, Match::from(values.clone()))
        }
        Clause::Integer { field, value } => FieldCondition::new_match(
            field_path(field)?,
            Match::new_value(ValueVariants::Integer(*value)),
        ),
        Clause::IntegerAny { field, values } => {
            FieldCondition::new_match(field_path(field)?, Match::from(values.clone()))
        }
        Clause::Bool { field, value } => FieldCondition::new_match(
            field_path(field)?,
            Match::new_value(ValueVariants::Bool(*value)),
        ),
        Clause::Range { field, gte, lte } => FieldCondition::new_range(
            field_path(field)?,
            Range {
                lt: None,
                gt: None,
                gte: gte.map(OrderedFloat),
                lte: lte.map(OrderedFloat),
            },
        ),
    };
    Ok(Condition::Field(condition))
}

/// A filter every clause of which must hold.
pub(super) fn all_of(clauses: &[Clause]) -> Result<Filter, RetrieverError> {
    Ok(Filter {
        should: None,
        min_should: None,
        must: Some(clauses.iter().map(condition).collect::<Result<_, _>>()?),
        must_not: None,
    })
}

pub(super) fn to_payload(json: serde_json::Value) -> Payload {
    match json {
        serde_json::Value::Object(map) => Payload(map.into_iter().collect()),
        _ => Payload(Default::default()),
    }
}

/// One product of one shop, read by its point id and kept only if its payload names the
/// same shop (the id already encodes the shop; this is defence in depth).
pub(super) fn retrieve(
    shard: &EdgeShard,
    shop: &str,
    product_id: u64,
    with_vector: bool,
) -> Result<Option<StoredProduct>, RetrieverError> {
    Ok(retrieve_many(shard, shop, &[product_id], with_vector)?
        .into_iter()
        .next())
}

/// Products of one shop in one read, in no particular order; unknown ids are left out.
pub(super) fn retrieve_many(
    shard: &EdgeShard,
    shop: &str,
    product_ids: &[u64],
    with_vector: bool,
) -> Result<Vec<StoredProduct>, RetrieverError> {
    let ids: Vec<PointId> = product_ids
        .iter()
        .map(|id| PointId::Uuid(point_id(shop, *id)))
        .collect();
    let records = shard.retrieve(
        &ids,
        Some(WithPayloadInterface::Bool(true)),
        Some(WithVector::Bool(with_vector)),
    )?;
    Ok(records
        .into_iter()
        .filter_map(|record| {
            let payload = record.payload?;
            let json: serde_json::Map<String, serde_json::Value> = payload.0.into_iter().collect();
            if json.get("shop").and_then(|s| s.as_str()) != Some(shop) {
                return None;
            }
            let (stored_id, payload) = payload_from_json(&json)?;
            let vector = match record.vector {
                Some(VectorStructInternal::Single(v)) => v,
                _ => Vec::new(),
            };
            Some(StoredProduct {
                product_id: stored_id,
                vector,
                payload,
            })
        })
        .collect())
}

/// Creates the payload indexes the shard lacks: all of them on a new shard, and on an old
/// one whatever a crash between creating the shard and its indexes (or an older Kindred)
/// left out.
pub(super) fn ensure_payload_indexes(shard: &EdgeShard) -> Result<(), RetrieverError> {
    let present: HashSet<String> = shard
        .info()
        .payload_schema
        .keys()
        .map(|k| k.to_string())
        .collect();
    for (field, schema) in payload_schemas() {
        if present.contains(field) {
            continue;
        }
        shard.update(UpdateOperation::FieldIndexOperation(
            FieldIndexOperations::CreateIndex(CreateIndex {
                field_name: field_path(field)?,
                field_schema: Some(schema),
            }),
        ))?;
    }
    Ok(())
}

fn payload_schemas() -> Vec<(&'static str, PayloadFieldSchema)> {
    let typed = |kind| PayloadFieldSchema::FieldType(kind);
    // The shop is the tenant key: Qdrant keeps each tenant's points together on disk.
    let tenant =
        PayloadFieldSchema::FieldParams(PayloadSchemaParams::Keyword(KeywordIndexParams {
            r#type: Default::default(),
            is_tenant: Some(true),
            on_disk: None,
            enable_hnsw: None,
        }));
    let mut schemas = vec![("shop", tenant)];
    let others = [
        (&filter::KEYWORD_FIELDS[..], PayloadSchemaType::Keyword),
        (&filter::INTEGER_FIELDS[..], PayloadSchemaType::Integer),
        (&filter::BOOL_FIELDS[..], PayloadSchemaType::Bool),
        (&filter::FLOAT_FIELDS[..], PayloadSchemaType::Float),
    ];
    for (fields, kind) in others {
        for field in fields.iter().filter(|f| **f != "shop") {
            schemas.push((*field, typed(kind)));
        }
    }
    schemas
}
