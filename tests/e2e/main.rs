//! End-to-end tests: the real model, the real embedded Qdrant engine, SQLite and (when
//! `KINDRED_TEST_DATABASE_URL` is set, as `scripts/test.sh` does) PostgreSQL, and the real
//! Shopify catalogues from the shared data folder.

mod common;

mod api_errors;
mod catalogue_sync;
mod similar_products;
mod tenancy;
