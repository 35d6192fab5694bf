//! Import decoders (VictoriaMetrics-compatible): JSON lines ([`jsonl`]), CSV with column descriptors
//! ([`csv`]), the Prometheus text exposition format ([`prom`]) and the Influx line protocol ([`influx`]).
//! Formats and their mapping to series are described in `docs/formats.md`.
//!
//! Every decoder works on a whole request body and keeps going after a malformed record: the good
//! records are returned as series ready for `Storage::append`, the bad ones as [`LineError`]s carrying
//! their 1-based line number, so the HTTP handler can store the good data and still answer 400.

pub mod cli;
pub mod csv;
pub mod influx;
pub mod jsonl;
pub mod prom;

use std::collections::HashMap;

use strata_storage::{Labels, Sample, WriteSeries};

use crate::metadata::MetricMetadata;

/// A malformed record of an import body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct LineError {
    /// 1-based line number of the record (its first line, for multi-line CSV records).
    pub line: usize,
    /// Why the record was rejected.
    pub reason: String,
}

impl LineError {
    /// A rejection of line `line`.
    pub fn new(line: usize, reason: impl Into<String>) -> Self {
        LineError {
            line,
            reason: reason.into(),
        }
    }
}

/// The result of decoding one import body.
#[derive(Debug, Default)]
pub struct Decoded {
    /// The decoded samples, grouped by series.
    pub series: Vec<WriteSeries>,
    /// Rejected records, in body order.
    pub errors: Vec<LineError>,
    /// `# TYPE`/`# HELP`/`# UNIT` entries (Prometheus text format only).
    pub metadata: Vec<(String, MetricMetadata)>,
}

impl Decoded {
    /// Number of decoded samples.
    pub fn samples(&self) -> u64 {
        self.series.iter().map(|s| s.samples.len() as u64).sum()
    }
}

/// Groups samples by series. Decoders key series by their raw text (e.g. `name{a="b"}` of a
/// Prometheus line) so that a series seen before is found without parsing its labels again.
#[derive(Debug, Default)]
pub struct SeriesBuilder {
    by_key: HashMap<String, usize>,
    by_labels: HashMap<Labels, usize>,
    series: Vec<WriteSeries>,
}

impl SeriesBuilder {
    /// The slot of a series already seen under the raw key `key`.
    pub fn slot_of_key(&self, key: &str) -> Option<usize> {
        self.by_key.get(key).copied()
    }

    /// The slot of the series `labels`, created if new, and remembered under the raw key `key` when given.
    pub fn slot(&mut self, labels: Labels, key: Option<&str>) -> usize {
        let slot = match self.by_labels.get(&labels) {
            Some(&s) => s,
            None => {
                let s = self.series.len();
                self.by_labels.insert(labels.clone(), s);
                self.series.push(WriteSeries {
                    labels,
                    samples: Vec::new(),
                });
                s
            }
        };
        if let Some(k) = key {
            self.by_key.insert(k.to_string(), slot);
        }
        slot
    }

    /// Appends a sample to the series in `slot` (as returned by [`SeriesBuilder::slot`]).
    pub fn push(&mut self, slot: usize, t: i64, v: f64) {
        if let Some(s) = self.series.get_mut(slot) {
            s.samples.push(Sample { t, v });
        }
    }

    /// Appends a sample to the series `labels`.
    pub fn push_labels(&mut self, labels: Labels, t: i64, v: f64) {
        let slot = self.slot(labels, None);
        self.push(slot, t, v);
    }

    /// The series built so far.
    pub fn finish(self) -> Vec<WriteSeries> {
        self.series
    }
}

/// Splits a body into lines, yielding 1-based line numbers; a trailing `\r` is removed.
pub fn numbered_lines(body: &str) -> impl Iterator<Item = (usize, &str)> {
    body.split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
}

/// The current time in milliseconds since the Unix epoch: the timestamp of samples that carry none.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Parses a sample value as the text formats write it: a decimal or exponent float, or `NaN`,
/// `Inf`/`+Inf`/`-Inf`/`Infinity` in any letter case.
pub fn parse_value(s: &str) -> Option<f64> {
    if let Ok(v) = s.parse::<f64>() {
        return Some(v);
    }
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
        Some(if neg { f64::NEG_INFINITY } else { f64::INFINITY })
    } else if rest.eq_ignore_ascii_case("nan") {
        Some(f64::NAN)
    } else {
        None
    }
}

/// Which import format a body is in.
#[derive(Debug, Clone)]
pub enum ImportFormat {
    /// VictoriaMetrics JSON lines (`/api/v1/import`).
    JsonLines,
    /// CSV with VictoriaMetrics column descriptors (`/api/v1/import/csv`).
    Csv(csv::Columns),
    /// Prometheus text exposition format (`/api/v1/import/prometheus`).
    Prometheus,
    /// Influx line protocol (`/write`, `/api/v2/write`).
    Influx(influx::Options),
}

/// Decodes a whole body in the given format. `now` is the timestamp given to samples without one.
pub fn decode(format: &ImportFormat, body: &str, now: i64) -> Decoded {
    match format {
        ImportFormat::JsonLines => jsonl::decode(body),
        ImportFormat::Csv(cols) => csv::decode(body, cols, now),
        ImportFormat::Prometheus => prom::decode(body, now),
        ImportFormat::Influx(opts) => influx::decode(body, opts, now),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn values() {
        assert_eq!(parse_value("1.5"), Some(1.5));
        assert_eq!(parse_value("-2e3"), Some(-2000.0));
        assert_eq!(parse_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_value("-Infinity"), Some(f64::NEG_INFINITY));
        assert!(parse_value("NaN").unwrap().is_nan());
        assert_eq!(parse_value("abc"), None);
        assert_eq!(parse_value(""), None);
    }

    #[test]
    fn builder_groups_by_labels_and_key() {
        let mut b = SeriesBuilder::default();
        let a = b.slot(Labels::from_pairs([("__name__", "a")]), Some("a"));
        b.push(a, 1, 1.0);
        assert_eq!(b.slot_of_key("a"), Some(a));
        b.push_labels(Labels::from_pairs([("__name__", "a")]), 2, 2.0);
        b.push_labels(Labels::from_pairs([("__name__", "b")]), 2, 2.0);
        let s = b.finish();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].samples.len(), 2);
    }
}
