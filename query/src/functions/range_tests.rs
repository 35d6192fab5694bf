//! Tests of the rate family, mostly cases from Prometheus' `functions.test` and `extended_vectors.test`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::excessive_precision)]

use super::super::testutil::*;
use super::*;

fn some(v: f64) -> Option<f64> {
    Some(v)
}

#[test]
fn resets_and_changes_conformance() {
    let foo = load(5 * M, "1 2 3 0 1 0 0 1 2 0");
    let bar = load(5 * M, "1 2 3 4 5 1 2 3 4 5");
    let biz = load(5 * M, "0 0 0 0 0 1 1 1 1 1");
    let t = 50 * M;
    for s in [&foo, &bar, &biz] {
        assert_eq!(s.eval("resets", t, 5 * M, &[]), None);
        assert_eq!(s.eval("changes", t, 5 * M, &[]), None);
        assert_eq!(s.eval("resets", t, 10 * M, &[]), some(0.0));
        assert_eq!(s.eval("resets", t, 600 * S, &[]), some(0.0));
        assert_eq!(s.eval("changes", t, 6 * M, &[]), some(0.0));
    }
    let cases = [
        (20 * M, [1.0, 0.0, 0.0]),
        (30 * M, [1.0, 0.0, 0.0]),
        (32 * M, [2.0, 1.0, 0.0]),
        (50 * M, [3.0, 1.0, 0.0]),
    ];
    for (range, want) in cases {
        for (s, w) in [&foo, &bar, &biz].iter().zip(want) {
            assert_eq!(s.eval("resets", t, range, &[]), some(w), "resets[{range}]");
        }
    }
    let cases = [
        (20 * M, [2.0, 2.0, 0.0]),
        (30 * M, [3.0, 4.0, 0.0]),
        (50 * M, [7.0, 8.0, 1.0]),
    ];
    for (range, want) in cases {
        for (s, w) in [&foo, &bar, &biz].iter().zip(want) {
            assert_eq!(s.eval("changes", t, range, &[]), some(w), "changes[{range}]");
        }
    }
    // NaN to NaN is not a change; number to NaN and back are.
    assert_eq!(
        load(5 * M, "NaN NaN NaN").eval("changes", 15 * M, 20 * M, &[]),
        some(0.0)
    );
    assert_eq!(load(5 * M, "0 NaN 0").eval("changes", 15 * M, 20 * M, &[]), some(2.0));
    assert_eq!(resets(&[1.0, f64::NAN, 0.5, f64::INFINITY, 1.0]), 1.0);
}

#[test]
fn increase_conformance() {
    let t = 50 * M;
    let foo = load(5 * M, "0+10x10");
    let bar = load(5 * M, "0+18x5 0+18x5");
    let dings = load(5 * M, "10+10x10");
    let bumms = load(5 * M, "1+10x10");
    assert_close(foo.eval("increase", t, 50 * M, &[]), some(100.0));
    assert_close(bar.eval("increase", t, 50 * M, &[]), some(160.0));
    assert_close(dings.eval("increase", t, 50 * M, &[]), some(100.0));
    assert_close(bumms.eval("increase", t, 50 * M, &[]), some(100.0));
    // Zero-point cutoff of the left extrapolation.
    assert_close(foo.eval("increase", t, 100 * M, &[]), some(100.0));
    assert_close(bar.eval("increase", t, 100 * M, &[]), some(162.0));
    assert_close(dings.eval("increase", t, 100 * M, &[]), some(105.0));
    assert_close(bumms.eval("increase", t, 100 * M, &[]), some(101.0));
    // A reset is read as 3 0 1 2.
    let reset = load(5 * M, "0 1 2 3 2 3 4");
    assert_close(reset.eval("increase", 30 * M, 30 * M, &[]), some(7.0));
}

