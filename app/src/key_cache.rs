//! Key lookups for every caller that presents a key: a short-lived cache in front of the
//! database, shared by the HTTP extractors and by the Shopify app (which forgets a shop's
//! keys when it is uninstalled).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::error::AppError;
use crate::stores::{hash_key, KeyGrant, KeyStore};

/// How long a looked-up key is trusted before the database is asked again.
const KNOWN_KEY_TTL: Duration = Duration::from_secs(30);
/// Unknown keys are remembered briefly, so a flood of bad keys does not reach the database,
/// while a key created a moment ago still works almost at once.
const UNKNOWN_KEY_TTL: Duration = Duration::from_secs(2);
const MAX_CACHED_KEYS: usize = 10_000;

/// Key lookups with a short-lived cache in front of the database, keyed by the key's hash.
#[derive(Clone)]
pub struct KeyCache {
    keys: Arc<dyn KeyStore>,
    entries: Arc<RwLock<HashMap<String, (Option<KeyGrant>, Instant)>>>,
}

impl KeyCache {
    pub fn new(keys: Arc<dyn KeyStore>) -> Self {
        Self {
            keys,
            entries: Arc::default(),
        }
    }

    pub async fn grant_for(&self, key: &str) -> Result<Option<KeyGrant>, AppError> {
        let hash = hash_key(key);
        if let Ok(entries) = self.entries.read() {
            if let Some((grant, expires)) = entries.get(&hash) {
                if *expires > Instant::now() {
                    return Ok(grant.clone());
                }
            }
        }
        let grant = self.keys.find_key(key).await?;
        let ttl = if grant.is_some() {
            KNOWN_KEY_TTL
        } else {
            UNKNOWN_KEY_TTL
        };
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_CACHED_KEYS {
                entries.clear();
            }
            entries.insert(hash, (grant.clone(), Instant::now() + ttl));
        }
        Ok(grant)
    }

    /// Forgets every cached grant, e.g. after a shop and its keys were deleted.
    pub fn invalidate(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}
