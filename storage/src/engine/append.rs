//! The write path: validation, series creation, WAL, head; and the keyed variant that appends series seen
//! before by ref, through the series-ref cache (`ref_cache.rs`).

use std::sync::atomic::Ordering;

use super::seal::{ChunkPut, EncodedChunk};
use super::{AppendReport, KeyedSeries, SeriesRejection, Storage, WriteSeries, now_ms};
use crate::db::{
    CF_SERIES, encode_series_value,
    keys::{group_of, series_key},
};
use crate::error::{Error, Result};
use crate::head::{HEAD_SHARDS, Head, HeadSeries, NO_SEG};
use crate::index::SeriesRef;
use crate::labels::Labels;
use crate::read::Sample;
use crate::wal::record::{REC_SAMPLES, REC_SERIES, encode_samples, encode_series};

/// Series refs of a batch, and the (ref, position in the batch) of those just created.
type ResolvedRefs = (Vec<u64>, Vec<(u64, usize)>);

/// Checks a label set: not empty, no empty or duplicate names.
pub(super) fn validate(labels: &Labels) -> Result<()> {
    let bad = |reason: String| {
        Err(Error::InvalidSeries {
            series: labels.to_string(),
            reason,
        })
    };
    if labels.is_empty() {
        return bad("empty label set".to_string());
    }
    if labels.iter().any(|l| l.name.is_empty()) {
        return bad("empty label name".to_string());
    }
    if labels.iter().any(|l| l.value.is_empty()) {
        return bad("empty label value".to_string());
    }
    if let Some(n) = labels.duplicate_name() {
        return bad(format!("duplicate label name {n:?}"));
    }
    Ok(())
}

impl Storage {
    /// Validates each series, rejects bad ones individually (listed in [`AppendReport::rejected`]), writes the
    /// good ones to the WAL and the head. When this returns `Ok`, the accepted samples are durable per the
    /// fsync policy. A sample for a (series, timestamp) that already has one replaces it: the newest write
    /// wins (`docs/format/rocksdb.md`, "Duplicates").
    pub fn append(&self, batch: &[WriteSeries]) -> Result<AppendReport> {
        self.check_open()?;
        let mut report = AppendReport::default();
        let mut labels: Vec<Option<&Labels>> = Vec::with_capacity(batch.len());
        let mut samples: Vec<&[Sample]> = Vec::with_capacity(batch.len());
        for (index, ws) in batch.iter().enumerate() {
            match validate(&ws.labels) {
                Ok(()) if ws.samples.is_empty() => {}
                Ok(()) => {
                    labels.push(Some(&ws.labels));
                    samples.push(&ws.samples);
                }
                Err(error) => report.rejected.push(SeriesRejection { index, error }),
            }
        }
        if samples.is_empty() {
            return Ok(report);
        }
        let mut slots = vec![None; samples.len()];
        let writing = self.announce(&samples);
        let written = {
            let _guard = self.append_lock.lock();
            self.check_open()?;
            let (refs, created) = self.resolve_refs(&mut slots, &labels)?;
            self.write_resolved(&refs, &samples, &labels, &created, &mut [])?
        };
        drop(writing);
        report.samples_appended = written.samples;
        self.commit(&written)?;
        Ok(report)
    }