#[test]
fn rate_conformance() {
    let t = 50 * M;
    let middle = load(5 * M, "0+27x4 0+27x5");
    assert_close(middle.eval("rate", t, 50 * M, &[]), some(0.08));
    let end = load(5 * M, "0+10x9 0 10");
    assert_eq!(end.eval("rate", t, 5 * M, &[]), None);
    assert_close(end.eval("rate", t, 6 * M, &[]), some(0.0));

    let window = load(5 * M, "0+80x10");
    assert_close(window.eval("rate", t, 50 * M, &[]), some(0.26666666666666666));
    // rate(x[10m] offset 5m) at 50m: the window is (35m, 45m].
    let a = load(5 * M, "0+10x10");
    let b = load(5 * M, "0+20x10");
    assert_close(a.eval("rate", 45 * M, 10 * M, &[]), some(0.03333333333333333));
    assert_close(b.eval("rate", 45 * M, 10 * M, &[]), some(0.06666666666666667));

    // Zero cutoff for the left-side extrapolation.
    let starts = [
        "0+240x10",
        "60+240x10",
        "120+240x10",
        "180+240x10",
        "240+240x10",
        "300+240x10",
    ];
    let at_10m = [0.5, 0.55, 0.6, 0.6, 0.6, 0.6];
    for (notation, want) in starts.iter().zip(at_10m) {
        let s = load(4 * M, notation);
        assert_close(s.eval("rate", 10 * M, 20 * M, &[]), some(want));
        assert_close(s.eval("rate", 50 * M, 20 * M, &[]), some(0.6));
    }
}

#[test]
fn delta_conformance() {
    let up = load(5 * M, "0 50 100 150 200");
    let down = load(5 * M, "200 150 100 50 0");
    assert_close(up.eval("delta", 20 * M, 20 * M, &[]), some(200.0));
    assert_close(down.eval("delta", 20 * M, 20 * M, &[]), some(-200.0));
    // delta never applies the counter zero cutoff nor reset handling.
    let w = Window {
        ts: &[10_000, 20_000],
        vs: &[5.0, 1.0],
        range_start: 0,
        range_end: 30_000,
    };
    // Both gaps (10s) are below 1.1 × the 10s interval: extrapolate all the way, factor 30/10.
    assert_eq!(extrapolated_rate(&w, false, false), some(-12.0));
    assert_eq!(extrapolated_rate(&w, true, false), some(3.0));
}

#[test]
fn extrapolation_is_limited_to_half_an_interval() {
    // Samples at 100s, 110s, 120s in (0, 300]: gaps of 100s and 180s exceed 1.1 * 10s.
    let w = Window {
        ts: &[100_000, 110_000, 120_000],
        vs: &[10.0, 20.0, 30.0],
        range_start: 0,
        range_end: 300_000,
    };
    // 20 over 20s, extrapolated by 5s at each end: 20 * 30/20 = 30.
    assert_eq!(extrapolated_rate(&w, false, false), some(30.0));
    assert_eq!(extrapolated_rate(&w, true, false), some(30.0));
    assert_eq!(extrapolated_rate(&w, true, true), some(0.1));
}

#[test]
fn rate_with_nan_and_inf() {
    let w = Window {
        ts: &[1000, 2000, 3000],
        vs: &[1.0, f64::NAN, 3.0],
        range_start: 0,
        range_end: 3000,
    };
    // The difference of the endpoints is finite; NaN in the middle is no reset (NaN < x is false).
    assert!(extrapolated_rate(&w, true, true).unwrap().is_finite());
    let w = Window {
        ts: &[1000, 2000],
        vs: &[1.0, f64::INFINITY],
        range_start: 0,
        range_end: 2000,
    };
    assert_eq!(extrapolated_rate(&w, true, false), some(f64::INFINITY));
    let w = Window {
        ts: &[1000, 2000],
        vs: &[f64::NAN, 2.0],
        range_start: 0,
        range_end: 2000,
    };
    assert!(extrapolated_rate(&w, true, false).unwrap().is_nan());
}

