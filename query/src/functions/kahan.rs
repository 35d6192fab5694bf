//! Kahan–Neumaier compensated summation, as Prometheus' `util/kahansum` does it.
//!
//! Several PromQL functions (`sum_over_time`, `avg_over_time`, `stddev_over_time`, `deriv`, …) sum with a
//! running compensation term so that their results match Prometheus to the last bit. Rust never fuses
//! `a * b + c` into an FMA on its own, which is exactly what Prometheus forces on Go with explicit casts.

/// One compensated addition: adds `inc` to the running `sum` with compensation `c`, returning the new
/// `(sum, c)`. The compensation is reset to zero once the sum becomes infinite (Neumaier variant).
#[inline]
#[must_use]
pub fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// A running compensated sum.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct KahanSum {
    /// The plain running sum.
    pub sum: f64,
    /// The accumulated compensation (to be added to `sum` at the end).
    pub c: f64,
}

impl KahanSum {
    /// Adds one value.
    #[inline]
    pub fn add(&mut self, v: f64) {
        (self.sum, self.c) = kahan_inc(v, self.sum, self.c);
    }

    /// The compensated total: `sum + c`, except that an infinite sum is returned as is (as Prometheus'
    /// `sum_over_time` does, so that `Inf + NaN`-style compensation never leaks in).
    #[inline]
    #[must_use]
    pub fn total(&self) -> f64 {
        if self.sum.is_infinite() {
            self.sum
        } else {
            self.sum + self.c
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn compensates_cancellation() {
        let mut k = KahanSum::default();
        for v in [1.0, 1e100, 1.0, -1e100] {
            k.add(v);
        }
        assert_eq!(k.total(), 2.0);
        // Plain summation loses both ones.
        assert_eq!([1.0, 1e100, 1.0, -1e100].iter().sum::<f64>(), 0.0);
    }

    #[test]
    fn infinity_resets_compensation() {
        let (s, c) = kahan_inc(f64::INFINITY, 1.0, 0.5);
        assert_eq!(s, f64::INFINITY);
        assert_eq!(c, 0.0);
        let mut k = KahanSum::default();
        k.add(f64::INFINITY);
        k.add(-f64::INFINITY);
        assert!(k.total().is_nan());
    }

    /// Prometheus' `TestKahanSumInc`: `Inc(b, a, 0)` summed, in both orders.
    #[test]
    fn special_values_table() {
        let inf = f64::INFINITY;
        let nan = f64::NAN;
        let cases = [
            (inf, 2.0, inf),
            (-inf, 2.0, -inf),
            (inf, -inf, nan),
            (nan, 2.0, nan),
            (nan, inf, nan),
            (nan, -inf, nan),
        ];
        for (a, b, want) in cases {
            for (x, y) in [(a, b), (b, a)] {
                let (sum, c) = kahan_inc(y, x, 0.0);
                let got = sum + c;
                assert!(
                    got == want || (got.is_nan() && want.is_nan()),
                    "{x} + {y} = {got}, want {want}"
                );
            }
        }
    }

    #[test]
    fn neumaier_branch_when_increment_is_larger() {
        // sum = 1, inc = 1e16: the small term is the sum, which must be what is recovered.
        let (s, c) = kahan_inc(1e16, 1.0, 0.0);
        assert_eq!(s, 1e16);
        assert_eq!(c, 1.0);
    }
}
