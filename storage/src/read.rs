//! The read contract between storage and its consumers (`strata-query`, the HTTP API).
//!
//! `query` depends on this file alone: [`SeriesReader`] is implemented by the real engine and by
//! [`crate::mem::MemStore`], the in-memory store the PromQL tests run against.

use crate::error::Result;
use crate::labels::Labels;
use crate::matcher::LabelMatcher;

/// One sample: a millisecond timestamp and a value. Staleness markers are kept bit-exact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The value; NaN payloads (the staleness marker) are preserved.
    pub v: f64,
}

/// A selected series with its samples in columns, sorted by timestamp, one sample per timestamp.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesData {
    /// The series' label set, `__name__` included.
    pub labels: Labels,
    /// Sample timestamps in milliseconds, strictly increasing.
    pub timestamps: Vec<i64>,
    /// Sample values, parallel to `timestamps`.
    pub values: Vec<f64>,
}

/// The Prometheus staleness marker: a NaN with this exact bit pattern.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether `v` is the staleness marker (compared by bits, not by value).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// Read access to stored series. Time ranges are inclusive `[mint, maxt]` in milliseconds.
pub trait SeriesReader: Send + Sync {
    /// Series matching every matcher that have at least one sample in `[mint, maxt]`, with exactly their
    /// samples in that range (head, sealed and out-of-order data merged). Sorted by label set.
    fn select(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<SeriesData>>;

    /// Label sets of the series that [`SeriesReader::select`] would return, without their samples.
    fn series(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<Labels>>;

    /// Sorted, distinct label names of the series matching `matchers` (all series when empty) in range.
    fn label_names(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<String>>;

    /// Sorted, distinct values of label `name` over the series matching `matchers` (all when empty) in range.
    fn label_values(&self, name: &str, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<String>>;
}
