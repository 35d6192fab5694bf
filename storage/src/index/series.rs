//! Per-series label storage: each series' labels as `(name, value)` symbol-id pairs, in one `u32` arena.
//!
//! ```text
//! data: … | n:u32 | name_0:u32 | value_0:u32 | … | name_{n-1}:u32 | value_{n-1}:u32 | …
//!          ^ offsets[ref]
//! ```
//! Pairs keep the label order of the series (sorted by name string). Removed records leave holes that a
//! compaction squeezes out once they make up half the arena.

use super::hash::{FxMap, map_heap_bytes};
use crate::error::{Error, Result};

/// Below this many dead `u32` slots the arena is never compacted.
const MIN_COMPACT_SLOTS: usize = 1 << 16;

/// Series ref → symbol pairs.
#[derive(Default)]
pub(crate) struct SeriesStore {
    data: Vec<u32>,
    offsets: FxMap<u32, u32>,
    dead: usize,
}

impl SeriesStore {
    /// The flattened `(name, value)` pairs of series `r`.
    pub(crate) fn pairs(&self, r: u32) -> Option<&[u32]> {
        let off = *self.offsets.get(&r)? as usize;
        let n = *self.data.get(off)? as usize;
        let pairs = self.data.get(off + 1..off + 1 + 2 * n);
        debug_assert!(pairs.is_some(), "series {r} record out of the arena");
        pairs
    }

    /// Whether series `r` is stored.
    pub(crate) fn contains(&self, r: u32) -> bool {
        self.offsets.contains_key(&r)
    }

    /// Number of stored series.
    pub(crate) fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Makes room for a record of `pairs` flattened ids (see [`SeriesStore::push`]).
    pub(crate) fn reserve(&mut self, pairs: usize) -> Result<()> {
        let need = pairs + 1;
        let limit = u32::MAX as usize;
        if self.data.len().saturating_add(need) <= limit {
            return Ok(());
        }
        self.compact();
        if self.data.len().saturating_add(need) <= limit {
            return Ok(());
        }
        Err(Error::LimitExceeded(format!(
            "series index label arena holds {} ids; {} more would exceed 2^32",
            self.data.len(),
            need
        )))
    }

    /// Stores the flattened pairs of a new series `r`. The caller has called [`SeriesStore::reserve`]
    /// and checked that `r` is not stored.
    pub(crate) fn push(&mut self, r: u32, pairs: &[u32]) {
        debug_assert!(pairs.len().is_multiple_of(2));
        debug_assert!(!self.offsets.contains_key(&r), "series {r} stored twice");
        let off = u32::try_from(self.data.len()).unwrap_or(u32::MAX);
        self.data.push(u32::try_from(pairs.len() / 2).unwrap_or(0));
        self.data.extend_from_slice(pairs);
        self.offsets.insert(r, off);
    }

    /// Forgets series `r`; returns whether it was stored.
    pub(crate) fn remove(&mut self, r: u32) -> bool {
        let Some(off) = self.offsets.remove(&r) else {
            return false;
        };
        let n = self.data.get(off as usize).copied().unwrap_or(0) as usize;
        self.dead += 1 + 2 * n;
        if self.dead >= MIN_COMPACT_SLOTS && self.dead * 2 > self.data.len() {
            self.compact();
        }
        if self.offsets.is_empty() {
            self.data.clear();
            self.dead = 0;
        }
        true
    }

    /// Iterates over `(ref, pairs)` in no particular order (tests check the store with it).
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &[u32])> + '_ {
        self.offsets.keys().filter_map(|&r| Some((r, self.pairs(r)?)))
    }

    /// Rewrites the arena without holes.
    fn compact(&mut self) {
        if self.dead == 0 {
            return;
        }
        let mut data = Vec::with_capacity(self.data.len() - self.dead);
        for off in self.offsets.values_mut() {
            let start = *off as usize;
            let n = self.data.get(start).copied().unwrap_or(0) as usize;
            let record = self.data.get(start..start + 1 + 2 * n).unwrap_or(&[]);
            *off = u32::try_from(data.len()).unwrap_or(u32::MAX);
            data.extend_from_slice(record);
        }
        self.data = data;
        self.dead = 0;
    }

    /// Approximate heap bytes.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.data.capacity() * 4 + map_heap_bytes(self.offsets.capacity(), 8)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn push_remove_compact() {
        let mut s = SeriesStore::default();
        for r in 1..=100_000u32 {
            s.reserve(4).unwrap();
            s.push(r, &[r, r + 1, r + 2, r + 3]);
        }
        for r in (1..=100_000u32).filter(|r| r % 4 != 0) {
            assert!(s.remove(r));
        }
        assert!(!s.remove(1));
        assert!(s.data.len() < 2 * 25_000 * 5 + MIN_COMPACT_SLOTS, "compacted");
        assert_eq!(s.len(), 25_000);
        for r in (4..=100_000u32).step_by(4) {
            assert_eq!(s.pairs(r).unwrap(), &[r, r + 1, r + 2, r + 3]);
        }
        assert_eq!(s.pairs(1), None);
        assert_eq!(s.iter().count(), 25_000);
    }
}
