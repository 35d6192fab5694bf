//! Sealing head data into RocksDB, periodic upkeep, flush, and WAL truncation.

use std::sync::atomic::Ordering;

use rocksdb::WriteBatch;

use super::{Storage, now_ms};
use crate::chunk::{HeadChunk, encode_chunk};
use crate::db::keys::{ChunkKey, TIER_RAW};
use crate::db::partition::{partition_end, partition_start, tier};
use crate::db::{CF_META, CF_SERIES};
use crate::error::Result;
use crate::head::{HeadSeries, NO_SEG};

/// An encoded chunk before it is keyed: its first and last timestamps and its bytes.
pub(super) type EncodedChunk = (i64, i64, Vec<u8>);

/// A sealed chunk to put: its partition's column family, its key and the encoded chunk.
pub(super) type ChunkPut<'a> = (
    std::sync::Arc<rocksdb::BoundColumnFamily<'a>>,
    [u8; crate::db::keys::CHUNK_KEY_LEN],
    Vec<u8>,
);

impl Storage {
    /// Encodes sorted, unique samples of series `r` into chunks of at most `chunk_max_samples` samples spanning
    /// at most `chunk_max_span_ms`, writes them to the raw tier, and counts them in `s` (with the seal epoch
    /// that tells readers opened earlier to look again). The caller holds `s`'s shard lock.
    pub(super) fn write_chunks(&self, r: u64, s: &mut HeadSeries, ts: &[i64], vs: &[f64]) -> Result<()> {
        let mut puts = Vec::new();
        let n = self.put_chunks(r, s.group, ts, vs, &mut puts)?;
        let mut wb = WriteBatch::default();
        for (cf, key, value) in puts {
            wb.put_cf(&cf, key, value);
        }
        if n > 0 {
            let (Some(&lo), Some(&hi)) = (ts.first(), ts.last()) else {
                return Ok(());
            };
            self.write_marking_dirty(wb, crate::db::partition::TIER_5M, &[(r, lo, hi)])?;
            self.counters.chunks_sealed.fetch_add(u64::from(n), Ordering::Relaxed);
            s.sealed_chunks = s.sealed_chunks.saturating_add(n);
            // After the write: an iterator opened at an epoch at or past this one sees the chunks.
            s.sealed_epoch = self.seal_epoch.fetch_add(1, Ordering::SeqCst) + 1;
        }
        Ok(())
    }

