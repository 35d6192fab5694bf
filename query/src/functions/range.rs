//! The rate family: `rate`, `increase`, `delta` (extrapolated), `irate`, `idelta` (last two samples),
//! `deriv`, `predict_linear` (least squares), `changes`, `resets`, and the experimental
//! `anchored`/`smoothed` variants of `rate`/`increase`/`delta` ([`extended_rate`]).
//!
//! Ported from Prometheus' `promql/functions.go` (`extrapolatedRate`, `instantValue`,
//! `linearRegression`, `funcChanges`, `funcResets`, `extendedRate`). Start timestamps (created
//! timestamps) are not modelled: Strata does not store them, which is Prometheus' behaviour with the
//! `use-start-timestamps` feature off.

use super::Window;
use super::kahan::kahan_inc;

/// `rate` (`is_counter && is_rate`), `increase` (`is_counter`) and `delta` (neither) over one window.
///
/// The result is the difference between the last and the first sample (plus, for counters, every value
/// seen just before a decrease), extrapolated towards the window edges: all the way if the gap to the
/// edge is below 1.1 times the average sample interval, otherwise by half an average interval; for
/// counters the start is never extrapolated below zero. Needs at least two samples.
#[must_use]
pub fn extrapolated_rate(w: &Window, is_counter: bool, is_rate: bool) -> Option<f64> {
    extrapolate(w, is_counter, is_counter, is_rate.then(|| w.range_seconds()))
}

/// `rate` (`rate_seconds`: the window's [`Window::range_seconds`], which a caller evaluating many
/// windows of one length computes once) or `increase` (`None`) of a counter window known to hold no reset
/// (a value below its predecessor), e.g. because its whole series has none ([`has_drop`]): the same
/// result as [`extrapolated_rate`] without the scan for resets.
#[must_use]
#[inline]
pub fn counter_rate_without_resets(w: &Window, rate_seconds: Option<f64>) -> Option<f64> {
    extrapolate(w, true, false, rate_seconds)
}

/// Whether any value is below its predecessor (a counter reset; NaN compares false, as in the kernels).
/// Runs of pairs are compared without an early exit, which the compiler turns into vector compares: a
/// counter rarely drops, so every pair is looked at.
#[must_use]
pub fn has_drop(vs: &[f64]) -> bool {
    let (Some(prev), Some(cur)) = (vs.get(..vs.len().saturating_sub(1)), vs.get(1..)) else {
        return false;
    };
    prev.chunks(64)
        .zip(cur.chunks(64))
        .any(|(p, c)| p.iter().zip(c).fold(false, |dropped, (p, c)| dropped | (c < p)))
}

/// Below 1.1 by a margin far above rounding errors: see `may_reach` in [`extrapolate`].
const NEAR_THRESHOLD: f64 = 1.1 * (1.0 - 1e-9);

/// [`extrapolated_rate`]; `scan_resets` false skips the reset correction (the caller knows there is none);
/// a rate is divided by `rate_seconds`.
#[inline]
fn extrapolate(w: &Window, is_counter: bool, scan_resets: bool, rate_seconds: Option<f64>) -> Option<f64> {
    let n = w.len();
    if n < 2 {
        return None;
    }
    let (&first_t, &last_t) = (w.ts.first()?, w.ts.get(n - 1)?);
    let (&first_v, &last_v) = (w.vs.first()?, w.vs.get(n - 1)?);
    let mut result = last_v - first_v;
    if scan_resets {
        let vs = w.vs.get(..n).unwrap_or(&[]);
        // Most windows hold no reset: a comparison pass decides before any addition is done, so the
        // result is added to exactly as Prometheus adds to it.
        if has_drop(vs) {
            for pair in vs.windows(2) {
                if let [prev, cur] = *pair
                    && cur < prev
                {
                    result += prev;
                }
            }
        }
    }

    let mut duration_to_start = (first_t - w.range_start) as f64 / 1000.0;
    let mut duration_to_end = (w.range_end - last_t) as f64 / 1000.0;
    let sampled_interval = (last_t - first_t) as f64 / 1000.0;
    // Divisions are most of this function's time. Two of Prometheus' are skipped where a product shows
    // that their outcome cannot matter; where it might, they are done exactly as Prometheus does them,
    // so results stay bit for bit the same (see `skipped_divisions_change_nothing` in the tests).
    let intervals = (n - 1) as f64;
    // The average interval only matters when an edge gap reaches 1.1 times it. Gaps and intervals are
    // whole milliseconds over 1000 (finite, non-negative, far from underflow), so a product with a margin
    // of 1e-9, far above rounding errors, can tell when neither can.
    let may_reach = |gap: f64| gap * intervals >= sampled_interval * NEAR_THRESHOLD;
    let threshold = (may_reach(duration_to_start) || may_reach(duration_to_end))
        .then(|| average_and_threshold(sampled_interval, intervals));
    if let Some((average, extrapolation_threshold)) = threshold
        && duration_to_start >= extrapolation_threshold
    {
        duration_to_start = average / 2.0;
    }
    if is_counter && result > 0.0 && first_v >= 0.0 {
        // Counters cannot be negative: if the slope reaches zero before the (extrapolated) start, start
        // there instead. That point is usually far before the window (the counter's value is large
        // against its increase): when the cross product says so with a margin, in the normal range where
        // its rounding is bounded, the division is skipped.
        let edge = result * duration_to_start;
        let far = edge >= f64::MIN_POSITIVE && first_v * sampled_interval > edge * (1.0 + 1e-9);
        if !far {
            let duration_to_zero = sampled_interval * (first_v / result);
            if duration_to_zero < duration_to_start {
                duration_to_start = duration_to_zero;
            }
        }
    }
    if let Some((average, extrapolation_threshold)) = threshold
        && duration_to_end >= extrapolation_threshold
    {
        duration_to_end = average / 2.0;
    }

    let mut factor = 1.0;
    if sampled_interval != 0.0 {
        factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
    }
    if let Some(seconds) = rate_seconds {
        factor /= seconds;
    }
    Some(result * factor)
}

