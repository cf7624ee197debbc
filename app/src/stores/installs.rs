//! Installs of the Shopify app: (sealed) tokens, OAuth nonces and the shop's web pixel.

use async_trait::async_trait;

use crate::domain::ShopDomain;
use crate::error::AppError;

/// The shop's web pixel in Shopify and the id of the key its settings carry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PixelRow {
    pub pixel_id: String,
    pub key_id: String,
}

/// A shop's install as stored; tokens are still sealed.
#[derive(Debug, Clone)]
pub struct InstallRow {
    pub scopes: String,
    pub access_token: Option<String>,
    pub access_expires_at: Option<i64>,
    pub refresh_token: Option<String>,
    pub refresh_expires_at: Option<i64>,
    pub uninstalled_at: Option<i64>,
}

impl InstallRow {
    pub fn active(&self) -> bool {
        self.uninstalled_at.is_none()
    }
}

/// Sealed tokens to store after an install, a token exchange or a refresh.
#[derive(Debug, Clone)]
pub struct SealedGrant {
    pub scopes: String,
    pub access_token: String,
    pub access_expires_at: Option<i64>,
    pub refresh_token: Option<String>,
    pub refresh_expires_at: Option<i64>,
}

/// Installs, tokens and OAuth nonces.
#[async_trait]
pub trait InstallStore: Send + Sync {
    /// Records an install (or a re-install, or new tokens) and makes the shop active again.
    /// Records an install (or a re-install, or new tokens) and makes the shop active again.
    async fn save_install(&self, shop: &ShopDomain, grant: &SealedGrant) -> Result<(), AppError>;

    async fn install(&self, shop: &ShopDomain) -> Result<Option<InstallRow>, AppError>;

    /// Active installs, by domain.
    async fn active_installs(&self) -> Result<Vec<ShopDomain>, AppError>;

    /// app/uninstalled: tokens revoked, storefront keys removed, data kept until shop/redact.
    async fn mark_uninstalled(&self, shop: &ShopDomain) -> Result<(), AppError>;

    async fn save_oauth_state(&self, shop: &ShopDomain, nonce: &str) -> Result<(), AppError>;

    /// Uses up a nonce issued for this shop no longer than `max_age_ms` ago; false when there is none.
    async fn take_oauth_state(
        &self,
        shop: &ShopDomain,
        nonce: &str,
        max_age_ms: i64,
    ) -> Result<bool, AppError>;

    /// The shop's web pixel in Shopify and which key its settings carry.
    async fn web_pixel(&self, shop: &ShopDomain) -> Result<Option<PixelRow>, AppError>;

    async fn save_web_pixel(&self, shop: &ShopDomain, pixel: &PixelRow) -> Result<(), AppError>;
}
