//! The catalogue as the domain needs it stored: each product with the hash of its embedded
//! text and which hash the vector index holds.

use std::collections::HashMap;

use async_trait::async_trait;

use crate::domain::{Product, ShopDomain};
use crate::error::AppError;

/// A product ready to store, with its serialised document and content hash.
#[derive(Debug, Clone)]
pub struct ProductRow {
    pub product: Product,
    pub document: String,
    pub content_hash: String,
}

/// What the database says about a product's place in the vector index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexState {
    pub document: String,
    pub content_hash: String,
    pub indexed_hash: Option<String>,
    pub payload_stale: bool,
}

impl IndexState {
    /// The vector in the index matches the current text.
    pub fn vector_current(&self) -> bool {
        self.indexed_hash.as_deref() == Some(self.content_hash.as_str())
    }
}

/// Products: written by imports and webhooks, read by every recommendation.
#[async_trait]
pub trait ProductStore: Send + Sync {
    /// The index state of every product of a shop, by product id.
    async fn index_states(&self, shop: &ShopDomain) -> Result<HashMap<u64, IndexState>, AppError>;

    /// Inserts or replaces products in one transaction. A product whose text changed keeps
    /// its old `indexed_hash`, so it reads as stale until its new vector is written.
    async fn upsert_products(&self, shop: &ShopDomain, rows: &[ProductRow])
        -> Result<(), AppError>;

    /// Records that the index now holds these products' vectors (by content hash) and payloads.
    /// The content hash is rewritten too: it is recomputed from the document by the caller,
    /// so a row written with another model's hash settles instead of staying stale forever.
    /// `vectors_written` says some of them got a new vector: that changes who is nearest to
    /// whom anywhere in the shop, so it drops the shop's precomputed similar lists in the same
    /// transaction (a payload alone does not).
    async fn mark_indexed(
        &self,
        shop: &ShopDomain,
        indexed: &[(u64, String)],
        vectors_written: bool,
    ) -> Result<(), AppError>;

    /// Products whose vector or payload in the index is missing or out of date, each with
    /// whether its vector is current (then only the payload needs writing).
    async fn products_needing_index(
        &self,
        shop: &ShopDomain,
        limit: i64,
    ) -> Result<Vec<(Product, bool)>, AppError>;

    async fn get_product(&self, shop: &ShopDomain, id: u64) -> Result<Option<Product>, AppError>;

    /// The shop's products among `ids`, by id; unknown ids are left out.
    async fn products_by_id(
        &self,
        shop: &ShopDomain,
        ids: &[u64],
    ) -> Result<HashMap<u64, Product>, AppError>;

    /// The shop's products among `ids`, in the order of `ids`; unknown ids are left out.
    async fn get_products(&self, shop: &ShopDomain, ids: &[u64]) -> Result<Vec<Product>, AppError>;

    /// The titles of the shop's products among `ids`, by id: what a reason names, without
    /// reading whole documents.
    async fn product_titles(
        &self,
        shop: &ShopDomain,
        ids: &[u64],
    ) -> Result<HashMap<u64, String>, AppError>;

    /// The shop's active, available products, most recently published first; products with
    /// no publication date come last, newest id first (Shopify's ids grow with time).
    async fn newest_products(
        &self,
        shop: &ShopDomain,
        limit: usize,
    ) -> Result<Vec<Product>, AppError>;

    /// (id, title) of products whose title contains `text`, case-insensitively, by id.
    async fn find_products_by_title(
        &self,
        shop: &ShopDomain,
        text: &str,
    ) -> Result<Vec<(u64, String)>, AppError>;

    /// Marks every vector of the shop stale, e.g. after the model changed.
    async fn mark_all_stale(&self, shop: &ShopDomain) -> Result<u64, AppError>;

    async fn delete_product(&self, shop: &ShopDomain, id: u64) -> Result<bool, AppError>;

    /// (products, products whose vector and payload are current)
    async fn catalogue_counts(&self, shop: &ShopDomain) -> Result<(i64, i64), AppError>;

    /// The shop's products whose current vector is in the index, and how many others are
    /// waiting to be embedded.
    async fn indexed_products(&self, shop: &ShopDomain) -> Result<(Vec<u64>, usize), AppError>;

    /// The shop's products a shopper may be shown: active and available.
    async fn on_sale_products(&self, shop: &ShopDomain) -> Result<Vec<u64>, AppError>;
}
