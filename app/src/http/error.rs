//! The one mapping from the domain's error to HTTP: a status, a stable code and a JSON body
//! for every variant (an exhaustive match, so a new variant must choose both).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use kindred_retriever::RetrieverError;

use crate::error::AppError;

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

/// Status and stable code of an error.
pub fn status_and_code(err: &AppError) -> (StatusCode, &'static str) {
    use AppError as E;
    match err {
        E::InvalidInput(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
        E::InvalidShop(_) => (StatusCode::BAD_REQUEST, "invalid_shop"),
        E::InvalidJson(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
        E::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        E::MissingCredentials => (StatusCode::UNAUTHORIZED, "missing_credentials"),
        E::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
        E::KeyNotForShop => (StatusCode::FORBIDDEN, "key_not_for_this_shop"),
        E::KeyExists => (StatusCode::CONFLICT, "key_exists"),
        E::InvalidCustomerToken(_) => (StatusCode::UNAUTHORIZED, "invalid_customer_token"),
        E::TimedOut => (StatusCode::SERVICE_UNAVAILABLE, "timed_out"),
        E::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        E::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        E::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        E::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
        E::DataDirLocked(_) => (StatusCode::SERVICE_UNAVAILABLE, "data_dir_locked"),
        E::InvalidSignature(_) => (StatusCode::UNAUTHORIZED, "invalid_signature"),
        E::InvalidSessionToken(_) => (StatusCode::UNAUTHORIZED, "invalid_session_token"),
        E::InvalidOAuthState => (StatusCode::FORBIDDEN, "invalid_oauth_state"),
        E::MissingHeader(_) => (StatusCode::BAD_REQUEST, "missing_header"),
        E::UnknownTopic(_) => (StatusCode::BAD_REQUEST, "unknown_topic"),
        E::UnknownShop(_) => (StatusCode::NOT_FOUND, "unknown_shop"),
        E::ShopifyNotConfigured(_) => (StatusCode::SERVICE_UNAVAILABLE, "shopify_not_configured"),
        E::ShopifyUnauthorized(_) => (StatusCode::BAD_GATEWAY, "shopify_unauthorized"),
        E::Upstream(_) => (StatusCode::BAD_GATEWAY, "shopify_error"),
        E::Config(_) => (StatusCode::INTERNAL_SERVER_ERROR, "configuration_error"),
        E::ProxyUnsigned(_) => (StatusCode::UNAUTHORIZED, "invalid_proxy_signature"),
        E::ProxyRefused(_) => (StatusCode::FORBIDDEN, "proxy_request_refused"),
        E::OriginNotAllowed(_) => (StatusCode::FORBIDDEN, "origin_not_allowed"),
        E::PlanLimit(_) => (StatusCode::PAYMENT_REQUIRED, "plan_limit"),
        E::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        E::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        E::StorageUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
        E::Storage(_) => (StatusCode::INTERNAL_SERVER_ERROR, "database_error"),
        E::Index(RetrieverError::InvalidInput(_) | RetrieverError::DimensionMismatch { .. }) => {
            (StatusCode::BAD_REQUEST, "invalid_vector")
        }
        E::Index(RetrieverError::NotFound) => (StatusCode::NOT_FOUND, "not_found"),
        E::Index(RetrieverError::Unavailable(_)) => {
            (StatusCode::SERVICE_UNAVAILABLE, "index_unavailable")
        }
        E::Index(_) => (StatusCode::INTERNAL_SERVER_ERROR, "index_error"),
        E::Embedding(_) => (StatusCode::INTERNAL_SERVER_ERROR, "embedding_error"),
        E::Io(_) => (StatusCode::INTERNAL_SERVER_ERROR, "io_error"),
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = status_and_code(&self);
        // Internal details go to the log, not to the client.
        let message = if matches!(self, AppError::StorageUnavailable(_)) {
            tracing::warn!(error = %self, "database busy or unreachable");
            "the database is busy or unreachable; retry shortly".to_owned()
        } else if matches!(self, AppError::Index(RetrieverError::Unavailable(_))) {
            tracing::warn!(error = %self, "vector index unreachable");
            "the vector index is unreachable; retry shortly".to_owned()
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
            AppError::RateLimited { retry_after_secs } => Some(retry_after_secs),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_index_is_a_503_to_retry_not_a_500() {
        let err = AppError::Index(RetrieverError::Unavailable("transport error".into()));
        assert_eq!(
            status_and_code(&err),
            (StatusCode::SERVICE_UNAVAILABLE, "index_unavailable")
        );
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[axum::http::header::RETRY_AFTER], "1");
        // A real backend failure stays a 500.
        let failed = AppError::Index(RetrieverError::Backend("corrupt segment".into()));
        assert_eq!(
            status_and_code(&failed).0,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
