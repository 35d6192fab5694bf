//! The downsampler: raw data becomes 5-minute windows, 5-minute windows become 1-hour windows.
//!
//! Sealing raw chunks marks the series' time range dirty for the 5 m tier (persisted in the meta column
//! family in the same write batch, so a crash loses no mark); writing 5 m windows marks the 1 h tier dirty.
//! A pass recomputes the dirty windows of each series from the finer data (head included, so a window is
//! right as soon as it is computed; later samples dirty it again) plus the window after them, whose counter
//! increase starts from their last value. After a pass, each tier is complete up to a watermark: the oldest
//! unsealed head sample, and at most ten minutes before now, floored to the tier's resolution.

use std::sync::atomic::{AtomicI64, Ordering};

use parking_lot::Mutex;
use rocksdb::WriteBatch;

use super::marks::Dirty;
use super::{Storage, now_ms};
use crate::db::keys::{ChunkKey, TIER_RAW};
use crate::db::partition::{TIER_1H, TIER_5M, align_down, partition_start, tier};
use crate::db::{CF_META, Db};
use crate::error::Result;
use crate::index::hash::FxMap;
use crate::tier::{
    Columns, WindowAgg, aggregate_raw, aggregate_windows, decode_block, decode_block_columns, encode_block,
};

/// Meta key prefix of a retention horizon: `horizon/` + tier byte → i64 BE.
const HORIZON_PREFIX: &[u8] = b"horizon/";
/// A background pass runs at most this often (a flush always runs one).
const PASS_INTERVAL_MS: i64 = 60_000;
/// Windows this close to now are left to the raw tier in queries: late samples may still arrive.
const SETTLE_MS: i64 = 10 * 60_000;
/// How many blocks back a pass looks for the value before a dirty range.
const PREV_BLOCKS: i64 = 4;

/// Splits dirty ranges at `limit`: the parts before it (to recompute now) and the parts from it on (left
/// dirty until their blocks are complete).
fn split_at_limit(map: FxMap<u64, (i64, i64)>, limit: i64) -> (Vec<(u64, (i64, i64))>, FxMap<u64, (i64, i64)>) {
    let mut now = Vec::with_capacity(map.len());
    let mut later = FxMap::default();
    for (r, (lo, hi)) in map {
        if lo < limit {
            now.push((r, (lo, hi.min(limit - 1))));
        }
        if hi >= limit {
            later.insert(r, (lo.max(limit), hi));
        }
    }
    (now, later)
}

/// Downsampling and retention state of the engine.
pub(super) struct TierState {
    /// Dirty ranges and their persisted log.
    pub(super) dirty: Mutex<Dirty>,
    /// Per tier: every window that ends before this time is in the tier (`i64::MAX` for raw).
    pub complete_to: [AtomicI64; 3],
    /// Per tier: data before this time was dropped by retention.
    pub horizon: [AtomicI64; 3],
    /// Serialises passes (background and flush).
    pass: Mutex<()>,
    last_pass_ms: AtomicI64,
}

/// The meta key of tier `tier`'s retention horizon.
pub(super) fn horizon_key(tier: u8) -> Vec<u8> {
    let mut k = HORIZON_PREFIX.to_vec();
    k.push(tier);
    k
}

impl TierState {
    /// Loads dirty ranges and horizons from the meta column family.
    pub fn load(db: &Db) -> Result<TierState> {
        let meta = crate::db::cf(db, CF_META)?;
        let dirty = Dirty::load(db, &meta)?;
        let horizon = [0u8, 1, 2].map(|t| {
            let v = db
                .get_cf(&meta, horizon_key(t))
                .ok()
                .flatten()
                .and_then(|v| Some(i64::from_be_bytes(v.get(..8)?.try_into().ok()?)));
            AtomicI64::new(v.unwrap_or(i64::MIN))
        });
        Ok(TierState {
            dirty: Mutex::new(dirty),
            complete_to: [
                AtomicI64::new(i64::MAX),
                AtomicI64::new(i64::MIN),
                AtomicI64::new(i64::MIN),
            ],
            horizon,
            pass: Mutex::new(()),
            last_pass_ms: AtomicI64::new(i64::MIN),
        })
    }

    /// Whether a background pass is due.
    pub fn downsample_due(&self, now: i64) -> bool {
        now.saturating_sub(self.last_pass_ms.load(Ordering::Relaxed)) >= PASS_INTERVAL_MS
    }
}

