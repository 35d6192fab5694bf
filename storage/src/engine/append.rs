//! The write path: validation, series creation, WAL, head.

use std::sync::atomic::Ordering;

use super::{AppendReport, SeriesRejection, Storage, WriteSeries, now_ms};
use crate::db::{CF_SERIES, encode_series_value, keys::series_key};
use crate::error::{Error, Result};
use crate::head::NO_SEG;
use crate::index::SeriesRef;
use crate::labels::Labels;
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
        let mut good: Vec<&WriteSeries> = Vec::with_capacity(batch.len());
        for (index, ws) in batch.iter().enumerate() {
            match validate(&ws.labels) {
                Ok(()) if ws.samples.is_empty() => {}
                Ok(()) => good.push(ws),
                Err(error) => report.rejected.push(SeriesRejection { index, error }),
            }
        }
        if good.is_empty() {
            return Ok(report);
        }
        let lsn = {
            let _guard = self.append_lock.lock();
            self.check_open()?;
            let (refs, created) = self.resolve_refs(&good)?;
            let mut series_payload = Vec::new();
            if !created.is_empty() {
                encode_series(
                    &mut series_payload,
                    created.iter().map(|&(r, k)| (r, good_labels(&good, k))),
                );
            }
            let mut samples_payload = Vec::with_capacity(good.iter().map(|w| w.samples.len() * 10 + 4).sum());
            encode_samples(
                &mut samples_payload,
                refs.iter().zip(&good).map(|(&r, w)| (r, w.samples.as_slice())),
            );
            let mut records: Vec<(u8, &[u8])> = Vec::with_capacity(2);
            if !created.is_empty() {
                records.push((REC_SERIES, &series_payload));
            }
            records.push((REC_SAMPLES, &samples_payload));
            let (lsn, seg) = self.wal.append(&records)?;
            if !created.is_empty() {
                let cf = self.cf(CF_SERIES)?;
                let mut wb = rocksdb::WriteBatch::default();
                for &(r, k) in &created {
                    wb.put_cf(&cf, series_key(r), encode_series_value(good_labels(&good, k)));
                }
                self.db.write(wb)?;
                self.counters
                    .series_created
                    .fetch_add(created.len() as u64, Ordering::Relaxed);
            }
            let now = now_ms();
            let mut n = 0u64;
            for (&r, w) in refs.iter().zip(&good) {
                self.apply_samples(r, w.samples.iter().map(|s| (s.t, s.v)), seg, now, true)?;
                n += w.samples.len() as u64;
            }
            self.counters.samples_appended.fetch_add(n, Ordering::Relaxed);
            report.samples_appended = n;
            lsn
        };
        self.wal.commit(lsn)?;
        Ok(report)
    }

    /// Finds or creates the ref of each series. Returns the refs and the (ref, position) of created ones.
    /// Called under the append lock.
    fn resolve_refs(&self, good: &[&WriteSeries]) -> Result<ResolvedRefs> {
        let mut refs: Vec<Option<u64>> = {
            let idx = self.index.read();
            good.iter().map(|w| idx.get(&w.labels).map(|r| r.0)).collect()
        };
        let mut created = Vec::new();
        if refs.iter().any(Option::is_none) {
            let mut idx = self.index.write();
            for (k, slot) in refs.iter_mut().enumerate() {
                if slot.is_some() {
                    continue;
                }
                let labels = good_labels(good, k);
                if let Some(r) = idx.get(labels) {
                    *slot = Some(r.0);
                    continue;
                }
                let r = self.next_ref.fetch_add(1, Ordering::Relaxed);
                idx.try_insert(SeriesRef(r), labels.clone())?;
                self.head.shard(r).write().entry(r).or_default();
                created.push((r, k));
                *slot = Some(r);
            }
        }
        let refs: Result<Vec<u64>> = refs
            .into_iter()
            .map(|r| r.ok_or_else(|| Error::Internal("unresolved series ref".into())))
            .collect();
        Ok((refs?, created))
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
        let max_samples = self.opts.chunk_max_samples;
        let max_span = self.opts.chunk_max_span_ms;
        let mut shard = self.head.shard(r).write();
        let s = shard.entry(r).or_default();
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
        if count_ooo && ooo > 0 {
            self.counters.samples_out_of_order.fetch_add(ooo, Ordering::Relaxed);
        }
        Ok(())
    }
}

#[expect(clippy::indexing_slicing, reason = "k always comes from enumerating good")]
fn good_labels<'a>(good: &[&'a WriteSeries], k: usize) -> &'a Labels {
    &good[k].labels
}