#[test]
fn irate_and_idelta_conformance() {
    let foo = load(5 * M, "0+10x10");
    let bar = load(5 * M, "0+10x5 0+10x5");
    assert_close(foo.eval("irate", 50 * M, 50 * M, &[]), some(0.033333333333333333));
    assert_close(bar.eval("irate", 50 * M, 50 * M, &[]), some(0.033333333333333333));
    assert_close(foo.eval("irate", 30 * M, 50 * M, &[]), some(0.033333333333333333));
    assert_close(bar.eval("irate", 30 * M, 50 * M, &[]), some(0.0));

    let nan = load(5 * M, "1 NaN NaN 5 11");
    let range = 15 * M + S;
    let irate: Vec<_> = (0..=4).map(|i| nan.eval("irate", i * 5 * M, range, &[])).collect();
    assert_eq!(irate[0], None);
    assert!(irate[1..4].iter().all(|v| v.unwrap().is_nan()));
    assert_close(irate[4], some(0.02));
    let idelta: Vec<_> = (0..=4).map(|i| nan.eval("idelta", i * 5 * M, range, &[])).collect();
    assert_eq!(idelta[0], None);
    assert!(idelta[1..4].iter().all(|v| v.unwrap().is_nan()));
    assert_close(idelta[4], some(6.0));

    assert_close(
        load(5 * M, "0 50 100 150").eval("idelta", 20 * M, 20 * M, &[]),
        some(50.0),
    );
    assert_close(
        load(5 * M, "0 50 100 50").eval("idelta", 20 * M, 20 * M, &[]),
        some(-50.0),
    );
    // irate after a reset returns the new value per second.
    let w = Window {
        ts: &[0, 10_000],
        vs: &[100.0, 20.0],
        range_start: -1,
        range_end: 10_000,
    };
    assert_eq!(instant_value(&w, true), some(2.0));
    assert_eq!(instant_value(&w, false), some(-80.0));
}

#[test]
fn deriv_and_predict_linear_conformance() {
    let canary = load(5 * M, "0+80x10");
    assert_eq!(canary.eval("deriv", 50 * M, 50 * M, &[]), some(0.26666666666666666));
    let middle = load(5 * M, "0+10x4 0+10x5");
    assert_eq!(middle.eval("deriv", 50 * M, 100 * M, &[]), some(0.010606060606060607));
    assert_close(middle.eval("predict_linear", 50 * M, 50 * M, &[3600.0]), some(70.0));

    // predict_linear(x[55m] @ 3000, 3600): the window ends at 3000s, the intercept is taken at the
    // evaluation time.
    let (ts, vs) = middle.window(3000 * S, 55 * M);
    let w = Window {
        ts: &ts,
        vs: &vs,
        range_start: 3000 * S - 55 * M,
        range_end: 3000 * S,
    };
    let cases = [
        (50 * M, 76.81818181818181),
        (10 * M, 51.36363636363637),
        (70 * M, 89.54545454545455),
    ];
    for (eval_ts, want) in cases {
        assert_close(predict_linear(&w, 3600.0, eval_ts), some(want));
        assert_close(
            super::super::eval_range("predict_linear", &w, &[3600.0, eval_ts as f64]),
            some(want),
        );
    }

    // predict_linear(x[50m], 3600) - (x + deriv(x[50m]) * 3600) == 0 for a perfect line.
    let p = canary.eval("predict_linear", 50 * M, 50 * M, &[3600.0]).unwrap();
    let d = canary.eval("deriv", 50 * M, 50 * M, &[]).unwrap();
    assert_close(Some(p - (800.0 + d * 3600.0)), some(0.0));

    let inf = load(5 * M, "-Inf 0+80x10 Inf");
    assert!(inf.eval("deriv", 100 * M, 100 * M, &[]).unwrap().is_nan());
    assert!(
        inf.eval("predict_linear", 100 * M, 100 * M, &[6000.0])
            .unwrap()
            .is_nan()
    );
}

#[test]
fn linear_regression_constant_series() {
    assert_eq!(linear_regression(&[0, 1000, 2000], &[4.0, 4.0, 4.0], 2000), (0.0, 4.0));
    let (s, i) = linear_regression(&[0, 1000], &[f64::INFINITY, f64::INFINITY], 0);
    assert!(s.is_nan() && i.is_nan());
    // NaN values are never "constant".
    let (s, _) = linear_regression(&[0, 1000], &[f64::NAN, f64::NAN], 0);
    assert!(s.is_nan());
    // Exact line: y = 2x + 1 with x in seconds relative to the intercept time.
    let (s, i) = linear_regression(&[0, 1000, 2000, 3000], &[1.0, 3.0, 5.0, 7.0], 0);
    assert_eq!((s, i), (2.0, 1.0));
}

