//! A sentence-transformers model folder: which files, which pooling, which length.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::EmbedError;

/// Where `scripts/fetch-model.sh` puts the default model: `KINDRED_MODEL_DIR` if set, else
/// `$KINDRED_CACHE_DIR` (default `~/.cache/kindred`) `/models/all-MiniLM-L6-v2`.
pub fn default_model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KINDRED_MODEL_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("KINDRED_CACHE_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache/kindred")))
        .unwrap_or_else(|| PathBuf::from(".cache/kindred"));
    cache.join("models/all-MiniLM-L6-v2")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    Mean,
    Cls,
}

/// What a model folder says about itself.
#[derive(Debug, Clone)]
pub struct ModelDir {
    pub path: PathBuf,
    pub pooling: Pooling,
    /// Tokens kept per text; sentence-transformers' `max_seq_length` when given.
    pub max_seq_length: usize,
    pub normalize: bool,
}

#[derive(Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
}

#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

#[derive(Deserialize)]
struct ModuleEntry {
    #[serde(rename = "type")]
    kind: String,
}

impl ModelDir {
    /// Reads the folder's sentence-transformers files, with the library's defaults where
    /// they are absent (mean pooling, normalised, the model's position limit).
    pub fn read(path: &Path, max_position_embeddings: usize) -> Result<Self, EmbedError> {
        let error = |reason: String| EmbedError::ModelFiles {
            path: path.to_path_buf(),
            reason,
        };
        for required in ["config.json", "tokenizer.json", "model.safetensors"] {
            if !path.join(required).is_file() {
                return Err(error(format!(
                    "`{required}` is missing (run scripts/fetch-model.sh or set KINDRED_MODEL_DIR)"
                )));
            }
        }
        let pooling =
            match read_json::<PoolingConfig>(&path.join("1_Pooling/config.json")).map_err(error)? {
                None => Pooling::Mean,
                Some(c) if c.pooling_mode_max_tokens || c.pooling_mode_mean_sqrt_len_tokens => {
                    return Err(error("only mean and CLS pooling are supported".into()))
                }
                Some(c) if c.pooling_mode_cls_token && !c.pooling_mode_mean_tokens => Pooling::Cls,
                Some(_) => Pooling::Mean,
            };
        let max_seq_length =
            read_json::<SentenceBertConfig>(&path.join("sentence_bert_config.json"))
                .map_err(error)?
                .and_then(|c| c.max_seq_length)
                .unwrap_or(max_position_embeddings)
                .min(max_position_embeddings);
        let normalize =
            match read_json::<Vec<ModuleEntry>>(&path.join("modules.json")).map_err(error)? {
                Some(modules) => modules.iter().any(|m| m.kind.ends_with("Normalize")),
                // Without modules.json there is no pipeline to follow; unit vectors suit cosine search.
                None => true,
            };
        Ok(Self {
            path: path.to_path_buf(),
            pooling,
            max_seq_length,
            normalize,
        })
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(format!("{}: {err}", path.display())),
    }
}
