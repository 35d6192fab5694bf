//! `histogram_quantile` and `histogram_fraction` over classic (`le`-labelled) buckets, ported from
//! Prometheus' `BucketQuantile`, `BucketFraction`, `coalesceBuckets` and
//! `ensureMonotonicAndIgnoreSmallDeltas` (`promql/quantile.go`).
//!
//! Buckets are `(upper bound, cumulative count)` pairs in any order.

use std::cmp::Ordering;

/// Relative difference between neighbouring cumulative counts below which a decrease (or increase) is
/// treated as floating-point noise and silently flattened (Prometheus' `smallDeltaTolerance`: 1e12
/// observations would be needed in a bucket before a real change of one observation is ignored).
pub const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// The full outcome of [`bucket_quantile_detail`], with what the evaluator needs for Prometheus' info
/// annotation "input to histogram_quantile needed to be fixed for monotonicity".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketQuantile {
    /// The estimated quantile.
    pub value: f64,
    /// Some cumulative count decreased and had to be raised to force monotonicity.
    pub forced_monotonic: bool,
    /// Some numerically insignificant difference between counts was flattened.
    pub fixed_precision: bool,
    /// Smallest upper bound whose count was raised (`+Inf` if none).
    pub min_bucket: f64,
    /// Largest upper bound whose count was raised (`-Inf` if none).
    pub max_bucket: f64,
    /// Largest decrease that was removed (0 if none).
    pub max_diff: f64,
}

impl BucketQuantile {
    fn just(value: f64) -> Self {
        Self {
            value,
            forced_monotonic: false,
            fixed_precision: false,
            min_bucket: 0.0,
            max_bucket: 0.0,
            max_diff: 0.0,
        }
    }
}

/// Sort order of upper bounds: ascending, `-0 == +0`, NaN last (Prometheus does not expect NaN bounds).
fn bound_cmp(a: &(f64, f64), b: &(f64, f64)) -> Ordering {
    match (a.0.is_nan(), b.0.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal),
    }
}

/// Merges buckets with equal upper bounds (e.g. `le="0.2"` and `le="2e-1"`) by adding their counts.
/// `buckets` must be sorted.
pub fn coalesce_buckets(buckets: &mut Vec<(f64, f64)>) {
    buckets.dedup_by(|cur, kept| {
        if cur.0 == kept.0 {
            kept.1 += cur.1;
            true
        } else {
            false
        }
    });
}

/// Prometheus' `almost.Equal` for finite, non-NaN inputs: true if `a` and `b` differ by less than
/// `epsilon` times their magnitude (or, near zero, than `epsilon` times the smallest normal float).
#[must_use]
pub fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < epsilon * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

/// Makes cumulative counts monotonic in place: a count below its predecessor is raised to it
/// ("forced"), a count within `tolerance` of its predecessor is set equal to it ("fixed precision").
/// Returns `(forced, fixed, min_bucket, max_bucket, max_diff)`.
fn ensure_monotonic_and_ignore_small_deltas(buckets: &mut [(f64, f64)], tolerance: f64) -> (bool, bool, f64, f64, f64) {
    let mut forced = false;
    let mut fixed = false;
    let mut min_bucket = f64::INFINITY;
    let mut max_bucket = f64::NEG_INFINITY;
    let mut max_diff: f64 = 0.0;
    let Some(&(_, mut prev)) = buckets.first() else {
        return (forced, fixed, min_bucket, max_bucket, max_diff);
    };
    for b in buckets.iter_mut().skip(1) {
        let curr = b.1;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, tolerance) {
            b.1 = prev;
            fixed = true;
            continue;
        }
        if curr < prev {
            b.1 = prev;
            forced = true;
            if b.0 < min_bucket {
                min_bucket = b.0;
            }
            if b.0 > max_bucket {
                max_bucket = b.0;
            }
            let diff = prev - curr;
            if diff > max_diff {
                max_diff = diff;
            }
            continue;
        }
        prev = curr;
    }
    (forced, fixed, min_bucket, max_bucket, max_diff)
}

/// Go's `sort.Search`: the smallest `i` in `[0, n)` for which `f(i)` holds, or `n`, probing exactly
/// the same indices (which matters only when NaN counts make `f` non-monotonic).
fn go_search(n: usize, f: impl Fn(usize) -> bool) -> usize {
    let (mut i, mut j) = (0, n);
    while i < j {
        let h = (i + j) / 2;
        if f(h) {
            j = h;
        } else {
            i = h + 1;
        }
    }
    i
}

