//! `double_exponential_smoothing` (formerly `holt_winters`), ported from Prometheus'
//! `funcDoubleExponentialSmoothing`.

/// The query error Prometheus raises for invalid smoothing parameters, or `None` when both are valid.
///
/// The smoothing factor `sf` and the trend factor `tf` must each lie strictly between 0 and 1. NaN passes
/// the check (as in Prometheus, whose comparison is false for NaN) and simply yields NaN results.
#[must_use]
pub fn smoothing_params_error(sf: f64, tf: f64) -> Option<String> {
    if sf <= 0.0 || sf >= 1.0 {
        return Some(format!(
            "invalid smoothing factor. Expected: 0 < sf < 1, got: {}",
            go_fmt_f(sf)
        ));
    }
    if tf <= 0.0 || tf >= 1.0 {
        return Some(format!(
            "invalid trend factor. Expected: 0 < tf < 1, got: {}",
            go_fmt_f(tf)
        ));
    }
    None
}

/// Formats like Go's `%f`: six decimals, `+Inf`, `-Inf`, `NaN`.
fn go_fmt_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v:.6}")
    }
}

/// The trend at step `i`: the raw initial trend `b` for the first step, else `tf·(s1−s0) + (1−tf)·b`.
fn calc_trend_value(i: usize, tf: f64, s0: f64, s1: f64, b: f64) -> f64 {
    if i == 0 {
        return b;
    }
    let x = tf * (s1 - s0);
    let y = (1.0 - tf) * b;
    x + y
}

/// Holt's linear (double exponential) smoothing of the window's values with smoothing factor `sf` and
/// trend factor `tf`; returns the last smoothed value. Needs at least two values. Returns `None` for
/// parameters outside `(0, 1)`: the caller reports [`smoothing_params_error`] as a query error.
#[must_use]
pub fn double_exponential_smoothing(vs: &[f64], sf: f64, tf: f64) -> Option<f64> {
    if smoothing_params_error(sf, tf).is_some() {
        return None;
    }
    let (&first, rest) = vs.split_first()?;
    let &second = rest.first()?;
    let mut s0 = 0.0;
    let mut s1 = first;
    let mut b = second - first;
    for (i, &v) in rest.iter().enumerate() {
        // `i` here is Prometheus' `i - 1`.
        let x = sf * v;
        b = calc_trend_value(i, tf, s0, s1, b);
        let y = (1.0 - sf) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    Some(s1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::testutil::*;
    use super::*;

    fn des(s: &Series, t: i64) -> Option<f64> {
        s.eval("double_exponential_smoothing", t, M, &[0.01, 0.1])
    }

    // "Tests for double_exponential_smoothing" in functions.test.
    #[test]
    fn positive_trends() {
        let cases = [
            ("0+10x1000 100+30x1000", 8000.0),
            ("0+20x1000 200+30x1000", 16000.0),
            ("0+30x1000 300+80x1000", 24000.0),
            ("0+40x2000", 32000.0),
        ];
        for (notation, want) in cases {
            assert_close(des(&load(10 * S, notation), 8000 * S), Some(want));
        }
        // At 20010s (the mixed series' histograms ignored, the float part ends at 20000s).
        let cases = [
            ("0+10x1000 100+30x1000", 30100.0),
            ("0+20x1000 200+30x1000", 30200.0),
            ("0+30x1000 300+80x1000", 80300.0),
            ("0+40x2000", 80000.0),
        ];
        for (notation, want) in cases {
            assert_close(des(&load(10 * S, notation), 20010 * S), Some(want));
        }
    }

    #[test]
    fn negative_trends() {
        let cases = [
            ("8000-10x1000", 0.0),
            ("0-20x1000", -16000.0),
            ("0+30x1000 300-80x1000", 24000.0),
            ("0-40x1000 0+40x1000", -32000.0),
        ];
        for (notation, want) in cases {
            assert_close(des(&load(10 * S, notation), 8000 * S), Some(want));
        }
    }

    #[test]
    fn hand_computed() {
        // s1=1, b=1; step 1: x=0.5*2=1, b=1, y=0.5*(1+1)=1 → s1=2; step 2: x=0.5*4=2,
        // b=0.5*(2-1)+0.5*1=1, y=0.5*(2+1)=1.5 → 3.5.
        assert_eq!(double_exponential_smoothing(&[1.0, 2.0, 4.0], 0.5, 0.5), Some(3.5));
        assert_eq!(double_exponential_smoothing(&[1.0], 0.5, 0.5), None);
        assert_eq!(double_exponential_smoothing(&[], 0.5, 0.5), None);
    }

    #[test]
    fn parameter_validation() {
        assert_eq!(smoothing_params_error(0.5, 0.5), None);
        assert_eq!(
            smoothing_params_error(1.0, 0.5).unwrap(),
            "invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000"
        );
        assert_eq!(
            smoothing_params_error(0.5, 0.0).unwrap(),
            "invalid trend factor. Expected: 0 < tf < 1, got: 0.000000"
        );
        assert_eq!(
            smoothing_params_error(f64::NEG_INFINITY, 0.5).unwrap(),
            "invalid smoothing factor. Expected: 0 < sf < 1, got: -Inf"
        );
        assert_eq!(double_exponential_smoothing(&[1.0, 2.0], 1.5, 0.5), None);
        // NaN passes Prometheus' check and propagates.
        assert_eq!(smoothing_params_error(f64::NAN, 0.5), None);
        assert!(
            double_exponential_smoothing(&[1.0, 2.0], f64::NAN, 0.5)
                .unwrap()
                .is_nan()
        );
    }
}