    /// Encodes sorted, unique samples of series `r` into chunks of at most `chunk_max_samples` samples
    /// spanning at most `chunk_max_span_ms`, never crossing a partition boundary, keyed under the series'
    /// metric group `group`, and adds them to `out`. Returns how many chunks were added.
    pub(super) fn put_chunks<'a>(
        &'a self,
        r: u64,
        group: u32,
        ts: &[i64],
        vs: &[f64],
        out: &mut Vec<ChunkPut<'a>>,
    ) -> Result<u32> {
        let encoded = self.encode_chunks(ts, vs)?;
        self.put_encoded(r, group, encoded, out)
    }

    /// The chunks [`Storage::put_chunks`] cuts sorted, unique samples into, encoded: `(min_t, max_t,
    /// bytes)` each. Touches no state, so it can run before the append lock is taken.
    pub(super) fn encode_chunks(&self, ts: &[i64], vs: &[f64]) -> Result<Vec<EncodedChunk>> {
        let raw = tier(TIER_RAW);
        let mut chunks = Vec::new();
        let mut start = 0usize;
        while start < ts.len() {
            let first = ts.get(start).copied().unwrap_or(0);
            // A chunk never crosses a partition boundary, so that retention can drop partitions whole.
            let part_end = partition_end(raw, partition_start(raw, first));
            let mut end = start + 1;
            while end < ts.len()
                && end - start < self.opts.chunk_max_samples
                && ts
                    .get(end)
                    .is_some_and(|&t| t.saturating_sub(first) <= self.opts.chunk_max_span_ms && t < part_end)
            {
                end += 1;
            }
            let (Some(cts), Some(cvs)) = (ts.get(start..end), vs.get(start..end)) else {
                break;
            };
            let max_t = cts.last().copied().unwrap_or(first);
            chunks.push((first, max_t, encode_chunk(cts, cvs)?));
            start = end;
        }
        Ok(chunks)
    }

    /// Keys encoded chunks of series `r` (metric group `group`) in their partitions and adds them to `out`.
    /// Returns how many chunks were added.
    pub(super) fn put_encoded<'a>(
        &'a self,
        r: u64,
        group: u32,
        encoded: Vec<EncodedChunk>,
        out: &mut Vec<ChunkPut<'a>>,
    ) -> Result<u32> {
        let mut n = 0u32;
        for (first, max_t, bytes) in encoded {
            let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
            let cf = self.partitions.get_or_create(&self.db, TIER_RAW, first)?;
            let key = ChunkKey {
                tier: TIER_RAW,
                group,
                series: r,
                max_t,
                seq,
            };
            out.push((cf, key.encode(), bytes));
            n += 1;
        }
        Ok(n)
    }

    /// Seals the open head chunk of series `r` (no-op when empty).
    pub(super) fn seal_chunk(&self, r: u64, s: &mut HeadSeries) -> Result<()> {
        if s.chunk.is_empty() {
            return Ok(());
        }
        let mut ts = Vec::with_capacity(s.chunk.len());
        let mut vs = Vec::with_capacity(s.chunk.len());
        s.chunk.decode_into(&mut ts, &mut vs)?;
        self.write_chunks(r, s, &ts, &vs)?;
        s.chunk = HeadChunk::new();
        s.chunk_seg = NO_SEG;
        Ok(())
    }

    /// Seals the out-of-order buffer of series `r`. An open chunk whose time span meets the buffer's is sealed
    /// first, so that the buffer's (newer) samples get the higher seal sequence numbers.
    pub(super) fn seal_ooo(&self, r: u64, s: &mut HeadSeries) -> Result<()> {
        if s.ooo.is_empty() {
            return Ok(());
        }
        if s.ooo_overlaps_chunk() {
            self.seal_chunk(r, s)?;
        }
        let ts: Vec<i64> = s.ooo.iter().map(|x| x.0).collect();
        let vs: Vec<f64> = s.ooo.iter().map(|x| x.1).collect();
        self.write_chunks(r, s, &ts, &vs)?;
        s.ooo = Vec::new();
        s.ooo_seg = NO_SEG;
        Ok(())
    }

    /// Periodic upkeep: fsync per the `Interval` policy, seal full chunks and data of idle series, delete WAL
    /// segments whose data is all sealed.
    pub fn maintain(&self) -> Result<()> {
        if self.check_open().is_err() {
            return Ok(());
        }
        self.wal.tick()?;
        self.db_sync.tick(&self.db)?;
        let now = now_ms();
        let idle = self.opts.head_idle_seal_ms;
        let full = self.opts.chunk_max_samples;
        for shard in self.head.shards() {
            let mut shard = shard.write();
            for (&r, s) in shard.iter_mut() {
                let is_idle = now.saturating_sub(s.last_write_ms) >= idle;
                if !s.chunk.is_empty() && (is_idle || s.chunk.len() >= full) {
                    self.seal_chunk(r, s)?;
                }
                if !s.ooo.is_empty() && (is_idle || s.ooo.len() >= full) {
                    self.seal_ooo(r, s)?;
                }
            }
        }
        {
            let _guard = self.append_lock.lock();
            self.truncate_wal_locked()?;
        }
        if self.tiers.downsample_due(now) {
            self.downsample()?;
            self.apply_retention()?;
        }
        Ok(())
    }

    /// Seals every head chunk and all out-of-order data, flushes RocksDB memtables and empties the WAL.
    pub fn flush(&self) -> Result<()> {
        if self.check_open().is_err() {
            return Ok(());
        }
        let _guard = self.append_lock.lock();
        for shard in self.head.shards() {
            let mut shard = shard.write();
            for (&r, s) in shard.iter_mut() {
                self.seal_chunk(r, s)?;
                self.seal_ooo(r, s)?;
            }
        }
        self.truncate_wal_locked()?;
        drop(_guard);
        self.downsample()?;
        // What the pass recomputed leaves the dirty-mark log too, so a restart does not redo it.
        self.snapshot_marks(true)?;
        self.apply_retention()?;
        for name in [CF_META, CF_SERIES] {
            self.db.flush_cf(&self.cf(name)?)?;
        }
        for p in self.partitions.all() {
            if let Ok(cf) = crate::db::cf_named(&self.db, &p.name) {
                self.db.flush_cf(&cf)?;
            }
        }
        Ok(())
    }

    /// Deletes WAL segments older than the oldest one holding unsealed data. When nothing is unsealed, the
    /// current segment is closed first so it can go too. Called under the append lock, so no append is
    /// between its WAL write and its head update.
    fn truncate_wal_locked(&self) -> Result<()> {
        let mut min_seg = NO_SEG;
        for shard in self.head.shards() {
            for s in shard.read().values() {
                min_seg = min_seg.min(s.min_seg());
            }
        }
        if min_seg == NO_SEG && self.wal.current_has_records() {
            self.wal.rotate()?;
        }
        let limit = min_seg.min(self.wal.current_segment());
        let oldest = crate::wal::list_segments(self.wal.dir())?.first().map(|(n, _)| *n);
        if oldest.is_some_and(|o| o < limit) {
            // Sealed chunks and series entries were written through RocksDB's own WAL without fsync:
            // make them durable before the records they replace disappear.
            self.db.flush_wal(true)?;
            self.wal.remove_below(limit)?;
        }
        Ok(())
    }
}
