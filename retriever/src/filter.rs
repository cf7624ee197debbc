//! The search conditions as plain data, built once and translated by each backend, so the
//! two backends cannot disagree about what a filter means.

use crate::SearchFilter;

/// One condition on a payload field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Clause {
    Keyword {
        field: &'static str,
        value: String,
    },
    KeywordAny {
        field: &'static str,
        values: Vec<String>,
    },
    Integer {
        field: &'static str,
        value: i64,
    },
    IntegerAny {
        field: &'static str,
        values: Vec<i64>,
    },
    Bool {
        field: &'static str,
        value: bool,
    },
    Range {
        field: &'static str,
        gte: Option<f64>,
        lte: Option<f64>,
    },
}

/// All clauses that must hold: the shop first, always.
pub(crate) fn clauses(shop: &str, filter: &SearchFilter) -> Vec<Clause> {
    let mut must = vec![shop_clause(shop)];
    if filter.available_only {
        must.push(Clause::Bool {
            field: "available",
            value: true,
        });
    }
    if filter.price_min.is_some() || filter.price_max.is_some() {
        must.push(Clause::Range {
            field: "price",
            gte: filter.price_min,
            lte: filter.price_max,
        });
    }
    if let Some(product_type) = &filter.product_type {
        must.push(Clause::Keyword {
            field: "product_type",
            value: product_type.clone(),
        });
    }
    if let Some(vendor) = &filter.vendor {
        must.push(Clause::Keyword {
            field: "vendor",
            value: vendor.clone(),
        });
    }
    if !filter.tags_any.is_empty() {
        must.push(Clause::KeywordAny {
            field: "tags",
            values: filter.tags_any.clone(),
        });
    }
    if let Some(collection) = filter.collection {
        must.push(Clause::Integer {
            field: "collections",
            value: collection as i64,
        });
    }
    if let Some(status) = &filter.status {
        must.push(Clause::Keyword {
            field: "status",
            value: status.clone(),
        });
    }
    must
}

pub(crate) fn shop_clause(shop: &str) -> Clause {
    Clause::Keyword {
        field: "shop",
        value: shop.to_owned(),
    }
}

/// The shop's points among these products. Deletes go by this filter rather than by point
/// id, so even a (vanishingly unlikely) id collision could not reach another shop.
pub(crate) fn products_of(shop: &str, product_ids: &[u64]) -> Vec<Clause> {
    vec![
        shop_clause(shop),
        Clause::IntegerAny {
            field: "product_id",
            values: product_ids.iter().map(|id| *id as i64).collect(),
        },
    ]
}

/// Payload fields worth an index: the tenant key first, then every filterable field.
pub(crate) const KEYWORD_FIELDS: [&str; 5] = ["shop", "product_type", "vendor", "tags", "status"];
pub(crate) const INTEGER_FIELDS: [&str; 2] = ["product_id", "collections"];
pub(crate) const BOOL_FIELDS: [&str; 1] = ["available"];
pub(crate) const FLOAT_FIELDS: [&str; 1] = ["price"];
