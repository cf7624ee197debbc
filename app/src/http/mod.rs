//! The HTTP surface: routes, shared state, and the layers every request passes.

mod admin;
mod admin_ui;
pub mod auth;
mod billing;
mod cards;
pub mod error;
mod events;
mod extract;
mod keys;
mod limits;
mod openapi;
mod origins;
mod params;
mod pixel;
mod preview;
mod proof;
mod proxy;
mod routes;
mod search;
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
use tower_http::trace::TraceLayer;

use crate::catalog::service::CatalogService;
use crate::error::AppError;
pub use crate::key_cache::KeyCache;
pub use limits::{Budgets, RateLimit, RateLimits};

#[derive(Clone)]
pub struct AppState {
    pub catalog: CatalogService,
    pub recommender: crate::recommend::Recommender,
    /// Product search for shoppers.
    pub search: crate::search::Search,
    pub keys: KeyCache,
    pub metrics: PrometheusHandle,
    pub model_id: String,
    /// Present when the Shopify app credentials are configured.
    pub shopify: Option<crate::shopify::ShopifyService>,
    pub limits: RateLimits,
    /// Mints and checks the customer tokens of headless storefronts.
    pub customer_tokens: crate::identity::CustomerTokens,
    /// Attribution, the holdout, experiments and plans.
    pub proof: crate::proof::Proof,
}

impl AppState {
    /// The customer a token vouches for at `shop`.
    pub fn customer_token(
        &self,
        token: &str,
        shop: &crate::domain::ShopDomain,
    ) -> Result<crate::domain::CustomerId, AppError> {
        self.customer_tokens
            .verify(token, shop, self.catalog.stores().now())
    }

    /// The Shopify app, or the error that says it is not configured on this server.
    pub fn shopify(&self) -> Result<&crate::shopify::ShopifyService, AppError> {
        self.shopify.as_ref().ok_or(AppError::ShopifyNotConfigured(
            "set SHOPIFY_API_KEY and SHOPIFY_API_SECRET",
        ))
    }
}

/// Limits of the HTTP surface.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    pub max_body_bytes: usize,
    pub max_webhook_body_bytes: usize,
    /// What shoppers' browsers may send (events): small, as anyone holding the public key
    /// or passing through the App Proxy can send it, and a JSON body is parsed whole.
    pub max_storefront_body_bytes: usize,
    /// Longest a request may take before it is answered 503 (with a JSON body).
    pub request_timeout: Duration,
    /// The header a trusted proxy in front puts the client's address in, if any.
    pub client_ip_header: Option<axum::http::HeaderName>,
}

/// Runs a request within the server's time limit; past it, a 503 in the API's JSON error
/// shape (not an empty body), so clients and Shopify see why.
async fn within(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => AppError::TimedOut.into_response(),
    }
}