/// Builds the input of an `anchored` / `smoothed` selector: the last sample in
/// `(start - 5m, start]`, every sample in `(start, end]` and, if smoothed, the first in `(end, end + 5m]`.
fn extended(s: &Series, t: i64, range: i64, smoothed: bool) -> (Vec<i64>, Vec<f64>) {
    let start = t - range;
    let lookback = 5 * M;
    let mut ts = Vec::new();
    let mut vs = Vec::new();
    if let Some(i) = s.ts.iter().rposition(|&x| x <= start && x > start - lookback) {
        ts.push(s.ts[i]);
        vs.push(s.vs[i]);
    }
    let (wt, wv) = s.window(t, range);
    ts.extend(wt);
    vs.extend(wv);
    if smoothed && let Some(i) = s.ts.iter().position(|&x| x > t && x <= t + lookback) {
        ts.push(s.ts[i]);
        vs.push(s.vs[i]);
    }
    (ts, vs)
}

fn ext(s: &Series, name: &str, t: i64, range: i64, smoothed: bool) -> Option<f64> {
    let (ts, vs) = extended(s, t, range, smoothed);
    let w = ExtendedWindow {
        ts: &ts,
        vs: &vs,
        range_start: t - range,
        range_end: t,
        smoothed,
    };
    match name {
        "rate" => extended_rate(&w, true, true),
        "increase" => extended_rate(&w, true, false),
        "delta" => extended_rate(&w, false, false),
        "changes" if !smoothed && !ts.is_empty() && *ts.last().unwrap() > t - range => Some(changes(&vs)),
        "resets" if !smoothed && !ts.is_empty() && *ts.last().unwrap() > t - range => Some(resets(&vs)),
        _ => None,
    }
}

#[test]
fn anchored_and_smoothed_complete_dataset() {
    let s = load(15 * S, "1+1x4 9+1x4");
    let plain = [
        None,
        some(1.833333333),
        some(2.833333333),
        some(4.0),
        some(4.0),
        some(8.0),
        some(8.0),
        some(8.0),
        some(4.0),
    ];
    let anchored = [0.0, 1.0, 2.0, 3.0, 4.0, 7.0, 7.0, 7.0, 7.0];
    let smoothed = [
        0.333333333,
        1.333333333,
        2.333333333,
        3.333333333,
        5.0,
        7.0,
        7.0,
        7.0,
        6.0,
    ];
    for i in 0..9 {
        let t = 5 * S + i as i64 * 15 * S;
        assert_close(s.eval("increase", t, M, &[]), plain[i]);
        assert_close(ext(&s, "increase", t, M, false), some(anchored[i]));
        assert_close(ext(&s, "increase", t, M, true), some(smoothed[i]));
    }
}

#[test]
fn anchored_and_smoothed_partial_dataset() {
    let s = load(15 * S, "1+1x2 _ _ 9+1x4");
    let plain = [
        None,
        some(1.833333333),
        some(2.833333333),
        some(3.166666666),
        some(2.166666666),
        some(8.0),
        some(1.833333333),
        some(2.833333333),
        some(4.0),
    ];
    let anchored = [0.0, 1.0, 2.0, 2.0, 2.0, 7.0, 7.0, 8.0, 9.0];
    let smoothed = [
        0.333333333,
        1.333333333,
        2.666666666,
        4.666666666,
        6.333333333,
        7.0,
        6.666666666,
        5.666666666,
        4.666666666,
    ];
    for i in 0..9 {
        let t = 5 * S + i as i64 * 15 * S;
        assert_close(s.eval("increase", t, M, &[]), plain[i]);
        assert_close(ext(&s, "increase", t, M, false), some(anchored[i]));
        assert_close(ext(&s, "increase", t, M, true), some(smoothed[i]));
    }
}