    /// Like [`Storage::append`] for series given as borrowed label pairs with a caller-computed key (see
    /// [`KeyedSeries`]): a series whose key is in the series-ref cache and whose labels equal the indexed
    /// labels of the cached ref is appended by ref, without building a [`Labels`] or hashing its strings.
    /// Every other series takes the path of [`Storage::append`] (labels, validation, index lookup or
    /// creation with its WAL series record) and is cached under its key afterwards when its labels come
    /// sorted by name (only then can the check succeed). Rejections, durability and duplicate handling are
    /// those of [`Storage::append`]; [`SeriesRejection::index`] is a position in `batch`.
    pub fn append_keyed(&self, batch: &[KeyedSeries<'_>]) -> Result<AppendReport> {
        self.check_open()?;
        let mut report = AppendReport::default();
        // Per accepted series: its position in `batch`, its cached ref (if verified), its samples.
        let mut pos: Vec<usize> = Vec::with_capacity(batch.len());
        let mut slots: Vec<Option<u64>> = Vec::with_capacity(batch.len());
        let mut samples: Vec<&[Sample]> = Vec::with_capacity(batch.len());
        // Label sets built for the series that missed, with their position in `slots`.
        let mut owned: Vec<(usize, Labels)> = Vec::new();
        // Cache probes and their checks against the index, under both read locks; labels of the misses
        // are built and validated after the locks are released.
        let (generation, hits) = {
            let cache = self.ref_cache.read();
            let idx = self.index.read();
            let hits: Vec<Option<u64>> = batch
                .iter()
                .map(|ks| match ks.samples {
                    [] => None,
                    _ => cache
                        .get(ks.key)
                        .filter(|&r| idx.has_labels(SeriesRef(r), ks.labels.iter().copied())),
                })
                .collect();
            (cache.generation(), hits)
        };
        for ((index, ks), hit) in batch.iter().enumerate().zip(hits) {
            if hit.is_none() {
                let labels = ks.to_labels();
                if let Err(error) = validate(&labels) {
                    report.rejected.push(SeriesRejection { index, error });
                    continue;
                }
                if ks.samples.is_empty() {
                    continue;
                }
                owned.push((slots.len(), labels));
            }
            pos.push(index);
            slots.push(hit);
            samples.push(ks.samples);
        }
        if samples.is_empty() {
            return Ok(report);
        }
        let writing = self.announce(&samples);
        let mut pre = self.pre_encode(&samples, &slots)?;
        let written = {
            let _guard = self.append_lock.lock();
            self.check_open()?;
            // Deletes run under the append lock: a series verified above may have gone since (they empty
            // the cache, which bumps its generation). Refs are never reused, so one that is still indexed
            // still holds the verified labels.
            if self.ref_cache.read().generation() != generation {
                let idx = self.index.read();
                for (k, slot) in slots.iter_mut().enumerate() {
                    if slot.is_some_and(|r| !idx.contains(SeriesRef(r))) {
                        *slot = None;
                        let ks = pos.get(k).and_then(|&i| batch.get(i));
                        let ks = ks.ok_or_else(|| Error::Internal("keyed append: lost a series".into()))?;
                        owned.push((k, ks.to_labels()));
                    }
                }
            }
            let mut labels: Vec<Option<&Labels>> = vec![None; slots.len()];
            for (k, l) in &owned {
                if let Some(slot) = labels.get_mut(*k) {
                    *slot = Some(l);
                }
            }
            let (refs, created) = self.resolve_refs(&mut slots, &labels)?;
            let written = self.write_resolved(&refs, &samples, &labels, &created, &mut pre)?;
            let series = self.index.read().len();
            let mut cache = self.ref_cache.write();
            for (k, _) in &owned {
                let (Some(&r), Some(ks)) = (refs.get(*k), pos.get(*k).and_then(|&i| batch.get(i))) else {
                    continue;
                };
                if sorted_by_name(ks.labels) {
                    cache.insert(ks.key, r, series);
                }
            }
            written
        };
        drop(writing);
        report.samples_appended = written.samples;
        self.commit(&written)?;
        Ok(report)
    }

    /// Encodes, before the append lock is taken, the whole chunks that [`Storage::seal_direct`] will
    /// likely put for each series of `samples` (`None` where it will not): concurrent requests then
    /// encode in parallel instead of one after the other under the lock. `refs` holds the series' refs
    /// where known; a known series is skipped when its head would refuse a direct write (a partly filled
    /// chunk, or samples not after its newest), as a sender catching up with a live series' data does.
    /// `seal_direct` checks again under the lock and encodes there whatever was skipped.
    fn pre_encode(&self, samples: &[&[Sample]], refs: &[Option<u64>]) -> Result<Vec<Option<Encoded>>> {
        let max = self.opts.chunk_max_samples.max(1);
        if !samples.iter().any(|s| s.len() >= max) {
            return Ok(Vec::new());
        }
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        let mut out = Vec::with_capacity(samples.len());
        for (k, s) in samples.iter().enumerate() {
            let whole = s.len() / max * max;
            let Some(s) = s.get(..whole).filter(|s| !s.is_empty()) else {
                out.push(None);
                continue;
            };
            let in_order = s.windows(2).all(|w| matches!(w, [a, b] if a.t < b.t));
            let first = s.first().map_or(i64::MIN, |x| x.t);
            let refused = refs.get(k).copied().flatten().is_some_and(|r| {
                self.head
                    .shard(r)
                    .read()
                    .get(&r)
                    .is_some_and(|h| first <= h.max_t || (!h.chunk.is_empty() && h.chunk.len() < max))
            });
            if !in_order || refused {
                out.push(None);
                continue;
            }
            ts.clear();
            vs.clear();
            ts.extend(s.iter().map(|x| x.t));
            vs.extend(s.iter().map(|x| x.v));
            out.push(Some(Encoded {
                samples: whole,
                chunks: self.encode_chunks(&ts, &vs)?,
            }));
        }
        Ok(out)
    }

    /// Announces a batch that will likely write whole chunks straight to RocksDB, from before it waits for
    /// the append lock until it is written: a bulk write that commits meanwhile waits for it, so that
    /// one fsync covers both ([`DbSync::begin`]).
    fn announce(&self, samples: &[&[Sample]]) -> Option<super::durable::Writing<'_>> {
        let max = self.opts.chunk_max_samples.max(1);
        samples.iter().any(|s| s.len() >= max).then(|| self.db_sync.begin())
    }

