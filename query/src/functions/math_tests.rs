//! Tests of the per-value math functions, with the expected values of Prometheus' `functions.test` and
//! `trig_functions.test`.
#![allow(clippy::unwrap_used, clippy::approx_constant, clippy::excessive_precision)]

use super::super::testutil::assert_close;
use super::*;

const INF: f64 = f64::INFINITY;
const NAN: f64 = f64::NAN;

fn m(name: &str, v: f64) -> f64 {
    eval_math(name, v, &[]).unwrap()
}

#[test]
fn abs_ceil_floor_round_conformance() {
    let inputs = [2.5, 2.0, -2.5, -2.0, 0.0, -0.0, INF, -INF, NAN];
    let abs = [2.5, 2.0, 2.5, 2.0, 0.0, 0.0, INF, INF, NAN];
    let ceil = [3.0, 2.0, -2.0, -2.0, 0.0, 0.0, INF, -INF, NAN];
    let floor = [2.0, 2.0, -3.0, -2.0, 0.0, 0.0, INF, -INF, NAN];
    let round = [3.0, 2.0, -2.0, -2.0, 0.0, 0.0, INF, -INF, NAN];
    for (i, &v) in inputs.iter().enumerate() {
        assert_close(Some(m("abs", v)), Some(abs[i]));
        assert_close(Some(m("ceil", v)), Some(ceil[i]));
        assert_close(Some(m("floor", v)), Some(floor[i]));
        assert_close(Some(m("round", v)), Some(round[i]));
    }
    assert!(m("abs", -0.0).is_sign_positive());
}

#[test]
fn round_to_nearest() {
    assert_eq!(eval_math("round", 2.5, &[1.0]), Some(3.0));
    assert_eq!(eval_math("round", -2.5, &[1.0]), Some(-2.0));
    assert_eq!(eval_math("round", 14.0, &[5.0]), Some(15.0));
    assert_eq!(eval_math("round", 12.4, &[5.0]), Some(10.0));
    assert_eq!(eval_math("round", 0.123456, &[0.01]), Some(0.12));
    assert_eq!(
        eval_math("round", 1.005, &[0.01]),
        Some((1.005f64 * 100.0 + 0.5).floor() / 100.0)
    );
    // to_nearest 0 → inverse Inf → NaN, as in Prometheus.
    assert!(eval_math("round", 1.0, &[0.0]).unwrap().is_nan());
}

#[test]
fn clamp_conformance() {
    let vs = [-50.0, 0.0, 100.0];
    let want_max = [-50.0, 0.0, 75.0];
    let want_min = [-25.0, 0.0, 100.0];
    let want_both = [-25.0, 0.0, 75.0];
    for i in 0..3 {
        assert_eq!(eval_math("clamp_max", vs[i], &[75.0]), Some(want_max[i]));
        assert_eq!(eval_math("clamp_min", vs[i], &[-25.0]), Some(want_min[i]));
        assert_eq!(eval_math("clamp", vs[i], &[-25.0, 75.0]), Some(want_both[i]));
        let inner = eval_math("clamp_min", vs[i], &[-20.0]).unwrap();
        assert_eq!(eval_math("clamp_max", inner, &[70.0]), Some([-20.0, 0.0, 70.0][i]));
        assert!(eval_math("clamp", vs[i], &[0.0, NAN]).unwrap().is_nan());
        assert!(eval_math("clamp", vs[i], &[NAN, 0.0]).unwrap().is_nan());
        assert_eq!(eval_math("clamp", vs[i], &[5.0, -5.0]), None);
    }
    // Go's Min/Max: -Inf wins over NaN in the inner min, then max(0, -Inf) = 0.
    assert_eq!(clamp(-INF, 0.0, NAN), Some(0.0));
    assert_eq!(eval_math("clamp", 1.0, &[2.0]), None);
    assert_eq!(eval_math("clamp_min", 1.0, &[]), None);
}

#[test]
fn go_min_max_special_cases() {
    assert_eq!(go_max(NAN, INF), INF);
    assert_eq!(go_min(NAN, -INF), -INF);
    assert!(go_max(NAN, 3.0).is_nan());
    assert!(go_min(3.0, NAN).is_nan());
    assert!(go_max(-0.0, 0.0).is_sign_positive());
    assert!(go_max(0.0, -0.0).is_sign_positive());
    assert!(go_min(0.0, -0.0).is_sign_negative());
    assert!(go_min(-0.0, 0.0).is_sign_negative());
    assert_eq!(min_of(3.0, 5.0), 3.0);
    assert_eq!(max_of(3.0, 5.0), 5.0);
    assert_eq!(min_of(-2.0, -5.0), -5.0);
    assert_eq!(max_of(-2.0, -5.0), -2.0);
    assert!(min_of(NAN, 3.0).is_nan() && max_of(3.0, NAN).is_nan());
}

#[test]
fn sgn_conformance() {
    let inputs = [-INF, INF, NAN, -50.0, 0.0, 100.0];
    let want = [-1.0, 1.0, NAN, -1.0, 0.0, 1.0];
    for (v, w) in inputs.iter().zip(want) {
        assert_close(Some(m("sgn", *v)), Some(w));
    }
    assert!(m("sgn", -0.0).is_sign_negative());
}

