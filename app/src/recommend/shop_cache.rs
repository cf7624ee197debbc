//! Something learnt from a shop's data, kept per shop with when it was made, so requests
//! share it until it is old (the shop's interaction models, its trending scores), and
//! marked stale when new data comes in, forgotten when the data it was learnt from is erased.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::domain::ShopDomain;

pub(crate) struct ShopCache<T> {
    entries: Mutex<HashMap<ShopDomain, (Instant, Arc<T>)>>,
}

impl<T> Default for ShopCache<T> {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
        }
    }
}

impl<T> ShopCache<T> {
    /// The shop's value and when it was made.
    pub(crate) fn get(&self, shop: &ShopDomain) -> Option<(Instant, Arc<T>)> {
        self.entries.lock().ok()?.get(shop).cloned()
    }

    pub(crate) fn put(&self, shop: &ShopDomain, value: Arc<T>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(shop.clone(), (Instant::now(), value));
        }
    }

    /// Marks the shop's value old, so the next request has it remade, and is served it
    /// meanwhile where the owner allows (new data came in; nothing was erased).
    pub(crate) fn make_stale(&self, shop: &ShopDomain) {
        if let Ok(mut entries) = self.entries.lock() {
            if let Some((made, _)) = entries.get_mut(shop) {
                *made = Instant::now()
                    .checked_sub(std::time::Duration::from_secs(24 * 3600))
                    .unwrap_or(*made);
            }
        }
    }

    pub(crate) fn forget(&self, shop: &ShopDomain) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(shop);
        }
    }
}
