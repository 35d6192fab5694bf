//! Pure numeric kernels of the PromQL functions: plain slices in, `f64` out. No labels, no vectors, no AST.
//!
//! Semantics follow Prometheus 3.x (`promql/functions.go`, `promql/quantile.go`) operation for
//! operation, including the order of floating-point operations and Kahan compensation, so that results
//! agree with Prometheus to the last bit wherever the Go code is architecture-independent.
//!
//! | family | file |
//! |---|---|
//! | `rate`, `increase`, `delta`, `irate`, `idelta`, `deriv`, `predict_linear`, `changes`, `resets` | [`range`] |
//! | `*_over_time`, `ts_of_*_over_time` | [`over_time`] |
//! | `double_exponential_smoothing` | [`smoothing`] |
//! | per-value math (`abs`, `round`, `clamp`, trigonometry, …) | [`math`] |
//! | date functions (`hour`, `day_of_week`, …) | [`time`] |
//! | `histogram_quantile` / `histogram_fraction` over classic buckets | [`histogram`] |
//! | φ-quantile of a set of values | [`quantile`] |
//! | name → enum dispatch ([`RangeFunc`], [`MathFunc`], [`TimeFunc`]) | [`range_func`], [`math`], [`time`] |
//! | Kahan–Neumaier summation | [`kahan`] |
//!
//! Not covered here (they need labels, native histograms or the evaluator): `absent*`, `label_*`,
//! `sort*`, `scalar`, `vector`, `time`, `timestamp`, `histogram_count/sum/avg/stddev/stdvar`, native
//! histogram inputs of any function.

pub mod histogram;
pub mod kahan;
pub mod math;
pub mod over_time;
pub mod quantile;
pub mod range;
pub mod range_func;
pub mod smoothing;
pub mod time;

#[cfg(test)]
mod testutil;

pub use histogram::{BucketQuantile, bucket_fraction, bucket_quantile, bucket_quantile_detail};
pub use math::{MathFunc, eval_math, max_of, min_of};
pub use quantile::quantile;
pub use range::{ExtendedWindow, extended_rate};
pub use range_func::{RANGE_FUNCTIONS, RangeFunc};
pub use smoothing::smoothing_params_error;
pub use time::{TimeFunc, eval_time};

/// One window of float samples for a range-vector function evaluated at time `range_end`.
///
/// Timestamps are strictly increasing milliseconds, all within `(range_start, range_end]`; staleness
/// markers have already been removed by the caller.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    /// Sample timestamps in milliseconds, strictly increasing.
    pub ts: &'a [i64],
    /// Sample values, one per timestamp.
    pub vs: &'a [f64],
    /// Exclusive left edge of the window: evaluation time minus range (and offset), in milliseconds.
    pub range_start: i64,
    /// Inclusive right edge of the window: evaluation time (minus offset), in milliseconds.
    pub range_end: i64,
}

impl Window<'_> {
    /// The window length in seconds, computed as Go's `time.Duration.Seconds()` does it (whole seconds
    /// plus the fractional part), so that `rate` divides by exactly the same float as Prometheus.
    #[must_use]
    pub fn range_seconds(&self) -> f64 {
        duration_seconds(self.range_end - self.range_start)
    }

    /// Number of samples in the window.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ts.len().min(self.vs.len())
    }

    /// True when the window holds no sample.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A millisecond duration in seconds, rounded the way Go's `time.Duration.Seconds()` rounds it.
#[must_use]
pub fn duration_seconds(ms: i64) -> f64 {
    let secs = ms / 1000;
    let nanos = (ms % 1000) * 1_000_000;
    secs as f64 + nanos as f64 / 1e9
}

/// Evaluates a range-vector function over one window; `None` means no output point for this step.
///
/// Names: `rate`, `increase`, `delta`, `irate`, `idelta`, `deriv`, `predict_linear` (`params[0]` =
/// seconds ahead; optional `params[1]` = the evaluation timestamp in milliseconds, which differs from
/// `range_end` under `offset` or `@`, and defaults to `range_end`), `changes`, `resets`,
/// `avg_over_time`, `sum_over_time`, `min_over_time`, `max_over_time`, `count_over_time`,
/// `stddev_over_time`, `stdvar_over_time`, `last_over_time`, `first_over_time`, `present_over_time`,
/// `mad_over_time`, `quantile_over_time` (`params[0]` = φ), `ts_of_min_over_time`,
/// `ts_of_max_over_time`, `ts_of_last_over_time`, `ts_of_first_over_time`,
/// `double_exponential_smoothing` (`params[0]` = smoothing factor, `params[1]` = trend factor).
///
/// A missing required parameter, an empty window and an unknown name all give `None`. To avoid the
/// name lookup per window, resolve the name once with [`RangeFunc::from_name`] and call
/// [`RangeFunc::eval`].
#[must_use]
pub fn eval_range(name: &str, w: &Window, params: &[f64]) -> Option<f64> {
    RangeFunc::from_name(name)?.eval(w, params)
}

