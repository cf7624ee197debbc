//! Shops and what a merchant sets for one: allowed origins and merchandising rules.

use async_trait::async_trait;

use crate::domain::ShopDomain;
use crate::error::AppError;

/// Shops, their settings, and deleting everything of one.
#[async_trait]
pub trait ShopStore: Send + Sync {
    /// Creates the shop if it is new; returns whether it was created.
    async fn ensure_shop(&self, shop: &ShopDomain) -> Result<bool, AppError>;

    async fn shop_exists(&self, shop: &ShopDomain) -> Result<bool, AppError>;

    /// Every shop with its product count, by domain.
    async fn list_shops(&self) -> Result<Vec<(String, i64)>, AppError>;

    /// The origins a shop's headless frontends are served from, sorted.
    async fn allowed_origins(&self, shop: &ShopDomain) -> Result<Vec<String>, AppError>;

    /// Replaces the shop's allowed origins (already normalised) in one transaction.
    async fn replace_allowed_origins(
        &self,
        shop: &ShopDomain,
        origins: &[String],
    ) -> Result<(), AppError>;

    /// The shop's merchandising rules as stored (JSON), if it has any.
    async fn shop_rules(&self, shop: &ShopDomain) -> Result<Option<String>, AppError>;

    async fn put_shop_rules(&self, shop: &ShopDomain, rules: &str) -> Result<(), AppError>;

    /// Deletes every row of the shop, in every table, in one transaction. Returns whether
    /// the shop existed.
    async fn delete_shop(&self, shop: &ShopDomain) -> Result<bool, AppError>;

    /// Rows of the shop left anywhere, the shop's own row included (a deleted shop has none).
    async fn rows_of_shop(&self, shop: &ShopDomain) -> Result<i64, AppError>;

    /// Readiness: the database answers a query.
    async fn ping(&self) -> Result<(), AppError>;
}