/// `histogram_quantile(q, …)` over classic buckets; returns `(value, forced_monotonic)`.
///
/// NaN `q` gives NaN, `q < 0` gives −Inf and `q > 1` gives +Inf. Otherwise the buckets are sorted,
/// duplicates merged and counts made monotonic; without a `+Inf` bucket, with fewer than two buckets or
/// with zero observations the result is NaN. The quantile is interpolated linearly inside its bucket,
/// the lowest bucket starting at 0 if its upper bound is positive (else its upper bound is returned), and
/// a quantile in the `+Inf` bucket returns the second-highest upper bound. `buckets` is left sorted and
/// coalesced.
pub fn bucket_quantile(q: f64, buckets: &mut Vec<(f64, f64)>) -> (f64, bool) {
    let r = bucket_quantile_detail(q, buckets);
    (r.value, r.forced_monotonic)
}

/// [`bucket_quantile`] with every detail Prometheus' `BucketQuantile` reports.
pub fn bucket_quantile_detail(q: f64, buckets: &mut Vec<(f64, f64)>) -> BucketQuantile {
    if q.is_nan() {
        return BucketQuantile::just(f64::NAN);
    }
    if q < 0.0 {
        return BucketQuantile::just(f64::NEG_INFINITY);
    }
    if q > 1.0 {
        return BucketQuantile::just(f64::INFINITY);
    }
    buckets.sort_by(bound_cmp);
    if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return BucketQuantile::just(f64::NAN);
    }
    coalesce_buckets(buckets);
    let (forced_monotonic, fixed_precision, min_bucket, max_bucket, max_diff) =
        ensure_monotonic_and_ignore_small_deltas(buckets, SMALL_DELTA_TOLERANCE);
    let mut out = BucketQuantile {
        value: f64::NAN,
        forced_monotonic,
        fixed_precision,
        min_bucket,
        max_bucket,
        max_diff,
    };
    let n = buckets.len();
    if n < 2 {
        return out;
    }
    let observations = buckets.last().map_or(0.0, |b| b.1);
    if observations == 0.0 {
        return out;
    }
    let mut rank = q * observations;
    // First bucket (excluding +Inf) whose count reaches the rank.
    let b = go_search(n - 1, |i| buckets.get(i).is_some_and(|bk| bk.1 >= rank));
    let bound = |i: usize| buckets.get(i).map_or(f64::NAN, |bk| bk.0);
    let count_at = |i: usize| buckets.get(i).map_or(f64::NAN, |bk| bk.1);
    out.value = if b == n - 1 {
        bound(n - 2)
    } else if b == 0 && bound(0) <= 0.0 {
        bound(0)
    } else {
        let mut bucket_start = 0.0;
        let bucket_end = bound(b);
        let mut count = count_at(b);
        if b > 0 {
            bucket_start = bound(b - 1);
            count -= count_at(b - 1);
            rank -= count_at(b - 1);
        }
        bucket_start + (bucket_end - bucket_start) * (rank / count)
    };
    out
}

/// `histogram_fraction(lower, upper, …)` over classic buckets (Prometheus 3 semantics): the estimated
/// fraction of observations between `lower` and `upper`, interpolating linearly within buckets. The
/// lowest bucket starts at 0 if its upper bound is positive, else at −Inf; buckets of infinite width
/// contribute nothing to a partial overlap. NaN without a `+Inf` bucket, with zero observations or a NaN
/// bound; 0 when `lower >= upper`. `buckets` is left sorted and coalesced.
pub fn bucket_fraction(lower: f64, upper: f64, buckets: &mut Vec<(f64, f64)>) -> f64 {
    buckets.sort_by(bound_cmp);
    if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return f64::NAN;
    }
    coalesce_buckets(buckets);
    let count = buckets.last().map_or(0.0, |b| b.1);
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }

    let mut rank = 0.0;
    let mut lower_rank = 0.0;
    let mut upper_rank = 0.0;
    let mut lower_set = false;
    let mut upper_set = false;
    let mut lower_bound = match buckets.first() {
        Some(b) if b.0 <= 0.0 => f64::NEG_INFINITY,
        _ => 0.0,
    };
    for (i, &(upper_bound, b_count)) in buckets.iter().enumerate() {
        if i > 0 {
            lower_bound = buckets.get(i - 1).map_or(lower_bound, |p| p.0);
        }
        let interpolate_linearly = |v: f64| -> f64 {
            if lower_bound == f64::NEG_INFINITY {
                return b_count;
            }
            rank + (b_count - rank) * (v - lower_bound) / (upper_bound - lower_bound)
        };
        if !lower_set && lower_bound >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lower_bound >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lower_bound < lower && upper_bound > lower {
            lower_rank = interpolate_linearly(lower);
            lower_set = true;
        }
        if !upper_set && lower_bound < upper && upper_bound > upper {
            upper_rank = interpolate_linearly(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = b_count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}

#[cfg(test)]
#[path = "histogram_tests.rs"]
mod tests;
