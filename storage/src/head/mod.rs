//! The head: per-series in-memory state for data not yet sealed into RocksDB.
//!
//! Each series has one open in-order [`HeadChunk`] (Gorilla-compressed, appends with increasing
//! timestamps) and an out-of-order buffer (a sorted vector, one value per timestamp) for samples at or before
//! the newest in-order timestamp. Series are kept in [`HEAD_SHARDS`] hash maps, each behind its own lock,
//! chosen by series ref.
//!
//! Which value survives for a (series, timestamp) — "the newest write wins" — follows from these rules
//! (see `docs/format/rocksdb.md`, "Duplicates"):
//! 1. a timestamp enters the in-order chunk only while it is above `max_t`, so any later write of the same
//!    timestamp goes to the out-of-order buffer: the buffer beats the head chunk;
//! 2. the buffer replaces an existing timestamp in place;
//! 3. sealed chunks carry a global seal sequence number and the head is always newer than what is sealed;
//!    when the buffer is sealed, an overlapping head chunk is sealed first.

use parking_lot::RwLock;

use crate::chunk::HeadChunk;
use crate::error::Result;

/// Number of head shards. A power of two well above the core count keeps lock contention low.
pub const HEAD_SHARDS: usize = 64;

/// Marker for "no unsealed data" in the WAL-segment fields of [`HeadSeries`].
pub const NO_SEG: u64 = u64::MAX;

/// Approximate fixed bytes of one series entry in a shard map (struct, key, hash-table slack).
pub const SERIES_OVERHEAD_BYTES: usize = std::mem::size_of::<HeadSeries>() + 16;

/// The head state of one series.
pub struct HeadSeries {
    /// The open in-order chunk.
    pub chunk: HeadChunk,
    /// WAL segment of the oldest sample in `chunk` ([`NO_SEG`] when empty).
    pub chunk_seg: u64,
    /// Out-of-order samples, sorted by timestamp, unique timestamps.
    pub ooo: Vec<(i64, f64)>,
    /// WAL segment of the oldest sample in `ooo` ([`NO_SEG`] when empty).
    pub ooo_seg: u64,
    /// Newest timestamp ever appended in order (sealed data included); `i64::MIN` when none.
    pub max_t: i64,
    /// The value of the sample at `max_t` when the head knows it: set by appends (the newest write of that
    /// timestamp), cleared by a delete covering `max_t`, unknown after a restart until the next append.
    /// Lets an instant selector answer without decoding a chunk.
    pub max_v: Option<f64>,
    /// Lower bound of the series' data time range, head and sealed (approximate after deletes).
    pub min_data_t: i64,
    /// Upper bound of the series' data time range, head and sealed (approximate after deletes).
    pub max_data_t: i64,
    /// Wall-clock ms of the last append (for idle sealing).
    pub last_write_ms: i64,
    /// Sealed chunks of this series in RocksDB (counted at open, kept up to date by seal and delete).
    pub sealed_chunks: u32,
    /// The storage's seal epoch right after this series' newest chunks were written to RocksDB (0: none
    /// since start). A reader whose iterators are older must reopen them to see those chunks.
    pub sealed_epoch: u64,
    /// The series' metric group, part of its chunk keys ([`crate::db::keys::metric_group`] of its name).
    pub group: u32,
}

impl HeadSeries {
    /// A series with no data whose labels put it in metric group `group`.
    pub fn new(group: u32) -> Self {
        HeadSeries {
            group,
            chunk: HeadChunk::new(),
            chunk_seg: NO_SEG,
            ooo: Vec::new(),
            ooo_seg: NO_SEG,
            max_t: i64::MIN,
            max_v: None,
            min_data_t: i64::MAX,
            max_data_t: i64::MIN,
            last_write_ms: 0,
            sealed_chunks: 0,
            sealed_epoch: 0,
        }
    }

    /// Widens the data range to include `t`.
    pub fn note_time(&mut self, t: i64) {
        self.min_data_t = self.min_data_t.min(t);
        self.max_data_t = self.max_data_t.max(t);
    }

