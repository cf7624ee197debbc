//! The domain's one error type. It knows nothing of HTTP (`http::error` maps each variant
//! to a status and a stable code) nor of the database (storage turns its errors into
//! `Storage` / `StorageUnavailable` here).

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
    #[error("the App Proxy request is not signed by Shopify: {0}")]
    ProxyUnsigned(String),
    #[error("the App Proxy request was refused: {0}")]
    ProxyRefused(String),
    #[error("this origin may not call the API: {0}")]
    OriginNotAllowed(String),
    /// Over what the shop's plan allows.
    #[error("{0}")]
    PlanLimit(String),
    /// The request conflicts with the resource's state (an experiment already running).
    #[error("{0}")]
    Conflict(String),
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The database failed; the detail is for the log.
    #[error("database error: {0}")]
    Storage(String),
    /// The database said "not now": no connection in time, a statement or lock wait past
    /// its limit, or the server gone.
    #[error("database busy or unreachable: {0}")]
    StorageUnavailable(String),
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

impl AppError {
    /// A dependency that is away for now (the database busy or unreachable, the vector
    /// index unreachable): the same work succeeds once it is back.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::StorageUnavailable(_) | Self::Index(RetrieverError::Unavailable(_))
        )
    }
}
