//! What the index stores and answers, independent of the backend.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The filterable facts about a product kept beside its vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductPayload {
    pub available: bool,
    pub price: Option<f64>,
    pub product_type: Option<String>,
    pub vendor: Option<String>,
    pub tags: Vec<String>,
    pub collections: Vec<u64>,
    /// `active`, `draft` or `archived`.
    pub status: String,
}

/// A product to index: its vector and its filterable facts.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductPoint {
    pub product_id: u64,
    pub vector: Vec<f32>,
    pub payload: ProductPayload,
}

/// A product as the index holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProduct {
    pub product_id: u64,
    pub vector: Vec<f32>,
    pub payload: ProductPayload,
}

/// One search hit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredProduct {
    pub product_id: u64,
    /// Cosine similarity.
    pub score: f32,
}

/// A nearest-neighbour search within one shop.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub vector: Vec<f32>,
    /// Hits wanted at most.
    pub limit: usize,
    pub filter: SearchFilter,
}

/// Conditions a result must meet; all that are set must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchFilter {
    pub available_only: bool,
    /// Products never returned (the product the shopper is looking at, say).
    pub exclude_product_ids: Vec<u64>,
    /// Inclusive; a product without a price fails any price bound.
    pub price_min: Option<f64>,
    /// Inclusive.
    pub price_max: Option<f64>,
    pub product_type: Option<String>,
    pub vendor: Option<String>,
    /// The product has at least one of these tags.
    pub tags_any: Vec<String>,
    pub collection: Option<u64>,
    pub status: Option<String>,
}

/// The point id of a shop's product. Two shops may hold the same Shopify product id (a
/// demo and a real shop, say), so the id is derived from both; a hash keeps it stable.
pub fn point_id(shop: &str, product_id: u64) -> uuid::Uuid {
    let digest = Sha256::digest(format!("{shop}\u{0}{product_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Uuid::from_bytes(bytes)
}

pub(crate) fn validate(vector: &[f32], dimension: usize) -> Result<(), crate::RetrieverError> {
    if vector.len() != dimension {
        return Err(crate::RetrieverError::DimensionMismatch {
            expected: dimension,
            got: vector.len(),
        });
    }
    if vector.iter().any(|x| !x.is_finite()) {
        return Err(crate::RetrieverError::InvalidInput(
            "vector has a NaN or infinite value".into(),
        ));
    }
    Ok(())
}

pub(crate) fn payload_json(
    shop: &str,
    product_id: u64,
    payload: &ProductPayload,
) -> serde_json::Value {
    serde_json::json!({
        "shop": shop,
        // Shopify ids fit in i64; Qdrant's integer payload is i64.
        "product_id": product_id as i64,
        "available": payload.available,
        "price": payload.price,
        "product_type": payload.product_type,
        "vendor": payload.vendor,
        "tags": payload.tags,
        "collections": payload.collections.iter().map(|c| *c as i64).collect::<Vec<_>>(),
        "status": payload.status,
    })
}

pub(crate) fn payload_from_json(
    json: &serde_json::Map<String, serde_json::Value>,
) -> Option<(u64, ProductPayload)> {
    let product_id = json.get("product_id")?.as_i64()? as u64;
    let strings = |key: &str| -> Vec<String> {
        json.get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let text = |key: &str| json.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    Some((
        product_id,
        ProductPayload {
            available: json
                .get("available")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            price: json.get("price").and_then(|v| v.as_f64()),
            product_type: text("product_type"),
            vendor: text("vendor"),
            tags: strings("tags"),
            collections: json
                .get("collections")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.as_i64())
                        .map(|c| c as u64)
                        .collect()
                })
                .unwrap_or_default(),
            status: text("status").unwrap_or_default(),
        },
    ))
}

/// How either backend runs a [`SearchQuery`]: excluded products are dropped after the
/// search rather than in the filter (a short list of ids, known only per request), so the
/// backend asks for that many more hits and the page still fills.
pub(crate) struct SearchPlan {
    /// Hits to ask the backend for.
    pub ask: usize,
    wanted: usize,
    excluded: std::collections::HashSet<u64>,
}

impl SearchPlan {
    /// `None` when nothing is wanted; an error for a vector the index cannot hold.
    pub(crate) fn new(
        query: &SearchQuery,
        dimension: usize,
    ) -> Result<Option<Self>, crate::RetrieverError> {
        validate(&query.vector, dimension)?;
        if query.limit == 0 {
            return Ok(None);
        }
        let excluded: std::collections::HashSet<u64> =
            query.filter.exclude_product_ids.iter().copied().collect();
        Ok(Some(Self {
            ask: query.limit + excluded.len(),
            wanted: query.limit,
            excluded,
        }))
    }

    pub(crate) fn finish(
        &self,
        hits: impl IntoIterator<Item = ScoredProduct>,
    ) -> Vec<ScoredProduct> {
        hits.into_iter()
            .filter(|hit| !self.excluded.contains(&hit.product_id))
            .take(self.wanted)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_ids_are_stable_and_differ_between_shops() {
        let a = point_id("a.myshopify.com", 42);
        assert_eq!(a, point_id("a.myshopify.com", 42));
        assert_ne!(a, point_id("b.myshopify.com", 42));
        assert_ne!(a, point_id("a.myshopify.com", 43));
        // The separator keeps "a1" + 2 apart from "a" + 12.
        assert_ne!(point_id("a1", 2), point_id("a", 12));
    }

    #[test]
    fn payloads_round_trip_through_json() {
        let payload = ProductPayload {
            available: true,
            price: None,
            product_type: Some("Mat".into()),
            vendor: None,
            tags: vec!["yoga".into()],
            collections: vec![7, (1 << 62) + 1],
            status: "active".into(),
        };
        let id = (1 << 62) + 5;
        let json = payload_json("a.myshopify.com", id, &payload);
        let map = json.as_object().cloned().unwrap_or_default();
        assert_eq!(
            map.get("shop").and_then(|s| s.as_str()),
            Some("a.myshopify.com")
        );
        assert_eq!(payload_from_json(&map), Some((id, payload)));
    }
}
