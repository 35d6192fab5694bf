//! Tests of classic-bucket `histogram_quantile` / `histogram_fraction`, with the buckets and expected
//! values of Prometheus' `histograms.test` (evaluated at 50m, where each bucket holds 10 increments).
#![allow(clippy::unwrap_used, clippy::type_complexity, clippy::excessive_precision)]

use super::super::testutil::assert_close;
use super::*;

const INF: f64 = f64::INFINITY;
const NAN: f64 = f64::NAN;

fn testhistogram_positive() -> Vec<(f64, f64)> {
    vec![(0.1, 50.0), (0.2, 70.0), (1.0, 110.0), (INF, 120.0)]
}
fn testhistogram_negative() -> Vec<(f64, f64)> {
    vec![(-0.2, 10.0), (-0.1, 20.0), (0.3, 20.0), (INF, 30.0)]
}
fn testhistogram2() -> Vec<(f64, f64)> {
    vec![(0.0, 0.0), (2.0, 10.0), (4.0, 20.0), (6.0, 30.0), (INF, 30.0)]
}
fn testhistogram3_positive() -> Vec<(f64, f64)> {
    // Deliberately out of order: the kernel sorts.
    vec![(INF, 110.0), (0.1, 50.0), (0.0, 0.0), (1.0, 110.0), (0.2, 70.0)]
}
fn testhistogram3_negative() -> Vec<(f64, f64)> {
    vec![(-0.25, 0.0), (-0.2, 10.0), (-0.1, 20.0), (0.3, 20.0), (INF, 20.0)]
}

fn hq(q: f64, mut b: Vec<(f64, f64)>) -> f64 {
    let (v, forced) = bucket_quantile(q, &mut b);
    assert!(!forced);
    v
}

fn scaled(b: Vec<(f64, f64)>, k: f64) -> Vec<(f64, f64)> {
    b.into_iter().map(|(le, c)| (le, c * k)).collect()
}

#[test]
fn quantile_testhistogram3() {
    let cases = [
        (0.0, 0.0, -0.25),
        (0.25, 0.055, -0.225),
        (0.5, 0.125, -0.2),
        (0.75, 0.45, -0.15),
        (1.0, 1.0, -0.1),
    ];
    for (q, pos, neg) in cases {
        assert_close(Some(hq(q, testhistogram3_positive())), Some(pos));
        assert_close(Some(hq(q, testhistogram3_negative())), Some(neg));
    }
}

#[test]
fn quantile_testhistogram() {
    assert_eq!(hq(-0.1, testhistogram_positive()), -INF);
    assert_eq!(hq(1.01, testhistogram_negative()), INF);
    assert!(hq(NAN, testhistogram_positive()).is_nan());
    let cases = [
        (0.0, 0.0, -0.2),
        (1.0, 1.0, 0.3),
        (0.2, 0.048, -0.2),
        (0.5, 0.15, -0.15),
        (0.8, 0.72, 0.3),
    ];
    for (q, pos, neg) in cases {
        assert_close(Some(hq(q, testhistogram_positive())), Some(pos));
        assert_close(Some(hq(q, testhistogram_negative())), Some(neg));
        // rate(…[10m]) scales every count by the same factor.
        assert_close(Some(hq(q, scaled(testhistogram_positive(), 1.0 / 600.0))), Some(pos));
        assert_close(Some(hq(q, scaled(testhistogram_negative(), 1.0 / 600.0))), Some(neg));
    }
}

#[test]
fn quantile_in_the_middle_of_buckets() {
    // testhistogram2 at 7m (the 5m sample): 0 1 2 3 3.
    let b = scaled(testhistogram2(), 0.1);
    assert_close(Some(hq(1.0 / 6.0, b.clone())), Some(1.0));
    assert_close(Some(hq(0.5, b.clone())), Some(3.0));
    assert_close(Some(hq(5.0 / 6.0, b)), Some(5.0));
}

