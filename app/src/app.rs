//! The running app, built one way: `kindred serve` and the test harness both call
//! [`App::build_with`], so what the tests exercise is what the server wires.

use std::time::Duration;

use axum::Router;

use crate::config::Settings;
use crate::error::AppError;
use crate::http::{router, AppState, Budgets, HttpLimits, RateLimits};
use crate::key_cache::KeyCache;
use crate::shopify::ShopifyService;
use crate::startup::{self, Components, Parts};
use crate::telemetry;

/// Every part of a serving process, before it listens.
pub struct App {
    pub components: Components,
    pub keys: KeyCache,
    /// Present when the Shopify app credentials are configured.
    pub shopify: Option<ShopifyService>,
    pub state: AppState,
    pub http_limits: HttpLimits,
}

impl App {
    /// Opens everything the settings name.
    pub async fn build(settings: &Settings) -> Result<Self, AppError> {
        Self::build_with(settings, Parts::default()).await
    }

    /// Opens everything the settings name, but what `parts` brings.
    pub async fn build_with(settings: &Settings, parts: Parts) -> Result<Self, AppError> {
        let components = startup::open_with(settings, parts).await?;
        let keys = KeyCache::new(components.catalog.stores().keys.clone());
        let shopify = startup::open_shopify(settings, &components.recommender, &keys)?;
        let state = AppState {
            catalog: components.catalog.clone(),
            recommender: components.recommender.clone(),
            search: crate::search::Search::new(components.recommender.clone()),
            keys: keys.clone(),
            metrics: telemetry::metrics_handle(),
            model_id: components.model_id.clone(),
            shopify: shopify.clone(),
            limits: RateLimits::per_minute(Budgets {
                events: settings.events_per_minute,
                key_requests: settings.key_requests_per_minute,
                client_requests: settings.client_requests_per_minute,
                proxy_requests: settings.proxy_requests_per_minute,
            }),
            customer_tokens: startup::customer_tokens(settings)?,
            proof: crate::proof::Proof::new(
                components.catalog.stores().clone(),
                settings.event_retention_days,
                crate::proof::settings::share_of(settings.default_holdout_percent).map_err(
                    |e| AppError::Config(format!("KINDRED_DEFAULT_HOLDOUT_PERCENT: {e}")),
                )?,
            ),
        };
        Ok(Self {
            components,
            keys,
            shopify,
            state,
            http_limits: http_limits(settings)?,
        })
    }

    /// The HTTP surface over this app.
    pub fn router(&self) -> Router {
        router(self.state.clone(), self.http_limits.clone())
    }
}

/// The HTTP limits from the settings.
pub fn http_limits(settings: &Settings) -> Result<HttpLimits, AppError> {
    let client_ip_header = settings
        .client_ip_header
        .as_deref()
        .map(|name| {
            axum::http::HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
                AppError::Config(format!(
                    "KINDRED_CLIENT_IP_HEADER `{name}` is not a header name"
                ))
            })
        })
        .transpose()?;
    Ok(HttpLimits {
        max_body_bytes: settings.max_body_bytes,
        max_webhook_body_bytes: settings.max_webhook_body_bytes,
        max_storefront_body_bytes: settings.max_storefront_body_bytes,
        request_timeout: Duration::from_secs(settings.request_timeout_secs.max(1)),
        client_ip_header,
    })
}
