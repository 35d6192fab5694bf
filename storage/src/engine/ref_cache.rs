//! The series-ref cache of the keyed write path ([`Storage::append_keyed`](super::Storage::append_keyed)):
//! a 64-bit key that the caller computes from a series' labels as they arrived on the wire (for remote
//! write, a hash of the bytes of the `TimeSeries`' label fields) → the series' ref.
//!
//! A hit is only a candidate: the engine checks it against the series index (the ref must exist and hold
//! exactly the request's labels) before using it, so two series whose keys collide, or a series deleted
//! since it was cached, can never be mixed up: they miss and take the full path (labels, validation, index).
//!
//! Memory: an entry is 8 bytes (the upper 32 bits of the key, the `u32` ref) plus hashbrown's control byte,
//! in a table between 44 % and 88 % full, so 10–21 bytes per cached series (about 2 % of the ~711 bytes a
//! head series costs). Keeping 32 bits of the key instead of 64 halves that; the price is that at a million
//! series about a hundred pairs of series share a slot and keep evicting each other, which sends those
//! series down the full path (today's cost), never to the wrong ref. The cache is bounded (see
//! [`RefCache::insert`]) and emptied when series are deleted.

use crate::index::hash::{FxMap, map_heap_bytes};

/// The cache never holds more than this many entries or twice the number of indexed series, whichever is
/// larger: enough for every series to be cached under one wire encoding plus churn, small enough that keys
/// of encodings that never repeat cannot grow it without bound.
const MIN_CAPACITY: usize = 1 << 16;

/// Key (upper 32 bits of the caller's 64-bit key) → series ref.
#[derive(Default)]
pub(super) struct RefCache {
    map: FxMap<u32, u32>,
    /// Bumped whenever the cache is emptied; series removal empties it, so an unchanged generation tells
    /// a writer that no series was removed since it verified its hits.
    generation: u64,
}

/// The part of a 64-bit key the cache stores.
fn slot(key: u64) -> u32 {
    (key >> 32) as u32
}

impl RefCache {
    /// The ref cached under `key`, if any. The caller must still verify it against the index.
    pub(super) fn get(&self, key: u64) -> Option<u64> {
        self.map.get(&slot(key)).map(|&r| u64::from(r))
    }

    /// Caches `r` under `key`, replacing what was there. Refs that do not fit in 32 bits are not cached
    /// (the index rejects them anyway). When the cache holds `max(MIN_CAPACITY, 2 × series)` entries it is
    /// emptied first: the series still being written are cached again by their next write.
    pub(super) fn insert(&mut self, key: u64, r: u64, series: usize) {
        let Ok(r) = u32::try_from(r) else { return };
        if self.map.len() >= MIN_CAPACITY.max(series.saturating_mul(2)) {
            self.clear();
        }
        self.map.insert(slot(key), r);
    }

    /// Drops every entry, frees the table and starts a new generation.
    pub(super) fn clear(&mut self) {
        self.map = FxMap::default();
        self.generation += 1;
    }

    /// The number of times the cache was emptied.
    pub(super) fn generation(&self) -> u64 {
        self.generation
    }

    /// Number of entries.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    /// Approximate heap bytes.
    pub(super) fn heap_bytes(&self) -> usize {
        map_heap_bytes(self.map.capacity(), 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_upper_key_bits_and_bounds_itself() {
        let mut c = RefCache::default();
        c.insert(7 << 32, 3, 0);
        assert_eq!(c.get(7 << 32), Some(3));
        // Keys that differ only in the lower 32 bits share a slot: the index check tells them apart.
        assert_eq!(c.get((7 << 32) | 1), Some(3));
        assert_eq!(c.get(8 << 32), None);
        c.insert(8 << 32, u64::from(u32::MAX) + 1, 0);
        assert_eq!(c.get(8 << 32), None, "refs beyond 32 bits are not cached");
        for k in 0..MIN_CAPACITY as u64 {
            c.insert(k << 32, k + 1, 10);
        }
        assert_eq!(c.len(), MIN_CAPACITY);
        c.insert(u64::MAX, 5, 10);
        assert_eq!(c.len(), 1, "a full cache starts over");
        assert_eq!(c.generation(), 1);
        assert_eq!(c.get(u64::MAX), Some(5));
        assert!(c.heap_bytes() > 0);
        let g = c.generation();
        c.clear();
        assert_eq!(c.generation(), g + 1);
        assert_eq!(c.len(), 0);
        assert_eq!(c.heap_bytes(), 0);
    }
}