/// The average interval between samples and the extrapolation threshold, 1.1 times it. Out of line and
/// cold: inlined, the compiler computes the division at every window, needed or not.
#[cold]
#[inline(never)]
fn average_and_threshold(sampled_interval: f64, intervals: f64) -> (f64, f64) {
    let average_between_samples = sampled_interval / intervals;
    (average_between_samples, average_between_samples * 1.1)
}

/// `irate` (`is_rate`) and `idelta` from the last two samples of the window.
///
/// `irate` treats a decrease as a counter reset and then takes the last value as the increase.
#[must_use]
pub fn instant_value(w: &Window, is_rate: bool) -> Option<f64> {
    let n = w.len();
    if n < 2 {
        return None;
    }
    let (&t0, &t1) = (w.ts.get(n - 2)?, w.ts.get(n - 1)?);
    let (&v0, &v1) = (w.vs.get(n - 2)?, w.vs.get(n - 1)?);
    let sampled_interval = t1 - t0;
    if sampled_interval == 0 {
        return None;
    }
    let mut result = v1;
    if !is_rate || v1 >= v0 || v1.is_nan() || v0.is_nan() {
        // Gauge, or counter without reset, or counter with a NaN value.
        result = v1 - v0;
    }
    if is_rate {
        result /= sampled_interval as f64 / 1000.0;
    }
    Some(result)
}