#[test]
fn exp_ln_log_sqrt_conformance() {
    assert_close(Some(m("exp", 10.0)), Some(22026.465794806718));
    assert_close(Some(m("exp", 20.0)), Some(485165195.4097903));
    assert_eq!(m("exp", 0.0), 1.0);
    assert_close(Some(m("exp", -10.0)), Some(4.5399929762484854e-05));
    assert_eq!(m("ln", 10.0), 2.302585092994046);
    assert_eq!(m("ln", 20.0), 2.995732273553991);
    assert_eq!(m("ln", 0.0), -INF);
    assert!(m("ln", -10.0).is_nan());
    assert_eq!(m("sqrt", 10.0), 3.1622776601683795);
    assert_eq!(m("sqrt", 20.0), 4.47213595499958);
    // functions.test lists 3.3219280948873626 (its comparison has a tolerance); Go's Log2 computes
    // Log(0.625) * (1/Ln2) + 4 = 3.321928094887362.
    assert_close(Some(m("log2", 10.0)), Some(3.3219280948873626));
    assert_eq!(m("log2", 10.0), 3.321928094887362);
    assert_eq!(m("log2", 20.0), 4.321928094887363);
    assert_eq!(m("log2", 0.0), -INF);
    assert!(m("log2", -10.0).is_nan());
    assert_eq!(m("log2", 1024.0), 10.0);
    assert_eq!(m("log2", 0.25), -2.0);
    assert_eq!(m("log2", f64::MIN_POSITIVE / 4.0), -1024.0);
    assert_eq!(m("log2", INF), INF);
    assert_eq!(m("log10", 10.0), 1.0);
    assert_eq!(m("log10", 20.0), 1.301029995663981);
    assert_eq!(m("log10", 0.0), -INF);
    assert!(m("log10", -10.0).is_nan());
}

#[test]
fn trig_conformance() {
    let cases: &[(&str, f64, f64)] = &[
        ("sin", 10.0, -0.5440211108893699),
        ("sin", 20.0, 0.9129452507276277),
        ("cos", 10.0, -0.8390715290764524),
        ("cos", 20.0, 0.40808206181339196),
        ("tan", 10.0, 0.6483608274590867),
        ("tan", 20.0, 2.2371609442247427),
        ("asin", 10.0 - 10.1, -0.10016742116155944),
        ("asin", 20.0 - 10.1, NAN),
        ("acos", 10.0 - 10.1, 1.670963747956456),
        ("acos", 20.0 - 10.1, NAN),
        ("atan", 10.0, 1.4711276743037345),
        ("atan", 20.0, 1.5208379310729538),
        ("sinh", 10.0, 11013.232920103324),
        ("sinh", 20.0, 2.4258259770489514e+08),
        ("cosh", 10.0, 11013.232920103324),
        ("cosh", 20.0, 2.4258259770489514e+08),
        ("tanh", 10.0, 0.9999999958776927),
        ("tanh", 20.0, 1.0),
        ("asinh", 10.0, 2.99822295029797),
        ("asinh", 20.0, 3.6895038689889055),
        ("acosh", 10.0, 2.993222846126381),
        ("acosh", 20.0, 3.6882538673612966),
        ("atanh", 10.0 - 10.1, -0.10033534773107522),
        ("atanh", 20.0 - 10.1, NAN),
        ("rad", 10.0, 0.17453292519943295),
        ("rad", 20.0, 0.3490658503988659),
        ("rad", 0.0, 0.0),
        ("rad", -10.0, -0.17453292519943295),
        ("deg", 10.0, 572.9577951308232),
        ("deg", 20.0, 1145.9155902616465),
        ("deg", -10.0, -572.9577951308232),
    ];
    for &(name, v, want) in cases {
        assert_close(Some(m(name, v)), Some(want));
        assert!(m(name, NAN).is_nan(), "{name}(NaN)");
    }
    for name in MATH_FUNCTIONS {
        assert!(eval_math(name, 1.0, &[0.0, 2.0]).is_some(), "{name}");
    }
    assert_eq!(eval_math("pi", 1.0, &[]), None);
    assert_eq!(eval_math("histogram_quantile", 1.0, &[]), None);
}

#[test]
fn frexp_matches_definition() {
    for v in [1.0, 0.5, 3.0, -6.5, 1e300, 1e-310, f64::MIN_POSITIVE, 5e-324] {
        let (frac, exp) = frexp(v);
        assert!((0.5..1.0).contains(&frac.abs()), "{v}: {frac}");
        // Scale by repeated doubling/halving: every intermediate value is exact.
        let mut r = frac;
        for _ in 0..exp.max(0) {
            r *= 2.0;
        }
        for _ in 0..(-exp).max(0) {
            r /= 2.0;
        }
        assert_eq!(r, v);
    }
    assert_eq!(frexp(0.0), (0.0, 0));
}

#[test]
fn go_log_agrees_with_libm_within_one_ulp() {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..100_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Positive finite doubles across the whole exponent range.
        let v = f64::from_bits(x % 0x7FF0_0000_0000_0000);
        if v == 0.0 {
            continue;
        }
        let (g, l) = (go_log(v), v.ln());
        let ulps = (g.to_bits() as i64 - l.to_bits() as i64).abs();
        assert!(ulps <= 1, "log({v:e}): go {g:e} libm {l:e}");
    }
    assert_eq!(go_log(1.0), 0.0);
    assert_eq!(go_log(f64::INFINITY), f64::INFINITY);
    assert!(go_log(-1.0).is_nan() && go_log(f64::NAN).is_nan());
    assert_eq!(go_log(0.0), f64::NEG_INFINITY);
}

#[test]
fn math_func_names_round_trip() {
    assert_eq!(TABLE.len(), MATH_FUNCTIONS.len());
    for (name, (table_name, f)) in MATH_FUNCTIONS.iter().zip(TABLE) {
        assert_eq!(name, table_name);
        assert_eq!(MathFunc::from_name(name), Some(*f));
        assert_eq!(f.name(), *name);
    }
    assert_eq!(MathFunc::from_name("time"), None);
}
