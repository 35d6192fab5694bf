//! Hashing helpers of the series index: an Fx-style hasher for small integer keys, and [`HashIndex`],
//! a map from a hash to the ids whose key has that hash. The key itself is never stored twice: callers compare candidates against the data
//! the id points at.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};

/// The multiplier of rustc's Fx hash: odd, with well-spread bits.
const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Fx-style hasher for `u32` symbol ids and series refs: one multiply per key. Ids are allocated by the
/// index itself, so there is no attacker-chosen key to defend against here.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.add(u64::from(b));
        }
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
}

impl FxHasher {
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(FX_SEED);
    }
}

/// A `HashMap` keyed by small integers.
pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A `HashSet` of small integers.
pub(crate) type FxSet<K> = std::collections::HashSet<K, BuildHasherDefault<FxHasher>>;

/// Approximate heap bytes of a std `HashMap` with `capacity` and entries of `entry` bytes: hashbrown
/// allocates a power-of-two bucket count with one control byte per bucket, at most 7/8 full.
pub(crate) fn map_heap_bytes(capacity: usize, entry: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = (capacity.saturating_mul(8) / 7).next_power_of_two();
    buckets.saturating_mul(entry + 1)
}

/// Maps a hash to the ids whose key hashes to it. Only 32 bits of the 64-bit hash are kept, so that an
/// entry is 8 bytes: at a million keys about a hundred pairs collide, which costs one extra comparison
/// each. Almost every hash has exactly one id, kept in `primary`; the extra ids of a collision go to
/// `overflow`.
#[derive(Default)]
pub(crate) struct HashIndex {
    primary: FxMap<u32, u32>,
    overflow: FxMap<u32, Vec<u32>>,
}

/// The part of a 64-bit hash that [`HashIndex`] keys on.
fn key(hash: u64) -> u32 {
    (hash >> 32) as u32
}

impl HashIndex {
    /// The first id under `hash` for which `eq` is true.
    pub(crate) fn find(&self, hash: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let hash = key(hash);
        let first = *self.primary.get(&hash)?;
        if eq(first) {
            return Some(first);
        }
        self.overflow.get(&hash)?.iter().copied().find(|&id| eq(id))
    }

    /// Adds `id` under `hash`; the caller has checked that its key is not present yet.
    pub(crate) fn insert(&mut self, hash: u64, id: u32) {
        let hash = key(hash);
        match self.primary.entry(hash) {
            Entry::Vacant(e) => {
                e.insert(id);
            }
            Entry::Occupied(_) => self.overflow.entry(hash).or_default().push(id),
        }
    }

    /// Removes `id` from under `hash`; returns whether it was there.
    pub(crate) fn remove(&mut self, hash: u64, id: u32) -> bool {
        let hash = key(hash);
        match self.primary.get(&hash) {
            None => false,
            Some(&first) if first == id => {
                let promoted = match self.overflow.get_mut(&hash) {
                    Some(rest) => {
                        let next = rest.pop();
                        if rest.is_empty() {
                            self.overflow.remove(&hash);
                        }
                        next
                    }
                    None => None,
                };
                match promoted {
                    Some(next) => {
                        self.primary.insert(hash, next);
                    }
                    None => {
                        self.primary.remove(&hash);
                    }
                }
                true
            }
            Some(_) => {
                let Some(rest) = self.overflow.get_mut(&hash) else {
                    return false;
                };
                let Some(pos) = rest.iter().position(|&x| x == id) else {
                    return false;
                };
                rest.swap_remove(pos);
                if rest.is_empty() {
                    self.overflow.remove(&hash);
                }
                true
            }
        }
    }

    /// Number of ids held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.primary.len() + self.overflow.values().map(Vec::len).sum::<usize>()
    }

    /// Approximate heap bytes.
    pub(crate) fn heap_bytes(&self) -> usize {
        map_heap_bytes(self.primary.capacity(), 8)
            + map_heap_bytes(self.overflow.capacity(), 32)
            + self.overflow.values().map(|v| v.capacity() * 4).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn collisions_are_kept_apart_and_promoted_on_remove() {
        let mut h = HashIndex::default();
        // Only the top 32 bits are kept: 7 << 32 and (7 << 32) | 5 collide.
        let seven = 7u64 << 32;
        h.insert(seven, 1);
        h.insert(seven | 5, 2);
        h.insert(seven, 3);
        h.insert(8 << 32, 4);
        assert_eq!(h.len(), 4);
        assert_eq!(h.find(seven, |id| id == 2), Some(2));
        assert_eq!(h.find(seven, |id| id == 3), Some(3));
        assert_eq!(h.find(seven, |id| id == 4), None);
        assert_eq!(h.find(9 << 32, |_| true), None);
        // Removing the primary promotes one of the colliding ids.
        assert!(h.remove(seven, 1));
        assert_eq!(h.find(seven, |id| id == 1), None);
        assert_eq!(h.find(seven, |id| id == 2), Some(2));
        assert_eq!(h.find(seven, |id| id == 3), Some(3));
        assert!(!h.remove(seven, 1));
        assert!(h.remove(seven, 3));
        assert!(h.remove(seven, 2));
        assert!(!h.remove(seven, 2));
        assert_eq!(h.find(seven, |_| true), None);
        assert_eq!(h.len(), 1);
        assert!(h.heap_bytes() > 0);
    }

    #[test]
    fn fx_hasher_spreads_small_keys() {
        let mut seen = std::collections::HashSet::new();
        for i in 0u32..1000 {
            let mut h = FxHasher::default();
            h.write_u32(i);
            // The top 7 bits drive hashbrown's control bytes: they must vary.
            seen.insert(h.finish() >> 57);
        }
        assert!(seen.len() > 64, "top bits barely vary: {}", seen.len());
    }
}
