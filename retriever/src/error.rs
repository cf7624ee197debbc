//! The one error type of the crate.

/// What can go wrong in a [`crate::VectorIndex`] call.
#[derive(Debug, thiserror::Error)]
pub enum RetrieverError {
    /// A vector (or an index opened with a dimension) that does not fit the index.
    #[error("vector has {got} dimensions; the index holds {expected}")]
    DimensionMismatch { expected: usize, got: usize },
    /// A value the index cannot store, such as a NaN in a vector.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The shop has no such product in the index.
    #[error("no such point")]
    NotFound,
    /// The engine or the server failed; the message says how.
    #[error("vector backend failed: {0}")]
    Backend(String),
    /// The server cannot be reached or is not serving now (down, restarting, overloaded):
    /// the same request may succeed in a moment, and nothing was changed by this one.
    #[error("vector index unavailable: {0}")]
    Unavailable(String),
}

impl From<qdrant_edge::OperationError> for RetrieverError {
    fn from(err: qdrant_edge::OperationError) -> Self {
        Self::Backend(err.to_string())
    }
}

impl From<qdrant_client::QdrantError> for RetrieverError {
    fn from(err: qdrant_client::QdrantError) -> Self {
        use qdrant_client::QdrantError as Q;
        use tonic::Code;
        let passing = match &err {
            // A dropped connection arrives as `Unavailable` from the transport. A refused one
            // does not: qdrant-client's channel pool wraps the failed connect as `Internal`
            // with this message (and no source), so the message is all there is to tell it
            // by; `a_server_that_is_down_is_unavailable_not_failed` pins it.
            Q::ResponseError { status } => {
                matches!(
                    status.code(),
                    Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Aborted
                ) || (status.code() == Code::Internal
                    && status.message().starts_with("Failed to connect to"))
            }
            Q::ResourceExhaustedError { .. } | Q::Io(_) => true,
            _ => false,
        };
        if passing {
            Self::Unavailable(err.to_string())
        } else {
            Self::Backend(err.to_string())
        }
    }
}

impl From<tokio::task::JoinError> for RetrieverError {
    fn from(err: tokio::task::JoinError) -> Self {
        Self::Backend(format!("index worker stopped: {err}"))
    }
}