    /// Finds or creates the ref of every series whose slot is `None`, taking its labels from `labels`
    /// (same positions). Returns the refs of all slots and the (ref, position) of created series. Called
    /// under the append lock.
    fn resolve_refs(&self, slots: &mut [Option<u64>], labels: &[Option<&Labels>]) -> Result<ResolvedRefs> {
        let missing = || Error::Internal("append: series without ref or labels".into());
        if slots.iter().any(Option::is_none) {
            let idx = self.index.read();
            for (slot, l) in slots.iter_mut().zip(labels) {
                if slot.is_none() {
                    *slot = idx.get(l.ok_or_else(missing)?).map(|r| r.0);
                }
            }
        }
        let mut created = Vec::new();
        if slots.iter().any(Option::is_none) {
            let mut idx = self.index.write();
            for (k, (slot, l)) in slots.iter_mut().zip(labels).enumerate() {
                if slot.is_some() {
                    continue;
                }
                let l = l.ok_or_else(missing)?;
                if let Some(r) = idx.get(l) {
                    *slot = Some(r.0);
                    continue;
                }
                let r = self.next_ref.fetch_add(1, Ordering::Relaxed);
                idx.try_insert(SeriesRef(r), l.clone())?;
                self.head
                    .shard(r)
                    .write()
                    .entry(r)
                    .or_insert_with(|| HeadSeries::new(group_of(l)));
                created.push((r, k));
                *slot = Some(r);
            }
        }
        let refs: Result<Vec<u64>> = slots
            .iter()
            .map(|r| r.ok_or_else(|| Error::Internal("unresolved series ref".into())))
            .collect();
        Ok((refs?, created))
    }