pub fn router(state: AppState, limits: HttpLimits) -> Router {
    let client_ip_header = limits.client_ip_header.clone();
    let request_timeout = limits.request_timeout;
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
        .route("/search", get(search::search).options(preflight))
        .route("/search/suggest", get(search::suggest).options(preflight))
        .route(
            "/recommendations/cart",
            get(storefront::cart).options(preflight),
        )
        .route(
            "/recommendations/{strategy}",
            get(storefront::recommendations_by_path).options(preflight),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), origins::cors))
        .layer(DefaultBodyLimit::max(limits.max_storefront_body_bytes));
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
            "/shops/{shop}/keys",
            get(keys::list_keys).post(keys::create_key),
        )
        .route(
            "/shops/{shop}/keys/{key_id}",
            axum::routing::delete(keys::revoke_key),
        )
        .route("/shops/{shop}/keys/{key_id}/rotate", post(keys::rotate_key))
        .route(
            "/shops/{shop}/customer-tokens",
            post(keys::mint_customer_token),
        )
        .route(
            "/shops/{shop}/products/{id}",
            axum::routing::delete(routes::delete_product),
        )
        .route("/shops/{shop}/shopify", get(shopify::admin_status))
        .route("/shops/{shop}/sync", post(shopify::request_sync))
        .route(
            "/shops/{shop}/orders/sync",
            post(shopify::request_order_sync),
        )
        .route(
            "/shops/{shop}/privacy/exports",
            get(shopify::privacy_exports),
        )
        .route(
            "/shops/{shop}/allowed-origins",
            get(origins::get_allowed_origins).put(origins::put_allowed_origins),
        )
        .route(
            "/shops/{shop}/rules",
            get(admin::get_rules).put(admin::put_rules),
        )
        .route(
            "/shops/{shop}/recommendations/performance",
            get(admin::performance),
        )
        .route(
            "/shops/{shop}/recommendations/for-you",
            post(admin::for_you_batch),
        )
        .route("/shops/{shop}/report", get(proof::report))
        .route(
            "/shops/{shop}/settings",
            get(proof::get_settings).put(proof::put_settings),
        )
        .route(
            "/shops/{shop}/experiments",
            get(proof::list_experiments).post(proof::create_experiment),
        )
        .route(
            "/shops/{shop}/experiments/{id}/start",
            post(proof::start_experiment),
        )
        .route(
            "/shops/{shop}/experiments/{id}/stop",
            post(proof::stop_experiment),
        )
        .route(
            "/shops/{shop}/experiments/{id}/results",
            get(proof::experiment_results),
        )
        .route("/shops/{shop}/preview", get(preview::preview))
        .route("/shops/{shop}/rules/preview", post(preview::rules_preview));

    // The web pixel: any origin (Shopify's sandbox), its key in the body.
    let pixel = Router::new()
        .route(
            "/pixel/events",
            post(pixel::pixel_events).options(pixel::pixel_preflight),
        )
        .layer(DefaultBodyLimit::max(limits.max_storefront_body_bytes));
    let api = api.merge(pixel);

    // Shopify's App Proxy: the storefront's `/apps/kindred/...`, signed by Shopify.
    let proxy = Router::new()
        .route("/proxy/recommendations", get(proxy::proxy_recommendations))
        .route(
            "/proxy/recommendations/cards",
            get(proxy::proxy_recommendation_cards),
        )
        .route("/proxy/events", post(proxy::proxy_events))
        .route("/proxy/search", get(search::proxy_search))
        .route("/proxy/search/suggest", get(search::proxy_suggest))
        .route("/proxy/search/cards", get(search::proxy_search_cards))
        .route(
            "/proxy/search/suggest/cards",
            get(search::proxy_suggest_cards),
        )
        .layer(DefaultBodyLimit::max(limits.max_storefront_body_bytes));

    // Webhook bodies have their own (smaller) limit; they are read whole to check the HMAC.
    let webhooks = Router::new()
        .route("/webhooks", post(shopify::data_webhook))
        .route("/webhooks/compliance", post(shopify::compliance_webhook))
        .layer(DefaultBodyLimit::max(limits.max_webhook_body_bytes));
    let shopify_app = Router::new()
        .route("/auth", get(shopify::begin_install))
        .route("/auth/callback", get(shopify::install_callback))
        .route("/app", get(admin_ui::app_page))
        .route("/app/assets/{name}", get(admin_ui::asset))
        .route("/app/billing/return", get(billing::billing_return))
        .route("/app/api/billing", get(billing::billing))
        .route("/app/api/billing/subscribe", post(billing::subscribe))
        .route("/app/api/report", get(proof::report))
        .route(
            "/app/api/settings",
            get(proof::get_settings).put(proof::put_settings),
        )
        .route(
            "/app/api/experiments",
            get(proof::list_experiments).post(proof::create_experiment),
        )
        .route(
            "/app/api/experiments/{id}/start",
            post(proof::start_experiment),
        )
        .route(
            "/app/api/experiments/{id}/stop",
            post(proof::stop_experiment),
        )
        .route(
            "/app/api/experiments/{id}/results",
            get(proof::experiment_results),
        )
        .route("/app/api/preview", get(preview::preview))
        .route("/app/api/rules/preview", post(preview::rules_preview))
        .route("/app/api/shoppers/recent", get(preview::recent_shoppers))
        .route("/app/api/keys", get(keys::list_keys).post(keys::create_key))
        .route(
            "/app/api/keys/{key_id}",
            axum::routing::delete(keys::revoke_key),
        )
        .route("/app/api/webhooks/failed", get(shopify::failed_webhooks))
        .route(
            "/app/api/webhooks/{webhook_id}/retry",
            post(shopify::retry_webhook),
        )
        .route("/app/api/status", get(shopify::app_status))
        .route("/app/api/sync", post(shopify::request_sync))
        .route("/app/api/orders/sync", post(shopify::request_order_sync))
        // The same handlers as `/api/v1/shops/{shop}/...`, the shop from the session token.
        .route(
            "/app/api/rules",
            get(admin::get_rules).put(admin::put_rules),
        )
        .route(
            "/app/api/allowed-origins",
            get(origins::get_allowed_origins).put(origins::put_allowed_origins),
        )
        .route("/app/api/privacy/exports", get(shopify::privacy_exports))
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
        .layer(middleware::from_fn(move |request, next| {
            limits::identify_client(client_ip_header.clone(), request, next)
        }))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            within(request_timeout, request, next)
        }))
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
    let method = method_label(request.method());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("kindred_http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("kindred_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The method as a metrics label: one of the standard methods, or `other`. Any token is a
/// valid HTTP method, so labelling with the raw one would let any client grow the label
/// set (and the server's memory, and every scrape) without bound.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
