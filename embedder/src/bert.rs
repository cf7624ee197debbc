//! BERT-family sentence embeddings on candle.

use std::path::Path;

use candle_core::{DType, Device, IndexOp, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use sha2::{Digest, Sha256};
use tokenizers::{Encoding, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::batching::token_budget_batches;
use crate::cpu_bert::CpuBert;
use crate::model_dir::{ModelDir, Pooling};
use crate::simd::{InstructionSet, Simd};
use crate::{DevicePreference, EmbedError, Embedder};

/// Most texts in one batch, however short: beyond this, larger batches stop paying off on a CPU.
const MAX_BATCH_SIZE: usize = 256;

/// How the model runs on a CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CpuKernels {
    /// Packed sequences and fused kernels (`cpu_bert`) with the widest vector instructions
    /// the processor has: the fast path.
    #[default]
    Native,
    /// The same kernels held to one instruction set; refused at load if the processor
    /// lacks it. For an operator who wants narrower vectors, and for tests of each path.
    NativeWith(InstructionSet),
    /// candle's general-purpose BERT, as on the GPU: the reference the native path is tested against.
    Candle,
}

/// The arithmetic of the native CPU kernels' projections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// The model's own weights: the same vectors as sentence-transformers.
    #[default]
    F32,
    /// Opt-in: weights and activations in 8 bits with one scale per row, summed exactly in
    /// 32-bit integers. Several times faster where the processor has AVX-512 VNNI; vectors
    /// are close to f32's but not equal (BENCHMARKS.md measures how close), so the model's
    /// identity changes with it and a catalogue embedded in one mode is re-embedded in the other.
    Int8,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::Int8 => "int8",
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::F32, Self::Int8]
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not one of f32, int8"))
    }
}

/// How the model runs on a CPU: which kernels, in what precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuOptions {
    pub kernels: CpuKernels,
    pub precision: Precision,
}

impl From<CpuKernels> for CpuOptions {
    fn from(kernels: CpuKernels) -> Self {
        Self {
            kernels,
            precision: Precision::F32,
        }
    }
}

enum Engine {
    Candle(BertModel),
    Native(CpuBert),
}

impl Engine {
    /// The native kernels on a CPU unless candle was asked for; candle on a GPU.
    fn load(
        path: &Path,
        config: &Config,
        device: &Device,
        options: CpuOptions,
    ) -> Result<Self, EmbedError> {
        let files_error = |reason: String| EmbedError::ModelFiles {
            path: path.to_path_buf(),
            reason,
        };
        let weights_path = path.join("model.safetensors");
        let native = match options.kernels {
            _ if device.is_cuda() => None,
            CpuKernels::Native => Some(Simd::best()),
            CpuKernels::NativeWith(set) => Some(Simd::checked(set)?),
            CpuKernels::Candle => None,
        };
        if let Some(simd) = native {
            let model = CpuBert::load(&weights_path, config, simd, options.precision)
                .map_err(|e| files_error(format!("model.safetensors: {e}")))?;
            tracing::info!(instructions = %simd.set(), precision = options.precision.as_str(), "CPU kernels selected");
            return Ok(Self::Native(model));
        }
        if options.precision != Precision::F32 && !device.is_cuda() {
            return Err(EmbedError::Config(
                "int8 precision runs on the native CPU kernels only".into(),
            ));
        }
        // Half precision on the GPU; the CPU computes in f32.
        let dtype = if device.is_cuda() {
            DType::F16
        } else {
            DType::F32
        };
        // SAFETY: the weights file is memory-mapped read-only and not modified while mapped.
        let weights =
            unsafe { VarBuilder::from_mmaped_safetensors(&[weights_path], dtype, device) }
                .map_err(|e| files_error(format!("model.safetensors: {e}")))?;
        let model = BertModel::load(weights, config)
            .map_err(|e| files_error(format!("not a BERT model: {e}")))?;
        Ok(Self::Candle(model))
    }

    fn precision(&self) -> Precision {
        match self {
            Self::Native(model) => model.precision(),
            Self::Candle(_) => Precision::F32,
        }
    }
}

pub struct BertEmbedder {
    engine: Engine,
    tokenizer: Tokenizer,
    device: Device,
    dir: ModelDir,
    dimension: usize,
    pad_id: u32,
    model_id: String,
    max_batch_tokens: usize,
    /// Batches run side by side on the CPU.
    cpu_lanes: usize,
}