#[test]
fn anchored_and_smoothed_edges_and_resets() {
    // The interval is left-open.
    let s = load(M, "1 2 _ 4 5");
    assert_close(ext(&s, "increase", 2 * M, M, true), some(1.0));
    assert_close(ext(&s, "increase", 2 * M, M, false), None);

    let id1 = load(M, "1+1x4 1+1x4");
    let id2 = load(M, "3 2+2x9");
    let id3 = load(M, "5+3x2 3+3x6");
    let t = M + 30 * S;
    for (s, inc, delta) in [(&id1, 1.0, 1.0), (&id2, 2.0, -1.0), (&id3, 3.0, 3.0)] {
        assert_eq!(s.eval("increase", t, M, &[]), None);
        assert_close(ext(s, "increase", t, M, true), some(inc));
        assert_close(ext(s, "increase", t, M, false), some(inc));
        assert_close(ext(s, "delta", t, M, false), some(delta));
    }
    for (s, d) in [(&id1, 1.0), (&id2, 2.0), (&id3, -8.0)] {
        assert_close(ext(s, "delta", 3 * M, M, false), some(d));
        assert_close(ext(s, "delta", 3 * M + 30 * S, M, false), some(d));
    }
    for (s, inc) in [(&id1, 5.0), (&id2, 10.0), (&id3, 15.0)] {
        assert_close(s.eval("increase", 6 * M, 5 * M, &[]), some(inc));
        assert_close(ext(s, "increase", 6 * M + 15 * S, 5 * M, true), some(inc));
        assert_close(ext(s, "increase", 6 * M, 5 * M, true), some(inc));
        assert_close(ext(s, "increase", 5 * M, 5 * M, false), some(inc));
        assert_close(ext(s, "increase", 15 * M, 5 * M, false), None);
    }

    let a = load(M, "11 -1 100 0");
    let b = load(M, "0 0 100 0 0 11 -1");
    assert_close(ext(&a, "delta", 5 * M + 30 * S, 5 * M, true), some(-5.0));
    assert_close(ext(&b, "delta", 5 * M + 30 * S, 5 * M, true), some(5.0));
    assert_close(ext(&a, "delta", 5 * M + 45 * S, 5 * M, true), some(-2.0));
    assert_close(ext(&b, "delta", 5 * M + 45 * S, 5 * M, true), some(2.0));

    // Interpolation across resets at both edges.
    assert_close(
        ext(&load(M, "9 8 5 4"), "increase", 2 * M + 15 * S, 2 * M, true),
        some(12.0),
    );
    assert_close(
        ext(&load(15 * S, "100 10"), "rate", 12 * S, 10 * S, true),
        some(0.666666666666667),
    );

    // Data only before or only after the range.
    let s = load(10 * S, "_ 5+1x4");
    assert_eq!(ext(&s, "rate", 5 * S, 5 * S, true), None);
    assert_eq!(ext(&s, "increase", 5 * S, 5 * S, true), None);
    assert_close(ext(&s, "increase", 15 * S, 10 * S, true), some(0.5));
    assert_eq!(ext(&s, "rate", 60 * S, 5 * S, true), None);
}

#[test]
fn anchored_changes_and_resets() {
    let ids = [
        load(M, "1+1x10"),
        load(M, "1 1+1x10"),
        load(M, "99-1x10"),
        load(M, "99 99-1x10"),
    ];
    for (t, want) in [(5 * M, [4.0; 4]), (5 * M + 30 * S, [4.0; 4])] {
        for (s, w) in ids.iter().zip(want) {
            assert_eq!(s.eval("changes", t, 5 * M, &[]), some(w));
        }
    }
    let cases = [
        (5 * M, [5.0, 4.0, 5.0, 4.0]),
        (6 * M, [5.0; 4]),
        (5 * M + 30 * S, [5.0, 4.0, 5.0, 4.0]),
    ];
    for (t, want) in cases {
        for (s, w) in ids.iter().zip(want) {
            assert_eq!(ext(s, "changes", t, 5 * M, false), some(w));
        }
    }
    for (s, w) in ids.iter().zip([0.0, 0.0, 4.0, 4.0]) {
        assert_eq!(s.eval("resets", 5 * M + 30 * S, 5 * M, &[]), some(w));
    }
    for (s, w) in ids.iter().zip([0.0, 0.0, 5.0, 4.0]) {
        assert_eq!(ext(s, "resets", 5 * M + 30 * S, 5 * M, false), some(w));
    }

    let id1 = load(M, "2 _ 1 _ _ _ _ _ 0");
    let id2 = load(M, "99-1x10");
    assert_eq!(id1.eval("changes", 3 * M, M, &[]), None);
    assert_eq!(ext(&id1, "changes", 2 * M, M, false), some(1.0));
    assert_eq!(ext(&id2, "changes", 3 * M, M, false), some(1.0));
    assert_eq!(ext(&id1, "changes", 8 * M, M, false), some(0.0));
    assert_eq!(ext(&id2, "changes", 8 * M, M, false), some(1.0));
    assert_eq!(ext(&id1, "changes", 8 * M, M + 1, false), some(1.0));
    assert_eq!(ext(&id2, "changes", 8 * M, M + 1, false), some(2.0));
    assert_eq!(ext(&id1, "resets", 2 * M, M, false), some(1.0));
    assert_eq!(ext(&id1, "resets", 8 * M, M + 1, false), some(1.0));
    assert_eq!(ext(&id2, "resets", 8 * M, M + 1, false), some(2.0));
}

