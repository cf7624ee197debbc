//! Server secrets kept in the data folder when the operator gives none: created once,
//! readable by the owner only, so the embedded default needs no setup while an operator can
//! still supply each secret from a secret store (and must, for several replicas).

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use rand::RngCore;

use crate::error::AppError;

/// The base64 text of the 32-byte key in `path`, created when missing.
pub fn load_or_create(path: &Path, what: &str) -> Result<String, AppError> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        return Ok(existing.trim().to_owned());
    }
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    let encoded = BASE64.encode(key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(encoded.as_bytes())?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "created a {what}");
    Ok(encoded)
}

/// 32 bytes from base64, or a configuration error naming the setting.
pub fn decode(encoded: &str, setting: &str) -> Result<[u8; 32], AppError> {
    BASE64
        .decode(encoded.trim())
        .ok()
        .and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok())
        .ok_or_else(|| AppError::Config(format!("{setting} must be base64 of exactly 32 bytes")))
}
