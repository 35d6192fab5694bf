//! Deleting samples: RocksDB deletes (range delete for whole series, rewrites of partly covered chunks),
//! a WAL tombstone so replay repeats the deletion in order, head data dropped, empty series removed.

use std::sync::atomic::Ordering;

use rocksdb::{WriteBatch, WriteOptions};

use super::{MAX_CHUNK_SPAN_MS, Storage};
use crate::chunk::{chunk_meta, decode_chunk, encode_chunk};
use crate::db::keys::{ChunkKey, TIER_RAW, series_key};
use crate::db::{CF_META, CF_SERIES, META_NEXT_REF_KEY};
use crate::error::Result;
use crate::head::HeadSeries;
use crate::index::SeriesRef;
use crate::matcher::LabelMatcher;
use crate::wal::record::{REC_TOMBSTONE, encode_tombstones};

impl Storage {
    /// Deletes the samples of matching series in `[mint, maxt]`; series whose data is all gone leave the
    /// index. Returns the number of series touched (matching, with data in the range). Durable (WAL and
    /// RocksDB fsynced) when it returns, whatever the fsync policy. An empty matcher list deletes nothing.
    pub fn delete_series(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<u64> {
        self.check_open()?;
        if mint > maxt || matchers.is_empty() {
            return Ok(0);
        }
        let _guard = self.append_lock.lock();
        let refs = self.index.read().select(matchers);
        let mut stones = Vec::new();
        let mut wb = WriteBatch::default();
        for r in refs {
            let r = r.0;
            let mut shard = self.head.shard(r).write();
            let Some(s) = shard.get_mut(&r) else { continue };
            if !s.overlaps(mint, maxt) {
                continue;
            }
            self.delete_sealed(r, s, mint, maxt, &mut wb)?;
            s.drop_range(mint, maxt)?;
            stones.push((r, mint, maxt));
        }
        if stones.is_empty() {
            return Ok(0);
        }
        let mut sync = WriteOptions::default();
        sync.set_sync(true);
        self.db.write_opt(wb, &sync)?;
        let mut payload = Vec::new();
        encode_tombstones(&mut payload, &stones);
        let (lsn, _) = self.wal.append(&[(REC_TOMBSTONE, payload.as_slice())])?;
        self.wal.sync_to(lsn)?;
        self.remove_empty_series(stones.iter().map(|s| s.0))?;
        Ok(stones.len() as u64)
    }

    /// Deletes the sealed data of series `r` in `[mint, maxt]` from every tier (adding to `wb`): raw chunks
    /// inside the range go, chunks straddling it are rewritten; windows of downsampled tiers that meet the
    /// range go. A range covering all of the series' data becomes one range delete per partition.
    pub(super) fn delete_sealed(
        &self,
        r: u64,
        s: &mut HeadSeries,
        mint: i64,
        maxt: i64,
        wb: &mut WriteBatch,
    ) -> Result<()> {
        if s.sealed_chunks == 0 {
            return Ok(());
        }
        let full = mint <= s.min_data_t && maxt >= s.max_data_t;
        for p in self.partitions.all() {
            if p.start > maxt || p.end() <= mint {
                continue;
            }
            let Some(cf) = self.db.cf_handle(&p.name) else { continue };
            if full {
                wb.delete_range_cf(
                    &cf,
                    ChunkKey::series_prefix(p.tier, s.group, r).to_vec(),
                    ChunkKey::series_end(p.tier, s.group, r),
                );
            } else if p.tier == TIER_RAW {
                self.delete_raw_chunks(&cf, r, s, mint, maxt, wb)?;
            } else {
                self.delete_windows(
                    p.tier,
                    (s.group, r),
                    mint.max(p.start),
                    maxt.min(p.end().saturating_sub(1)),
                    wb,
                )?;
            }
        }
        if full {
            s.sealed_chunks = 0;
        }
        Ok(())
    }

    /// The raw part of [`Storage::delete_sealed`] for one partition.
    fn delete_raw_chunks(
        &self,
        cf: &std::sync::Arc<rocksdb::BoundColumnFamily<'_>>,
        r: u64,
        s: &mut HeadSeries,
        mint: i64,
        maxt: i64,
        wb: &mut WriteBatch,
    ) -> Result<()> {
        let mut ro = rocksdb::ReadOptions::default();
        ro.set_iterate_upper_bound(ChunkKey::series_end(TIER_RAW, s.group, r));
        let mut it = self.db.raw_iterator_cf_opt(cf, ro);
        it.seek(ChunkKey::lower_bound(TIER_RAW, s.group, r, mint));
        let stop = maxt.saturating_add(MAX_CHUNK_SPAN_MS);
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        while it.valid() {
            let (Some(k), Some(v)) = (it.key(), it.value()) else {
                break;
            };
            let Ok(key) = ChunkKey::decode(k) else {
                it.next();
                continue;
            };
            if key.series != r || key.max_t > stop {
                break;
            }
            let min_t = match chunk_meta(v) {
                Ok(m) => m.min_t,
                Err(e) => {
                    tracing::warn!(series = r, chunk_max_t = key.max_t, error = %e, "delete: skipping corrupt chunk");
                    it.next();
                    continue;
                }
            };
            if min_t > maxt {
                it.next();
                continue;
            }
            wb.delete_cf(cf, k);
            if min_t >= mint && key.max_t <= maxt {
                s.sealed_chunks = s.sealed_chunks.saturating_sub(1);
            } else {
                ts.clear();
                vs.clear();
                decode_chunk(v, &mut ts, &mut vs)?;
                let (kts, kvs): (Vec<i64>, Vec<f64>) = ts
                    .iter()
                    .zip(&vs)
                    .filter(|(t, _)| **t < mint || **t > maxt)
                    .map(|(t, v)| (*t, *v))
                    .unzip();
                match kts.last() {
                    Some(&last) => {
                        let nk = ChunkKey { max_t: last, ..key };
                        wb.put_cf(cf, nk.encode(), encode_chunk(&kts, &kvs)?);
                    }
                    None => s.sealed_chunks = s.sealed_chunks.saturating_sub(1),
                }
            }
            it.next();
        }
        it.status()?;
        Ok(())
    }

    /// Removes series without any data left from the head, the index, the series-ref cache and the `series`
    /// column family, and records the next ref so that removed refs are never reused. Called under the append lock.
    pub(super) fn remove_empty_series(&self, candidates: impl Iterator<Item = u64>) -> Result<()> {
        let mut gone = Vec::new();
        for r in candidates {
            let mut shard = self.head.shard(r).write();
            if shard.get(&r).is_some_and(|s| !s.has_data()) {
                shard.remove(&r);
                gone.push(r);
            }
        }
        if gone.is_empty() {
            return Ok(());
        }
        let series_cf = self.cf(CF_SERIES)?;
        let mut wb = WriteBatch::default();
        {
            let mut idx = self.index.write();
            for &r in &gone {
                idx.remove(SeriesRef(r));
                wb.delete_cf(&series_cf, series_key(r));
            }
        }
        // Hits are checked against the index, so stale entries could not be used; dropping them keeps the
        // cache from holding refs that no longer exist.
        self.ref_cache.write().clear();
        let next = self.next_ref.load(Ordering::Relaxed);
        wb.put_cf(&self.cf(CF_META)?, META_NEXT_REF_KEY, next.to_be_bytes());
        let mut sync = WriteOptions::default();
        sync.set_sync(true);
        self.db.write_opt(wb, &sync)?;
        Ok(())
    }
}