#[test]
fn quantile_of_aggregated_request_durations() {
    // sum by (le) of the four series' increments.
    let all = vec![(0.1, 10.0), (0.2, 19.0), (INF, 25.0)];
    assert_close(Some(hq(0.3, all.clone())), Some(0.075));
    assert_close(Some(hq(0.5, all)), Some(0.1277777777777778));
    let job1 = vec![(0.1, 3.0), (0.2, 8.0), (INF, 10.0)];
    let job2 = vec![(0.1, 7.0), (0.2, 11.0), (INF, 15.0)];
    assert_close(Some(hq(0.3, job1.clone())), Some(0.1));
    assert_close(Some(hq(0.3, job2.clone())), Some(0.0642857142857143));
    assert_close(Some(hq(0.5, job1)), Some(0.14));
    assert_close(Some(hq(0.5, job2)), Some(0.1125));
    let ins = [
        (vec![(0.1, 1.0), (0.2, 3.0), (INF, 4.0)], 0.11, 0.15),
        (vec![(0.1, 2.0), (0.2, 5.0), (INF, 6.0)], 0.09, 0.13333333333333333),
        (vec![(0.1, 3.0), (0.2, 4.0), (INF, 6.0)], 0.06, 0.1),
        (vec![(0.1, 4.0), (0.2, 7.0), (INF, 9.0)], 0.0675, 0.11666666666666667),
    ];
    for (b, q3, q5) in ins {
        assert_close(Some(hq(0.3, b.clone())), Some(q3));
        assert_close(Some(hq(0.5, b)), Some(q5));
    }
}

#[test]
fn nonmonotonic_buckets_are_fixed_and_reported() {
    let b = vec![
        (0.1, 20.0),
        (1.0, 10.0),
        (10.0, 50.0),
        (100.0, 40.0),
        (1000.0, 90.0),
        (INF, 80.0),
    ];
    for (q, want) in [(0.01, 0.0045), (0.5, 8.5), (0.99, 979.75)] {
        let mut bb = b.clone();
        let (v, forced) = bucket_quantile(q, &mut bb);
        assert!(forced);
        assert_close(Some(v), Some(want));
    }
    let r = bucket_quantile_detail(0.5, &mut b.clone());
    assert!(r.forced_monotonic && !r.fixed_precision);
    assert_eq!((r.min_bucket, r.max_bucket, r.max_diff), (1.0, INF, 10.0));
}

#[test]
fn small_deltas_are_flattened_silently() {
    let mut b = vec![(1.0, 1e15), (2.0, 1e15 - 0.125), (INF, 2e15)];
    let r = bucket_quantile_detail(0.25, &mut b);
    assert!(r.fixed_precision && !r.forced_monotonic);
    assert_eq!(b[1].1, 1e15);
    // A real decrease is not "small".
    let r = bucket_quantile_detail(0.25, &mut vec![(1.0, 100.0), (2.0, 99.0), (INF, 200.0)]);
    assert!(r.forced_monotonic && !r.fixed_precision);
    assert!(almost_equal(0.0, 0.0, 1e-12));
    assert!(!almost_equal(0.0, 1e-300, 1e-12));
    assert!(almost_equal(NAN, NAN, 1e-12));
}

#[test]
fn duplicate_bounds_are_merged() {
    // le="0.1", "0.2", "2e-1", "2.0e-1", "+Inf" of mixed_bucket{instance="ins1"}.
    let b = vec![(0.1, 1.0), (0.2, 1.0), (0.2, 1.0), (0.2, 1.0), (INF, 4.0)];
    assert_close(Some(hq(0.5, b.clone())), Some(0.15));
    assert_close(Some(hq(0.75, b.clone())), Some(0.2));
    assert_close(Some(hq(1.0, b.clone())), Some(0.2));
    let mut merged = b;
    coalesce_buckets(&mut merged);
    assert_eq!(merged, vec![(0.1, 1.0), (0.2, 3.0), (INF, 4.0)]);
    // le="+inf" and "+Inf" with no observations: one bucket left, NaN.
    assert!(hq(0.5, vec![(INF, 0.0), (INF, 0.0)]).is_nan());
    // -0 and +0 are the same bound.
    let mut z = vec![(0.0, 1.0), (-0.0, 2.0), (INF, 4.0)];
    coalesce_buckets(&mut z);
    assert_eq!(z.len(), 2);
}