/// Prometheus' `TestInterpolate` (promql/functions_internal_test.go).
#[test]
fn interpolate_table() {
    let cases = [
        ((1, 100.0), (2, 200.0), 1, false, 100.0),
        ((0, 100.0), (2, 200.0), 1, false, 150.0),
        ((0, 200.0), (2, 100.0), 1, false, 150.0),
        ((0, 200.0), (2, 0.0), 1, true, 0.0),
        ((0, 200.0), (2, 100.0), 1, true, 50.0),
        ((0, 500.0), (2, 100.0), 1, true, 50.0),
        ((0, 500.0), (10, 0.0), 1, true, 0.0),
    ];
    for ((t1, y1), (t2, y2), t, is_counter, want) in cases {
        assert_eq!(interpolate(t1, y1, t2, y2, t, is_counter), want);
    }
}

/// Prometheus' `TestDeriv` (promql/functions_test.go, issue #2674): large timestamps, constant values,
/// the slope must be exactly 0.
#[test]
fn deriv_of_constant_with_large_timestamps() {
    let start = 1_493_712_816_939i64;
    let ts: Vec<i64> = (0..15).map(|i| start + 30_000 * i + 12 * i % 2).collect();
    let vs = vec![1.0; 15];
    let t = 1_493_712_846_939i64;
    let n = ts.iter().filter(|&&x| x <= t).count();
    let w = Window {
        ts: &ts[..n],
        vs: &vs[..n],
        range_start: t - 30 * M,
        range_end: t,
    };
    assert_eq!(deriv(&w), Some(0.0));
    // And with real jitter on all 15 samples.
    let ts: Vec<i64> = (0..15).map(|i| start + 30_000 * i + (i % 2) * 12).collect();
    let w = Window {
        ts: &ts,
        vs: &vs,
        range_start: start - 1,
        range_end: start + 15 * 30_000,
    };
    assert_eq!(deriv(&w), Some(0.0));
}

#[test]
fn rate_without_reset_scan_matches_the_scanning_kernel() {
    let ts: Vec<i64> = (1..=40).map(|i| i * 15_000 + (i * 7919) % 23).collect();
    let rising: Vec<f64> = (0..40).map(|i| 1e6 + (i * i) as f64 * 0.37).collect();
    let mut reset = rising.clone();
    reset[20] = 3.0;
    assert!(!has_drop(&rising));
    assert!(has_drop(&reset));
    assert!(!has_drop(&[1.0, f64::NAN, 0.5]), "NaN compares false, as in the kernel");
    assert!(!has_drop(&[]) && !has_drop(&[3.0]));
    // A drop at either side of a run boundary (runs of 64 pairs).
    for at in [1usize, 63, 64, 65, 127, 199] {
        let mut vs: Vec<f64> = (0..200).map(f64::from).collect();
        assert!(!has_drop(&vs));
        vs[at] = -1.0;
        assert!(has_drop(&vs), "{at}");
    }
    for lo in [0usize, 3, 17] {
        for hi in [lo + 2, lo + 9, 40] {
            let w = Window {
                ts: &ts[lo..hi],
                vs: &rising[lo..hi],
                range_start: ts[lo] - 20_000,
                range_end: ts[hi - 1] + 4_000,
            };
            for is_rate in [true, false] {
                let a = extrapolated_rate(&w, true, is_rate).map(f64::to_bits);
                let b = counter_rate_without_resets(&w, is_rate.then(|| w.range_seconds())).map(f64::to_bits);
                assert_eq!(a, b, "window {lo}..{hi} rate {is_rate}");
            }
        }
    }
    // With a reset the scanning kernel corrects for it; the fast one must not be used there.
    let w = Window {
        ts: &ts,
        vs: &reset,
        range_start: 0,
        range_end: ts[39],
    };
    assert_ne!(
        extrapolated_rate(&w, true, false),
        counter_rate_without_resets(&w, None)
    );
}

