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
}

impl From<qdrant_edge::OperationError> for RetrieverError {
    fn from(err: qdrant_edge::OperationError) -> Self {
        Self::Backend(err.to_string())
    }
}

impl From<qdrant_client::QdrantError> for RetrieverError {
    fn from(err: qdrant_client::QdrantError) -> Self {
        Self::Backend(err.to_string())
    }
}

impl From<tokio::task::JoinError> for RetrieverError {
    fn from(err: tokio::task::JoinError) -> Self {
        Self::Backend(format!("index worker stopped: {err}"))
    }
}
