//! The read path: index select, then per series a merge of sealed chunks, the head chunk and the
//! out-of-order buffer, deduplicated (newest write wins) and clipped to `[mint, maxt]`.

use rayon::prelude::*;
use rocksdb::ReadOptions;

use super::{MAX_CHUNK_SPAN_MS, Storage};
use crate::chunk::{chunk_meta, decode_chunk};
use crate::db::keys::{ChunkKey, SERIES_PREFIX_LEN, TIER_RAW};
use crate::error::Result;
use crate::index::SeriesRef;
use crate::labels::Labels;
use crate::matcher::LabelMatcher;
use crate::read::{SeriesData, SeriesReader};

/// Merge rank of the open head chunk: above every sealed chunk (whose rank is its seal sequence number).
const HEAD_CHUNK_RANK: u64 = u64::MAX - 1;
/// Merge rank of the out-of-order buffer: the newest data of all.
const OOO_RANK: u64 = u64::MAX;
/// Selections of at least twice this many series are read in parallel parts of about this size.
const PARALLEL_PART_REFS: usize = 128;

/// How many parts a selection of `refs` series is read in (1: sequentially).
pub(super) fn parallel_parts(refs: usize) -> usize {
    (refs / PARALLEL_PART_REFS).clamp(1, rayon::current_num_threads() * 4)
}

/// A sorted run of samples inside [`Gather`]'s columns.
#[derive(Clone, Copy)]
struct Run {
    start: usize,
    end: usize,
    rank: u64,
}

/// Collects the runs of one series into two columns; reused buffers avoid per-chunk allocation.
#[derive(Default)]
pub(super) struct Gather {
    ts: Vec<i64>,
    vs: Vec<f64>,
    runs: Vec<Run>,
    scratch_ts: Vec<i64>,
    scratch_vs: Vec<f64>,
    merge: Vec<(i64, u64, usize)>,
}

/// One RocksDB iterator per raw partition meeting a time range, reused across the series of a selection:
/// series are read in ref order, so each iterator only ever seeks forward (creating an iterator per
/// series and partition costs more than reading a small series).
pub(super) struct Cursors<'a> {
    its: Vec<Cursor<'a>>,
    /// The seal epoch before the iterators were opened: chunks of a series whose
    /// [`HeadSeries::sealed_epoch`](crate::head::HeadSeries::sealed_epoch) is at most this are visible.
    epoch: u64,
    mint: i64,
    maxt: i64,
    /// Whether blocks read go into RocksDB's block cache (a background pass reads each block once: it
    /// should neither grow the cache nor evict what queries use).
    fill_cache: bool,
}

/// A RocksDB iterator over one raw partition, and what it last read.
pub(super) struct Cursor<'a> {
    it: rocksdb::DBRawIteratorWithThreadMode<'a, crate::db::Db>,
    /// The key prefix of the series last scanned, when every key the iterator stepped over since its last
    /// seek was that series': it then stands on the first key after them, where a seek to any later
    /// series' first wanted key also lands if that key is not past it. Series of one metric are
    /// neighbours in key order, so a selection mostly walks from one to the next without seeking.
    after: Option<[u8; SERIES_PREFIX_LEN]>,
}

