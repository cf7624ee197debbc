//! The HTTP surface: routes, shared state, and the layers every request passes.

pub mod auth;
mod events;
mod extract;
mod limits;
mod openapi;
mod routes;
mod shopify;
mod storefront;
pub mod views;

use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::catalog::service::CatalogService;
use crate::error::AppError;
pub use auth::KeyCache;
pub use limits::{RateLimit, RateLimits};

#[derive(Clone)]
pub struct AppState {
    pub catalog: CatalogService,
    pub keys: KeyCache,
    pub metrics: PrometheusHandle,
    pub model_id: String,
    /// Present when the Shopify app credentials are configured.
    pub shopify: Option<crate::shopify::ShopifyService>,
    pub limits: RateLimits,
}

impl AppState {
    /// The Shopify app, or the error that says it is not configured on this server.
    pub fn shopify(&self) -> Result<&crate::shopify::ShopifyService, AppError> {
        self.shopify.as_ref().ok_or(AppError::ShopifyNotConfigured(
            "set SHOPIFY_API_KEY and SHOPIFY_API_SECRET",
        ))
    }
}

/// Limits of the HTTP surface.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    pub max_body_bytes: usize,
    pub max_webhook_body_bytes: usize,
}

pub fn router(state: AppState, limits: HttpLimits) -> Router {
    // What browsers call with a shop's public key: CORS per shop's allow-list.
    // OPTIONS is routed so that preflights reach the CORS layer (which answers them)
    // instead of the method-not-allowed fallback.
    let preflight = || async { axum::http::StatusCode::NO_CONTENT };
    let storefront = Router::new()
        .route(
            "/products/{id}",
            get(routes::get_product).options(preflight),
        )
        .route(
            "/products/{id}/similar",
            get(routes::similar_products).options(preflight),
        )
        .route("/events", post(events::record_events).options(preflight))
        .route(
            "/recommendations",
            get(storefront::recommendations).options(preflight),
        )
        .route(
            "/recommendations/cart",
            get(events::cart).options(preflight),
        )
        .route(
            "/recommendations/{strategy}",
            get(storefront::recommendations_by_path).options(preflight),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            storefront::cors,
        ));
    let api = Router::new()
        .merge(storefront)
        .route("/openapi.json", get(openapi::document))
        .route("/shops", post(routes::create_shop))
        .route(
            "/shops/{shop}",
            get(routes::shop_status).delete(routes::delete_shop),
        )
        .route("/shops/{shop}/products", post(routes::upsert_products))
        .route(
            "/shops/{shop}/products/{id}",
            axum::routing::delete(routes::delete_product),
        )
        .route("/shops/{shop}/shopify", get(shopify::admin_status))
        .route("/shops/{shop}/sync", post(shopify::admin_sync))
        .route(
            "/shops/{shop}/privacy/exports",
            get(shopify::privacy_exports),
        )
        .route(
            "/shops/{shop}/allowed-origins",
            get(storefront::get_allowed_origins).put(storefront::put_allowed_origins),
        )
        .route(
            "/shops/{shop}/rules",
            get(storefront::get_rules).put(storefront::put_rules),
        )
        .route(
            "/shops/{shop}/recommendations/performance",
            get(storefront::performance),
        )
        .route(
            "/shops/{shop}/recommendations/for-you",
            post(storefront::for_you_batch),
        );

    // Shopify's App Proxy: the storefront's `/apps/kindred/...`, signed by Shopify.
    let proxy = Router::new()
        .route(
            "/proxy/recommendations",
            get(storefront::proxy_recommendations),
        )
        .route("/proxy/events", post(storefront::proxy_events))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes));

    // Webhook bodies have their own (smaller) limit; they are read whole to check the HMAC.
    let webhooks = Router::new()
        .route("/webhooks", post(shopify::data_webhook))
        .route("/webhooks/compliance", post(shopify::compliance_webhook))
        .layer(DefaultBodyLimit::max(limits.max_webhook_body_bytes));
    let shopify_app = Router::new()
        .route("/auth", get(shopify::begin_install))
        .route("/auth/callback", get(shopify::install_callback))
        .route("/app", get(shopify::app_page))
        .route("/app/api/status", get(shopify::app_status))
        .route("/app/api/sync", post(shopify::app_sync))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes));

    Router::new()
        .route("/health", get(routes::health))
        .route("/ready", get(routes::ready))
        .route("/metrics", get(routes::metrics))
        .nest(
            "/api/v1",
            api.layer(DefaultBodyLimit::max(limits.max_body_bytes)),
        )
        .merge(webhooks)
        .merge(shopify_app)
        .merge(proxy)
        .fallback(|| async { AppError::NotFound("no such endpoint".into()) })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(120),
        ))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Internal("handler panicked".into()).into_response()
        }))
        .with_state(state)
}

/// Request count and latency per route template (never per raw path: ids would explode the label set).
async fn record_metrics(State(_state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("kindred_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("kindred_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