impl Storage {
    /// Runs a downsampling pass over everything dirty, then moves the watermarks.
    pub fn downsample(&self) -> Result<()> {
        let _pass = self.tiers.pass.lock();
        let now = now_ms();
        self.tiers.last_pass_ms.store(now, Ordering::Relaxed);
        let watermark = self.oldest_unsealed().min(now.saturating_sub(SETTLE_MS));
        // The 5 m tier writes a block once the block's whole span is settled and sealed, and then once
        // more only if late data dirties it: a block is not rewritten at every pass while its span fills,
        // and data of the last hours is served by raw chunks, which a query reads as cheaply there. The
        // 1 h tier follows the 5 m tier's complete windows.
        let complete_5m = align_down(watermark, tier(TIER_5M).block_ms);
        for t in [TIER_5M, TIER_1H] {
            let limit = if t == TIER_5M { complete_5m } else { i64::MAX };
            let work: Vec<(u64, (i64, i64))> = {
                let mut dirty = self.tiers.dirty.lock();
                let Some(map) = dirty.maps.get_mut(usize::from(t) - 1) else {
                    continue;
                };
                let (now_work, later) = split_at_limit(std::mem::take(map), limit);
                *map = later;
                now_work
            };
            // In chunk key order (metric group, then ref), so that each batch's iterators seek forward. The
            // groups are looked up once the dirty map's lock is released: a seal marks series dirty while
            // holding their head shard's lock.
            let mut work: Vec<(Option<u32>, (u64, (i64, i64)))> =
                work.into_iter().map(|e| (self.series_group(e.0), e)).collect();
            work.sort_unstable_by_key(|&(g, (r, _))| (g, r));
            let work: Vec<(u64, (i64, i64))> = work.into_iter().map(|(_, e)| e).collect();
            for chunk in work.chunks(256) {
                self.downsample_batch(t, chunk, limit)?;
            }
            let finer_done = if t == TIER_5M {
                complete_5m
            } else {
                self.tiers.complete_to[usize::from(TIER_5M)].load(Ordering::Relaxed)
            };
            let done = align_down(finer_done, tier(t).resolution_ms);
            self.tiers.complete_to[usize::from(t)].store(done, Ordering::Relaxed);
        }
        self.snapshot_marks(false)
    }

    /// The oldest sample still in the head (`i64::MAX` when everything is sealed).
    fn oldest_unsealed(&self) -> i64 {
        let mut oldest = i64::MAX;
        for shard in self.head.shards() {
            for s in shard.read().values() {
                if let Some(t) = s.chunk.first_t() {
                    oldest = oldest.min(t);
                }
                if let Some(&(t, _)) = s.ooo.first() {
                    oldest = oldest.min(t);
                }
            }
        }
        oldest
    }

    /// Recomputes the dirty windows (below `limit`) of a batch of series in tier `t` and writes them in one
    /// batch, clearing the dirty marks that were not renewed meanwhile and marking the next tier.
    fn downsample_batch(&self, t: u8, work: &[(u64, (i64, i64))], limit: i64) -> Result<()> {
        let spec = tier(t);
        let res = spec.resolution_ms;
        let finer = t - 1;
        let floor = self.tiers.horizon[usize::from(finer)].load(Ordering::Relaxed);
        let mut wb = WriteBatch::default();
        let mut next_marks = Vec::new();
        let mut g = super::read::Gather::default();
        // One set of raw iterators for the batch (series come in ref order, each seeks forward), spanning
        // every series' range, instead of new iterators per series.
        let span = work.iter().fold((i64::MAX, i64::MIN), |(a, b), &(_, (lo, hi))| {
            (
                a.min(align_down(lo, res)),
                b.max(align_down(hi, res).saturating_add(2 * res)),
            )
        });
        let mut cur = (finer == TIER_RAW && span.0 < span.1)
            .then(|| super::read::Cursors::with_cache(self, span.0, span.1 - 1, false));
        for &(r, (lo, hi)) in work {
            // The window after the range too: its increase starts from the range's last value.
            let from = align_down(lo, res).max(floor);
            let to = align_down(hi, res).saturating_add(2 * res).min(limit);
            if from >= to {
                continue;
            }
            // A series removed meanwhile has no data left, in any tier.
            let Some(group) = self.series_group(r) else { continue };
            let windows = if let Some(cur) = cur.as_mut() {
                let prev = self.prev_last(t, (group, r), from)?;
                match self.read_series(r, from, to - 1, &mut g, cur)? {
                    Some((ts, vs)) => aggregate_raw(&ts, &vs, res, prev),
                    None => Vec::new(),
                }
            } else {
                aggregate_windows(
                    &self.read_windows(finer, (group, r), from, to, Columns::ALL, false)?,
                    res,
                )
            };
            self.replace_windows(t, (group, r), from, to, &windows, &mut wb)?;
            next_marks.push((r, from, to - 1));
        }
        // The 1 h marks and the 5 m windows that cause them go in one batch. The recomputed ranges' marks
        // stay persisted until the pass's snapshot replaces them: a crash before it redoes them.
        let mut dirty = self.tiers.dirty.lock();
        if t == TIER_5M {
            self.mark_locked(&mut dirty, &mut wb, TIER_1H, &next_marks)?;
        }
        self.db.write(wb)?;
        Ok(())
    }

