//! The app's one error type, and its single mapping to HTTP.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use kindred_embedder::EmbedError;
use kindred_retriever::RetrieverError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid request: {0}")]
    InvalidInput(String),
    #[error("`{0}` is not a shop domain of the form <name>.myshopify.com")]
    InvalidShop(String),
    #[error("request body is not valid JSON for this endpoint: {0}")]
    InvalidJson(String),
    #[error("request body is larger than this server accepts (see KINDRED_MAX_BODY_BYTES)")]
    PayloadTooLarge,
    #[error("missing or malformed Authorization header; send `Authorization: Bearer <key>`")]
    MissingCredentials,
    #[error("the key is not valid for this endpoint")]
    InvalidCredentials,
    #[error("this key belongs to another shop")]
    KeyNotForShop,
    #[error("that key is already in use; choose another or let Kindred generate one")]
    KeyExists,
    #[error("the customer token is not valid: {0}")]
    InvalidCustomerToken(&'static str),
    #[error("the request took longer than this server allows; retry shortly")]
    TimedOut,
    #[error("method not allowed for this endpoint")]
    MethodNotAllowed,
    #[error("internal error: {0}")]
    Internal(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("the server is busy; retry shortly")]
    Overloaded,
    #[error("the data folder is in use by another Kindred process: {0}")]
    DataDirLocked(String),
    #[error("the webhook signature is missing or wrong: {0}")]
    InvalidSignature(String),
    #[error("the session token is not valid: {0}")]
    InvalidSessionToken(String),
    #[error("the install request is unknown or expired; start the install again")]
    InvalidOAuthState,
    #[error("missing header `{0}`")]
    MissingHeader(&'static str),
    #[error("unknown webhook topic: {0}")]
    UnknownTopic(String),
    #[error("{0} has not installed this app")]
    UnknownShop(String),
    #[error("Shopify is not configured on this server: {0}")]
    ShopifyNotConfigured(&'static str),
    #[error("Shopify refused the app's credentials: {0}")]
    ShopifyUnauthorized(String),
    #[error("Shopify request failed: {0}")]
    Upstream(String),
    #[error("configuration error: {0}")]
    Config(String),
    #[error("the App Proxy request was refused: {0}")]
    ProxyRefused(crate::shopify::app_proxy::ProxyRefusal),
    #[error("this origin may not call the API: {0}")]
    OriginNotAllowed(String),
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("vector index error: {0}")]
    Index(#[from] RetrieverError),
    #[error("embedding error: {0}")]
    Embedding(EmbedError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl From<EmbedError> for AppError {
    fn from(err: EmbedError) -> Self {
        match err {
            EmbedError::Overloaded => Self::Overloaded,
            other => Self::Embedding(other),
        }
    }
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code; never changes once published.
    #[schema(value_type = String, example = "invalid_request")]
    pub code: &'static str,
    pub message: String,
}

impl AppError {
    /// Status and stable code; an exhaustive match, so a new variant must choose both.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::InvalidInput(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            Self::InvalidShop(_) => (StatusCode::BAD_REQUEST, "invalid_shop"),
            Self::InvalidJson(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::MissingCredentials => (StatusCode::UNAUTHORIZED, "missing_credentials"),
            Self::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            Self::KeyNotForShop => (StatusCode::FORBIDDEN, "key_not_for_this_shop"),
            Self::KeyExists => (StatusCode::CONFLICT, "key_exists"),
            Self::InvalidCustomerToken(_) => (StatusCode::UNAUTHORIZED, "invalid_customer_token"),
            Self::TimedOut => (StatusCode::SERVICE_UNAVAILABLE, "timed_out"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
            Self::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            Self::DataDirLocked(_) => (StatusCode::SERVICE_UNAVAILABLE, "data_dir_locked"),
            Self::InvalidSignature(_) => (StatusCode::UNAUTHORIZED, "invalid_signature"),
            Self::InvalidSessionToken(_) => (StatusCode::UNAUTHORIZED, "invalid_session_token"),
            Self::InvalidOAuthState => (StatusCode::FORBIDDEN, "invalid_oauth_state"),
            Self::MissingHeader(_) => (StatusCode::BAD_REQUEST, "missing_header"),
            Self::UnknownTopic(_) => (StatusCode::BAD_REQUEST, "unknown_topic"),
            Self::UnknownShop(_) => (StatusCode::NOT_FOUND, "unknown_shop"),
            Self::ShopifyNotConfigured(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "shopify_not_configured")
            }
            Self::ShopifyUnauthorized(_) => (StatusCode::BAD_GATEWAY, "shopify_unauthorized"),
            Self::Upstream(_) => (StatusCode::BAD_GATEWAY, "shopify_error"),
            Self::Config(_) => (StatusCode::INTERNAL_SERVER_ERROR, "configuration_error"),
            Self::ProxyRefused(refusal) if refusal.is_authentication_failure() => {
                (StatusCode::UNAUTHORIZED, "invalid_proxy_signature")
            }
            Self::ProxyRefused(_) => (StatusCode::FORBIDDEN, "proxy_request_refused"),
            Self::OriginNotAllowed(_) => (StatusCode::FORBIDDEN, "origin_not_allowed"),
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::Database(err) if database_unavailable(err) => {
                (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
            }
            Self::Database(_) | Self::Migration(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "database_error")
            }
            Self::Index(
                RetrieverError::InvalidInput(_) | RetrieverError::DimensionMismatch { .. },
            ) => (StatusCode::BAD_REQUEST, "invalid_vector"),
            Self::Index(RetrieverError::NotFound) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Index(_) => (StatusCode::INTERNAL_SERVER_ERROR, "index_error"),
            Self::Embedding(_) => (StatusCode::INTERNAL_SERVER_ERROR, "embedding_error"),
            Self::Io(_) => (StatusCode::INTERNAL_SERVER_ERROR, "io_error"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        // Internal details go to the log, not to the client.
        let message = if code == "database_unavailable" {
            tracing::warn!(error = %self, "database busy or unreachable");
            "the database is busy or unreachable; retry shortly".to_owned()
        } else if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(error = %self, code, "request failed");
            "internal error; see the server log".to_owned()
        } else {
            self.to_string()
        };
        let mut response = (
            status,
            Json(ErrorBody {
                error: ErrorDetail { code, message },
            }),
        )
            .into_response();
        let retry_after = match self {
            Self::RateLimited { retry_after_secs } => Some(retry_after_secs),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some(1),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// Whether a database error says "not now" rather than "wrong": no connection could be had
/// in time, the server is gone, or a statement or lock wait ran past its timeout
/// (PostgreSQL's `query_canceled` and `lock_not_available`; SQLite's busy and locked).
fn database_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => matches!(
            db.code().as_deref(),
            Some("57014" | "55P03" | "57P01" | "57P03" | "5" | "6")
        ),
        _ => false,
    }
}