    /// Writes resolved series: the `series` column family for those in `created` (whose labels are in
    /// `labels`); the leading whole chunks of bulk samples straight to RocksDB ([`Storage::seal_direct`]);
    /// one WAL write (series records of `created` before the remaining samples); then the head. Returns
    /// what [`Storage::commit`] must make durable. Called under the append lock.
    ///
    /// A write is not atomic until acknowledged: a crash part-way may leave some of its series' chunks
    /// stored and not the rest. Remote-write clients resend unacknowledged requests, and a resent sample
    /// replaces itself.
    fn write_resolved(
        &self,
        refs: &[u64],
        samples: &[&[Sample]],
        labels: &[Option<&Labels>],
        created: &[(u64, usize)],
        pre: &mut [Option<Encoded>],
    ) -> Result<Written> {
        let created: Vec<(u64, &Labels)> = created
            .iter()
            .map(|&(r, k)| {
                let l = labels.get(k).copied().flatten();
                l.map(|l| (r, l))
                    .ok_or_else(|| Error::Internal("append: created series without labels".into()))
            })
            .collect::<Result<_>>()?;
        if !created.is_empty() {
            // Before any chunk of these series: RocksDB's WAL replays in write order.
            let cf = self.cf(CF_SERIES)?;
            let mut wb = rocksdb::WriteBatch::default();
            for &(r, l) in &created {
                wb.put_cf(&cf, series_key(r), encode_series_value(l));
            }
            self.db.write(wb)?;
            self.counters
                .series_created
                .fetch_add(created.len() as u64, Ordering::Relaxed);
        }
        let order = shard_order(refs);
        // Samples of each series (same positions) written as whole chunks, before the WAL write.
        let mut direct = vec![0usize; refs.len()];
        let max = self.opts.chunk_max_samples.max(1);
        let mut db_generation = None;
        if samples.iter().any(|s| s.len() >= max) {
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            let mut batch = DirectBatch::default();
            for group in order.chunk_by(|a, b| Head::shard_index(a.0) == Head::shard_index(b.0)) {
                let Some(&(first, _)) = group.first() else { continue };
                let mut shard = self.head.shard(first).write();
                for &(r, k) in group {
                    let s = samples.get(k).copied().unwrap_or_default();
                    if s.len() < max {
                        continue;
                    }
                    ts.clear();
                    vs.clear();
                    ts.extend(s.iter().map(|x| x.t));
                    vs.extend(s.iter().map(|x| x.v));
                    let encoded = pre.get_mut(k).and_then(Option::take);
                    let n = self.seal_direct(r, head_state(&mut shard, r)?, &ts, &vs, encoded, &mut batch)?;
                    if let Some(d) = direct.get_mut(k) {
                        *d = n;
                    }
                }
            }
            if self.write_direct(batch)? {
                db_generation = Some(self.db_sync.note_write());
            }
        }
        let rest = |k: usize| {
            let s = samples.get(k).copied().unwrap_or_default();
            s.get(direct.get(k).copied().unwrap_or(0)..).unwrap_or_default()
        };
        let logged: Vec<(u64, &[Sample])> = refs
            .iter()
            .enumerate()
            .map(|(k, &r)| (r, rest(k)))
            .filter(|(_, s)| !s.is_empty())
            .collect();
        // New series go into Strata's WAL only for samples of theirs that do: otherwise their labels are
        // made durable by the RocksDB write above, which is then fsynced as the chunks would be.
        let log_created = !created.is_empty() && !logged.is_empty();
        if !created.is_empty() && !log_created && db_generation.is_none() {
            db_generation = Some(self.db_sync.note_write());
        }
        let mut series_payload = Vec::new();
        if log_created {
            encode_series(&mut series_payload, created.iter().copied());
        }
        let mut samples_payload = Vec::new();
        let mut records: Vec<(u8, &[u8])> = Vec::with_capacity(2);
        if log_created {
            records.push((REC_SERIES, &series_payload));
        }
        if !logged.is_empty() {
            samples_payload.reserve(logged.iter().map(|(_, s)| s.len() * 10 + 4).sum());
            encode_samples(&mut samples_payload, logged.iter().copied());
            records.push((REC_SAMPLES, &samples_payload));
        }
        let (lsn, seg) = if records.is_empty() {
            (None, self.wal.current_segment())
        } else {
            let (lsn, seg) = self.wal.append(&records)?;
            (Some(lsn), seg)
        };
        let now = now_ms();
        let mut n = 0u64;
        let mut ooo = 0u64;
        for group in order.chunk_by(|a, b| Head::shard_index(a.0) == Head::shard_index(b.0)) {
            let Some(&(first, _)) = group.first() else { continue };
            let mut shard = self.head.shard(first).write();
            for &(r, k) in group {
                let s = rest(k);
                ooo += self.apply_each(r, head_state(&mut shard, r)?, s.iter().map(|x| (x.t, x.v)), seg, now)?;
                n += samples.get(k).map_or(0, |s| s.len()) as u64;
            }
        }
        if ooo > 0 {
            self.counters.samples_out_of_order.fetch_add(ooo, Ordering::Relaxed);
        }
        self.counters.samples_appended.fetch_add(n, Ordering::Relaxed);
        Ok(Written {
            wal_lsn: lsn,
            db_generation,
            samples: n,
        })
    }

    /// Writes the chunks of `batch` with their dirty marks; returns whether there were any.
    fn write_direct(&self, batch: DirectBatch<'_>) -> Result<bool> {
        let DirectBatch {
            mut puts,
            marks,
            chunks,
        } = batch;
        if chunks == 0 {
            return Ok(false);
        }
        puts.sort_unstable_by(|a, b| a.1.cmp(&b.1));
        let mut wb = rocksdb::WriteBatch::default();
        for (cf, key, value) in puts {
            wb.put_cf(&cf, key, value);
        }
        self.write_marking_dirty(wb, crate::db::partition::TIER_5M, &marks)?;
        self.counters.chunks_sealed.fetch_add(chunks, Ordering::Relaxed);
        self.seal_epoch.fetch_add(1, Ordering::SeqCst);
        Ok(true)
    }

