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

/// Whether any of `vs` is the staleness marker. Runs of values are compared without an early exit, which
/// the compiler turns into vector compares: most selections hold no marker, and every value is looked at.
pub fn has_stale_nan(vs: &[f64]) -> bool {
    vs.chunks(64).any(|run| {
        run.iter()
            .fold(false, |found, &v| found | (v.to_bits() == STALE_NAN_BITS))
    })
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

    /// Like [`SeriesReader::select`], but a store with downsampled tiers may serve parts of the range from
    /// a tier chosen by `hints`, and when [`SelectHints::newest_only`] holds it may return only the newest
    /// sample of each series. The default serves all raw samples.
    fn select_hinted(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64, hints: &SelectHints) -> Result<Selection> {
        let _ = hints;
        Ok(Selection {
            series: self.select(matchers, mint, maxt)?,
            downsampled: false,
        })
    }

    /// [`SeriesReader::select_hinted`] handed to `f` in batches of at most `batch` series: together they hold
    /// the same series as `select_hinted` returns, each batch sorted by label set, but the batches may come in
    /// any (deterministic) order: a store reads them in its own storage order. `f` returns false to stop
    /// early. A consumer that folds series one batch at a time holds one batch in memory instead of the whole
    /// selection. The default hands over everything as one batch.
    fn select_batched(
        &self,
        matchers: &[LabelMatcher],
        mint: i64,
        maxt: i64,
        hints: &SelectHints,
        batch: usize,
        f: &mut (dyn FnMut(Selection) -> bool + Send),
    ) -> Result<()> {
        let _ = batch;
        f(self.select_hinted(matchers, mint, maxt, hints)?);
        Ok(())
    }
}

/// Which downsampling tier a query may be answered from (Thanos' `max_source_resolution`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resolution {
    /// Pick per query: the coarsest tier whose resolution is at most a fifth of the step (and of the range
    /// of a range selector), so every window still holds several points.
    #[default]
    Auto,
    /// Raw samples wherever they are kept.
    Raw,
    /// 5-minute aggregates where they exist.
    FiveMinutes,
    /// 1-hour aggregates where they exist.
    OneHour,
}

impl Resolution {
    /// Parses `raw`, `5m`, `1h`, `auto` (and `0s`/`0` for raw, as Thanos accepts).
    pub fn parse(s: &str) -> Option<Resolution> {
        match s {
            "auto" | "" => Some(Resolution::Auto),
            "raw" | "0" | "0s" => Some(Resolution::Raw),
            "5m" => Some(Resolution::FiveMinutes),
            "1h" => Some(Resolution::OneHour),
            _ => None,
        }
    }
}

/// Which per-window aggregate of a downsampled tier a selector needs. Raw samples stand for themselves:
/// in [`Aggregate::Count`] each counts 1, in every other aggregate a raw sample's value is used as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Aggregate {
    /// The last sample of each window (plain selection, `last_over_time`, and functions without a better fit).
    #[default]
    Last,
    /// The smallest value of each window (`min_over_time`).
    Min,
    /// The largest value of each window (`max_over_time`).
    Max,
    /// The sum of the window's values (`sum_over_time`, the numerator of `avg_over_time`).
    Sum,
    /// The number of samples of the window (`count_over_time`, the denominator of `avg_over_time`).
    Count,
    /// A counter rebuilt from the windows' reset-aware increases (`rate`, `increase`, `irate`, `resets`).
    Counter,
}

/// What the query engine tells the storage about a selection, so that it can pick a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SelectHints {
    /// The aggregate the consuming function needs.
    pub aggregate: Aggregate,
    /// The evaluation step of the query (ms; 0 for instant queries).
    pub step_ms: i64,
    /// The range of the range selector (ms; 0 for an instant vector selector).
    pub range_ms: i64,
    /// The tier the query asked for.
    pub resolution: Resolution,
}

impl SelectHints {
    /// Whether the consumer reads only the newest sample of each series: an instant vector selector
    /// ([`Aggregate::Last`], no range) of an instant query (no step). A store may then return just that
    /// sample per series.
    pub fn newest_only(&self) -> bool {
        self.aggregate == Aggregate::Last && self.range_ms == 0 && self.step_ms == 0
    }
}

/// The answer of [`SeriesReader::select_hinted`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    /// The selected series, as [`SeriesReader::select`] returns them; where `downsampled` is set, some points
    /// are per-window aggregates (of the kind named in the hints) at the window's last sample time.
    pub series: Vec<SeriesData>,
    /// Whether any point came from a downsampled tier. When it did, a consumer must combine points the way
    /// the aggregate requires (e.g. `count_over_time` sums [`Aggregate::Count`] points).
    pub downsampled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_markers_are_found_anywhere_and_other_nans_are_not_markers() {
        let stale = f64::from_bits(STALE_NAN_BITS);
        for len in [0usize, 1, 63, 64, 65, 200] {
            let mut vs: Vec<f64> = (0..len).map(|k| k as f64).collect();
            if len > 1 {
                vs[len / 2] = f64::NAN;
            }
            assert!(!has_stale_nan(&vs), "{len}");
            for at in [0, len / 2, len.saturating_sub(1)].into_iter().filter(|&a| a < len) {
                let mut with = vs.clone();
                with[at] = stale;
                assert!(has_stale_nan(&with), "{len} {at}");
            }
        }
    }
}