    /// Whether the series' (approximate) data range meets `[mint, maxt]`.
    pub fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.min_data_t <= maxt && self.max_data_t >= mint
    }

    /// Inserts an out-of-order sample, replacing one at the same timestamp. Returns true when the buffer
    /// was empty before.
    pub fn ooo_insert(&mut self, t: i64, v: f64, seg: u64) -> bool {
        let was_empty = self.ooo.is_empty();
        match self.ooo.binary_search_by(|s| s.0.cmp(&t)) {
            Ok(i) => {
                if let Some(s) = self.ooo.get_mut(i) {
                    s.1 = v;
                }
            }
            Err(i) => self.ooo.insert(i, (t, v)),
        }
        if was_empty {
            self.ooo_seg = seg;
        } else {
            self.ooo_seg = self.ooo_seg.min(seg);
        }
        was_empty
    }

    /// Oldest WAL segment still needed by this series' unsealed data ([`NO_SEG`] when all is sealed).
    pub fn min_seg(&self) -> u64 {
        self.chunk_seg.min(self.ooo_seg)
    }

    /// Whether any data is left (head or sealed).
    pub fn has_data(&self) -> bool {
        !self.chunk.is_empty() || !self.ooo.is_empty() || self.sealed_chunks > 0
    }

    /// Whether the out-of-order buffer's time span meets the open chunk's.
    pub fn ooo_overlaps_chunk(&self) -> bool {
        match (
            self.chunk.first_t(),
            self.chunk.last_t(),
            self.ooo.first(),
            self.ooo.last(),
        ) {
            (Some(cf), Some(cl), Some(of), Some(ol)) => of.0 <= cl && ol.0 >= cf,
            _ => false,
        }
    }

    /// Heap and inline bytes held by this series in the head (excluding the index).
    pub fn byte_size(&self) -> usize {
        SERIES_OVERHEAD_BYTES + self.chunk.byte_size() + self.ooo.capacity() * std::mem::size_of::<(i64, f64)>()
    }

    /// Removes samples in `[mint, maxt]` from the head chunk and the out-of-order buffer. Returns how many
    /// samples were removed.
    pub fn drop_range(&mut self, mint: i64, maxt: i64) -> Result<usize> {
        if mint <= self.max_t && self.max_t <= maxt {
            self.max_v = None;
        }
        let before = self.ooo.len();
        self.ooo.retain(|s| s.0 < mint || s.0 > maxt);
        let mut removed = before - self.ooo.len();
        if self.ooo.is_empty() {
            self.ooo = Vec::new();
            self.ooo_seg = NO_SEG;
        }
        let (Some(first), Some(last)) = (self.chunk.first_t(), self.chunk.last_t()) else {
            return Ok(removed);
        };
        if last < mint || first > maxt {
            return Ok(removed);
        }
        let mut ts = Vec::with_capacity(self.chunk.len());
        let mut vs = Vec::with_capacity(self.chunk.len());
        self.chunk.decode_into(&mut ts, &mut vs)?;
        let mut fresh = HeadChunk::new();
        for (&t, &v) in ts.iter().zip(vs.iter()) {
            if t < mint || t > maxt {
                fresh.append(t, v)?;
            } else {
                removed += 1;
            }
        }
        if fresh.is_empty() {
            self.chunk_seg = NO_SEG;
        }
        self.chunk = fresh;
        Ok(removed)
    }
}

/// One shard: series ref → head state. Refs are small integers handed out by the index: a one-multiply
/// hash, not SipHash (which showed up at ~5 % of live-ingest CPU).
pub type Shard = crate::index::hash::FxMap<u64, HeadSeries>;

/// The head: sharded series maps.
pub struct Head {
    shards: Vec<RwLock<Shard>>,
}

impl Default for Head {
    fn default() -> Self {
        Self::new()
    }
}

impl Head {
    /// An empty head.
    pub fn new() -> Self {
        Head {
            shards: (0..HEAD_SHARDS).map(|_| RwLock::new(Shard::default())).collect(),
        }
    }

    /// The shard holding series `r`.
    #[expect(
        clippy::indexing_slicing,
        reason = "index masked below HEAD_SHARDS, the vector's length"
    )]
    pub fn shard(&self, r: u64) -> &RwLock<Shard> {
        // HEAD_SHARDS is a power of two and `shards` has exactly that many entries.
        &self.shards[Self::shard_index(r)]
    }

    /// The position of series `r`'s shard in [`Head::shards`] (below [`HEAD_SHARDS`]).
    pub fn shard_index(r: u64) -> usize {
        (r as usize) & (HEAD_SHARDS - 1)
    }

    /// All shards, in order.
    pub fn shards(&self) -> &[RwLock<Shard>] {
        &self.shards
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ooo_buffer_replaces_and_drops() {
        let mut s = HeadSeries::new(0);
        assert!(s.ooo_insert(10, 1.0, 3));
        assert!(!s.ooo_insert(5, 2.0, 4));
        s.ooo_insert(10, 3.0, 5);
        assert_eq!(s.ooo, vec![(5, 2.0), (10, 3.0)]);
        assert_eq!(s.ooo_seg, 3);
        for t in 20..30 {
            s.chunk.append(t, t as f64).unwrap();
        }
        s.chunk_seg = 2;
        assert_eq!(s.min_seg(), 2);
        assert_eq!(s.drop_range(8, 24).unwrap(), 6);
        assert_eq!(s.ooo, vec![(5, 2.0)]);
        assert_eq!(s.chunk.len(), 5);
        assert_eq!(s.chunk.first_t(), Some(25));
        assert_eq!(s.drop_range(i64::MIN, i64::MAX).unwrap(), 6);
        assert!(!s.has_data());
        assert_eq!(s.min_seg(), NO_SEG);
    }
}
