//! Exporters (VictoriaMetrics-compatible): JSON lines ([`json`]) and CSV ([`csv`]), streamed.
//!
//! An export first lists the label sets of the matching series (no samples), then reads the series in
//! groups of [`GROUP_SERIES`], one exact selection per series, and hands the encoded bytes to the
//! response body in pieces of about [`CHUNK_BYTES`] through a bounded channel. Memory therefore stays
//! bounded by one series' samples plus a few chunks, whatever the export's size; a slow client slows
//! the reader down instead of growing a buffer.

pub mod cli;
pub mod csv;
pub mod json;
pub mod layout;
pub mod parquet;

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use strata_storage::{LabelMatcher, Labels, SeriesReader};
use tokio::sync::mpsc;

/// Series read per group (the label names of a group are collected to make each selection exact).
pub const GROUP_SERIES: usize = 1000;
/// Size at which an encoded piece is handed to the response body.
pub const CHUNK_BYTES: usize = 256 << 10;
/// Pieces buffered between the reader and the client.
pub const CHANNEL_CHUNKS: usize = 4;

/// Output format of an export.
#[derive(Debug, Clone)]
pub enum ExportFormat {
    /// One JSON object per series and line.
    JsonLines,
    /// One CSV row per sample, after a header row.
    Csv(csv::CsvFormat),
    /// One Parquet file, one row per sample ([`parquet`]).
    Parquet,
}

impl ExportFormat {
    /// The `Content-Type` of the response.
    pub fn content_type(&self) -> &'static str {
        match self {
            ExportFormat::JsonLines => "application/stream+json; charset=utf-8",
            ExportFormat::Csv(_) => "text/csv; charset=utf-8",
            ExportFormat::Parquet => parquet::CONTENT_TYPE,
        }
    }

    fn write_series(&self, buf: &mut Vec<u8>, labels: &Labels, ts: &[i64], vs: &[f64]) {
        match self {
            ExportFormat::JsonLines => json::write_line(buf, labels, ts, vs),
            ExportFormat::Csv(f) => f.write_rows(buf, labels, ts, vs),
            // Parquet is not a per-series text encoding: `produce` hands it to `parquet::produce`.
            ExportFormat::Parquet => {}
        }
    }
}

/// Label sets of the series matching any of `match_sets` with samples in `[start, end]`, sorted, distinct.
pub fn list_series<R: SeriesReader + ?Sized>(
    reader: &R,
    match_sets: &[Vec<LabelMatcher>],
    start: i64,
    end: i64,
) -> strata_storage::Result<Vec<Labels>> {
    if let [one] = match_sets {
        return reader.series(one, start, end);
    }
    let mut all = BTreeSet::new();
    for m in match_sets {
        all.extend(reader.series(m, start, end)?);
    }
    Ok(all.into_iter().collect())
}

/// Matchers that select exactly the series `labels`: equality on each of its labels, and "absent"
/// (`name=""`) for the other label names of its group, so a series whose labels are a subset of another
/// one's does not read the other's samples.
fn exact_matchers(labels: &Labels, group_names: &BTreeSet<&str>) -> Vec<LabelMatcher> {
    let mut ms: Vec<LabelMatcher> = labels
        .iter()
        .map(|l| LabelMatcher::equal(l.name.clone(), l.value.clone()))
        .collect();
    ms.extend(
        group_names
            .iter()
            .filter(|n| labels.get(n).is_none())
            .map(|n| LabelMatcher::equal(*n, "")),
    );
    ms
}

/// Why an export stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The receiving side (the HTTP client) went away.
    #[error("client disconnected")]
    Disconnected,
    /// Reading from storage failed.
    #[error("reading series failed: {0}")]
    Storage(#[from] strata_storage::Error),
    /// Encoding the output failed.
    #[error("encoding the export failed: {0}")]
    Encode(String),
}