    /// Makes a write durable per the fsync policy: its WAL record, and the chunks it sealed straight into
    /// RocksDB. Called after the append lock is released, so concurrent writers share fsyncs.
    fn commit(&self, written: &Written) -> Result<()> {
        if let Some(lsn) = written.wal_lsn {
            self.wal.commit(lsn)?;
        }
        if let Some(g) = written.db_generation {
            self.db_sync.commit(&self.db, g)?;
        }
        Ok(())
    }

    /// Applies samples of series `r` (which must exist in the index) to the head; `seg` is the WAL segment
    /// holding them. Seals chunks that fill up. `count_ooo` is false during WAL replay.
    pub(super) fn apply_samples(
        &self,
        r: u64,
        samples: impl Iterator<Item = (i64, f64)>,
        seg: u64,
        now: i64,
        count_ooo: bool,
    ) -> Result<()> {
        let mut shard = self.head.shard(r).write();
        let ooo = self.apply_to(r, head_state(&mut shard, r)?, samples, seg, now)?;
        if count_ooo && ooo > 0 {
            self.counters.samples_out_of_order.fetch_add(ooo, Ordering::Relaxed);
        }
        Ok(())
    }

    /// [`Storage::apply_samples`] on the head state `s` of series `r`, whose shard the caller has locked.
    /// Returns how many samples were out of order. A batch of at least a chunk's worth of samples may have
    /// its leading whole chunks written straight to RocksDB ([`Storage::seal_direct`]).
    fn apply_to(
        &self,
        r: u64,
        s: &mut HeadSeries,
        samples: impl Iterator<Item = (i64, f64)>,
        seg: u64,
        now: i64,
    ) -> Result<u64> {
        if samples.size_hint().0 >= self.opts.chunk_max_samples.max(1) {
            let (ts, vs): (Vec<i64>, Vec<f64>) = samples.unzip();
            let mut batch = DirectBatch::default();
            let direct = self.seal_direct(r, s, &ts, &vs, None, &mut batch)?;
            self.write_direct(batch)?;
            let rest = ts.iter().zip(&vs).skip(direct).map(|(&t, &v)| (t, v));
            return self.apply_each(r, s, rest, seg, now);
        }
        self.apply_each(r, s, samples, seg, now)
    }

    /// Puts the leading whole chunks of the samples `ts`/`vs` into `batch` when they are strictly increasing
    /// and all after the series' newest sample, and the head chunk is empty or full (then sealed first, at
    /// once): a bulk write skips appending to the head chunk and decoding it again to seal it. The chunks are
    /// those the head would have sealed (same size and span limits, cut at partition boundaries). They were
    /// never in the head, so no reader can miss them while `batch` is unwritten: a reader sees the write
    /// whole once [`Storage::write_direct`] returns, or not at all. Returns how many samples were put (0:
    /// none).
    fn seal_direct<'a>(
        &'a self,
        r: u64,
        s: &mut HeadSeries,
        ts: &[i64],
        vs: &[f64],
        encoded: Option<Encoded>,
        batch: &mut DirectBatch<'a>,
    ) -> Result<usize> {
        let max = self.opts.chunk_max_samples.max(1);
        let whole = ts.len() / max * max;
        let (Some(ts), Some(vs)) = (ts.get(..whole), vs.get(..whole)) else {
            return Ok(0);
        };
        let in_order = ts.first().is_some_and(|&t| t > s.max_t) && ts.windows(2).all(|w| matches!(w, [a, b] if a < b));
        if whole == 0 || !in_order {
            return Ok(0);
        }
        if !s.chunk.is_empty() {
            if s.chunk.len() < max {
                return Ok(0);
            }
            self.seal_chunk(r, s)?;
        }
        let n = match encoded {
            Some(e) if e.samples == whole => self.put_encoded(r, s.group, e.chunks, &mut batch.puts)?,
            _ => self.put_chunks(r, s.group, ts, vs, &mut batch.puts)?,
        };
        batch.chunks += u64::from(n);
        s.sealed_chunks = s.sealed_chunks.saturating_add(n);
        if let (Some(&first), Some(&last), Some(&v)) = (ts.first(), ts.last(), vs.last()) {
            batch.marks.push((r, first, last));
            s.note_time(first);
            s.note_time(last);
            s.max_t = last;
            s.max_v = Some(v);
        }
        Ok(whole)
    }

    /// Appends samples one by one to the head chunk or the out-of-order buffer, sealing as they fill.
    fn apply_each(
        &self,
        r: u64,
        s: &mut HeadSeries,
        samples: impl Iterator<Item = (i64, f64)>,
        seg: u64,
        now: i64,
    ) -> Result<u64> {
        let max_samples = self.opts.chunk_max_samples;
        let max_span = self.opts.chunk_max_span_ms;
        let mut ooo = 0u64;
        for (t, v) in samples {
            if t > s.max_t {
                if let Some(first) = s.chunk.first_t()
                    && (s.chunk.len() >= max_samples || t.saturating_sub(first) > max_span)
                {
                    self.seal_chunk(r, s)?;
                }
                s.chunk.append(t, v)?;
                if s.chunk_seg == NO_SEG {
                    s.chunk_seg = seg;
                }
                s.max_t = t;
                s.max_v = Some(v);
            } else {
                if t == s.max_t {
                    s.max_v = Some(v);
                }
                s.ooo_insert(t, v, seg);
                ooo += 1;
                if s.ooo.len() >= max_samples {
                    self.seal_ooo(r, s)?;
                }
            }
            s.note_time(t);
        }
        s.last_write_ms = now;
        Ok(ooo)
    }
}

