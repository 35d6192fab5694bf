//! The in-memory series index: label set ↔ [`SeriesRef`], and postings for label matchers.
//!
//! Layout, chosen for memory at millions of series (see `docs/performance.md`, "Series index"):
//!
//! - **Symbols**: every distinct label name and value is stored once in a byte arena and named by a
//!   `u32` id ([`symbols`]); ids are reference-counted and recycled.
//! - **Series**: each series' labels are `(name, value)` symbol-id pairs in one `u32` arena, found by ref
//!   ([`series`]). [`Index::labels`] materialises an owned [`Labels`] from them.
//! - **Lookup by labels**: a 64-bit SipHash (random key per index) of the label strings maps to the ref;
//!   the label set itself is not stored a second time, candidates are compared against the arena.
//! - **Postings**: per label name, a [`RoaringBitmap`] of the series that have it, and one per value
//!   ([`postings`]). Matchers are answered by intersecting them ([`select`](Index::select)).
//!
//! Refs are allocated densely from 1 and are never reused by this index (a removed ref stays retired).
//! Internally refs are `u32` (roaring bitmaps of `u32`): refs of 2^32 and above are rejected by
//! [`Index::try_insert`] and [`Index::try_get_or_create`].

pub(crate) mod hash;
mod pattern;
mod postings;
mod query;
mod select;
mod series;
mod symbols;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::hash::{BuildHasher, Hasher, RandomState};

use roaring::RoaringBitmap;

use crate::error::{Error, Result};
use crate::labels::{Label, Labels};
use hash::HashIndex;
use postings::Postings;
use series::SeriesStore;
use symbols::Symbols;

pub use query::Cardinality;

/// Persistent series id. Allocated densely from 1 by the index and never reused by it. The index holds
/// refs below 2^32 (it keeps postings as `u32` roaring bitmaps); larger refs are rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesRef(pub u64);

impl SeriesRef {
    /// The ref as the index's internal `u32`, if it fits.
    fn to_u32(self) -> Option<u32> {
        u32::try_from(self.0).ok().filter(|&r| r != 0)
    }
}

/// The in-memory series index. Not synchronised: the engine wraps it in a lock.
pub struct Index {
    symbols: Symbols,
    series: SeriesStore,
    by_hash: HashIndex,
    postings: Postings,
    /// Every live series.
    all: RoaringBitmap,
    hasher: RandomState,
    /// The next ref [`Index::get_or_create`] hands out: one above the largest ref ever seen.
    next_ref: u64,
}

impl Default for Index {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("series", &self.len())
            .field("next_ref", &self.next_ref)
            .finish()
    }
}

impl Index {
    /// An empty index.
    pub fn new() -> Self {
        Index {
            symbols: Symbols::new(),
            series: SeriesStore::default(),
            by_hash: HashIndex::default(),
            postings: Postings::default(),
            all: RoaringBitmap::new(),
            hasher: RandomState::new(),
            next_ref: 1,
        }
    }

    /// Looks up a label set; returns its ref if known. Labels with empty values are ignored, as
    /// everywhere in Prometheus.
    pub fn get(&self, labels: &Labels) -> Option<SeriesRef> {
        let hash = self.hash_labels(labels);
        self.find(hash, labels).map(|r| SeriesRef(u64::from(r)))
    }

    /// Returns (ref, created). New refs are allocated as max_ref + 1.
    ///
    /// # Panics
    /// When the index is full (refs would reach 2^32, or its arenas 4 GiB); use
    /// [`Index::try_get_or_create`] to get an error instead.
    pub fn get_or_create(&mut self, labels: &Labels) -> (SeriesRef, bool) {
        // Only 2^32 series or 4 GiB of label data fill the index (documented above).
        self.try_get_or_create(labels).expect("series index full")
    }

    /// Like [`Index::get_or_create`], with an error when the index is full.
    pub fn try_get_or_create(&mut self, labels: &Labels) -> Result<(SeriesRef, bool)> {
        let hash = self.hash_labels(labels);
        if let Some(r) = self.find(hash, labels) {
            return Ok((SeriesRef(u64::from(r)), false));
        }
        let r = u32::try_from(self.next_ref).map_err(|_| {
            Error::LimitExceeded(format!("series index: ref {} does not fit in 32 bits", self.next_ref))
        })?;
        self.create(r, hash, labels)?;
        self.next_ref = u64::from(r) + 1;
        Ok((SeriesRef(u64::from(r)), true))
    }

    /// Inserts a series with a known ref (used when replaying persisted index entries); keeps the next
    /// ref above it. Re-inserting the same pair is a no-op; a ref that holds other labels is replaced.
    /// An entry [`Index::try_insert`] rejects (ref 0 or ≥ 2^32, labels already under another ref) is
    /// logged and skipped: replay code that wants to react should call `try_insert`.
    pub fn insert(&mut self, series: SeriesRef, labels: Labels) {
        if let Err(e) = self.try_insert(series, labels) {
            tracing::error!(series = series.0, error = %e, "series index: skipped entry");
        }
    }

