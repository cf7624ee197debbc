//! What the handlers read the same way: a shelf's size, browser and product ids, a
//! customer token from its header, and a shop that must exist.

use axum::http::HeaderMap;

use super::AppState;
use crate::domain::{split_list, ClientId, ProductId, ShopDomain};
use crate::error::AppError;

pub const MAX_LIMIT: usize = 50;
// A page of similar products can always come from a stored list.
const _: () = assert!(MAX_LIMIT <= crate::recommend::similar_lists::LIST_LENGTH);
pub const DEFAULT_LIMIT: usize = 10;
const MAX_CART_ITEMS: usize = 50;

/// Items wanted: 10 unless asked, at most 50.
pub fn checked_limit(raw: Option<&str>) -> Result<usize, AppError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                AppError::InvalidInput(format!(
                    "`limit` must be a whole number from 1 to {MAX_LIMIT}"
                ))
            }),
    }
}

/// A client id as given (trimmed; empty is none), checked.
pub fn optional_client_id(raw: Option<String>) -> Result<Option<ClientId>, AppError> {
    raw.filter(|c| !c.trim().is_empty())
        .map(|c| ClientId::parse(&c).map_err(AppError::InvalidInput))
        .transpose()
}

/// A comma-separated list of at most 50 product ids.
pub fn product_ids(raw: &str, parameter: &str) -> Result<Vec<u64>, AppError> {
    let ids: Vec<u64> = split_list(raw)
        .iter()
        .map(|id| ProductId::parse(id).map(|p| p.0))
        .collect::<Result<_, _>>()?;
    if ids.len() > MAX_CART_ITEMS {
        return Err(AppError::InvalidInput(format!(
            "`{parameter}` lists more than {MAX_CART_ITEMS} product ids"
        )));
    }
    Ok(ids)
}

/// The `X-Kindred-Customer-Token` header, if sent.
pub fn customer_token(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    headers
        .get("x-kindred-customer-token")
        .map(|v| {
            v.to_str()
                .map(|t| t.trim().to_owned())
                .map_err(|_| AppError::InvalidCustomerToken("it is malformed"))
        })
        .transpose()
}

pub async fn existing_shop(state: &AppState, shop: ShopDomain) -> Result<ShopDomain, AppError> {
    if state.catalog.stores().shops.shop_exists(&shop).await? {
        Ok(shop)
    } else {
        Err(AppError::NotFound(format!("shop {shop}")))
    }
}