/// True if `name` is one of the range-vector functions [`eval_range`] knows.
#[must_use]
pub fn is_range_function(name: &str) -> bool {
    RangeFunc::from_name(name).is_some()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::testutil::*;
    use super::*;

    #[test]
    fn empty_window_gives_nothing_for_every_function() {
        let w = Window {
            ts: &[],
            vs: &[],
            range_start: 0,
            range_end: 60_000,
        };
        for name in RANGE_FUNCTIONS {
            assert_eq!(eval_range(name, &w, &[0.5, 0.5]), None, "{name}");
        }
    }

    #[test]
    fn unknown_name_and_missing_params_give_nothing() {
        let w = Window {
            ts: &[1, 2],
            vs: &[1.0, 2.0],
            range_start: 0,
            range_end: 2,
        };
        assert_eq!(eval_range("holt_winters", &w, &[0.5, 0.5]), None);
        assert_eq!(eval_range("quantile_over_time", &w, &[]), None);
        assert_eq!(eval_range("predict_linear", &w, &[]), None);
        assert_eq!(eval_range("double_exponential_smoothing", &w, &[0.5]), None);
        for name in RANGE_FUNCTIONS {
            assert!(is_range_function(name));
        }
        assert!(!is_range_function("abs"));
    }

    #[test]
    fn single_sample_window() {
        let w = Window {
            ts: &[10_000],
            vs: &[5.0],
            range_start: 0,
            range_end: 20_000,
        };
        for name in [
            "rate",
            "increase",
            "delta",
            "irate",
            "idelta",
            "deriv",
            "double_exponential_smoothing",
        ] {
            assert_eq!(eval_range(name, &w, &[0.5, 0.5]), None, "{name}");
        }
        assert_eq!(eval_range("predict_linear", &w, &[60.0]), None);
        assert_eq!(eval_range("changes", &w, &[]), Some(0.0));
        assert_eq!(eval_range("resets", &w, &[]), Some(0.0));
        assert_eq!(eval_range("count_over_time", &w, &[]), Some(1.0));
        assert_eq!(eval_range("present_over_time", &w, &[]), Some(1.0));
        assert_eq!(eval_range("stddev_over_time", &w, &[]), Some(0.0));
        assert_eq!(eval_range("mad_over_time", &w, &[]), Some(0.0));
        assert_eq!(eval_range("quantile_over_time", &w, &[0.9]), Some(5.0));
        assert_eq!(eval_range("ts_of_first_over_time", &w, &[]), Some(10.0));
        assert_eq!(eval_range("ts_of_max_over_time", &w, &[]), Some(10.0));
    }

    #[test]
    fn range_seconds_matches_go_duration() {
        assert_eq!(duration_seconds(300_000), 300.0);
        assert_eq!(duration_seconds(901_000), 901.0);
        assert_eq!(duration_seconds(1_500), 1.5);
        // Go computes 1 + 0.001, not 1001 / 1000.
        assert_eq!(duration_seconds(1_001), 1.0 + 0.001);
        assert_eq!(duration_seconds(-1_500), -1.5);
        let w = Window {
            ts: &[],
            vs: &[],
            range_start: -5 * M,
            range_end: 5 * M,
        };
        assert_eq!(w.range_seconds(), 600.0);
    }

    // Tests for *_over_time from functions.test ("Tests for *_over_time").
    #[test]
    fn over_time_conformance_block() {
        let data = [
            ("2 0 3", 0.0, 3.0, 2.0, 3.0),
            ("2 0 NaN", 0.0, 2.0, 2.0, f64::NAN),
            ("2 NaN 1", 1.0, 2.0, 2.0, 1.0),
            ("NaN 0 1", 0.0, 1.0, f64::NAN, 1.0),
            ("NaN NaN NaN", f64::NAN, f64::NAN, f64::NAN, f64::NAN),
        ];
        for (notation, min, max, first, last) in data {
            let s = load(10 * S, notation);
            assert_close(s.eval("min_over_time", M, 2 * M, &[]), Some(min));
            assert_close(s.eval("max_over_time", M, 2 * M, &[]), Some(max));
            assert_close(s.eval("first_over_time", M, 2 * M, &[]), Some(first));
            assert_close(s.eval("last_over_time", M, 2 * M, &[]), Some(last));
            assert_close(s.eval("count_over_time", M, 2 * M, &[]), Some(3.0));
        }
        let sparse = load(10 * S, "_ 5 2 _ 4 _");
        assert_close(sparse.eval("min_over_time", M, 2 * M, &[]), Some(2.0));
        assert_close(sparse.eval("max_over_time", M, 2 * M, &[]), Some(5.0));
        assert_close(sparse.eval("first_over_time", M, 2 * M, &[]), Some(5.0));
        assert_close(sparse.eval("last_over_time", M, 2 * M, &[]), Some(4.0));
        assert_close(sparse.eval("count_over_time", M, 2 * M, &[]), Some(3.0));
        let empty = load(10 * S, "_x13");
        assert_close(empty.eval("count_over_time", M, 2 * M, &[]), None);
    }

    // present_over_time from functions.test.
    #[test]
    fn present_over_time_conformance() {
        let req = load(M, "1+1x10");
        assert_close(req.eval("present_over_time", 5 * M, 5 * M, &[]), Some(1.0));
        assert_close(req.eval("present_over_time", 15 * M, 5 * M, &[]), None);
        assert_close(req.eval("present_over_time", 15 * M, 10 * M, &[]), Some(1.0));
        assert_close(req.eval("present_over_time", 16 * M, 6 * M, &[]), None);
        let log_lines = load(M, "1");
        assert_close(log_lines.eval("present_over_time", 0, 30 * S, &[]), Some(1.0));
        assert_close(log_lines.eval("present_over_time", M, 30 * S, &[]), None);
        let nan = load(M, "NaN NaN NaN NaN NaN");
        assert_close(nan.eval("present_over_time", 5 * M, 4 * M, &[]), Some(1.0));
        assert_close(nan.eval("present_over_time", 10 * M, 4 * M, &[]), None);
    }
}