impl<'a> Cursors<'a> {
    /// Iterators over the raw partitions that meet `[mint, maxt]` (a partition dropped meanwhile is skipped).
    pub(super) fn new(st: &'a Storage, mint: i64, maxt: i64) -> Cursors<'a> {
        Self::with_cache(st, mint, maxt, true)
    }

    /// Like [`Cursors::new`], choosing whether read blocks fill the block cache.
    pub(super) fn with_cache(st: &'a Storage, mint: i64, maxt: i64, fill_cache: bool) -> Cursors<'a> {
        let epoch = st.seal_epoch.load(std::sync::atomic::Ordering::SeqCst);
        let its = st
            .partitions
            .overlapping(TIER_RAW, mint, maxt)
            .into_iter()
            .filter_map(|p| st.db.cf_handle(&p.name))
            .map(|cf| Cursor {
                it: st.db.raw_iterator_cf_opt(&cf, read_options(fill_cache)),
                after: None,
            })
            .collect();
        Cursors {
            its,
            epoch,
            mint,
            maxt,
            fill_cache,
        }
    }
}

impl Gather {
    /// Makes the sorted samples appended to the columns since length `start` a run, clipped to
    /// `[mint, maxt]`: chunks decode straight into the columns, and only an edge chunk moves anything.
    fn push_appended(&mut self, start: usize, mint: i64, maxt: i64, rank: u64) {
        let (lo, hi) = match self.ts.get(start..) {
            Some(ts) => (ts.partition_point(|&t| t < mint), ts.partition_point(|&t| t <= maxt)),
            None => (0, 0),
        };
        let end = start + hi.min(self.vs.len().saturating_sub(start));
        self.ts.truncate(end);
        self.vs.truncate(end);
        if lo > 0 {
            let cut = (start + lo).min(end);
            self.ts.drain(start..cut);
            self.vs.drain(start..cut);
        }
        if self.ts.len() > start {
            self.runs.push(Run {
                start,
                end: self.ts.len(),
                rank,
            });
        }
    }

    /// Adds the scratch columns (sorted) as a run, clipped to `[mint, maxt]`.
    fn push_scratch(&mut self, mint: i64, maxt: i64, rank: u64) {
        let start = self.ts.len();
        self.ts.extend_from_slice(&self.scratch_ts);
        self.vs.extend_from_slice(&self.scratch_vs);
        self.push_appended(start, mint, maxt, rank);
    }

    fn first(&self, r: &Run) -> i64 {
        self.ts.get(r.start).copied().unwrap_or(i64::MIN)
    }

    fn last(&self, r: &Run) -> i64 {
        self.ts.get(r.end.wrapping_sub(1)).copied().unwrap_or(i64::MAX)
    }

    /// Merges the runs into strictly increasing columns; for a timestamp in several runs the highest rank wins.
    fn finish(&mut self) -> (Vec<i64>, Vec<f64>) {
        let in_order = self.runs.windows(2).all(|w| match (w.first(), w.get(1)) {
            (Some(a), Some(b)) => self.last(a) < self.first(b),
            _ => true,
        });
        if in_order {
            self.runs.clear();
            // The next series of a selection is most likely as long as this one: its columns start with
            // that room, instead of growing chunk by chunk (each growth a copy, and fresh pages faulted in).
            let n = self.ts.len();
            let mut ts = std::mem::replace(&mut self.ts, Vec::with_capacity(n));
            let mut vs = std::mem::replace(&mut self.vs, Vec::with_capacity(n));
            // Room left from a longer predecessor is given back.
            if ts.capacity() > 2 * n + 64 {
                ts.shrink_to_fit();
                vs.shrink_to_fit();
            }
            return (ts, vs);
        }
        self.merge.clear();
        for run in &self.runs {
            for i in run.start..run.end {
                self.merge.push((self.ts.get(i).copied().unwrap_or(0), run.rank, i));
            }
        }
        self.merge.sort_unstable_by_key(|&(t, rank, _)| (t, rank));
        let mut ts = Vec::with_capacity(self.merge.len());
        let mut vs = Vec::with_capacity(self.merge.len());
        let mut iter = self.merge.iter().peekable();
        while let Some(&(t, _, i)) = iter.next() {
            if iter.peek().is_some_and(|n| n.0 == t) {
                continue;
            }
            ts.push(t);
            vs.push(self.vs.get(i).copied().unwrap_or(f64::NAN));
        }
        self.ts.clear();
        self.vs.clear();
        self.runs.clear();
        (ts, vs)
    }
}

impl Storage {
    /// Refs matching the matchers whose (approximate) data range meets `[mint, maxt]`, in chunk key order:
    /// by metric group, then ref. A small selection looks each series up; a large one (or all series) walks
    /// the head shards once instead.
    pub(super) fn refs_in_range(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Vec<u64> {
        const LOOKUPS: u64 = 4096;
        let selected = (!matchers.is_empty()).then(|| self.index.read().select_bitmap(matchers));
        let mut keyed: Vec<(u32, u64)> = match &selected {
            Some(bm) if bm.len() < LOOKUPS => bm
                .iter()
                .map(u64::from)
                .filter_map(|r| {
                    let shard = self.head.shard(r).read();
                    let s = shard.get(&r).filter(|s| s.overlaps(mint, maxt))?;
                    Some((s.group, r))
                })
                .collect(),
            _ => {
                let mut v = Vec::new();
                for shard in self.head.shards() {
                    for (&r, s) in shard.read().iter() {
                        let wanted = selected
                            .as_ref()
                            .is_none_or(|bm| u32::try_from(r).is_ok_and(|r| bm.contains(r)));
                        if wanted && s.overlaps(mint, maxt) {
                            v.push((s.group, r));
                        }
                    }
                }
                v
            }
        };
        keyed.sort_unstable();
        keyed.into_iter().map(|(_, r)| r).collect()
    }

    /// Raw samples of the series `refs` (in key order, as `refs_in_range` gives them) in one or more
    /// disjoint, increasing time ranges (several when a tier-aware selection skips a gap no tier fills), in
    /// label order; series without samples there are left out. With `newest_only`, each series keeps only its
    /// newest sample in the ranges (what an instant vector selector of an instant query uses), which the head
    /// often answers without decoding anything.
    pub(super) fn read_raw_refs(
        &self,
        refs: &[u64],
        ranges: &[(i64, i64)],
        newest_only: bool,
    ) -> Result<Vec<SeriesData>> {
        // Large selections are read by all cores: each part of the refs (in key order) gets its own
        // iterators, so every iterator still only seeks forward.
        let parts = parallel_parts(refs.len());
        let part_len = refs.len().div_ceil(parts).max(1);
        let read: Vec<(u64, SeriesData)> = if parts == 1 {
            self.read_part(refs, ranges, newest_only)?
        } else {
            let read: Result<Vec<Vec<(u64, SeriesData)>>> = refs
                .par_chunks(part_len)
                .map(|part| self.read_part(part, ranges, newest_only))
                .collect();
            read?.into_iter().flatten().collect()
        };
        Ok(self.in_label_order(read))
    }

    /// Puts series read into label-set order.
    pub(super) fn in_label_order(&self, read: Vec<(u64, SeriesData)>) -> Vec<SeriesData> {
        let sorted = self.index.read().in_label_order(read, |(r, _)| *r);
        sorted.into_iter().map(|(_, d)| d).collect()
    }

    /// Reads the series `refs` (in key order, as `refs_in_range` gives them) in `ranges` with one set of
    /// iterators; series without samples there are left out.
    fn read_part(&self, refs: &[u64], ranges: &[(i64, i64)], newest_only: bool) -> Result<Vec<(u64, SeriesData)>> {
        let mut g = Gather::default();
        let mut cursors: Vec<Cursors<'_>> = ranges.iter().map(|&(lo, hi)| Cursors::new(self, lo, hi)).collect();
        let mut out = Vec::with_capacity(refs.len());
        for (r, labels) in self.labels_of(refs) {
            let mut data = SeriesData {
                labels,
                ..Default::default()
            };
            if newest_only && let Some(newest) = self.head_newest(r, ranges) {
                if let Some((t, v)) = newest {
                    data.timestamps.push(t);
                    data.values.push(v);
                    out.push((r, data));
                }
                continue;
            }
            for (&(lo, hi), cur) in ranges.iter().zip(cursors.iter_mut()) {
                if let Some((ts, vs)) = self.read_series(r, lo, hi, &mut g, cur)? {
                    if data.timestamps.is_empty() {
                        (data.timestamps, data.values) = (ts, vs);
                    } else {
                        data.timestamps.extend_from_slice(&ts);
                        data.values.extend_from_slice(&vs);
                    }
                }
            }
            if newest_only && data.timestamps.len() > 1 {
                let keep = data.timestamps.len() - 1;
                data.timestamps.drain(..keep);
                data.values.drain(..keep);
            }
            if !data.timestamps.is_empty() {
                out.push((r, data));
            }
        }
        Ok(out)
    }

    /// The newest sample of series `r` in `ranges` when the head alone can tell: `Some(None)` when the series
    /// has nothing there, `Some(Some(sample))` when its newest sample is inside and its value is known in
    /// memory, `None` when only a full read can tell (value unknown, or the newest sample after the ranges).
    fn head_newest(&self, r: u64, ranges: &[(i64, i64)]) -> Option<Option<(i64, f64)>> {
        let shard = self.head.shard(r).read();
        let s = shard.get(&r)?;
        let (&(mint, _), &(_, maxt)) = (ranges.first()?, ranges.last()?);
        if !s.overlaps(mint, maxt) {
            return Some(None);
        }
        // Every sample of the series is at or before `max_t`.
        let v = s.max_v?;
        if s.max_t > maxt || !ranges.iter().any(|&(lo, hi)| lo <= s.max_t && s.max_t <= hi) {
            // The newest sample is outside the ranges; an older one may be inside.
            return None;
        }
        Some(Some((s.max_t, v)))
    }

    /// The metric group of series `r`, `None` when it does not exist. Takes its head shard's read lock.
    pub(super) fn series_group(&self, r: u64) -> Option<u32> {
        self.head.shard(r).read().get(&r).map(|s| s.group)
    }

    pub(super) fn labels_of(&self, refs: &[u64]) -> Vec<(u64, Labels)> {
        let idx = self.index.read();
        refs.iter()
            .filter_map(|&r| idx.labels(SeriesRef(r)).map(|l| (r, l)))
            .collect()
    }

    /// The samples of series `r` in `[mint, maxt]`, merged from all sources; `None` when there are none.
    pub(super) fn read_series<'a>(
        &'a self,
        r: u64,
        mint: i64,
        maxt: i64,
        g: &mut Gather,
        cur: &mut Cursors<'a>,
    ) -> Result<Option<(Vec<i64>, Vec<f64>)>> {
        // Head first, then RocksDB: a chunk sealed in between is then seen twice (harmless, deduplicated)
        // rather than not at all. Chunks sealed after the iterators were opened (a later epoch) are not in
        // their view: the iterators are reopened before the series is scanned.
        let (has_sealed, sealed_epoch, group) = {
            let shard = self.head.shard(r).read();
            let Some(s) = shard.get(&r) else { return Ok(None) };
            if !s.overlaps(mint, maxt) {
                return Ok(None);
            }
            if !s.ooo.is_empty() {
                g.scratch_ts.clear();
                g.scratch_vs.clear();
                g.scratch_ts.extend(s.ooo.iter().map(|x| x.0));
                g.scratch_vs.extend(s.ooo.iter().map(|x| x.1));
                g.push_scratch(mint, maxt, OOO_RANK);
            }
            // The head chunk waits in the scratch columns and goes after the sealed chunks: its samples are
            // the newest, so the runs are then in time order and the columns are handed over as they are
            // (a head run first would have every series of a recent range merged sample by sample).
            g.scratch_ts.clear();
            g.scratch_vs.clear();
            if let (Some(first), Some(last)) = (s.chunk.first_t(), s.chunk.last_t())
                && first <= maxt
                && last >= mint
            {
                s.chunk.decode_into(&mut g.scratch_ts, &mut g.scratch_vs)?;
            }
            (s.sealed_chunks > 0, s.sealed_epoch, s.group)
        };
        if has_sealed {
            if sealed_epoch > cur.epoch {
                *cur = Cursors::with_cache(self, cur.mint, cur.maxt, cur.fill_cache);
            }
            for c in &mut cur.its {
                scan_partition(c, (group, r), mint, maxt, g, &self.counters.corrupt_chunks)?;
            }
        }
        g.push_scratch(mint, maxt, HEAD_CHUNK_RANK);
        let (ts, vs) = g.finish();
        Ok((!ts.is_empty()).then_some((ts, vs)))
    }
}

/// Read options that put the blocks read into the block cache, or not.
pub(super) fn read_options(fill_cache: bool) -> ReadOptions {
    let mut ro = ReadOptions::default();
    ro.fill_cache(fill_cache);
    ro
}

/// Whether a time range is the API's "no range given" (Prometheus' min and max time, or wider).
fn unbounded(mint: i64, maxt: i64) -> bool {
    const PROM_MIN_MS: i64 = -9_223_309_901_257_974;
    const PROM_MAX_MS: i64 = 9_223_309_901_257_974;
    mint <= PROM_MIN_MS && maxt >= PROM_MAX_MS
}

/// Keys of a series' chunks that a scan steps over before it seeks instead.
const STEPS_BEFORE_SEEK: usize = 4;

/// Adds the sealed chunks of series `r` (of metric group `group`) in one partition that meet `[mint, maxt]`.
/// Chunks are keyed by `max_t`: the scan starts at `max_t >= mint` and stops at the next series or once
/// `max_t` passes `maxt` by more than the longest chunk span. A chunk that fails its checksum or does not
/// decode is logged and skipped.
fn scan_partition(
    c: &mut Cursor<'_>,
    (group, r): (u32, u64),
    mint: i64,
    maxt: i64,
    g: &mut Gather,
    corrupt: &std::sync::atomic::AtomicU64,
) -> Result<()> {
    let target = ChunkKey::lower_bound(TIER_RAW, group, r, mint);
    let prefix = ChunkKey::series_prefix(TIER_RAW, group, r);
    // A seek lands on the first key at or after `target`. The iterator stands on the first key after the
    // previous series' keys (all below this series' prefix, so below `target`): when that key is not below
    // `target`, it is where the seek would land.
    let mut in_place = c.after.is_some_and(|p| p < prefix) && c.it.valid();
    // Standing on this series' older chunks (a query of its recent samples), a few steps forward cost less
    // than a seek, which seeks every sorted run of the partition.
    let mut steps = 0;
    while in_place {
        match c.it.key() {
            Some(k) if k >= target.as_slice() => break,
            Some(k) if k >= prefix.as_slice() && steps < STEPS_BEFORE_SEEK => {
                steps += 1;
                c.it.next();
                in_place = c.it.valid();
            }
            _ => in_place = false,
        }
    }
    if !in_place {
        c.it.seek(target);
    }
    c.after = Some(prefix);
    let stop = maxt.saturating_add(MAX_CHUNK_SPAN_MS);
    while c.it.valid() {
        let (Some(k), Some(v)) = (c.it.key(), c.it.value()) else {
            break;
        };
        let key = match ChunkKey::decode(k) {
            Ok(key) if key.series == r && key.group == group && key.tier == TIER_RAW => key,
            Ok(_) => break,
            Err(e) => {
                corrupt.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(series = r, error = %e, "skipping chunk with a malformed key");
                // A key of no known series was stepped over: the next series seeks.
                c.after = None;
                c.it.next();
                continue;
            }
        };
        if key.max_t > stop {
            break;
        }
        // A chunk ending after maxt may start after it too: read the header before decoding.
        let wanted = key.max_t <= maxt || chunk_meta(v).map(|m| m.min_t <= maxt).unwrap_or(true);
        if wanted {
            let start = g.ts.len();
            match decode_chunk(v, &mut g.ts, &mut g.vs) {
                Ok(()) => g.push_appended(start, mint, maxt, key.seq),
                Err(e) => {
                    corrupt.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::warn!(
                        series = r,
                        chunk_max_t = key.max_t,
                        seq = key.seq,
                        error = %e,
                        "skipping corrupt chunk"
                    );
                }
            }
        }
        c.it.next();
    }
    c.it.status()?;
    Ok(())
}

impl SeriesReader for Storage {
    fn select_hinted(
        &self,
        matchers: &[LabelMatcher],
        mint: i64,
        maxt: i64,
        hints: &crate::read::SelectHints,
    ) -> Result<crate::read::Selection> {
        if mint > maxt {
            return Ok(crate::read::Selection::default());
        }
        self.select_tiered(matchers, mint, maxt, hints)
    }

    fn select_batched(
        &self,
        matchers: &[LabelMatcher],
        mint: i64,
        maxt: i64,
        hints: &crate::read::SelectHints,
        batch: usize,
        f: &mut (dyn FnMut(crate::read::Selection) -> bool + Send),
    ) -> Result<()> {
        if mint > maxt {
            return Ok(());
        }
        // Batches are runs of the selection's refs in key order, so that consecutive batches read consecutive
        // key ranges (in label order, every batch would seek all over the partitions and read the same
        // blocks again); each is handed over in label order. The next batch is read while `f` takes the
        // current one.
        let segments = self.plan_selection(mint, maxt, hints);
        if segments.is_empty() {
            return Ok(());
        }
        let refs = self.refs_in_range(matchers, mint, maxt);
        let parts: Vec<&[u64]> = refs.chunks(batch.max(1)).collect();
        let read = |part: &[u64]| self.read_segments(part, &segments, hints);
        let mut next = parts.first().map(|p| read(p));
        for following in parts.iter().skip(1).map(Some).chain(std::iter::once(None)) {
            let Some(current) = next.take() else { break };
            let current = current?;
            let (go_on, read_next) = rayon::join(|| f(current), || following.map(|p| read(p)));
            if !go_on {
                break;
            }
            next = read_next;
        }
        Ok(())
    }

    fn select(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<SeriesData>> {
        if mint > maxt {
            return Ok(Vec::new());
        }
        let refs = self.refs_in_range(matchers, mint, maxt);
        self.read_raw_refs(&refs, &[(mint, maxt)], false)
    }

    /// Series whose approximate data range (per-series min/max time) meets the range; see
    /// `docs/format/rocksdb.md`, "Time ranges of series".
    fn series(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<Labels>> {
        if mint > maxt {
            return Ok(Vec::new());
        }
        let mut refs = self.refs_in_range(matchers, mint, maxt);
        self.index.read().sort_by_labels(&mut refs);
        Ok(self.labels_of(&refs).into_iter().map(|(_, l)| l).collect())
    }

    fn label_names(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<String>> {
        if mint > maxt {
            return Ok(Vec::new());
        }
        if matchers.is_empty() && unbounded(mint, maxt) {
            // Every series (each has data): the postings' own keys answer without touching series.
            return Ok(self.index.read().label_names(None));
        }
        let refs: Vec<SeriesRef> = self
            .refs_in_range(matchers, mint, maxt)
            .into_iter()
            .map(SeriesRef)
            .collect();
        let idx = self.index.read();
        let all = matchers.is_empty() && refs.len() == idx.len();
        Ok(idx.label_names((!all).then_some(refs.as_slice())))
    }

    fn label_values(&self, name: &str, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<String>> {
        if mint > maxt {
            return Ok(Vec::new());
        }
        if matchers.is_empty() && unbounded(mint, maxt) {
            return Ok(self.index.read().label_values(name, None));
        }
        let refs: Vec<SeriesRef> = self
            .refs_in_range(matchers, mint, maxt)
            .into_iter()
            .map(SeriesRef)
            .collect();
        let idx = self.index.read();
        let all = matchers.is_empty() && refs.len() == idx.len();
        Ok(idx.label_values(name, (!all).then_some(refs.as_slice())))
    }
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
