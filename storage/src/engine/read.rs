//! The read path: index select, then per series a merge of sealed chunks, the head chunk and the
//! out-of-order buffer, deduplicated (newest write wins) and clipped to `[mint, maxt]`.

use rocksdb::ReadOptions;

use super::{MAX_CHUNK_SPAN_MS, Storage};
use crate::chunk::{chunk_meta, decode_chunk};
use crate::db::keys::{ChunkKey, TIER_RAW};
use crate::error::Result;
use crate::index::SeriesRef;
use crate::labels::Labels;
use crate::matcher::LabelMatcher;
use crate::read::{SeriesData, SeriesReader};

/// Merge rank of the open head chunk: above every sealed chunk (whose rank is its seal sequence number).
const HEAD_CHUNK_RANK: u64 = u64::MAX - 1;
/// Merge rank of the out-of-order buffer: the newest data of all.
const OOO_RANK: u64 = u64::MAX;

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
    /// Raw partitions meeting the last scanned range `(mint, maxt)`, cached across the series of a select.
    parts: Option<((i64, i64), Vec<String>)>,
}

impl Gather {
    /// Adds the part of sorted `ts`/`vs` inside `[mint, maxt]` as one run.
    fn push_clipped(&mut self, ts: &[i64], vs: &[f64], mint: i64, maxt: i64, rank: u64) {
        let lo = ts.partition_point(|&t| t < mint);
        let hi = ts.partition_point(|&t| t <= maxt);
        let (Some(t), Some(v)) = (ts.get(lo..hi), vs.get(lo..hi)) else {
            return;
        };
        if t.is_empty() {
            return;
        }
        let start = self.ts.len();
        self.ts.extend_from_slice(t);
        self.vs.extend_from_slice(v);
        self.runs.push(Run {
            start,
            end: self.ts.len(),
            rank,
        });
    }