/// Reads `series` and sends the encoded export through `tx` in pieces; runs on a blocking thread.
/// Returns the number of samples written. A storage error is also sent down the channel, which aborts
/// the response (its status line has long gone out).
pub fn produce<R: SeriesReader + ?Sized>(
    reader: &R,
    series: &[Labels],
    start: i64,
    end: i64,
    format: &ExportFormat,
    tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Result<u64, ExportError> {
    if let ExportFormat::Parquet = format {
        return parquet::produce(reader, series, start, end, tx);
    }
    let mut buf = Vec::with_capacity(CHUNK_BYTES + (64 << 10));
    if let ExportFormat::Csv(f) = format {
        buf.extend_from_slice(f.header.as_bytes());
        buf.push(b'\n');
    }
    let mut samples = 0u64;
    let send = |buf: &mut Vec<u8>| -> Result<(), ExportError> {
        if buf.is_empty() {
            return Ok(());
        }
        let piece = Bytes::from(std::mem::replace(buf, Vec::with_capacity(CHUNK_BYTES + (64 << 10))));
        tx.blocking_send(Ok(piece)).map_err(|_| ExportError::Disconnected)
    };
    for group in series.chunks(GROUP_SERIES) {
        let names: BTreeSet<&str> = group.iter().flat_map(|l| l.iter().map(|l| l.name.as_str())).collect();
        for labels in group {
            let found = match reader.select(&exact_matchers(labels, &names), start, end) {
                Ok(f) => f,
                Err(e) => {
                    let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                    return Err(e.into());
                }
            };
            for s in found.iter().filter(|s| s.labels == *labels) {
                samples += s.timestamps.len() as u64;
                format.write_series(&mut buf, &s.labels, &s.timestamps, &s.values);
            }
            if buf.len() >= CHUNK_BYTES {
                send(&mut buf)?;
            }
        }
    }
    send(&mut buf)?;
    Ok(samples)
}

/// A response body fed by a channel.
pub struct ChannelBody(pub mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_core::Stream for ChannelBody {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// Starts an export on a blocking thread; returns the body stream of the response.
pub fn spawn<R: SeriesReader + ?Sized + 'static>(
    reader: Arc<R>,
    series: Vec<Labels>,
    start: i64,
    end: i64,
    format: ExportFormat,
) -> ChannelBody {
    let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
    tokio::task::spawn_blocking(move || {
        let began = std::time::Instant::now();
        match produce(&*reader, &series, start, end, &format, &tx) {
            Ok(samples) => tracing::debug!(series = series.len(), samples, elapsed = ?began.elapsed(), "export done"),
            Err(e) => tracing::warn!(series = series.len(), error = %e, "export stopped"),
        }
    });
    ChannelBody(rx)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use strata_storage::MemStore;

    #[test]
    fn exports_exactly_the_listed_series_in_pieces() {
        let mut store = MemStore::new();
        for i in 0..2500 {
            let mut pairs = vec![("__name__".to_string(), "m".to_string())];
            if i > 0 {
                pairs.push(("i".to_string(), i.to_string()));
            }
            let labels = Labels::from_pairs(pairs);
            for t in 0..50 {
                store.add(&labels, t * 1000, (i * t) as f64);
            }
        }
        let sets = vec![vec![LabelMatcher::equal("__name__", "m")]];
        let series = list_series(&store, &sets, 0, 10_000).unwrap();
        assert_eq!(series.len(), 2500);
        let (tx, mut rx) = mpsc::channel(1 << 16);
        let n = produce(&store, &series, 0, 10_000, &ExportFormat::JsonLines, &tx).unwrap();
        assert_eq!(n, 2500 * 11);
        drop(tx);
        let mut text = Vec::new();
        let mut pieces = 0;
        while let Ok(p) = rx.try_recv() {
            text.extend_from_slice(&p.unwrap());
            pieces += 1;
        }
        assert!(pieces > 1);
        let d = crate::ingest::jsonl::decode(std::str::from_utf8(&text).unwrap());
        assert!(d.errors.is_empty());
        assert_eq!(d.series.len(), 2500);
        assert_eq!(d.samples(), 2500 * 11);
    }
}