impl BertEmbedder {
    /// Where the model runs, as its device preference chose.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Loads the model folder; `max_batch_tokens` bounds batch size × longest sequence.
    pub fn load(
        path: &Path,
        preference: DevicePreference,
        max_batch_tokens: usize,
    ) -> Result<Self, EmbedError> {
        Self::load_with(path, preference, max_batch_tokens, CpuKernels::default())
    }

    /// As [`BertEmbedder::load`], choosing the CPU kernels and their precision (the GPU
    /// always uses candle, in half precision).
    pub fn load_with(
        path: &Path,
        preference: DevicePreference,
        max_batch_tokens: usize,
        options: impl Into<CpuOptions>,
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
        let engine = Engine::load(path, &config, &device, options.into())?;

        let mut model_id = model_identity(path, &config_bytes)?;
        if engine.precision() == Precision::Int8 {
            model_id.push_str("+int8");
        }
        tracing::info!(model = %model_id, max_seq_length = dir.max_seq_length, pooling = ?dir.pooling, "embedding model loaded");
        Ok(Self {
            engine,
            tokenizer,
            device,
            dimension: config.hidden_size,
            pad_id: config.pad_token_id as u32,
            dir,
            model_id,
            max_batch_tokens: max_batch_tokens.max(1),
            cpu_lanes: std::env::var("KINDRED_CPU_LANES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| {
                    std::thread::available_parallelism()
                        .map(|n| n.get())
                        .unwrap_or(1)
                }),
        })
    }

    /// The instruction set of the native CPU kernels; none when candle runs the model.
    pub fn cpu_instructions(&self) -> Option<InstructionSet> {
        match &self.engine {
            Engine::Native(model) => Some(model.instructions()),
            Engine::Candle(_) => None,
        }
    }

    /// The precision the projections run in (f32 whenever candle runs the model).
    pub fn precision(&self) -> Precision {
        self.engine.precision()
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
        match &self.engine {
            Engine::Candle(model) => self.embed_batch_candle(model, encodings),
            Engine::Native(model) => self.embed_batch_native(model, encodings),
        }
    }

    fn embed_batch_native(
        &self,
        model: &CpuBert,
        encodings: &[&Encoding],
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let sequences: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
        let hidden = model.forward(&sequences)?;
        let h = self.dimension;
        let mut vectors = Vec::with_capacity(sequences.len());
        let mut offset = 0;
        for sequence in &sequences {
            let rows = &hidden[offset * h..(offset + sequence.len()) * h];
            offset += sequence.len();
            let mut pooled = match self.dir.pooling {
                Pooling::Cls => rows[..h].to_vec(),
                Pooling::Mean => {
                    let mut sum = vec![0f32; h];
                    for row in rows.chunks_exact(h) {
                        sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
                    }
                    let n = sequence.len().max(1) as f32;
                    sum.iter_mut().for_each(|s| *s /= n);
                    sum
                }
            };
            if self.dir.normalize {
                let norm = pooled.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
                pooled.iter_mut().for_each(|v| *v /= norm);
            }
            vectors.push(pooled);
        }
        Ok(vectors)
    }

    fn embed_batch_candle(
        &self,
        model: &BertModel,
        encodings: &[&Encoding],
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
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
        let hidden = model
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
        let batches = token_budget_batches(&lengths, self.max_batch_tokens, MAX_BATCH_SIZE);
        // On a CPU, candle runs matrix products on every core but most other operations on
        // one; running batches side by side keeps every core busy through those too.
        let lanes = if self.device.is_cuda() {
            1
        } else {
            self.cpu_lanes.min(batches.len()).max(1)
        };
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<Result<Vec<(usize, Vec<f32>)>, EmbedError>> =
            std::thread::scope(|scope| {
                let workers: Vec<_> = (0..lanes)
                    .map(|_| {
                        scope.spawn(|| {
                            let mut done = Vec::new();
                            loop {
                                let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let Some(batch) = batches.get(b) else {
                                    return Ok(done);
                                };
                                let batch_encodings: Vec<&Encoding> =
                                    batch.iter().map(|i| &encodings[*i]).collect();
                                done.extend(
                                    batch
                                        .iter()
                                        .copied()
                                        .zip(self.embed_batch(&batch_encodings)?),
                                );
                            }
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .map(|w| {
                        w.join().unwrap_or_else(|_| {
                            Err(EmbedError::Inference("an embedding thread panicked".into()))
                        })
                    })
                    .collect()
            });
        let mut vectors: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for result in results {
            for (index, vector) in result? {
                vectors[index] = vector;
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
