//! Tests of the `*_over_time` kernels, mostly cases from Prometheus' `functions.test`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::excessive_precision)]

use super::super::testutil::*;
use super::*;

const INF: f64 = f64::INFINITY;
const NAN: f64 = f64::NAN;

#[test]
fn avg_over_time_conformance() {
    let metric = load(10 * S, "1 2 3 4 5");
    assert_eq!(metric.eval("avg_over_time", 55 * S, 10 * S, &[]), None);
    assert_eq!(metric.eval("avg_over_time", 55 * S, 20 * S, &[]), Some(5.0));
    assert_eq!(metric.eval("avg_over_time", 55 * S, M, &[]), Some(3.0));

    // (series, avg, sum / count)
    let cases = [
        ("1 2 3 4 Inf", INF, INF),
        ("1 2 3 4 -Inf", -INF, -INF),
        ("1 2 3 Inf -Inf", NAN, NAN),
        ("Inf 0 Inf", INF, INF),
        ("Inf Inf Inf -Inf", NAN, NAN),
        ("1 2 3 -Inf -Inf", -INF, -INF),
        ("-Inf 0 -Inf", -INF, -INF),
        ("-Inf -Inf -Inf Inf", NAN, NAN),
        ("1 2 -Inf -Inf Inf", NAN, NAN),
        (
            "9.988465674311579e+307 9.988465674311579e+307",
            9.988465674311579e+307,
            INF,
        ),
        (
            "-9.988465674311579e+307 -9.988465674311579e+307 -9.988465674311579e+307",
            -9.988465674311579e+307,
            -INF,
        ),
        ("-9.988465674311579e+307 9.988465674311579e+307", 0.0, 0.0),
        ("1 2 3 NaN NaN", NAN, NAN),
    ];
    for (notation, want_avg, want_ratio) in cases {
        let s = load(10 * S, notation);
        let avg = s.eval("avg_over_time", 55 * S, M, &[]);
        assert_close(avg, Some(want_avg));
        let sum = s.eval("sum_over_time", 55 * S, M, &[]).unwrap();
        let count = s.eval("count_over_time", 55 * S, M, &[]).unwrap();
        assert_close(Some(sum / count), Some(want_ratio));
    }
    let nan = load(10 * S, "1 2 3 NaN NaN");
    assert_eq!(nan.eval("avg_over_time", 20 * S, M, &[]), Some(2.0));
    assert!(nan.eval("avg_over_time", 30 * S, M, &[]).unwrap().is_nan());
}

#[test]
fn big_intermediate_values_keep_detail() {
    let s = load(10 * S, "1 1e100 1 -1e100");
    assert_eq!(s.eval("sum_over_time", M, 2 * M, &[]), Some(2.0));
    assert_eq!(s.eval("avg_over_time", M, 2 * M, &[]), Some(0.5));
}

#[test]
fn avg_over_time_extreme_values() {
    let cases = [
        ("1e10 1e-6 1e-6 1e-6 1e-6 1e-6", 1.6666666666666675e+09),
        (
            "5.30921651659898 0.961118537914768 1.62091361305318 0.865089463758091 0.323055185914577 0.951811357687154",
            1.67186744582113,
        ),
        ("1.78264e50 0.76342771 1.9592258 7.69805412 458.90154", 3.56528E+49),
        ("0.76342771 1.9592258 7.69805412 1.78264e50 458.90154", 3.56528E+49),
        (
            "1.78264E+50 0.76342771 1.9592258 2.258E+220 7.69805412 458.90154",
            3.76333333333333E+219,
        ),
        (
            "-1.78264E+50 0.76342771 1.9592258 2.258E+220 7.69805412 -458.90154",
            3.76333333333333E+219,
        ),
        (
            "-1.78264E+50 0.76342771 1.9592258 -2.258E+220 7.69805412 -458.90154",
            -3.76333333333333E+219,
        ),
        (
            "-1.78264E+215 0.76342771 1.9592258 2.258E+220 7.69805412 -458.90154",
            3.76330362266667E+219,
        ),
        (
            "-1.78264E+215 0.76342771 1.9592258 2.258E+220 7.69805412 1.78264E+215 -458.90154",
            3.225714285714286e+219,
        ),
        (
            "-1.78264E+219 0.76342771 1.9592258 2.3757689E+217 -2.3757689E+217 2.258E+220 7.69805412 1.78264E+219 -458.90154",
            2.5088888888888888e+219,
        ),
    ];
    for (notation, want) in cases {
        let s = load(5 * S, notation);
        assert_close(s.eval("avg_over_time", 55 * S, M, &[]), Some(want));
    }
    // Kahan summation cannot recover the small values here and gives exactly 0, like Prometheus.
    let s = load(
        5 * S,
        "-2.258E+220 -1.78264E+219 0.76342771 1.9592258 2.3757689E+217 -2.3757689E+217 2.258E+220 7.69805412 1.78264E+219 -458.90154",
    );
    assert_eq!(s.eval("avg_over_time", 55 * S, M, &[]), Some(0.0));
}

#[test]
fn avg_over_time_is_exact_for_constant_series() {
    let foo = load(10 * S, "52+0x100");
    for range in [100 * S, 110 * S, 120 * S, 130 * S] {
        assert_eq!(foo.eval("avg_over_time", 10 * M, range, &[]), Some(52.0));
    }
}

#[test]
fn sum_over_time_dense_samples() {
    let s = load(1, "1+0x4000");
    for range in [1000, 1001, 1002, 1003, 2000, 2001, 2002, 2003, 3000, 3001, 3002, 3003] {
        assert_eq!(s.eval("sum_over_time", 4 * S, range, &[]), Some(range as f64));
    }
}