#[test]
fn quantile_degenerate_inputs() {
    assert!(hq(0.5, vec![]).is_nan());
    assert!(hq(0.5, vec![(0.1, 1.0), (1.0, 2.0)]).is_nan(), "no +Inf bucket");
    assert!(hq(0.5, vec![(INF, 5.0)]).is_nan(), "a single bucket");
    assert!(
        hq(0.2, vec![(0.1, 0.0), (0.2, 0.0), (INF, 0.0)]).is_nan(),
        "no observations"
    );
    assert!(hq(1.0, vec![(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (INF, 0.0)]).is_nan());
    // Out-of-range q wins over missing +Inf.
    assert_eq!(hq(-1.0, vec![(1.0, 1.0)]), -INF);
    // Everything in the +Inf bucket: the second-highest bound.
    assert_eq!(hq(0.5, vec![(1.0, 0.0), (2.0, 0.0), (INF, 10.0)]), 2.0);
    // Lowest bucket with a non-positive bound returns the bound itself.
    assert_eq!(hq(0.1, vec![(-1.0, 5.0), (INF, 10.0)]), -1.0);
}

#[test]
fn fraction_conformance() {
    let cases: &[(f64, f64, Vec<(f64, f64)>, f64)] = &[
        (0.0, 4.0, testhistogram2(), 0.6666666666666666),
        (0.0, 6.0, testhistogram2(), 1.0),
        (0.0, 3.5, testhistogram2(), 0.5833333333333334),
        (0.0, 0.2, testhistogram3_positive(), 0.6363636363636364),
        (0.0, 0.2, testhistogram3_negative(), 0.0),
        (
            0.0,
            0.2,
            scaled(testhistogram3_positive(), 1.0 / 600.0),
            0.6363636363636364,
        ),
        (0.0, 1.5, vec![(1.0, 1.0), (2.0, 3.0), (3.0, 6.0), (INF, 100.0)], 0.02),
        (
            -4.0,
            -2.0,
            vec![(-3.0, 10.0), (-2.0, 12.0), (-1.0, 15.0), (INF, 100.0)],
            0.02,
        ),
        (
            -INF,
            -1.5,
            vec![(-3.0, 10.0), (-2.0, 12.0), (-1.0, 15.0), (INF, 100.0)],
            0.135,
        ),
        (-INF, INF, vec![(1.0, 1.0), (2.0, 3.0), (3.0, 6.0), (INF, 100.0)], 1.0),
        (
            -INF,
            INF,
            vec![(-3.0, 10.0), (-2.0, 12.0), (-1.0, 15.0), (INF, 100.0)],
            1.0,
        ),
        (4.0, 5.0, vec![(1.0, 1.0), (2.0, 3.0), (3.0, 6.0), (INF, 100.0)], 0.0),
        (
            0.0,
            1.0,
            vec![(-3.0, 10.0), (-2.0, 12.0), (-1.0, 15.0), (INF, 100.0)],
            0.0,
        ),
        (2.0, 5.0, vec![(1.0, 1.0), (2.0, 3.0), (3.0, 6.0), (INF, 100.0)], 0.03),
        (400.0, INF, vec![(1.0, 1.0), (2.0, 3.0), (3.0, 6.0), (INF, 100.0)], 0.94),
        (2.0, 2.0, vec![(1.0, 1.0), (2.0, 3.0), (3.0, 6.0), (INF, 100.0)], 0.0),
        (3.0, 2.0, vec![(1.0, 1.0), (2.0, 3.0), (3.0, 6.0), (INF, 100.0)], 0.0),
        (0.0, 1.0, vec![(INF, 100.0)], 0.0),
        (0.0, 5.0, vec![(1.0, 0.0), (2.0, 0.0), (3.0, 0.0), (INF, 0.0)], NAN),
        (2.0, 3.5, vec![(1.0, 1.0), (2.0, 3.0), (3.0, 6.0), (INF, 100.0)], 0.03),
        (0.5, 2.0, vec![(1.0, 1.0), (2.0, 3.0), (3.0, 6.0), (INF, 100.0)], 0.025),
        (1.0, 3.0, vec![(1.0, 1.0), (2.0, 3.0), (3.0, 6.0), (INF, 100.0)], 0.05),
        (0.1, 0.75, vec![(0.5, 2.5), (1.0, 7.5), (INF, 100.0)], 0.045),
        (
            -1.0,
            1.0,
            vec![(-2.0, 5.0), (-1.0, 10.0), (0.0, 15.0), (1.0, 20.0), (INF, 100.0)],
            0.1,
        ),
        (NAN, 1.0, vec![(1.0, 1.0), (INF, 100.0)], NAN),
        (0.0, NAN, vec![(1.0, 1.0), (INF, 100.0)], NAN),
        (-10.0, -5.0, vec![(1.0, 1.0), (2.0, 3.0), (INF, 10.0)], 0.0),
        (5.0, 10.0, vec![(1.0, 1.0), (2.0, 3.0), (INF, 10.0)], 0.0),
    ];
    for (lower, upper, b, want) in cases {
        let got = bucket_fraction(*lower, *upper, &mut b.clone());
        assert_close(Some(got), Some(*want));
    }
    assert!(
        bucket_fraction(0.0, 1.0, &mut vec![(1.0, 1.0)]).is_nan(),
        "no +Inf bucket"
    );
    assert!(bucket_fraction(0.0, 1.0, &mut vec![]).is_nan());
}

/// Prometheus' `TestBucketQuantile_ForcedMonotonicity` (promql/quantile_test.go).
#[test]
fn forced_monotonicity_table() {
    struct Case {
        buckets: Vec<(f64, f64)>,
        fixed: bool,
        want: [(f64, f64); 4],
    }
    let simple = |mid: f64| vec![(10.0, 10.0), (15.0, 15.0), (20.0, mid), (30.0, 15.0), (INF, 15.0)];
    let simple_want = [(1.0, 15.0), (0.99, 14.85), (0.9, 13.5), (0.5, 7.5)];
    let real_want = [
        (1.0, 64.0),
        (0.99, 49.64475715376406),
        (0.9, 46.39671690938454),
        (0.5, 31.96098248992002),
    ];
    let real2 = |b10: f64, b50: f64| {
        let c = 9.888888889;
        vec![
            (0.005, 9.6),
            (0.01, 9.688888889),
            (0.025, 9.755555556),
            (0.05, 9.844444444),
            (0.1, c),
            (0.25, c),
            (0.5, c),
            (1.0, c),
            (2.5, c),
            (5.0, c),
            (10.0, b10),
            (25.0, c),
            (50.0, b50),
            (100.0, c),
            (INF, c),
        ]
    };
    let real2_want = [
        (1.0, 0.1),
        (0.99, 0.03468750000281261),
        (0.9, 0.00463541666671875),
        (0.5, 0.0025752314815104174),
    ];
    let cases = [
        Case {
            buckets: simple(15.0),
            fixed: false,
            want: simple_want,
        },
        Case {
            buckets: simple(15.00000000001),
            fixed: true,
            want: simple_want,
        },
        Case {
            buckets: vec![
                (1.0, 6454661.3014166197),
                (5.0, 8339611.2001912938),
                (10.0, 14118319.2444762159),
                (25.0, 14130031.5272856522),
                (50.0, 46001270.3030008152),
                (64.0, 46008473.8585563600),
                (80.0, 46008473.8585563600),
                (100.0, 46008473.8585563600),
                (250.0, 46008473.8585563600),
                (1000.0, 46008473.8585563600),
                (INF, 46008473.8585563600),
            ],
            fixed: false,
            want: real_want,
        },
        Case {
            buckets: vec![
                (1.0, 6454661.3014166225),
                (5.0, 8339611.2001912957),
                (10.0, 14118319.2444762159),
                (25.0, 14130031.5272856504),
                (50.0, 46001270.3030008227),
                (64.0, 46008473.8585563824),
                (80.0, 46008473.8585563898),
                (100.0, 46008473.8585563824),
                (250.0, 46008473.8585563824),
                (1000.0, 46008473.8585563898),
                (INF, 46008473.8585563824),
            ],
            fixed: true,
            want: real_want,
        },
        Case {
            buckets: real2(9.888888889, 9.888888889),
            fixed: false,
            want: real2_want,
        },
        Case {
            buckets: real2(9.888888889001, 9.888888888999),
            fixed: true,
            want: real2_want,
        },
    ];
    for (i, c) in cases.iter().enumerate() {
        for (q, want) in c.want {
            let r = bucket_quantile_detail(q, &mut c.buckets.clone());
            assert!(!r.forced_monotonic, "case {i}");
            assert_eq!(r.fixed_precision, c.fixed, "case {i}");
            assert!(
                ((r.value - want) / want).abs() < 1e-12,
                "case {i} q={q}: {} want {want}",
                r.value
            );
        }
    }
}
