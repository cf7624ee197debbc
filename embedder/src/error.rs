use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("model files in {path}: {reason}")]
    ModelFiles { path: PathBuf, reason: String },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("inference: {0}")]
    Inference(String),
    #[error("the embedding queue is full")]
    Overloaded,
    #[error("configuration: {0}")]
    Config(String),
}

impl From<candle_core::Error> for EmbedError {
    fn from(err: candle_core::Error) -> Self {
        Self::Inference(err.to_string())
    }
}
