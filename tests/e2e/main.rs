//! End-to-end tests: the real model, the real embedded Qdrant engine, SQLite and (when
//! `KINDRED_TEST_DATABASE_URL` is set, as `scripts/test.sh` does) PostgreSQL, and the real
//! Shopify catalogues from the shared data folder.

mod common;
mod fake_shopify;
mod headless_client;
mod kindred_process;

mod abuse;
mod admin_browser;
mod api_errors;
mod buy_again;
mod catalogue_sync;
mod clock;
mod events;
mod holdout;
mod index_outage;
mod merchandising;
mod order_replay;
mod parser_properties;
mod proof_of_value;
mod proxy_cards;
mod purchases;
mod replica_processes;
mod replicas;
mod retail_orders;
mod search;
mod shared_models;
mod shelf_diversity;
mod shopify_app;
mod shopify_config;
mod shopify_graphql;
mod shopify_replay;
mod similar_products;
mod storefront;
mod storefront_browser;
mod structure;
mod tenancy;
mod theme_extension;
