//! Kindred: AI product recommendations for Shopify and headless shops.
//!
//! `catalog` is the domain core (reading catalogues, keeping vectors in step, similar
//! products); `storage` and the `kindred-retriever` / `kindred-embedder` crates are its
//! adapters; `http` is a thin REST surface over it; `commands` drives it from the CLI.

pub mod app;
pub mod background;
pub mod catalog;
pub mod clock;
pub mod commands;
pub mod config;
pub mod domain;
pub mod error;
pub mod eval;
pub mod events;
pub mod http;
pub mod identity;
pub mod ids;
pub mod key_cache;
pub mod key_file;
pub mod leases;
pub mod progress;
pub mod proof;
pub mod purchases;
pub mod recommend;
pub mod search;
pub mod shopify;
pub mod startup;
pub mod storage;
pub mod stores;
pub mod telemetry;
