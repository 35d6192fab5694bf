//! Internal column-wise values and the per-query evaluation context.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use strata_storage::{Labels, Resolution, SeriesReader};

use super::QueryError;

/// Result alias of the evaluator.
pub(crate) type EvalResult<T> = Result<T, QueryError>;

/// The step grid an expression is evaluated on: `n` steps `start, start + step, ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grid {
    /// First evaluation time, milliseconds.
    pub start: i64,
    /// Step in milliseconds (1 for instant queries, as Prometheus uses).
    pub step: i64,
    /// Number of steps (at least 1).
    pub n: usize,
}

impl Grid {
    /// The evaluation time of step `i`.
    pub fn t(&self, i: usize) -> i64 {
        self.start + self.step * i as i64
    }

    /// A grid from `start` to `end` (inclusive where aligned) by `step`.
    pub fn new(start: i64, end: i64, step: i64) -> Self {
        let n = if end < start || step <= 0 {
            0
        } else {
            ((end - start) / step) as usize + 1
        };
        Self {
            start,
            step: step.max(1),
            n,
        }
    }
}

/// One output series of an instant-vector expression: a value column over the grid.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    /// Labels, `__name__` still included when `drop_name` is set (delayed name removal).
    pub labels: Labels,
    /// Whether `__name__` is to be dropped when the result is returned.
    pub drop_name: bool,
    /// One entry per grid step.
    pub vals: Vec<Option<f64>>,
}

impl Series {
    /// Number of present points.
    pub fn points(&self) -> usize {
        column_points(&self.vals)
    }
}

/// Number of points (steps with a value) of an output column.
pub fn column_points(col: &[Option<f64>]) -> usize {
    col.iter().filter(|v| v.is_some()).count()
}

/// A series of raw samples (a range vector's source): selector data with stale markers removed, or a
/// subquery's output.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct RawSeries {
    /// Labels.
    pub labels: Labels,
    /// Whether `__name__` is to be dropped.
    pub drop_name: bool,
    /// Timestamps, increasing.
    pub ts: Vec<i64>,
    /// Values.
    pub vs: Vec<f64>,
}

/// A value produced by evaluating an expression over a grid.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    /// A scalar per step.
    Scalar(Vec<f64>),
    /// A string.
    Str(String),
    /// An instant vector.
    Vector(Vec<Series>),
    /// A range vector; only produced for single-step (instant) evaluation.
    Matrix(Vec<RawSeries>),
}

/// Per-query state shared by all nodes.
pub(crate) struct Ctx<'a> {
    pub reader: &'a dyn SeriesReader,
    pub lookback: i64,
    pub max_samples: usize,
    pub deadline: Instant,
    pub cancel: Option<Arc<AtomicBool>>,
    pub default_subquery_step: i64,
    /// The query's own start and end (for `@ start()`, `@ end()`, `start()`, `end()`).
    pub query_start: i64,
    pub query_end: i64,
    /// The query's step in milliseconds (0 for instant queries).
    pub query_step: i64,
    /// The downsampling tier the query asked for, passed to storage in every selection's hints.
    pub resolution: Resolution,
    pub warnings: Mutex<Vec<String>>,
    pub infos: Mutex<Vec<String>>,
    pub samples_loaded: AtomicU64,
    pub series_selected: AtomicU64,
    pub cur_samples: AtomicUsize,
}

impl Ctx<'_> {
    /// Fails when the query timed out or was canceled.
    pub fn check(&self) -> EvalResult<()> {
        if let Some(c) = &self.cancel
            && c.load(Ordering::Relaxed)
        {
            return Err(QueryError::Canceled);
        }
        if Instant::now() > self.deadline {
            return Err(QueryError::Timeout("expression evaluation".into()));
        }
        Ok(())
    }

    /// Counts samples read from storage and series selected.
    pub fn count_read(&self, samples: u64, series: u64) {
        self.samples_loaded.fetch_add(samples, Ordering::Relaxed);
        self.series_selected.fetch_add(series, Ordering::Relaxed);
    }

    /// Adds a warning annotation (deduplicated).
    pub fn warn(&self, msg: String) {
        let mut w = self.warnings.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !w.contains(&msg) {
            w.push(msg);
        }
    }

    /// Adds an info annotation (deduplicated).
    pub fn info(&self, msg: String) {
        let mut w = self.infos.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !w.contains(&msg) {
            w.push(msg);
        }
    }

    /// Accounts `n` more samples held in memory; fails over the limit.
    pub fn add_samples(&self, n: usize) -> EvalResult<()> {
        let cur = self.cur_samples.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        if cur > self.max_samples {
            return Err(QueryError::TooManySamples);
        }
        Ok(())
    }

    /// Releases `n` samples from the in-memory accounting.
    pub fn release_samples(&self, n: usize) {
        let _ = self
            .cur_samples
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| Some(c.saturating_sub(n)));
    }
}

/// Formats a float as Go's `%g` / `strconv.FormatFloat(f, 'g', -1, 64)` does for common values.
pub(crate) fn fmt_go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let exp = if f == 0.0 { 0 } else { f.abs().log10().floor() as i32 };
    // Shortest formatting switches to an exponent below 1e-4 and from 1e6 on (Go's `eprec = 6`).
    if (-4..6).contains(&exp) {
        format!("{f}")
    } else {
        let s = format!("{f:e}");
        // Rust prints `1e6`, Go prints `1e+06`.
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{}", pad_exp(e)),
            Some((m, e)) => format!("{m}e-{}", pad_exp(e.trim_start_matches('-'))),
            None => s,
        }
    }
}

fn pad_exp(e: &str) -> String {
    if e.len() < 2 { format!("0{e}") } else { e.to_string() }
}

/// Formats a float as Go's `strconv.FormatFloat(f, 'f', -1, 64)` (used for label values).
pub(crate) fn fmt_go_float_f(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    format!("{f}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_formatting() {
        assert_eq!(fmt_go_float(1.5), "1.5");
        assert_eq!(fmt_go_float(-0.5), "-0.5");
        assert_eq!(fmt_go_float(100_000.0), "100000");
        assert_eq!(fmt_go_float(1e6), "1e+06");
        assert_eq!(fmt_go_float(1_234_567.0), "1.234567e+06");
        assert_eq!(fmt_go_float(0.0001), "0.0001");
        assert_eq!(fmt_go_float(0.00001), "1e-05");
        assert_eq!(fmt_go_float(f64::NAN), "NaN");
        assert_eq!(fmt_go_float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(fmt_go_float_f(1e21), "1000000000000000000000");
    }
}
