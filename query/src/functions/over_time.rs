//! The `*_over_time` aggregations of one window's float values (Prometheus' `funcAvgOverTime`,
//! `funcSumOverTime`, `compareOverTime`, `varianceOverTime`, `funcMadOverTime`,
//! `funcQuantileOverTime`, `funcTsOf*OverTime`).
//!
//! All take the window's values (and timestamps where needed) and return `None` for an empty window.

use super::kahan::{KahanSum, kahan_inc};
use super::quantile::quantile;

/// `sum_over_time`: Kahan-compensated sum.
#[must_use]
pub fn sum(vs: &[f64]) -> Option<f64> {
    if vs.is_empty() {
        return None;
    }
    let mut k = KahanSum::default();
    for &v in vs {
        k.add(v);
    }
    Some(k.total())
}

/// `avg_over_time`: Kahan-compensated direct mean, switching to an incremental mean once the running
/// sum would overflow (exactly as Prometheus does, see its issue #16714).
#[must_use]
pub fn avg(vs: &[f64]) -> Option<f64> {
    let (&first, rest) = vs.split_first()?;
    let mut sum = first;
    let mut count = 1.0;
    let mut mean = 0.0;
    let mut c = 0.0;
    let mut incremental = false;
    for (i, &v) in rest.iter().enumerate() {
        count = (i + 2) as f64;
        if !incremental {
            let (new_sum, new_c) = kahan_inc(v, sum, c);
            if !new_sum.is_infinite() {
                (sum, c) = (new_sum, new_c);
                continue;
            }
            // The sum overflows: continue with an incremental mean.
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(v / count, q * mean, q * c);
    }
    if incremental {
        return Some(mean + c);
    }
    Some(sum / count + c / count)
}

/// `min_over_time`: the smallest value; NaN only if all values are NaN.
#[must_use]
pub fn min(vs: &[f64]) -> Option<f64> {
    compare(vs, |cur, best| cur < best || best.is_nan()).map(|(_, v)| v)
}

/// `max_over_time`: the largest value; NaN only if all values are NaN.
#[must_use]
pub fn max(vs: &[f64]) -> Option<f64> {
    compare(vs, |cur, best| cur > best || best.is_nan()).map(|(_, v)| v)
}

/// `ts_of_min_over_time`: timestamp (seconds) of the last occurrence of the minimum.
#[must_use]
pub fn ts_of_min(ts: &[i64], vs: &[f64]) -> Option<f64> {
    let (i, _) = compare(vs, |cur, best| cur <= best || best.is_nan())?;
    ts.get(i).map(|&t| t as f64 / 1000.0)
}

/// `ts_of_max_over_time`: timestamp (seconds) of the last occurrence of the maximum.
#[must_use]
pub fn ts_of_max(ts: &[i64], vs: &[f64]) -> Option<f64> {
    let (i, _) = compare(vs, |cur, best| cur >= best || best.is_nan())?;
    ts.get(i).map(|&t| t as f64 / 1000.0)
}

/// Prometheus' `compareOverTime`: starts with the first value and replaces the best one whenever
/// `better(cur, best)`. Returns the index and value of the winner.
fn compare(vs: &[f64], better: impl Fn(f64, f64) -> bool) -> Option<(usize, f64)> {
    let mut best = *vs.first()?;
    let mut at = 0;
    for (i, &v) in vs.iter().enumerate() {
        if better(v, best) {
            best = v;
            at = i;
        }
    }
    Some((at, best))
}

/// `stdvar_over_time`: population variance by Welford's method with Kahan-compensated mean and
/// sum of squares. `stddev_over_time` is its square root.
#[must_use]
pub fn stdvar(vs: &[f64]) -> Option<f64> {
    if vs.is_empty() {
        return None;
    }
    let mut count = 0.0;
    let (mut mean, mut c_mean) = (0.0, 0.0);
    let (mut aux, mut c_aux) = (0.0, 0.0);
    for &v in vs {
        count += 1.0;
        let delta = v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (v - (mean + c_mean)), aux, c_aux);
    }
    Some((aux + c_aux) / count)
}

/// `stddev_over_time`: population standard deviation.
#[must_use]
pub fn stddev(vs: &[f64]) -> Option<f64> {
    stdvar(vs).map(f64::sqrt)
}

/// `mad_over_time`: median absolute deviation from the median; NaN if any value is NaN.
#[must_use]
pub fn mad(vs: &[f64]) -> Option<f64> {
    if vs.is_empty() {
        return None;
    }
    if vs.iter().any(|v| v.is_nan()) {
        return Some(f64::NAN);
    }
    let mut values = vs.to_vec();
    let median = quantile(0.5, &mut values);
    for v in &mut values {
        *v = (*v - median).abs();
    }
    Some(quantile(0.5, &mut values))
}

/// `quantile_over_time`: the φ-quantile of the window's values (see [`quantile`]).
#[must_use]
pub fn quantile_over_time(q: f64, vs: &[f64]) -> Option<f64> {
    if vs.is_empty() {
        return None;
    }
    let mut values = vs.to_vec();
    Some(quantile(q, &mut values))
}

#[cfg(test)]
#[path = "over_time_tests.rs"]
mod tests;