    /// Like [`Index::insert`], with an error for an entry that cannot be indexed: ref 0 or ≥ 2^32
    /// ([`Error::Corrupt`]), the same labels already under another ref ([`Error::Corrupt`]; the index
    /// is unchanged), or a full index ([`Error::LimitExceeded`]).
    pub fn try_insert(&mut self, series: SeriesRef, labels: Labels) -> Result<()> {
        let Some(r) = series.to_u32() else {
            return Err(Error::Corrupt {
                what: "series index entry",
                reason: format!("series ref {} is outside 1..2^32", series.0),
            });
        };
        let hash = self.hash_labels(&labels);
        if let Some(existing) = self.find(hash, &labels) {
            if existing == r {
                return Ok(());
            }
            return Err(Error::Corrupt {
                what: "series index entry",
                reason: format!("labels {labels} of ref {r} are already indexed under ref {existing}"),
            });
        }
        if self.series.contains(r) {
            self.remove(series);
        }
        self.create(r, hash, &labels)?;
        self.next_ref = self.next_ref.max(u64::from(r) + 1);
        Ok(())
    }

    /// Removes a series entirely (delete_series). Unknown refs are ignored. The ref is not reused.
    pub fn remove(&mut self, series: SeriesRef) {
        let Some(r) = series.to_u32() else { return };
        let Some(pairs) = self.series.pairs(r).map(<[u32]>::to_vec) else {
            return;
        };
        let hash = self.hash_pairs(&pairs);
        let removed = self.by_hash.remove(hash, r);
        debug_assert!(removed, "series {r} missing from the hash index");
        self.postings.remove(r, &pairs);
        for &sym in &pairs {
            self.symbols.release(sym);
        }
        self.series.remove(r);
        self.all.remove(r);
    }

    /// The labels of a series, materialised from the symbol table.
    ///
    /// Returns an owned [`Labels`] (not a reference): the index stores labels as symbol ids only. Use
    /// [`Index::label_pairs`] or [`Index::label_value`] to read them without allocating.
    pub fn labels(&self, series: SeriesRef) -> Option<Labels> {
        let pairs = self.series.pairs(series.to_u32()?)?;
        let v = pairs
            .chunks_exact(2)
            .filter_map(|p| match *p {
                [n, v] => Some(Label {
                    name: self.symbols.str(n).to_string(),
                    value: self.symbols.str(v).to_string(),
                }),
                _ => None,
            })
            .collect();
        Some(Labels::from_sorted(v))
    }

