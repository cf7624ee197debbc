//! BERT-family sentence embeddings on candle.

use std::path::Path;

use candle_core::{DType, Device, IndexOp, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use sha2::{Digest, Sha256};
use tokenizers::{Encoding, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::batching::token_budget_batches;
use crate::model_dir::{ModelDir, Pooling};
use crate::{DevicePreference, EmbedError, Embedder};

/// Most texts in one batch, however short: beyond this, larger batches stop paying off on a CPU.
const MAX_BATCH_SIZE: usize = 256;

pub struct BertEmbedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dir: ModelDir,
    dimension: usize,
    pad_id: u32,
    model_id: String,
    max_batch_tokens: usize,
}

impl BertEmbedder {
    /// Loads the model folder; `max_batch_tokens` bounds batch size × longest sequence.
    pub fn load(
        path: &Path,
        preference: DevicePreference,
        max_batch_tokens: usize,
    ) -> Result<Self, EmbedError> {
        let files_error = |reason: String| EmbedError::ModelFiles {
            path: path.to_path_buf(),
            reason,
        };
        let config_bytes = std::fs::read(path.join("config.json")).map_err(|e| {
            files_error(format!(
                "config.json: {e} (run scripts/fetch-model.sh or set KINDRED_MODEL_DIR)"
            ))
        })?;
        let config: Config = serde_json::from_slice(&config_bytes)
            .map_err(|e| files_error(format!("config.json: {e}")))?;
        let dir = ModelDir::read(path, config.max_position_embeddings)?;

        let mut tokenizer = Tokenizer::from_file(path.join("tokenizer.json"))
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        // The shipped tokenizer.json may pad and truncate to a fixed length; we truncate at the
        // model's own limit, as sentence-transformers does, and pad per batch ourselves.
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: dir.max_seq_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);

        let device = preference.select()?;
        // Half precision on the GPU; the CPU computes in f32.
        let dtype = if device.is_cuda() {
            DType::F16
        } else {
            DType::F32
        };
        // SAFETY: the weights file is memory-mapped read-only and not modified while mapped.
        let weights = unsafe {
            VarBuilder::from_mmaped_safetensors(&[path.join("model.safetensors")], dtype, &device)
        }
        .map_err(|e| files_error(format!("model.safetensors: {e}")))?;
        let model = BertModel::load(weights, &config)
            .map_err(|e| files_error(format!("not a BERT model: {e}")))?;

        let model_id = model_identity(path, &config_bytes)?;
        tracing::info!(model = %model_id, max_seq_length = dir.max_seq_length, pooling = ?dir.pooling, "embedding model loaded");
        Ok(Self {
            model,
            tokenizer,
            device,
            dimension: config.hidden_size,
            pad_id: config.pad_token_id as u32,
            dir,
            model_id,
            max_batch_tokens: max_batch_tokens.max(1),
        })
    }

    pub fn max_seq_length(&self) -> usize {
        self.dir.max_seq_length
    }

    /// Token counts after truncation, special tokens included.
    pub fn token_lengths(&self, texts: &[String]) -> Result<Vec<usize>, EmbedError> {
        Ok(self
            .encode(texts)?
            .iter()
            .map(|e| e.get_ids().len())
            .collect())
    }

    fn encode(&self, texts: &[String]) -> Result<Vec<Encoding>, EmbedError> {
        let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
        self.tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))
    }

    fn embed_batch(&self, encodings: &[&Encoding]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let longest = encodings
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(1)
            .max(1);
        let rows = encodings.len();
        let mut ids = Vec::with_capacity(rows * longest);
        let mut mask = Vec::with_capacity(rows * longest);
        for encoding in encodings {
            let len = encoding.get_ids().len();
            ids.extend_from_slice(encoding.get_ids());
            ids.extend(std::iter::repeat_n(self.pad_id, longest - len));
            mask.extend(std::iter::repeat_n(1u32, len));
            mask.extend(std::iter::repeat_n(0u32, longest - len));
        }
        let input_ids = Tensor::from_vec(ids, (rows, longest), &self.device)?;
        let attention_mask = Tensor::from_vec(mask, (rows, longest), &self.device)?;
        let token_type_ids = input_ids.zeros_like()?;
        let hidden = self
            .model
            .forward(&input_ids, &token_type_ids, Some(&attention_mask))?
            .to_dtype(DType::F32)?;

        let pooled = match self.dir.pooling {
            Pooling::Cls => hidden.i((.., 0))?.contiguous()?,
            Pooling::Mean => {
                let mask = attention_mask.to_dtype(DType::F32)?.unsqueeze(2)?;
                let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
                let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
                summed.broadcast_div(&counts)?
            }
        };
        let pooled = if self.dir.normalize {
            let norms = pooled
                .sqr()?
                .sum_keepdim(1)?
                .sqrt()?
                .clamp(1e-12, f64::MAX)?;
            pooled.broadcast_div(&norms)?
        } else {
            pooled
        };
        Ok(pooled.to_vec2::<f32>()?)
    }
}

impl Embedder for BertEmbedder {
    fn dimension(&self) -> usize {
        self.dimension
    }

    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self.encode(texts)?;
        let lengths: Vec<usize> = encodings.iter().map(|e| e.get_ids().len()).collect();
        let mut vectors: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for batch in token_budget_batches(&lengths, self.max_batch_tokens, MAX_BATCH_SIZE) {
            let batch_encodings: Vec<&Encoding> = batch.iter().map(|i| &encodings[*i]).collect();
            for (index, vector) in batch.iter().zip(self.embed_batch(&batch_encodings)?) {
                vectors[*index] = vector;
            }
        }
        Ok(vectors)
    }
}

/// The folder name plus a digest of the configuration, tokenizer and weights' size: enough
/// to notice a different model without hashing 90 MB at every start.
fn model_identity(path: &Path, config: &[u8]) -> Result<String, EmbedError> {
    let error = |reason: String| EmbedError::ModelFiles {
        path: path.to_path_buf(),
        reason,
    };
    let tokenizer = std::fs::read(path.join("tokenizer.json")).map_err(|e| error(e.to_string()))?;
    let weights_len = std::fs::metadata(path.join("model.safetensors"))
        .map_err(|e| error(e.to_string()))?
        .len();
    let mut hasher = Sha256::new();
    hasher.update(config);
    hasher.update(&tokenizer);
    hasher.update(weights_len.to_le_bytes());
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("model");
    Ok(format!("{name}@{}", &hex::encode(hasher.finalize())[..12]))
}