/// The leading whole chunks of one series' samples, encoded by [`Storage::pre_encode`].
pub(super) struct Encoded {
    /// How many samples they hold.
    samples: usize,
    chunks: Vec<EncodedChunk>,
}

/// Chunks sealed straight from a write ([`Storage::seal_direct`]), written by [`Storage::write_direct`] in one
/// RocksDB write: one WAL record and one memtable insert call for a whole request instead of one per series.
#[derive(Default)]
pub(super) struct DirectBatch<'a> {
    /// The chunks, put in key order when written: RocksDB's memtable then inserts each next to the one
    /// before, where a request's series in write order would land all over the key space (keys lead with
    /// the metric group).
    puts: Vec<ChunkPut<'a>>,
    /// (series, first, last timestamp) of the samples put, for the 5 m tier's dirty marks.
    marks: Vec<(u64, i64, i64)>,
    chunks: u64,
}

/// What [`Storage::write_resolved`] wrote and [`Storage::commit`] must make durable.
struct Written {
    /// The WAL record to commit, if one was written.
    wal_lsn: Option<u64>,
    /// The generation of the RocksDB write of directly sealed chunks, if any.
    db_generation: Option<u64>,
    /// Samples written.
    samples: u64,
}

/// (ref, position) of every series of a batch, grouped by head shard so that one lock per shard and batch
/// serves all its series: a stable counting sort, so the positions of one shard keep batch order.
fn shard_order(refs: &[u64]) -> Vec<(u64, usize)> {
    let shard_of = Head::shard_index;
    let mut starts = [0usize; HEAD_SHARDS + 1];
    for &r in refs {
        if let Some(c) = starts.get_mut(shard_of(r) + 1) {
            *c += 1;
        }
    }
    for i in 1..starts.len() {
        let prev = starts.get(i - 1).copied().unwrap_or(0);
        if let Some(c) = starts.get_mut(i) {
            *c += prev;
        }
    }
    let mut order = vec![(0u64, 0usize); refs.len()];
    let mut next = starts;
    for (k, &r) in refs.iter().enumerate() {
        if let Some(at) = next.get_mut(shard_of(r))
            && let Some(slot) = order.get_mut(*at)
        {
            *slot = (r, k);
            *at += 1;
        }
    }
    order
}

/// Whether the non-empty-valued pairs are in strictly ascending name order, as an indexed series' labels
/// are: only such a series can pass the cache check of [`Storage::append_keyed`], so only it is cached.
fn sorted_by_name(pairs: &[(&str, &str)]) -> bool {
    let mut prev: Option<&str> = None;
    for &(n, v) in pairs {
        if v.is_empty() {
            continue;
        }
        if prev.is_some_and(|p| p >= n) {
            return false;
        }
        prev = Some(n);
    }
    true
}

/// The head state of series `r`, which every indexed series has (created with its ref, removed with it).
fn head_state(shard: &mut crate::head::Shard, r: u64) -> Result<&mut HeadSeries> {
    shard
        .get_mut(&r)
        .ok_or_else(|| Error::Internal(format!("series {r} is indexed but has no head state")))
}
