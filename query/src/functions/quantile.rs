//! The φ-quantile of a set of values, as Prometheus' `quantile` aggregation and `quantile_over_time`
//! compute it (`promql/quantile.go`, `quantile`).

use std::cmp::Ordering;

/// Orders values the way Prometheus' `vectorByValueHeap` sorts them: NaN before everything, then
/// ascending (`-0` and `+0` compare equal). A consistent total preorder, safe for Rust's sorts.
#[must_use]
pub fn nan_first_cmp(a: &f64, b: &f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    }
}

/// The φ-quantile of `values` (reordered in place), with linear interpolation between the two closest
/// ranks: rank = φ·(n−1). Empty input or NaN φ gives NaN, φ < 0 gives −Inf, φ > 1 gives +Inf. NaN values
/// sort below everything, so a quantile that touches one is NaN; interpolation weights are applied even
/// when zero, so `Inf * 0` yields NaN exactly as in Prometheus.
#[must_use]
pub fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower_index = rank.floor().max(0.0);
    let upper_index = (n - 1.0).min(lower_index + 1.0);
    let weight = rank - rank.floor();

    let lower = lower_index as usize;
    let upper = upper_index as usize;
    let (_, &mut lower_value, right) = values.select_nth_unstable_by(lower, nan_first_cmp);
    let upper_value = if upper > lower {
        right.iter().copied().min_by(nan_first_cmp).unwrap_or(lower_value)
    } else {
        lower_value
    };
    lower_value * (1.0 - weight) + upper_value * weight
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn q(phi: f64, vs: &[f64]) -> f64 {
        quantile(phi, &mut vs.to_vec())
    }

    #[test]
    fn edges() {
        assert!(q(0.5, &[]).is_nan());
        assert!(q(f64::NAN, &[1.0]).is_nan());
        assert_eq!(q(-0.1, &[1.0]), f64::NEG_INFINITY);
        assert_eq!(q(1.1, &[1.0]), f64::INFINITY);
        assert_eq!(q(0.3, &[7.0]), 7.0);
    }

    // quantile_over_time / quantile aggregation cases from functions.test and aggregators.test.
    #[test]
    fn conformance() {
        let two = [0.0, 1.0];
        let three = [0.0, 1.0, 2.0];
        let uneven = [0.0, 1.0, 4.0];
        let cases = [
            (0.0, [0.0, 0.0, 0.0]),
            (0.5, [0.5, 1.0, 1.0]),
            (0.75, [0.75, 1.5, 2.5]),
            (0.8, [0.8, 1.6, 2.8]),
            (1.0, [1.0, 2.0, 4.0]),
        ];
        for (phi, want) in cases {
            for (vs, w) in [&two[..], &three[..], &uneven[..]].iter().zip(want) {
                assert!(
                    (q(phi, vs) - w).abs() < 1e-12,
                    "q({phi}, {vs:?}) = {} want {w}",
                    q(phi, vs)
                );
            }
        }
        // NaN sorts lowest: quantile(0.8) of {0, 1, NaN} is 0.6, quantile(0.2) is NaN.
        assert!((q(0.8, &[0.0, 1.0, f64::NAN]) - 0.6).abs() < 1e-12);
        assert!(q(0.2, &[0.0, 1.0, f64::NAN]).is_nan());
    }

    #[test]
    fn unsorted_input_and_duplicates() {
        assert_eq!(q(0.5, &[5.0, 1.0, 3.0, 2.0, 4.0]), 3.0);
        assert_eq!(q(0.25, &[4.0, 4.0, 1.0, 1.0, 9.0]), 1.0);
        let w = 0.9 * 3.0 - 2.0;
        assert_eq!(q(0.9, &[10.0, 1.0, 7.0, 3.0]), 7.0 * (1.0 - w) + 10.0 * w);
    }

    #[test]
    fn infinities() {
        // Weight 0 still multiplies: Inf * 0 = NaN, as in Prometheus.
        assert!(q(0.5, &[0.0, 1.0, f64::INFINITY]).is_nan());
        // Even at the top rank the (zero) weight of the upper neighbour applies: Inf * 0.
        assert!(q(1.0, &[0.0, 1.0, f64::INFINITY]).is_nan());
        assert_eq!(q(1.0, &[0.0, f64::NEG_INFINITY, 1.0]), 1.0);
        assert_eq!(q(0.0, &[f64::NEG_INFINITY, 1.0]), f64::NEG_INFINITY);
        assert_eq!(q(0.25, &[1.0, 0.0, f64::NEG_INFINITY]), f64::NEG_INFINITY);
    }

    #[test]
    fn matches_full_sort() {
        // Deterministic pseudo-random inputs: selection must agree with the sorted definition.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for n in 1..40usize {
            let mut vs = Vec::with_capacity(n);
            for _ in 0..n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                vs.push((x % 1000) as f64 / 10.0 - 30.0);
            }
            let mut sorted = vs.clone();
            sorted.sort_by(nan_first_cmp);
            for phi in [0.0, 0.1, 0.33, 0.5, 0.9, 0.99, 1.0] {
                let rank = phi * (n as f64 - 1.0);
                let lo = rank.floor() as usize;
                let hi = (lo + 1).min(n - 1);
                let w = rank - rank.floor();
                let want = sorted[lo] * (1.0 - w) + sorted[hi] * w;
                assert_eq!(quantile(phi, &mut vs.clone()), want);
            }
        }
    }
}
