//! Sentence embeddings for product text.
//!
//! [`BertEmbedder`] runs any BERT-family sentence-transformers model from a local folder on
//! candle (CPU, or CUDA with the `cuda` feature), with mean pooling and L2 normalisation as
//! sentence-transformers does, in length-sorted batches cut by a token budget.
//! [`EmbeddingWorker`] gives it a thread of its own and a bounded queue, so async servers
//! never block on the model. [`product_text`] turns a product into the text to embed.

mod batching;
mod bert;
mod cpu_bert;
mod device;
mod error;
mod int8;
mod model_dir;
pub mod product_text;
mod simd;
mod worker;

pub use bert::{BertEmbedder, CpuKernels, CpuOptions, Precision};
pub use device::{host_description, DevicePreference};
pub use error::EmbedError;
pub use model_dir::{default_model_dir, ModelDir, Pooling};
pub use simd::{cpu_features, InstructionSet};
pub use worker::{EmbeddingWorker, Lane};

/// A text embedding model. Synchronous: it runs on a worker thread.
pub trait Embedder: Send + Sync {
    /// Length of every vector it returns.
    fn dimension(&self) -> usize;
    /// Names the model, so a change of model can be told from a change of text.
    fn model_id(&self) -> &str;
    /// One vector per text, in the order of `texts`.
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;
}