#[test]
fn stddev_and_stdvar_conformance() {
    let s = load(10 * S, "0 8 8 2 3");
    assert_close(s.eval("stdvar_over_time", M, 2 * M, &[]), Some(10.56));
    assert_close(s.eval("stddev_over_time", M, 2 * M, &[]), Some(3.249615));
    let c = load(10 * S, "1.5990505637277868 1.5990505637277868 1.5990505637277868");
    assert_eq!(c.eval("stdvar_over_time", 55 * S, M, &[]), Some(0.0));
    assert_eq!(c.eval("stddev_over_time", 55 * S, M, &[]), Some(0.0));
    assert_eq!(stddev(&[1.0, 1.0, 1.0]), Some(0.0));
    assert!(stdvar(&[1.0, NAN]).unwrap().is_nan());
    assert!(stdvar(&[1.0, INF]).unwrap().is_nan());
    assert_eq!(stdvar(&[]), None);
}

#[test]
fn mad_over_time_conformance() {
    assert_eq!(
        load(10 * S, "4 6 2 1 999 1 2").eval("mad_over_time", 70 * S, 70 * S, &[]),
        Some(1.0)
    );
    assert_eq!(
        load(10 * S, "1 2 3 4 5").eval("mad_over_time", 40 * S, 50 * S, &[]),
        Some(1.0)
    );
    assert_eq!(
        load(10 * S, "7 7 7 7 7").eval("mad_over_time", 40 * S, 50 * S, &[]),
        Some(0.0)
    );
    assert_eq!(load(10 * S, "5").eval("mad_over_time", 0, 10 * S, &[]), Some(0.0));
    assert!(
        load(10 * S, "1 2 NaN 4")
            .eval("mad_over_time", 30 * S, 40 * S, &[])
            .unwrap()
            .is_nan()
    );
    // Even count: median of {1,2,3,10} is 2.5, deviations {1.5,0.5,0.5,7.5}, their median 1.
    assert_eq!(mad(&[10.0, 1.0, 3.0, 2.0]), Some(1.0));
}

#[test]
fn min_max_nan_rules() {
    assert_eq!(min(&[NAN, 3.0, 1.0]), Some(1.0));
    assert_eq!(max(&[2.0, NAN, 1.0]), Some(2.0));
    assert!(min(&[NAN, NAN]).unwrap().is_nan());
    assert_eq!(max(&[-INF, NAN]), Some(-INF));
    assert_eq!(min(&[INF, -INF]), Some(-INF));
    assert_eq!(min(&[]), None);
    // A trailing NaN after all-NaN stays NaN; a value after NaNs replaces them.
    assert_eq!(max(&[NAN, NAN, 5.0]), Some(5.0));
}

#[test]
fn ts_of_min_max_conformance() {
    let s = load(10 * S + 53, "1 2 3 0 5 6 2 1 4");
    assert_eq!(s.eval("ts_of_min_over_time", 90 * S, 90 * S, &[]), Some(30.159));
    assert_eq!(s.eval("ts_of_max_over_time", 90 * S, 90 * S, &[]), Some(50.265));
    // Ties: the last occurrence wins.
    assert_eq!(ts_of_max(&[1000, 2000, 3000], &[5.0, 5.0, 1.0]), Some(2.0));
    assert_eq!(ts_of_min(&[1000, 2000, 3000], &[1.0, 5.0, 1.0]), Some(3.0));
    // NaN never wins unless everything is NaN.
    assert_eq!(ts_of_min(&[1000, 2000], &[NAN, 4.0]), Some(2.0));
    assert_eq!(ts_of_max(&[1000, 2000], &[4.0, NAN]), Some(1.0));
}

#[test]
fn ts_of_first_last_conformance() {
    let last = load(10 * S + 53, "1 2 3 _ _");
    assert_eq!(last.eval("ts_of_last_over_time", 90 * S, 90 * S, &[]), Some(20.106));
    assert_eq!(last.eval("ts_of_last_over_time", 95 * S, 90 * S, &[]), Some(20.106));
    let first = load(10 * S + 53, "_ _ 1 2 3 _ _");
    assert_eq!(first.eval("ts_of_first_over_time", 90 * S, 90 * S, &[]), Some(20.106));
    assert_eq!(first.eval("ts_of_first_over_time", 95 * S, 90 * S, &[]), Some(20.106));
    assert_eq!(first.eval("ts_of_first_over_time", 15 * S, 90 * S, &[]), None);
}

#[test]
fn quantile_over_time_conformance() {
    let two = load(10 * S, "0 1");
    let three = load(10 * S, "0 1 2");
    let uneven = load(10 * S, "0 1 4");
    let cases = [
        (0.0, [0.0, 0.0, 0.0]),
        (0.5, [0.5, 1.0, 1.0]),
        (0.75, [0.75, 1.5, 2.5]),
        (0.8, [0.8, 1.6, 2.8]),
        (1.0, [1.0, 2.0, 4.0]),
        (-1.0, [-INF; 3]),
        (2.0, [INF; 3]),
    ];
    for (q, want) in cases {
        for (s, w) in [&two, &three, &uneven].iter().zip(want) {
            assert_close(s.eval("quantile_over_time", M, 2 * M, &[q]), Some(w));
        }
    }
    assert!(quantile_over_time(NAN, &[1.0]).unwrap().is_nan());
    assert_eq!(quantile_over_time(0.5, &[]), None);
}
