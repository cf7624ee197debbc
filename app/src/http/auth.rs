//! Who is calling: a shop's public storefront key (browsers), a shop's secret merchant key
//! (that shop's server and its merchant), or the operator's admin key (every shop).
//! Keys come as `Authorization: Bearer <key>` (or `X-Kindred-Key: <key>`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::AppState;
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::stores::{hash_key, KeyGrant};

pub fn presented_key(headers: &axum::http::HeaderMap) -> Result<&str, AppError> {
    let from_bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let from_header = headers.get("x-kindred-key").and_then(|v| v.to_str().ok());
    from_bearer
        .or(from_header)
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or(AppError::MissingCredentials)
}

/// The shop whose storefront key the request carries; every read is scoped to it.
pub struct StorefrontShop(pub ShopDomain);

impl FromRequestParts<AppState> for StorefrontShop {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match ShopCaller::from_request_parts(parts, state).await? {
            ShopCaller::Storefront(shop) => Ok(Self(shop)),
            ShopCaller::Merchant(_) => Err(AppError::InvalidCredentials),
        }
    }
}

/// The shop of a storefront request, with who vouches for it: a public storefront key
/// (anonymous shoppers), or the shop's secret merchant key (the shop's own server, which
/// may say which customer is logged in).
pub enum ShopCaller {
    Storefront(ShopDomain),
    Merchant(ShopDomain),
}

impl ShopCaller {
    pub fn shop(&self) -> &ShopDomain {
        match self {
            Self::Storefront(shop) | Self::Merchant(shop) => shop,
        }
    }
}

impl FromRequestParts<AppState> for ShopCaller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = presented_key(&parts.headers)?;
        let caller = match state.keys.grant_for(key).await? {
            Some(KeyGrant::Storefront(shop)) => Self::Storefront(shop),
            Some(KeyGrant::Merchant(shop)) => Self::Merchant(shop),
            _ => return Err(AppError::InvalidCredentials),
        };
        // Per client first: one browser (or one script) cannot spend the budget every
        // shopper of the key shares; then per key, so a leaked key has a ceiling too.
        let key_hash = hash_key(key);
        let client = super::limits::client_address(parts);
        state
            .limits
            .per_client
            .admit(&format!("{key_hash} {client}"), 1)?;
        state.limits.per_key.admit(&key_hash, 1)?;
        Ok(caller)
    }
}

/// The shop a request may manage. On `/api/v1/shops/{shop}/...` the shop is the path's, and
/// the key must be the operator's admin key (any shop) or that shop's merchant key; on the
/// embedded admin's `/app/api/...` routes, which name no shop, it is the shop of the
/// merchant's App Bridge session token. One extractor, so each shop-management handler
/// serves every credential that may manage a shop.
pub struct ShopAdmin(pub ShopDomain);

impl FromRequestParts<AppState> for ShopAdmin {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = presented_key(&parts.headers)?.to_owned();
        let params = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| AppError::InvalidInput(e.body_text()))?;
        let named = params
            .iter()
            .find(|(name, _)| *name == "shop")
            .map(|(_, value)| value.to_owned());
        let Some(named) = named else {
            let SessionShop(shop) = SessionShop::from_request_parts(parts, state).await?;
            return Ok(Self(shop));
        };
        let shop = ShopDomain::parse(&named)?;
        match state.keys.grant_for(&key).await? {
            Some(KeyGrant::Admin) => Ok(Self(shop)),
            Some(KeyGrant::Merchant(own)) if own == shop => Ok(Self(shop)),
            Some(KeyGrant::Merchant(_)) => Err(AppError::KeyNotForShop),
            _ => Err(AppError::InvalidCredentials),
        }
    }
}

/// Proof that the request carries an admin key.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = presented_key(&parts.headers)?;
        match state.keys.grant_for(key).await? {
            Some(KeyGrant::Admin) => Ok(Self),
            _ => Err(AppError::InvalidCredentials),
        }
    }
}

/// The shop of an embedded-admin request, from its App Bridge session token. The first
/// request of a shop without a usable access token exchanges the session token for one.
pub struct SessionShop(pub ShopDomain);

impl FromRequestParts<AppState> for SessionShop {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let shopify = state.shopify()?;
        let token = presented_key(&parts.headers)?;
        let verified = crate::shopify::session_token::verify_session_token(
            token,
            shopify.api().client_id(),
            shopify.api().secrets(),
        )?;
        shopify.ensure_installed(&verified.shop, token).await?;
        Ok(Self(verified.shop))
    }
}