    /// Adds the scratch columns as a run.
    fn push_scratch(&mut self, mint: i64, maxt: i64, rank: u64) {
        let ts = std::mem::take(&mut self.scratch_ts);
        let vs = std::mem::take(&mut self.scratch_vs);
        self.push_clipped(&ts, &vs, mint, maxt, rank);
        self.scratch_ts = ts;
        self.scratch_vs = vs;
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
            return (std::mem::take(&mut self.ts), std::mem::take(&mut self.vs));
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
    /// Refs matching the matchers; all series when there are none.
    fn select_refs(&self, matchers: &[LabelMatcher]) -> Vec<u64> {
        let idx = self.index.read();
        let refs = if matchers.is_empty() {
            idx.all()
        } else {
            idx.select(matchers)
        };
        refs.into_iter().map(|r| r.0).collect()
    }

    /// Refs matching the matchers whose (approximate) data range meets `[mint, maxt]`, sorted.
    pub(super) fn refs_in_range(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Vec<u64> {
        let mut refs = self.select_refs(matchers);
        refs.retain(|&r| {
            self.head
                .shard(r)
                .read()
                .get(&r)
                .is_some_and(|s| s.overlaps(mint, maxt))
        });
        refs.sort_unstable();
        refs
    }

    pub(super) fn labels_of(&self, refs: &[u64]) -> Vec<(u64, Labels)> {
        let idx = self.index.read();
        refs.iter()
            .filter_map(|&r| idx.labels(SeriesRef(r)).map(|l| (r, l)))
            .collect()
    }

    /// The samples of series `r` in `[mint, maxt]`, merged from all sources; `None` when there are none.
    pub(super) fn read_series(
        &self,
        r: u64,
        mint: i64,
        maxt: i64,
        g: &mut Gather,
    ) -> Result<Option<(Vec<i64>, Vec<f64>)>> {
        // Head first, then RocksDB: a chunk sealed in between is then seen twice (harmless, deduplicated)
        // rather than not at all.
        let has_sealed = {
            let shard = self.head.shard(r).read();
            let Some(s) = shard.get(&r) else { return Ok(None) };
            if !s.overlaps(mint, maxt) {
                return Ok(None);
            }
            if let (Some(first), Some(last)) = (s.chunk.first_t(), s.chunk.last_t())
                && first <= maxt
                && last >= mint
            {
                g.scratch_ts.clear();
                g.scratch_vs.clear();
                s.chunk.decode_into(&mut g.scratch_ts, &mut g.scratch_vs)?;
                g.push_scratch(mint, maxt, HEAD_CHUNK_RANK);
            }
            if !s.ooo.is_empty() {
                g.scratch_ts.clear();
                g.scratch_vs.clear();
                g.scratch_ts.extend(s.ooo.iter().map(|x| x.0));
                g.scratch_vs.extend(s.ooo.iter().map(|x| x.1));
                g.push_scratch(mint, maxt, OOO_RANK);
            }
            s.sealed_chunks > 0
        };
        if has_sealed {
            self.scan_sealed(r, mint, maxt, g)?;
        }
        let (ts, vs) = g.finish();
        Ok((!ts.is_empty()).then_some((ts, vs)))
    }

    /// Adds the sealed chunks of series `r` that meet `[mint, maxt]`. Chunks are keyed by `max_t`: the scan
    /// starts at `max_t >= mint` and stops once `max_t` passes `maxt` by more than the longest chunk span.
    /// A chunk that fails its checksum or does not decode is logged and skipped.
    fn scan_sealed(&self, r: u64, mint: i64, maxt: i64, g: &mut Gather) -> Result<()> {
        let parts = match g.parts.take() {
            Some((range, names)) if range == (mint, maxt) => names,
            _ => self
                .partitions
                .overlapping(TIER_RAW, mint, maxt)
                .into_iter()
                .map(|p| p.name)
                .collect(),
        };
        let mut res = Ok(());
        for name in &parts {
            // A partition dropped by retention meanwhile simply has nothing left to read.
            let Some(cf) = self.db.cf_handle(name) else { continue };
            res = self.scan_partition(&cf, r, mint, maxt, g);
            if res.is_err() {
                break;
            }
        }
        g.parts = Some(((mint, maxt), parts));
        res
    }

    fn scan_partition(
        &self,
        cf: &std::sync::Arc<rocksdb::BoundColumnFamily<'_>>,
        r: u64,
        mint: i64,
        maxt: i64,
        g: &mut Gather,
    ) -> Result<()> {
        let mut ro = ReadOptions::default();
        ro.set_iterate_upper_bound(ChunkKey::series_end(TIER_RAW, r));
        let mut it = self.db.raw_iterator_cf_opt(cf, ro);
        it.seek(ChunkKey::lower_bound(TIER_RAW, r, mint));
        let stop = maxt.saturating_add(MAX_CHUNK_SPAN_MS);
        while it.valid() {
            let (Some(k), Some(v)) = (it.key(), it.value()) else {
                break;
            };
            let key = match ChunkKey::decode(k) {
                Ok(key) if key.series == r && key.tier == TIER_RAW => key,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(series = r, error = %e, "skipping chunk with a malformed key");
                    it.next();
                    continue;
                }
            };
            if key.max_t > stop {
                break;
            }
            // A chunk ending after maxt may start after it too: read the header before decoding.
            let wanted = key.max_t <= maxt || chunk_meta(v).map(|m| m.min_t <= maxt).unwrap_or(true);
            if wanted {
                g.scratch_ts.clear();
                g.scratch_vs.clear();
                match decode_chunk(v, &mut g.scratch_ts, &mut g.scratch_vs) {
                    Ok(()) => g.push_scratch(mint, maxt, key.seq),
                    Err(e) => tracing::warn!(
                        series = r,
                        chunk_max_t = key.max_t,
                        seq = key.seq,
                        error = %e,
                        "skipping corrupt chunk"
                    ),
                }
            }
            it.next();
        }
        it.status()?;
        Ok(())
    }
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

    fn select(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<SeriesData>> {
        if mint > maxt {
            return Ok(Vec::new());
        }
        let refs = self.refs_in_range(matchers, mint, maxt);
        let mut g = Gather::default();
        let mut out = Vec::with_capacity(refs.len());
        for (r, labels) in self.labels_of(&refs) {
            if let Some((timestamps, values)) = self.read_series(r, mint, maxt, &mut g)? {
                out.push(SeriesData {
                    labels,
                    timestamps,
                    values,
                });
            }
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }

    /// Series whose approximate data range (per-series min/max time) meets the range; see
    /// `docs/format/rocksdb.md`, "Time ranges of series".
    fn series(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<Labels>> {
        if mint > maxt {
            return Ok(Vec::new());
        }
        let refs = self.refs_in_range(matchers, mint, maxt);
        let mut out: Vec<Labels> = self.labels_of(&refs).into_iter().map(|(_, l)| l).collect();
        out.sort();
        Ok(out)
    }

    fn label_names(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<String>> {
        if mint > maxt {
            return Ok(Vec::new());
        }
        let refs: Vec<SeriesRef> = self
            .refs_in_range(matchers, mint, maxt)
            .into_iter()
            .map(SeriesRef)
            .collect();
        Ok(self.index.read().label_names(Some(&refs)))
    }

    fn label_values(&self, name: &str, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<String>> {
        if mint > maxt {
            return Ok(Vec::new());
        }
        let refs: Vec<SeriesRef> = self
            .refs_in_range(matchers, mint, maxt)
            .into_iter()
            .map(SeriesRef)
            .collect();
        Ok(self.index.read().label_values(name, Some(&refs)))
    }
}
