#[derive(Debug, thiserror::Error)]
pub enum RetrieverError {
    #[error("vector has {got} dimensions; the index holds {expected}")]
    DimensionMismatch { expected: usize, got: usize },
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("no such point")]
    NotFound,
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
