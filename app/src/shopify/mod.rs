//! Kindred as a Shopify app: install and auth, the web pixel, webhooks, bulk catalogue sync,
//! reconciliation, orders and the privacy topics.

pub mod api;
pub mod app_proxy;
mod billing;
pub mod crypto;
pub mod graphql;
mod install;
pub mod orders;
mod pixel;
mod privacy;
pub mod service;
pub mod session_token;
pub mod signature;
pub mod sync;
pub mod webhooks;

pub use api::{ShopifyApi, API_VERSION};
pub use crypto::TokenCipher;
pub use service::{Receipt, ShopifyAppConfig, ShopifyService};
pub use signature::{AppSecrets, Secret};