    /// The key of the block of tier `t` holding window start `start`.
    fn block_key(t: u8, (group, r): (u32, u64), start: i64) -> ChunkKey {
        let block = tier(t).block_ms;
        ChunkKey {
            tier: t,
            group,
            series: r,
            max_t: align_down(start, block).saturating_add(block - 1),
            seq: 0,
        }
    }

    /// Reads one block (`None` when absent; a corrupt block is logged and treated as absent).
    fn read_block(&self, t: u8, (group, r): (u32, u64), start: i64) -> Result<Option<Vec<WindowAgg>>> {
        let name = crate::db::partition::partition_name(tier(t), partition_start(tier(t), start));
        let Some(cf) = self.db.cf_handle(&name) else {
            return Ok(None);
        };
        let key = Self::block_key(t, (group, r), start);
        let Some(bytes) = self
            .db
            .get_pinned_cf_opt(&cf, key.encode(), &super::read::read_options(false))?
        else {
            return Ok(None);
        };
        let mut out = Vec::new();
        match decode_block(&bytes, &mut out) {
            Ok(()) => Ok(Some(out)),
            Err(e) => {
                self.counters.corrupt_chunks.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(series = r, tier = tier(t).name, block_end = key.max_t, error = %e, "corrupt tier block: recomputing it");
                Ok(None)
            }
        }
    }

    /// The last value before `from` in tier `t` (looking a few blocks back), as the start of the next
    /// window's counter increase.
    fn prev_last(&self, t: u8, id: (u32, u64), from: i64) -> Result<Option<f64>> {
        let block = tier(t).block_ms;
        let mut start = align_down(from.saturating_sub(1), block);
        for _ in 0..PREV_BLOCKS {
            if let Some(ws) = self.read_block(t, id, start)?
                && let Some(w) = ws.iter().rev().find(|w| w.t < from)
            {
                return Ok(Some(w.last));
            }
            start = start.saturating_sub(block);
        }
        Ok(None)
    }

    /// Replaces the windows of series `r` in tier `t` whose start lies in `[from, to)` by `windows`.
    fn replace_windows(
        &self,
        t: u8,
        id: (u32, u64),
        from: i64,
        to: i64,
        windows: &[WindowAgg],
        wb: &mut WriteBatch,
    ) -> Result<()> {
        let spec = tier(t);
        let (res, block) = (spec.resolution_ms, spec.block_ms);
        let mut start = align_down(from, block);
        while start < to {
            let end = start.saturating_add(block);
            let inside = |w: &WindowAgg| {
                let s = align_down(w.t, res);
                s >= from && s < to
            };
            let existing = self.read_block(t, id, start)?.unwrap_or_default();
            let mut merged: Vec<WindowAgg> = existing.into_iter().filter(|w| !inside(w)).collect();
            merged.extend(windows.iter().filter(|w| w.t >= start && w.t < end).copied());
            merged.sort_by_key(|w| w.t);
            let key = Self::block_key(t, id, start).encode();
            if merged.is_empty() {
                if let Some(cf) = self.db.cf_handle(&crate::db::partition::partition_name(
                    spec,
                    partition_start(spec, start),
                )) {
                    wb.delete_cf(&cf, key);
                }
            } else {
                let cf = self.partitions.get_or_create(&self.db, t, start)?;
                wb.put_cf(&cf, key, encode_block(&merged)?);
            }
            start = end;
        }
        Ok(())
    }

    /// The windows of series `r` in tier `t` whose timestamps lie in `[from, to)`, in order; the blocks
    /// read go into the block cache when `fill_cache`.
    pub(super) fn read_windows(
        &self,
        t: u8,
        (group, r): (u32, u64),
        from: i64,
        to: i64,
        need: Columns,
        fill_cache: bool,
    ) -> Result<Vec<WindowAgg>> {
        let mut out = Vec::new();
        if from >= to {
            return Ok(out);
        }
        let block = tier(t).block_ms;
        for p in self.partitions.overlapping(t, from, to - 1) {
            let Ok(cf) = crate::db::cf_named(&self.db, &p.name) else {
                continue;
            };
            let mut ro = super::read::read_options(fill_cache);
            ro.set_iterate_upper_bound(ChunkKey::series_end(t, group, r));
            let mut it = self.db.raw_iterator_cf_opt(&cf, ro);
            it.seek(ChunkKey::lower_bound(t, group, r, from));
            while it.valid() {
                let (Some(k), Some(v)) = (it.key(), it.value()) else {
                    break;
                };
                match ChunkKey::decode(k) {
                    Ok(key) if key.series == r && key.group == group && key.tier == t => {
                        if key.max_t.saturating_sub(block - 1) >= to {
                            break;
                        }
                        if let Err(e) = decode_block_columns(v, need, &mut out) {
                            self.counters.corrupt_chunks.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(series = r, tier = tier(t).name, block_end = key.max_t, error = %e, "skipping corrupt tier block");
                        }
                    }
                    Ok(_) => break,
                    Err(e) => tracing::warn!(series = r, error = %e, "skipping a malformed tier key"),
                }
                it.next();
            }
            it.status()?;
        }
        out.retain(|w| w.t >= from && w.t < to);
        Ok(out)
    }

