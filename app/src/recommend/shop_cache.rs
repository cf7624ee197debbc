//! Something learnt from a shop's data, kept per shop with when it was made, so requests
//! share it until it is old (the shop's interaction models, its trending scores), and
//! marked stale when new data comes in, forgotten when the data it was learnt from is erased.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::ShopDomain;

pub(crate) struct ShopCache<T> {
    /// The value, when it was made, and whether new data has come in since.
    entries: Mutex<HashMap<ShopDomain, (Instant, Arc<T>, bool)>>,
}

impl<T> Default for ShopCache<T> {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
        }
    }
}

impl<T> ShopCache<T> {
    /// The shop's value and how old it is (as old as can be once marked stale).
    pub(crate) fn get(&self, shop: &ShopDomain) -> Option<(Duration, Arc<T>)> {
        let entries = self.entries.lock().ok()?;
        let (made, value, stale) = entries.get(shop)?;
        let age = if *stale {
            Duration::MAX
        } else {
            made.elapsed()
        };
        Some((age, value.clone()))
    }

    pub(crate) fn put(&self, shop: &ShopDomain, value: Arc<T>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(shop.clone(), (Instant::now(), value, false));
        }
    }

    /// Marks the shop's value old, so the next request has it remade, and is served it
    /// meanwhile where the owner allows (new data came in; nothing was erased).
    pub(crate) fn make_stale(&self, shop: &ShopDomain) {
        if let Ok(mut entries) = self.entries.lock() {
            if let Some((_, _, stale)) = entries.get_mut(shop) {
                *stale = true;
            }
        }
    }

    pub(crate) fn forget(&self, shop: &ShopDomain) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(shop);
        }
    }
}
