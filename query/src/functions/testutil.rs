//! Test helpers: expand promqltest series notation (`0+10x10`, `1 _ NaN`, `8000-10x1000`) into samples
//! and cut windows out of them, so that cases from Prometheus' `.test` files can be checked against the
//! kernels directly.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::Window;

/// One loaded series: timestamps (ms) and values, missing points (`_`) left out.
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub ts: Vec<i64>,
    pub vs: Vec<f64>,
}

fn parse_num(s: &str) -> f64 {
    match s {
        "NaN" => f64::NAN,
        "Inf" | "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        _ => s.parse::<f64>().unwrap_or_else(|_| panic!("bad number {s:?}")),
    }
}

/// Splits `a+b` / `a-b` (the sign of `b` kept) where the operator is not part of an exponent.
fn split_increment(s: &str) -> (f64, f64) {
    let bytes = s.as_bytes();
    for i in 1..bytes.len() {
        let c = bytes[i];
        if (c == b'+' || c == b'-') && !matches!(bytes[i - 1], b'e' | b'E') {
            return (parse_num(&s[..i]), parse_num(&s[i..]));
        }
    }
    (parse_num(s), 0.0)
}

/// Expands promqltest series notation loaded with `step` milliseconds between points, starting at 0.
pub fn load(step: i64, notation: &str) -> Series {
    let mut vals: Vec<Option<f64>> = Vec::new();
    for tok in notation.split_whitespace() {
        if let Some(rest) = tok.strip_prefix('_') {
            let n = rest.strip_prefix('x').map_or(1, |n| n.parse::<usize>().unwrap());
            vals.extend(std::iter::repeat_n(None, n));
        } else if let Some((base, times)) = tok.rsplit_once('x') {
            let times: usize = times.parse().unwrap();
            let (mut v, inc) = split_increment(base);
            for _ in 0..=times {
                vals.push(Some(v));
                v += inc;
            }
        } else {
            vals.push(Some(parse_num(tok)));
        }
    }
    let mut s = Series::default();
    for (i, v) in vals.into_iter().enumerate() {
        if let Some(v) = v {
            s.ts.push(i as i64 * step);
            s.vs.push(v);
        }
    }
    s
}

impl Series {
    /// The samples within `(t - range, t]`.
    pub fn window(&self, t: i64, range: i64) -> (Vec<i64>, Vec<f64>) {
        let mut ts = Vec::new();
        let mut vs = Vec::new();
        for (&st, &sv) in self.ts.iter().zip(&self.vs) {
            if st > t - range && st <= t {
                ts.push(st);
                vs.push(sv);
            }
        }
        (ts, vs)
    }

    /// Evaluates a range function at `t` (ms) over `[range]` (ms).
    pub fn eval(&self, name: &str, t: i64, range: i64, params: &[f64]) -> Option<f64> {
        let (ts, vs) = self.window(t, range);
        let w = Window {
            ts: &ts,
            vs: &vs,
            range_start: t - range,
            range_end: t,
        };
        super::eval_range(name, &w, params)
    }
}

/// Milliseconds helpers.
pub const S: i64 = 1000;
pub const M: i64 = 60 * S;

/// Asserts `got` equals `want` the way promqltest compares floats (relative epsilon 1e-6, NaN == NaN),
/// with `None` meaning no output sample.
#[track_caller]
pub fn assert_close(got: Option<f64>, want: Option<f64>) {
    match (got, want) {
        (None, None) => {}
        (Some(g), Some(w)) => {
            let ok = (g.is_nan() && w.is_nan())
                || g == w
                || ((g - w).abs() <= 1e-6 * w.abs().max(g.abs()) && g.is_finite() && w.is_finite());
            assert!(ok, "got {g:?}, want {w:?}");
        }
        _ => panic!("got {got:?}, want {want:?}"),
    }
}

#[test]
fn notation_expands() {
    let s = load(5 * M, "0+10x2 _ 7 -1e-6 8000-10x1 _x2 NaN");
    assert_eq!(s.vs[..3], [0.0, 10.0, 20.0]);
    assert_eq!(s.ts[3], 4 * 5 * M);
    assert_eq!(s.vs[3..7], [7.0, -1e-6, 8000.0, 7990.0]);
    assert_eq!(*s.ts.last().unwrap(), 10 * 5 * M);
    assert!(s.vs.last().unwrap().is_nan());
}