    /// Deletes the windows of series `r` in tier `t` that meet `[mint, maxt]` (adding to `wb`).
    pub(super) fn delete_windows(
        &self,
        t: u8,
        id: (u32, u64),
        mint: i64,
        maxt: i64,
        wb: &mut WriteBatch,
    ) -> Result<()> {
        let spec = tier(t);
        let (res, block) = (spec.resolution_ms, spec.block_ms);
        let mut start = align_down(mint, block);
        while start <= maxt {
            if let Some(existing) = self.read_block(t, id, start)? {
                let kept: Vec<WindowAgg> = existing
                    .iter()
                    .copied()
                    .filter(|w| {
                        let ws = align_down(w.t, res);
                        ws > maxt || ws.saturating_add(res) <= mint
                    })
                    .collect();
                if kept.len() != existing.len() {
                    let cf = self.partitions.get_or_create(&self.db, t, start)?;
                    let key = Self::block_key(t, id, start).encode();
                    if kept.is_empty() {
                        wb.delete_cf(&cf, key);
                    } else {
                        wb.put_cf(&cf, key, encode_block(&kept)?);
                    }
                }
            }
            start = match start.checked_add(block) {
                Some(s) => s,
                None => break,
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{FsyncPolicy, Labels, Sample, StorageOptions, WriteSeries};

    fn cache_usage(st: &Storage, tier_id: u8) -> u64 {
        st.partitions
            .all()
            .into_iter()
            .filter(|p| p.tier == tier_id)
            .filter_map(|p| st.db.cf_handle(&p.name))
            .map(|cf| {
                st.db
                    .property_int_value_cf(&cf, "rocksdb.block-cache-usage")
                    .unwrap()
                    .unwrap()
            })
            .sum()
    }

    /// A pass reads every dirty series' raw chunks and tier blocks once: through the block cache it would
    /// grow the server's memory by the cache's size (and evict what queries use).
    #[test]
    fn a_pass_leaves_the_block_cache_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = StorageOptions::new(dir.path());
        o.wal_fsync = FsyncPolicy::Never;
        let st = Storage::open(o).unwrap();
        // A day-old hour of 15 s samples, on a block boundary, for 200 series.
        let day = 24 * 3_600_000;
        let start = align_down(now_ms() - day, tier(TIER_5M).block_ms);
        let batch: Vec<WriteSeries> = (0..200)
            .map(|i| WriteSeries {
                labels: Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]),
                samples: (0..240)
                    .map(|k| Sample {
                        t: start + k * 15_000,
                        v: (i * k) as f64,
                    })
                    .collect(),
            })
            .collect();
        st.append(&batch).unwrap();
        st.flush().unwrap(); // seals, downsamples, and puts the chunks and blocks into SST files
        let (empty_raw, empty_5m) = (cache_usage(&st, TIER_RAW), cache_usage(&st, TIER_5M));
        // Dirty the 5 m windows again: the next pass reads raw chunks (now in SST files) and the blocks it
        // replaces.
        let refs: Vec<(u64, i64, i64)> = st
            .head
            .shards()
            .iter()
            .flat_map(|s| s.read().keys().copied().collect::<Vec<_>>())
            .map(|r| (r, start, start + 3_600_000))
            .collect();
        assert_eq!(refs.len(), 200);
        st.write_marking_dirty(WriteBatch::default(), TIER_5M, &refs).unwrap();
        st.downsample().unwrap();
        assert_eq!(
            st.tiers.dirty.lock().maps.first().map(FxMap::len),
            Some(0),
            "the pass did its work"
        );
        assert_eq!(cache_usage(&st, TIER_RAW), empty_raw, "raw chunks read by the pass");
        assert_eq!(cache_usage(&st, TIER_5M), empty_5m, "5m blocks read by the pass");
        // A query's reads do fill the cache.
        let sorted: Vec<u64> = {
            let mut v: Vec<u64> = refs.iter().map(|x| x.0).collect();
            v.sort_unstable();
            v
        };
        let read = st.read_raw_refs(&sorted, &[(start, start + 3_600_000)], false).unwrap();
        assert_eq!(read.len(), 200);
        assert!(cache_usage(&st, TIER_RAW) > empty_raw, "a query's reads are cached");
    }
}