/// Least-squares regression of the samples against time in seconds relative to `intercept_time` (ms),
/// with Kahan-compensated sums. Returns `(slope, intercept)`. A constant series has slope 0 (and NaN
/// slope and intercept if the constant is infinite). Needs at least one sample.
#[must_use]
pub fn linear_regression(ts: &[i64], vs: &[f64], intercept_time: i64) -> (f64, f64) {
    let mut n = 0.0;
    let (mut sum_x, mut c_x) = (0.0, 0.0);
    let (mut sum_y, mut c_y) = (0.0, 0.0);
    let (mut sum_xy, mut c_xy) = (0.0, 0.0);
    let (mut sum_x2, mut c_x2) = (0.0, 0.0);
    let init_y = vs.first().copied().unwrap_or(f64::NAN);
    let mut const_y = true;
    for (i, (&t, &v)) in ts.iter().zip(vs).enumerate() {
        if const_y && i > 0 && v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (t - intercept_time) as f64 / 1e3;
        (sum_x, c_x) = kahan_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_inc(v, sum_y, c_y);
        (sum_xy, c_xy) = kahan_inc(x * v, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_inc(x * x, sum_x2, c_x2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sum_x += c_x;
    sum_y += c_y;
    sum_xy += c_xy;
    sum_x2 += c_x2;

    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// `deriv`: the per-second slope of the least-squares line. Needs at least two samples.
#[must_use]
pub fn deriv(w: &Window) -> Option<f64> {
    if w.len() < 2 {
        return None;
    }
    // Regress relative to the first sample to keep the x values small (Prometheus issue #2674).
    let (slope, _) = linear_regression(w.ts, w.vs, *w.ts.first()?);
    Some(slope)
}

/// `predict_linear`: the value of the least-squares line `duration` seconds after `eval_ts` (ms), the
/// evaluation timestamp (not the window end: they differ under `offset` and `@`). Needs two samples.
#[must_use]
pub fn predict_linear(w: &Window, duration: f64, eval_ts: i64) -> Option<f64> {
    if w.len() < 2 {
        return None;
    }
    let (slope, intercept) = linear_regression(w.ts, w.vs, eval_ts);
    Some(slope * duration + intercept)
}

/// `changes`: how often the value changed between consecutive samples (NaN to NaN is no change).
#[must_use]
pub fn changes(vs: &[f64]) -> f64 {
    vs.windows(2)
        .filter(|p| match **p {
            [a, b] => b != a && !(a.is_nan() && b.is_nan()),
            _ => false,
        })
        .count() as f64
}

/// `resets`: how often the value decreased between consecutive samples.
#[must_use]
pub fn resets(vs: &[f64]) -> f64 {
    vs.windows(2)
        .filter(|p| match **p {
            [a, b] => b < a,
            _ => false,
        })
        .count() as f64
}

/// Input of [`extended_rate`]: the samples of an `anchored` or `smoothed` range selector, which unlike
/// [`Window`] may include samples outside `(range_start, range_end]` (the last one at or before the
/// start; for `smoothed` also the first one at or after the end).
#[derive(Debug, Clone, Copy)]
pub struct ExtendedWindow<'a> {
    /// Sample timestamps in milliseconds, strictly increasing.
    pub ts: &'a [i64],
    /// Sample values.
    pub vs: &'a [f64],
    /// Range start (exclusive edge of the plain window), ms.
    pub range_start: i64,
    /// Range end, ms.
    pub range_end: i64,
    /// `smoothed` modifier: interpolate at both edges. Otherwise `anchored`: take the anchor sample.
    pub smoothed: bool,
}

fn interpolate(t1: i64, y1: f64, t2: i64, y2: f64, t: i64, is_counter: bool) -> f64 {
    let y1 = if is_counter && y2 < y1 { 0.0 } else { y1 };
    y1 + (y2 - y1) * (t - t1) as f64 / (t2 - t1) as f64
}

/// `rate`/`increase`/`delta` under the experimental `anchored` or `smoothed` modifiers (Prometheus'
/// `extendedRate`): no extrapolation; the value at each edge is the anchor sample or, when smoothed, the
/// linear interpolation between the samples around the edge. Counter resets inside the range add the
/// pre-reset value.
#[must_use]
pub fn extended_rate(w: &ExtendedWindow, is_counter: bool, is_rate: bool) -> Option<f64> {
    let n = w.ts.len().min(w.vs.len());
    let ts = w.ts.get(..n)?;
    let at = |i: usize| Some((*ts.get(i)?, *w.vs.get(i)?));
    let mut last = n.checked_sub(1)?;
    let head = ts.get(..last).unwrap_or(&[]);
    let first = head.partition_point(|&t| t <= w.range_start).saturating_sub(1);
    if w.smoothed {
        last = head.partition_point(|&t| t < w.range_end);
    }
    let (first_t, first_v) = at(first)?;
    let (last_t, last_v) = at(last)?;
    if last_t <= w.range_start {
        return None;
    }
    if w.smoothed && first_t > w.range_end {
        return None;
    }
    let left = match at(first + 1) {
        Some((t2, v2)) if w.smoothed && first_t < w.range_start => {
            interpolate(first_t, first_v, t2, v2, w.range_start, is_counter)
        }
        _ => first_v,
    };
    let right = match last.checked_sub(1).and_then(at) {
        Some((t0, v0)) if w.smoothed && last_t > w.range_end => {
            interpolate(t0, v0, last_t, last_v, w.range_end, is_counter)
        }
        _ => last_v,
    };
    let mut result = right - left;
    if is_counter {
        // Only samples strictly inside the range count for resets; the edges already handled theirs.
        let lo = if first_t <= w.range_start { first + 1 } else { first };
        let hi = if last_t >= w.range_end { last } else { last + 1 };
        let mut correction = 0.0;
        let mut prev = left;
        for &v in w.vs.get(lo..hi).unwrap_or(&[]) {
            if v < prev {
                correction += prev;
            }
            prev = v;
        }
        if right < prev {
            correction += prev;
        }
        result += correction;
    }
    if is_rate {
        result /= super::duration_seconds(w.range_end - w.range_start);
    }
    Some(result)
}

#[cfg(test)]
#[path = "range_tests.rs"]
mod tests;
