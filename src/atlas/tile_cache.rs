//! The encoded tiles of one atlas, least recently used first out, bounded in bytes.
//!
//! The cache belongs to its atlas: a new generation is a new atlas with an empty cache, and the
//! old cache is dropped with the old atlas when its last request ends — no tile of one
//! generation is ever served for another. Keys are `(z, x, y)`: every tile carries every layer.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

type Key = (u8, u32, u32);

/// Default budget: 64 MiB of encoded tiles.
pub const DEFAULT_BYTES: usize = 64 << 20;

#[derive(Debug, Default)]
struct Inner {
    map: rustc_hash::FxHashMap<Key, (Arc<[u8]>, u64)>,
    /// Last use → key, oldest first.
    order: BTreeMap<u64, Key>,
    tick: u64,
    bytes: usize,
    hits: u64,
    misses: u64,
}

/// A bytes-bounded LRU of encoded tiles.
#[derive(Debug)]
pub struct TileCache {
    budget: usize,
    inner: Mutex<Inner>,
}

/// Counters of a cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Tiles held.
    pub tiles: usize,
    /// Bytes held.
    pub bytes: usize,
    /// Requests answered from the cache.
    pub hits: u64,
    /// Requests that built the tile.
    pub misses: u64,
}

impl TileCache {
    /// A cache holding at most `budget` bytes of tiles (0 = none).
    pub fn new(budget: usize) -> TileCache {
        TileCache {
            budget,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The budget in bytes.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// The tile, if cached (and marks it used).
    pub fn get(&self, key: Key) -> Option<Arc<[u8]>> {
        // A poisoned lock only means another request panicked mid-update of plain counters and
        // maps that stay consistent entry by entry: keep serving.
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let g = &mut *g;
        g.tick += 1;
        let tick = g.tick;
        match g.map.get_mut(&key) {
            Some((bytes, used)) => {
                g.order.remove(used);
                *used = tick;
                g.order.insert(tick, key);
                g.hits += 1;
                Some(bytes.clone())
            }
            None => {
                g.misses += 1;
                None
            }
        }
    }

    /// Keeps a tile, evicting the least recently used ones beyond the budget. A tile larger than
    /// the whole budget is not kept.
    pub fn put(&self, key: Key, bytes: Arc<[u8]>) {
        if bytes.len() > self.budget {
            return;
        }
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let g = &mut *g;
        g.tick += 1;
        let tick = g.tick;
        let len = bytes.len();
        if let Some((old, used)) = g.map.insert(key, (bytes, tick)) {
            g.order.remove(&used);
            g.bytes -= old.len();
        }
        g.order.insert(tick, key);
        g.bytes += len;
        while g.bytes > self.budget {
            let Some((_, k)) = g.order.pop_first() else {
                break;
            };
            if let Some((old, _)) = g.map.remove(&k) {
                g.bytes -= old.len();
            }
        }
    }

    /// Counters.
    pub fn stats(&self) -> CacheStats {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        CacheStats {
            tiles: g.map.len(),
            bytes: g.bytes,
            hits: g.hits,
            misses: g.misses,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_goes_first_within_the_budget() {
        let c = TileCache::new(250);
        let t = |n: usize| -> Arc<[u8]> { vec![7u8; n].into() };
        c.put((1, 0, 0), t(100));
        c.put((1, 0, 1), t(100));
        assert!(c.get((1, 0, 0)).is_some()); // (1,0,1) is now the oldest
        c.put((1, 1, 0), t(100));
        assert!(c.get((1, 0, 1)).is_none());
        assert!(c.get((1, 0, 0)).is_some() && c.get((1, 1, 0)).is_some());
        assert_eq!(c.stats().bytes, 200);
        c.put((2, 0, 0), t(300)); // larger than the budget: not kept
        assert!(c.get((2, 0, 0)).is_none());
        c.put((1, 0, 0), t(50)); // replaced
        assert_eq!(c.stats().bytes, 150);
        assert_eq!(c.stats().tiles, 2);
    }
}
