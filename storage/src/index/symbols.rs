//! The symbol table: every distinct label name and value is stored once, in one byte arena, and named by a
//! dense `u32` id. Ids are reference-counted by the series that use them and recycled when the count drops
//! to zero, so churning label values (pod names, build ids) do not grow the table forever.

use std::hash::{BuildHasher, RandomState};

use super::hash::HashIndex;
use crate::error::{Error, Result};

/// Below this many dead bytes the arena is never compacted: copying a small arena costs more than it saves.
const MIN_COMPACT_BYTES: usize = 1 << 20;

/// One symbol: where its bytes are and how many label slots use it (0 = free id).
#[derive(Clone, Copy, Default)]
struct Entry {
    offset: u32,
    len: u32,
    refs: u32,
}

/// Interned strings with ids.
pub(crate) struct Symbols {
    /// The strings back to back; freed strings leave holes until the next compaction.
    bytes: String,
    entries: Vec<Entry>,
    free: Vec<u32>,
    lookup: HashIndex,
    hasher: RandomState,
    dead_bytes: usize,
}

impl Symbols {
    /// An empty table with a fresh random hash key.
    pub(crate) fn new() -> Self {
        Symbols {
            bytes: String::new(),
            entries: Vec::new(),
            free: Vec::new(),
            lookup: HashIndex::default(),
            hasher: RandomState::new(),
            dead_bytes: 0,
        }
    }

    /// The string of symbol `id` (empty for an unknown or freed id).
    pub(crate) fn str(&self, id: u32) -> &str {
        let Some(e) = self.entries.get(id as usize) else {
            debug_assert!(false, "unknown symbol {id}");
            return "";
        };
        let start = e.offset as usize;
        let s = self.bytes.get(start..start + e.len as usize);
        debug_assert!(s.is_some(), "symbol {id} out of the arena");
        s.unwrap_or("")
    }

    /// The id of `s`, if interned.
    pub(crate) fn lookup(&self, s: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(s);
        self.lookup.find(hash, |id| self.str(id) == s)
    }

    /// Makes room for `extra` more bytes of new strings, compacting if offsets would overflow `u32`.
    /// Call before a batch of [`Symbols::intern`] so that the batch cannot fail half-way.
    pub(crate) fn reserve(&mut self, extra: usize) -> Result<()> {
        let limit = u32::MAX as usize;
        if self.bytes.len().saturating_add(extra) <= limit {
            return Ok(());
        }
        self.compact();
        if self.bytes.len().saturating_add(extra) <= limit {
            return Ok(());
        }
        Err(Error::LimitExceeded(format!(
            "series index symbol table holds {} bytes; {} more would exceed 4 GiB",
            self.bytes.len(),
            extra
        )))
    }

    /// Interns `s` and takes one reference on it. The caller has called [`Symbols::reserve`].
    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        let hash = self.hasher.hash_one(s);
        if let Some(id) = self.lookup.find(hash, |id| self.str(id) == s) {
            if let Some(e) = self.entries.get_mut(id as usize) {
                // A saturated count pins the symbol for good, which is safe.
                e.refs = e.refs.saturating_add(1);
            }
            return id;
        }
        debug_assert!(self.bytes.len() + s.len() <= u32::MAX as usize, "reserve() not called");
        let entry = Entry {
            offset: u32::try_from(self.bytes.len()).unwrap_or(u32::MAX),
            len: u32::try_from(s.len()).unwrap_or(0),
            refs: 1,
        };
        self.bytes.push_str(s);
        let id = match self.free.pop() {
            Some(id) => {
                if let Some(e) = self.entries.get_mut(id as usize) {
                    *e = entry;
                }
                id
            }
            None => {
                let id = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
                self.entries.push(entry);
                id
            }
        };
        self.lookup.insert(hash, id);
        id
    }

    /// Drops one reference on `id`; frees the symbol when none remain.
    pub(crate) fn release(&mut self, id: u32) {
        let Some(e) = self.entries.get_mut(id as usize) else {
            debug_assert!(false, "release of unknown symbol {id}");
            return;
        };
        if e.refs == u32::MAX || e.refs == 0 {
            debug_assert!(e.refs != 0, "release of free symbol {id}");
            return;
        }
        e.refs -= 1;
        if e.refs > 0 {
            return;
        }
        let len = e.len as usize;
        let hash = self.hasher.hash_one(self.str(id));
        let removed = self.lookup.remove(hash, id);
        debug_assert!(removed, "symbol {id} missing from lookup");
        if let Some(e) = self.entries.get_mut(id as usize) {
            e.len = 0;
            e.offset = 0;
        }
        self.free.push(id);
        self.dead_bytes += len;
        if self.dead_bytes >= MIN_COMPACT_BYTES && self.dead_bytes * 2 > self.bytes.len() {
            self.compact();
        }
    }

    /// Number of live symbols.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len() - self.free.len()
    }

    /// Rewrites the arena without the holes of freed strings. Ids do not change.
    fn compact(&mut self) {
        if self.dead_bytes == 0 {
            return;
        }
        let mut bytes = String::with_capacity(self.bytes.len() - self.dead_bytes);
        for e in &mut self.entries {
            if e.refs == 0 {
                continue;
            }
            let start = e.offset as usize;
            let s = self.bytes.get(start..start + e.len as usize).unwrap_or("");
            e.offset = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            bytes.push_str(s);
        }
        self.bytes = bytes;
        self.dead_bytes = 0;
    }

    /// Approximate heap bytes.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.free.capacity() * 4
            + self.lookup.heap_bytes()
    }

    /// Total bytes of live strings (for statistics).
    #[cfg(test)]
    pub(crate) fn live_bytes(&self) -> usize {
        self.bytes.len() - self.dead_bytes
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn intern_lookup_release_and_reuse() {
        let mut s = Symbols::new();
        s.reserve(100).unwrap();
        let a = s.intern("alpha");
        let b = s.intern("beta");
        assert_eq!(s.intern("alpha"), a);
        assert_eq!(s.str(a), "alpha");
        assert_eq!(s.str(b), "beta");
        assert_eq!(s.lookup("beta"), Some(b));
        assert_eq!(s.lookup("gamma"), None);
        s.release(a);
        assert_eq!(s.lookup("alpha"), Some(a), "one reference left");
        s.release(a);
        assert_eq!(s.lookup("alpha"), None);
        assert_eq!(s.len(), 1);
        let c = s.intern("gamma");
        assert_eq!(c, a, "freed id is recycled");
        assert_eq!(s.str(c), "gamma");
        assert_eq!(s.str(b), "beta");
    }

    #[test]
    fn compaction_keeps_ids_and_strings() {
        let mut s = Symbols::new();
        let mut ids = Vec::new();
        // Enough dead bytes to pass MIN_COMPACT_BYTES.
        let long = "x".repeat(1000);
        for i in 0..3000 {
            let v = format!("{long}{i}");
            s.reserve(v.len()).unwrap();
            ids.push((s.intern(&v), v));
        }
        for (id, _) in ids.iter().filter(|(id, _)| id % 3 != 0) {
            s.release(*id);
        }
        assert!(
            s.bytes.len() < 2 * s.live_bytes() + MIN_COMPACT_BYTES,
            "arena was compacted"
        );
        for (id, v) in ids.iter().filter(|(id, _)| id % 3 == 0) {
            assert_eq!(s.str(*id), v);
            assert_eq!(s.lookup(v), Some(*id));
        }
        assert_eq!(s.len(), 1000);
    }
}
