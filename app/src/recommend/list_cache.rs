//! Stored similar lists kept in memory: a busy shop's product pages ask for the same lists
//! many times a second, and a list changes only when the shop's lists are rebuilt or a
//! vector changes. An entry stays good while this process has written no vector of the
//! shop and built no lists for it since it was read, and for at most `MAX_AGE` (what
//! another replica did reaches this one within that). The products of a list are always
//! read fresh, so a sold-out or deleted product never shows from here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::ShopDomain;
use crate::stores::Neighbours;

/// How long a list read from the database is served without reading it again.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(30);
/// Lists kept, across shops: about 45 MB at 50 neighbours each.
const CAPACITY: usize = 50_000;

/// A product's list as read (`None`: the shop had no current list for it).
type Entry = (Instant, u64, Option<Arc<Neighbours>>);

pub(crate) struct ListCache {
    lists: quick_cache::sync::Cache<(ShopDomain, u64), Entry>,
    /// Per shop, bumped whenever its lists may have changed in this process.
    generations: Mutex<HashMap<ShopDomain, u64>>,
}

impl Default for ListCache {
    fn default() -> Self {
        Self {
            lists: quick_cache::sync::Cache::new(CAPACITY),
            generations: Mutex::default(),
        }
    }
}

impl ListCache {
    /// What this process knows of the shop's lists now: its own count of the shop's vector
    /// writes beside the bumps here, so either makes older entries miss.
    pub(crate) fn generation(&self, shop: &ShopDomain, vector_writes: u64) -> u64 {
        let bumps = self
            .generations
            .lock()
            .map(|g| g.get(shop).copied().unwrap_or(0))
            .unwrap_or(u64::MAX);
        bumps.wrapping_mul(1 << 32).wrapping_add(vector_writes)
    }

    /// The product's list as read under `generation`, if it is still good.
    pub(crate) fn get(
        &self,
        shop: &ShopDomain,
        product_id: u64,
        generation: u64,
    ) -> Option<Option<Arc<Neighbours>>> {
        let (read, read_under, list) = self.lists.get(&(shop.clone(), product_id))?;
        (read_under == generation && read.elapsed() < MAX_AGE).then_some(list)
    }

    pub(crate) fn put(
        &self,
        shop: &ShopDomain,
        product_id: u64,
        generation: u64,
        list: Option<Arc<Neighbours>>,
    ) {
        self.lists.insert(
            (shop.clone(), product_id),
            (Instant::now(), generation, list),
        );
    }

    /// The shop's lists were rebuilt or removed here: every entry of it misses from now on.
    pub(crate) fn invalidate(&self, shop: &ShopDomain) {
        if let Ok(mut generations) = self.generations.lock() {
            *generations.entry(shop.clone()).or_default() += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_misses_once_the_shop_changed_here() {
        let cache = ListCache::default();
        let shop = ShopDomain::parse("lists.myshopify.com").unwrap();
        let other = ShopDomain::parse("other.myshopify.com").unwrap();
        let before = cache.generation(&shop, 0);
        cache.put(&shop, 1, before, Some(Arc::new(vec![(2, 0.9)])));
        assert_eq!(
            cache.get(&shop, 1, before),
            Some(Some(Arc::new(vec![(2, 0.9)])))
        );
        assert_eq!(cache.get(&shop, 2, before), None, "never read");
        assert_eq!(cache.get(&other, 1, before), None, "another shop's list");
        assert_ne!(cache.generation(&shop, 1), before, "a vector written here");
        let other_before = cache.generation(&other, 0);
        cache.invalidate(&shop);
        let after = cache.generation(&shop, 0);
        assert_ne!(after, before, "lists rebuilt here");
        assert_eq!(cache.get(&shop, 1, after), None);
        assert_eq!(
            cache.generation(&other, 0),
            other_before,
            "only that shop's lists"
        );
    }
}