    /// The `(name, value)` pairs of a series in name order, borrowed from the symbol table.
    pub fn label_pairs(&self, series: SeriesRef) -> Option<impl Iterator<Item = (&str, &str)> + '_> {
        let pairs = self.series.pairs(series.to_u32()?)?;
        Some(pairs.chunks_exact(2).filter_map(|p| match *p {
            [n, v] => Some((self.symbols.str(n), self.symbols.str(v))),
            _ => None,
        }))
    }

    /// The value of label `name` of a series, if the series exists and has the label.
    pub fn label_value(&self, series: SeriesRef, name: &str) -> Option<&str> {
        let pairs = self.series.pairs(series.to_u32()?)?;
        let n = self.symbols.lookup(name)?;
        value_of(pairs, n).map(|v| self.symbols.str(v))
    }

    /// Whether series `series` exists and its labels are exactly `pairs` in the given order (pairs with
    /// an empty value are skipped, as [`Labels::from_pairs`] drops them). Stored labels are sorted by
    /// name, so pairs in any other order, or with a name twice, never match. Compares against the symbol
    /// arena without allocating or hashing.
    pub fn has_labels<'a>(&self, series: SeriesRef, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
        let Some(stored) = series.to_u32().and_then(|r| self.series.pairs(r)) else {
            return false;
        };
        let mut stored = stored.chunks_exact(2);
        for (n, v) in pairs {
            if v.is_empty() {
                continue;
            }
            match stored.next() {
                Some(&[sn, sv]) if self.symbols.str(sn) == n && self.symbols.str(sv) == v => {}
                _ => return false,
            }
        }
        stored.next().is_none()
    }

    /// Whether the series exists.
    pub fn contains(&self, series: SeriesRef) -> bool {
        series.to_u32().is_some_and(|r| self.series.contains(r))
    }

    /// Number of series.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// True when there are no series.
    pub fn is_empty(&self) -> bool {
        self.series.len() == 0
    }

    /// The ref the next created series gets (one above the largest ref ever seen).
    pub fn next_ref(&self) -> SeriesRef {
        SeriesRef(self.next_ref)
    }

    /// Raises the next ref to at least `at_least`: lets the engine restore a persisted high-water mark
    /// so that refs of deleted series are not handed out again after a restart.
    pub fn ensure_next_ref(&mut self, at_least: SeriesRef) {
        self.next_ref = self.next_ref.max(at_least.0);
    }

    /// Sorts refs by their series' label sets (the order of [`Labels`]), comparing interned symbols by their
    /// rank among the symbols these series use instead of comparing strings. Unknown refs sort first.
    pub fn sort_by_labels(&self, refs: &mut [u64]) {
        let sorted = self.in_label_order(refs.to_vec(), |&r| r);
        refs.copy_from_slice(&sorted);
    }

    /// Orders `items` by the label sets of their series (`ref_of` names each item's ref), as
    /// [`Index::sort_by_labels`] orders refs.
    pub fn in_label_order<T>(&self, items: Vec<T>, ref_of: impl Fn(&T) -> u64) -> Vec<T> {
        // Each item's symbol ids laid out once (one lookup of its pairs), replaced by their ranks, then the
        // items are ordered by comparing those slices.
        let mut flat: Vec<u32> = Vec::with_capacity(items.len() * 8);
        let mut keys: Vec<(usize, usize, usize)> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let start = flat.len();
            if let Some(pairs) = u32::try_from(ref_of(item)).ok().and_then(|r| self.series.pairs(r)) {
                flat.extend_from_slice(pairs);
            }
            keys.push((start, flat.len(), i));
        }
        let mut used = flat.clone();
        used.sort_unstable();
        used.dedup();
        used.sort_unstable_by(|&a, &b| self.symbols.str(a).cmp(self.symbols.str(b)));
        let mut rank = vec![0u32; used.iter().max().map_or(0, |&m| m as usize + 1)];
        for (i, &id) in used.iter().enumerate() {
            if let Some(slot) = rank.get_mut(id as usize) {
                *slot = i as u32;
            }
        }
        for id in &mut flat {
            *id = rank.get(*id as usize).copied().unwrap_or(0);
        }
        let key = |&(a, b, _): &(usize, usize, usize)| flat.get(a..b).unwrap_or(&[]);
        keys.sort_unstable_by(|x, y| key(x).cmp(key(y)));
        let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
        keys.iter()
            .filter_map(|&(_, _, i)| slots.get_mut(i).and_then(Option::take))
            .collect()
    }

    /// Refs of all series, ascending.
    pub fn all(&self) -> Vec<SeriesRef> {
        self.all.iter().map(|r| SeriesRef(u64::from(r))).collect()
    }

    /// Approximate heap bytes used (for memory-per-series measurement): the capacity of every arena,
    /// vector, map and bitmap the index owns.
    pub fn heap_bytes(&self) -> usize {
        self.symbols.heap_bytes()
            + self.series.heap_bytes()
            + self.by_hash.heap_bytes()
            + self.postings.heap_bytes()
            + postings::bitmap_heap_bytes(&self.all)
    }

    /// Interns the labels and indexes series `r` (not yet present) under `hash`.
    fn create(&mut self, r: u32, hash: u64, labels: &Labels) -> Result<()> {
        let kept = labels.iter().filter(|l| !l.value.is_empty());
        let bytes: usize = kept.clone().map(|l| l.name.len() + l.value.len()).sum();
        let n = kept.clone().count();
        self.symbols.reserve(bytes)?;
        self.series.reserve(2 * n)?;
        let mut pairs = Vec::with_capacity(2 * n);
        for l in kept {
            pairs.push(self.symbols.intern(&l.name));
            pairs.push(self.symbols.intern(&l.value));
        }
        self.series.push(r, &pairs);
        self.postings.add(r, &pairs);
        self.all.insert(r);
        self.by_hash.insert(hash, r);
        Ok(())
    }

    /// The ref of the series with exactly these labels.
    fn find(&self, hash: u64, labels: &Labels) -> Option<u32> {
        self.by_hash.find(hash, |r| {
            self.series.pairs(r).is_some_and(|p| self.pairs_equal(p, labels))
        })
    }

    fn pairs_equal(&self, pairs: &[u32], labels: &Labels) -> bool {
        let mut stored = pairs.chunks_exact(2);
        for l in labels.iter().filter(|l| !l.value.is_empty()) {
            match stored.next() {
                Some(&[n, v]) if self.symbols.str(n) == l.name && self.symbols.str(v) == l.value => {}
                _ => return false,
            }
        }
        stored.next().is_none()
    }

    fn hash_labels(&self, labels: &Labels) -> u64 {
        hash_strs(&self.hasher, labels.iter().map(|l| (l.name.as_str(), l.value.as_str())))
    }

    fn hash_pairs(&self, pairs: &[u32]) -> u64 {
        hash_strs(
            &self.hasher,
            pairs.chunks_exact(2).filter_map(|p| match *p {
                [n, v] => Some((self.symbols.str(n), self.symbols.str(v))),
                _ => None,
            }),
        )
    }
}

/// Hashes label strings; 0xff (never in UTF-8) separates them. Empty values are skipped.
fn hash_strs<'a>(hasher: &RandomState, pairs: impl Iterator<Item = (&'a str, &'a str)>) -> u64 {
    let mut h = hasher.build_hasher();
    for (n, v) in pairs {
        if v.is_empty() {
            continue;
        }
        h.write(n.as_bytes());
        h.write_u8(0xff);
        h.write(v.as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

/// The value symbol of name symbol `name` in flattened pairs.
fn value_of(pairs: &[u32], name: u32) -> Option<u32> {
    pairs.chunks_exact(2).find_map(|p| match *p {
        [n, v] if n == name => Some(v),
        _ => None,
    })
}
