//! Access and refresh tokens are sealed with an AEAD (XChaCha20-Poly1305) before they reach
//! the database. The shop domain is the associated data, so a sealed token copied onto
//! another shop's row does not open.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::domain::ShopDomain;
use crate::error::AppError;

const VERSION_PREFIX: &str = "v1.";
const NONCE_LEN: usize = 24;

#[derive(Clone)]
pub struct TokenCipher {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher([redacted])")
    }
}

impl TokenCipher {
    /// A key given as base64 of 32 bytes (e.g. `openssl rand -base64 32`).
    pub fn from_base64(encoded: &str) -> Result<Self, AppError> {
        let key = crate::key_file::decode(encoded, "KINDRED_TOKEN_KEY")?;
        Ok(Self {
            cipher: XChaCha20Poly1305::new_from_slice(&key)
                .map_err(|_| AppError::Config("token key has the wrong length".into()))?,
        })
    }

    /// The key in `path`, created (readable by the owner only) when missing.
    pub fn load_or_create(path: &Path) -> Result<Self, AppError> {
        Self::from_base64(&crate::key_file::load_or_create(
            path,
            "token encryption key",
        )?)
    }

    pub fn seal(&self, shop: &ShopDomain, plaintext: &str) -> Result<String, AppError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: shop.as_str().as_bytes(),
                },
            )
            .map_err(|_| AppError::Internal("token encryption failed".into()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{VERSION_PREFIX}{}", BASE64.encode(bytes)))
    }

    pub fn open(&self, shop: &ShopDomain, sealed: &str) -> Result<String, AppError> {
        let failed = || {
            AppError::Internal(format!(
                "a stored token of {shop} does not decrypt (was KINDRED_TOKEN_KEY changed?)"
            ))
        };
        let bytes = sealed
            .strip_prefix(VERSION_PREFIX)
            .and_then(|b| BASE64.decode(b).ok())
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or_else(failed)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: shop.as_str().as_bytes(),
                },
            )
            .map_err(|_| failed())?;
        String::from_utf8(plain).map_err(|_| failed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_stay_with_their_shop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.key");
        let cipher = TokenCipher::load_or_create(&path).unwrap();
        let shop = ShopDomain::parse("demo-yoga.myshopify.com").unwrap();
        let other = ShopDomain::parse("other.myshopify.com").unwrap();
        let sealed = cipher.seal(&shop, "shpat_secret_token").unwrap();
        assert!(!sealed.contains("shpat"));
        assert_ne!(
            sealed,
            cipher.seal(&shop, "shpat_secret_token").unwrap(),
            "nonce reused"
        );
        assert_eq!(cipher.open(&shop, &sealed).unwrap(), "shpat_secret_token");
        assert!(cipher.open(&other, &sealed).is_err());
        // The same key file opens it again after a restart.
        let reopened = TokenCipher::load_or_create(&path).unwrap();
        assert_eq!(reopened.open(&shop, &sealed).unwrap(), "shpat_secret_token");
        let stranger = TokenCipher::from_base64(&BASE64.encode([7u8; 32])).unwrap();
        assert!(stranger.open(&shop, &sealed).is_err());
        assert!(TokenCipher::from_base64("c2hvcnQ=").is_err());
    }
}