/// Prometheus' `extrapolatedRate` as written, every division done: the oracle for the divisions that
/// [`extrapolate`] skips.
fn extrapolate_every_division(w: &Window, is_counter: bool, is_rate: bool) -> Option<f64> {
    let n = w.len();
    if n < 2 {
        return None;
    }
    let (first_t, last_t, first_v) = (w.ts[0], w.ts[n - 1], w.vs[0]);
    let mut result = w.vs[n - 1] - first_v;
    if is_counter {
        for p in w.vs.windows(2) {
            if p[1] < p[0] {
                result += p[0];
            }
        }
    }
    let mut duration_to_start = (first_t - w.range_start) as f64 / 1000.0;
    let mut duration_to_end = (w.range_end - last_t) as f64 / 1000.0;
    let sampled_interval = (last_t - first_t) as f64 / 1000.0;
    let average = sampled_interval / (n - 1) as f64;
    let threshold = average * 1.1;
    if duration_to_start >= threshold {
        duration_to_start = average / 2.0;
    }
    if is_counter {
        let mut duration_to_zero = duration_to_start;
        if result > 0.0 && first_v >= 0.0 {
            duration_to_zero = sampled_interval * (first_v / result);
        }
        if duration_to_zero < duration_to_start {
            duration_to_start = duration_to_zero;
        }
    }
    if duration_to_end >= threshold {
        duration_to_end = average / 2.0;
    }
    let mut factor = 1.0;
    if sampled_interval != 0.0 {
        factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
    }
    if is_rate {
        factor /= w.range_seconds();
    }
    Some(result * factor)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
    /// Windows near the thresholds where the skipped divisions decide (an edge gap about 1.1 average
    /// intervals, a counter reaching zero about at the window start), and far from them: every result is
    /// bit for bit Prometheus' formula's.
    #[test]
    fn skipped_divisions_change_nothing(
        n in 2usize..30,
        interval in 1i64..120_000,
        jitter in 0i64..3_000,
        seed in proptest::prelude::any::<u64>(),
        start_gap in 1i64..200_000,
        end_gap in 0i64..200_000,
        first_v in proptest::prelude::prop_oneof![
            proptest::prelude::Just(0.0),
            -1e3f64..1e3,
            0.0f64..1e12,
            proptest::prelude::Just(f64::MAX),
            proptest::prelude::Just(f64::INFINITY),
            proptest::prelude::Just(f64::NAN),
            proptest::prelude::Just(1e-310),
        ],
        step in proptest::prelude::prop_oneof![0.0f64..1e4, proptest::prelude::Just(1e-320), proptest::prelude::Just(1e300)],
        scale_near_zero in proptest::prelude::any::<bool>(),
    ) {
        let mut x = seed | 1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut ts = Vec::with_capacity(n);
        let mut t = 1_000_000i64;
        for _ in 0..n {
            ts.push(t);
            t += interval + (next() % (jitter as u64 + 1)) as i64;
        }
        let first = ts[0];
        let last = ts[n - 1];
        // Scaled so that the counter reaches zero about `start_gap` before the first sample.
        let step = if scale_near_zero && first_v.is_finite() && first_v > 0.0 {
            first_v / ((start_gap as f64) / 1000.0) * ((interval as f64) / 1000.0)
        } else {
            step
        };
        let vs: Vec<f64> = (0..n).map(|k| first_v + step * k as f64).collect();
        let w = Window {
            ts: &ts,
            vs: &vs,
            range_start: first - start_gap,
            range_end: last + end_gap,
        };
        for (is_counter, is_rate) in [(true, true), (true, false), (false, false)] {
            let want = extrapolate_every_division(&w, is_counter, is_rate);
            let got = extrapolated_rate(&w, is_counter, is_rate);
            proptest::prop_assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{:?} {:?}", got, want);
            if is_counter {
                let got = counter_rate_without_resets(&w, is_rate.then(|| w.range_seconds()));
                proptest::prop_assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits));
            }
        }
    }
}
