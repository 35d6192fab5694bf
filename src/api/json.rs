//! Hand-written JSON encoding of query results, byte-compatible with Prometheus: timestamps as seconds with
//! up to three decimals (`1435781451.781`, `1.5` printed as `1.500` like Prometheus' `MarshalTimestamp`),
//! sample values as strings in Go's shortest `'f'` format (`"NaN"`, `"+Inf"`, `"-Inf"`).

use std::fmt::Write as _;

use rayon::prelude::*;

use strata_query::{InstantSample, RangeSeries, Value};
use strata_storage::Labels;

/// Appends a timestamp in Prometheus' JSON form.
pub fn write_timestamp(out: &mut String, t: i64) {
    if t < 0 {
        out.push('-');
    }
    let abs = t.unsigned_abs();
    let mut buf = itoa::Buffer::new();
    out.push_str(buf.format(abs / 1000));
    let frac = abs % 1000;
    if frac != 0 {
        out.push('.');
        let digits = buf.format(frac);
        for _ in digits.len()..3 {
            out.push('0');
        }
        out.push_str(digits);
    }
}

/// Formats a sample value as Prometheus does (Go `strconv.FormatFloat(v, 'f', -1, 64)`).
pub fn format_value(v: f64) -> String {
    let mut s = String::new();
    write_value(&mut s, v);
    s
}

/// Appends a sample value as [`format_value`] formats it.
pub fn write_value(out: &mut String, v: f64) {
    write_value_hinted(out, v, &mut true);
}

/// [`write_value`] for one of a run of values (a series): `decimal` says whether to try the short-decimal
/// path first, and is cleared once a value needs the shortest-digit search, so that a series of arbitrary
/// floats pays for the failed attempt once instead of per value.
fn write_value_hinted(out: &mut String, v: f64, decimal: &mut bool) {
    /// Integers below this print the same through an integer formatter (no exponent, no fraction).
    const EXACT_INT: f64 = 9_007_199_254_740_992.0;
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else if v.fract() == 0.0 && v.abs() < EXACT_INT && !(v == 0.0 && v.is_sign_negative()) {
        out.push_str(itoa::Buffer::new().format(v as i64));
    } else if !(*decimal && write_short_decimal(out, v)) {
        *decimal = false;
        write_shortest_f(out, v);
    }
}

/// Appends a finite, non-integer `v` that is a decimal with at most 6 places (`1.25`, `-0.003`,
/// `12345.678`: most metric values) straight from its scaled integer, and returns true; returns false,
/// writing nothing, for any other value.
///
/// The output is what [`write_shortest_f`] writes. For the smallest `s` such that `m = round(v × 10^s)` gives
/// back `v` as `m / 10^s` (IEEE division rounds the exact quotient, so the decimal `m × 10^-s` round-trips),
/// with `|m| < 2^50`: any decimal with fewer places that round-trips would have been found at its own `s`
/// (`v × 10^s` is then within 1/4 of it, so rounding finds it), and no other decimal with `s` places
/// round-trips (they are more than two ulps of `v` apart). So it is the shortest, and unique among the
/// shortest: the digits ryu picks.
fn write_short_decimal(out: &mut String, v: f64) -> bool {
    const POW10: [f64; 7] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6];
    const LIMIT: f64 = 1_125_899_906_842_624.0; // 2^50
    for (s, &p) in POW10.iter().enumerate().skip(1) {
        let x = v * p;
        if !(x.abs() < LIMIT) {
            return false;
        }
        // Round half away from zero without libm (`f64::round` is a call on baseline x86-64).
        let i = x as i64;
        let r = x - i as f64;
        let m = if r >= 0.5 {
            i + 1
        } else if r <= -0.5 {
            i - 1
        } else {
            i
        };
        if m as f64 / p != v {
            continue;
        }
        let scale = 10u64.pow(s as u32);
        let a = m.unsigned_abs();
        let (int, mut frac) = (a / scale, a % scale);
        if frac == 0 {
            return false; // v is an integer: not this path's
        }
        let mut places = s;
        while frac % 10 == 0 {
            frac /= 10;
            places -= 1;
        }
        if m < 0 {
            out.push('-');
        }
        out.push_str(itoa::Buffer::new().format(int));
        out.push('.');
        let mut buf = itoa::Buffer::new();
        let digits = buf.format(frac);
        for _ in digits.len()..places {
            out.push('0');
        }
        out.push_str(digits);
        return true;
    }
    false
}

/// Appends a finite `v` as the shortest digits that round-trip, in positional notation (Go's `'f', -1`,
/// Rust's `Display`): ryu finds the digits, then its exponent form (`1.5e-7`, `1e21`) is spelled out.
fn write_shortest_f(out: &mut String, v: f64) {
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(v);
    let (mantissa, exp) = match s.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (s, 0),
    };
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let frac = if frac == "0" { "" } else { frac };
    if neg {
        out.push('-');
    }
    if exp == 0 {
        out.push_str(int);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        return;
    }
    // Digits without the point; the point goes after `point` of them (may be outside the digits).
    let digits: String = int.chars().chain(frac.chars()).collect();
    let digits = digits.trim_start_matches('0');
    let lead_zeros = (int.len() - int.trim_start_matches('0').len()) as i32;
    let point = int.len() as i32 - lead_zeros.min(int.len() as i32) + exp;
    let n = digits.len() as i32;
    if digits.is_empty() {
        out.push('0');
    } else if point <= 0 {
        out.push_str("0.");
        for _ in 0..-point {
            out.push('0');
        }
        out.push_str(digits.trim_end_matches('0'));
    } else if point >= n {
        out.push_str(digits);
        for _ in 0..point - n {
            out.push('0');
        }
    } else {
        let (a, b) = digits.split_at(point as usize);
        out.push_str(a);
        let b = b.trim_end_matches('0');
        if !b.is_empty() {
            out.push('.');
            out.push_str(b);
        }
    }
}

/// Appends a JSON string literal.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    // Label names and values rarely need escaping: copy the clean prefix at once.
    let clean = s
        .bytes()
        .position(|b| b < 0x20 || b == b'"' || b == b'\\')
        .unwrap_or(s.len());
    let (head, rest) = s.split_at(clean);
    out.push_str(head);
    for c in rest.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a label set as a JSON object.
pub fn write_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, &l.name);
        out.push(':');
        write_str(out, &l.value);
    }
    out.push('}');
}

fn write_point(out: &mut String, t: i64, v: f64, decimal: &mut bool) {
    out.push('[');
    write_timestamp(out, t);
    out.push_str(",\"");
    write_value_hinted(out, v, decimal);
    out.push_str("\"]");
}

fn write_vector(out: &mut String, v: &[InstantSample]) {
    out.push('[');
    for (i, s) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"metric\":");
        write_labels(out, &s.labels);
        out.push_str(",\"value\":");
        write_point(out, s.t, s.v, &mut true);
        out.push('}');
    }
    out.push(']');
}

/// Matrices with at least this many points are encoded by all cores, a run of series per task.
const PARALLEL_POINTS: usize = 16_384;

fn write_matrix(out: &mut String, m: &[RangeSeries]) {
    let points: usize = m.iter().map(|s| s.timestamps.len()).sum();
    // About 24 bytes per point (`[1700000000.123,"12.5"],`) and a label set per series.
    out.reserve(points * 24 + m.len() * 160);
    out.push('[');
    write_runs(out, m, points >= PARALLEL_POINTS, write_series_list);
    out.push(']');
}

/// Appends `items` as `write_run` writes them, comma-separated. With `parallel`, both cores write runs of
/// them into buffers of their own, joined in order (runs that wrote nothing add no comma).
fn write_runs<T: Sync>(out: &mut String, items: &[T], parallel: bool, write_run: impl Fn(&mut String, &[T]) + Sync) {
    if !parallel {
        write_run(out, items);
        return;
    }
    let per_task = items.len().div_ceil(rayon::current_num_threads() * 4).max(1);
    let parts: Vec<String> = items
        .par_chunks(per_task)
        .map(|run| {
            let mut part = String::new();
            write_run(&mut part, run);
            part
        })
        .collect();
    for (i, part) in parts.iter().filter(|p| !p.is_empty()).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(part);
    }
}

/// Appends the series that have points, comma-separated.
fn write_series_list(out: &mut String, m: &[RangeSeries]) {
    for (i, s) in m.iter().filter(|s| !s.timestamps.is_empty()).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"metric\":");
        write_labels(out, &s.labels);
        out.push_str(",\"values\":[");
        let mut decimal = true;
        for (i, (t, v)) in s.timestamps.iter().zip(&s.values).enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_point(out, *t, *v, &mut decimal);
        }
        out.push_str("]}");
    }
}

/// Label sets of at least this many series are encoded by all cores.
const PARALLEL_SETS: usize = 4_096;

/// The success body of `/api/v1/series`: the label sets, then any warnings.
pub fn series_body(sets: &[Labels], warnings: &[String]) -> String {
    let mut out = String::with_capacity(64 + sets.len() * 160);
    out.push_str("{\"status\":\"success\",\"data\":[");
    write_runs(&mut out, sets, sets.len() >= PARALLEL_SETS, |out, run| {
        for (i, l) in run.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_labels(out, l);
        }
    });
    out.push(']');
    write_annotations(&mut out, warnings, &[]);
    out.push('}');
    out
}

/// Appends `,"warnings":[...]` and `,"infos":[...]` when there are any.
pub fn write_annotations(out: &mut String, warnings: &[String], infos: &[String]) {
    for (key, list) in [("warnings", warnings), ("infos", infos)] {
        if list.is_empty() {
            continue;
        }
        let _ = write!(out, ",\"{key}\":[");
        for (i, w) in list.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(out, w);
        }
        out.push(']');
    }
}

/// The full success body of `/api/v1/query` and `/api/v1/query_range`.
pub fn query_body(value: &Value, warnings: &[String], infos: &[String]) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("{\"status\":\"success\",\"data\":{\"resultType\":\"");
    match value {
        Value::Scalar { t, v } => {
            out.push_str("scalar\",\"result\":");
            write_point(&mut out, *t, *v, &mut true);
        }
        Value::String { t, v } => {
            out.push_str("string\",\"result\":[");
            write_timestamp(&mut out, *t);
            out.push(',');
            write_str(&mut out, v);
            out.push(']');
        }
        Value::Vector(v) => {
            out.push_str("vector\",\"result\":");
            write_vector(&mut out, v);
        }
        Value::Matrix(m) => {
            out.push_str("matrix\",\"result\":");
            write_matrix(&mut out, m);
        }
    }
    out.push('}');
    write_annotations(&mut out, warnings, infos);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large series response is encoded in parallel runs: the same body as one pass, valid JSON.
    #[test]
    fn parallel_series_body_matches_one_pass() {
        let sets: Vec<Labels> = (0..PARALLEL_SETS + 7)
            .map(|i| Labels::from_pairs([("__name__", "m".to_string()), ("i", format!("v\"{i}"))]))
            .collect();
        let body = series_body(&sets, &["w".to_string()]);
        let mut one_pass = String::from("{\"status\":\"success\",\"data\":[");
        for (i, l) in sets.iter().enumerate() {
            if i > 0 {
                one_pass.push(',');
            }
            write_labels(&mut one_pass, l);
        }
        one_pass.push_str("],\"warnings\":[\"w\"]}");
        assert_eq!(body, one_pass);
        let parsed: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
        assert_eq!(parsed["data"].as_array().map(Vec::len), Some(PARALLEL_SETS + 7));
        assert_eq!(parsed["data"][5]["i"], "v\"5");
    }

    /// A large matrix is encoded in parallel runs of series: the body is the one a single pass writes,
    /// commas included where runs start or end with series that have no points.
    #[test]
    fn parallel_matrix_encoding_matches_one_pass() {
        let m: Vec<RangeSeries> = (0..500)
            .map(|i| RangeSeries {
                labels: Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]),
                timestamps: if i % 7 == 0 {
                    Vec::new()
                } else {
                    (0..60).map(|k| k * 15_000 + i).collect()
                },
                values: if i % 7 == 0 {
                    Vec::new()
                } else {
                    (0..60).map(|k| f64::from(k) / 3.0).collect()
                },
            })
            .collect();
        assert!(m.iter().map(|s| s.timestamps.len()).sum::<usize>() >= PARALLEL_POINTS);
        let mut parallel = String::new();
        write_matrix(&mut parallel, &m);
        let mut one_pass = String::from("[");
        write_series_list(&mut one_pass, &m);
        one_pass.push(']');
        assert_eq!(parallel, one_pass);
        let parsed: serde_json::Value = serde_json::from_str(&parallel).expect("valid JSON");
        assert_eq!(parsed.as_array().map(Vec::len), Some(500 - 72));
    }

    #[test]
    fn timestamps_match_prometheus() {
        let f = |t| {
            let mut s = String::new();
            write_timestamp(&mut s, t);
            s
        };
        assert_eq!(f(1_435_781_451_781), "1435781451.781");
        assert_eq!(f(1500), "1.500");
        assert_eq!(f(1005), "1.005");
        assert_eq!(f(2000), "2");
        assert_eq!(f(-1500), "-1.500");
    }

    #[test]
    fn values_match_go() {
        assert_eq!(format_value(1.0), "1");
        assert_eq!(format_value(0.1), "0.1");
        assert_eq!(format_value(1e21), "1000000000000000000000");
        assert_eq!(format_value(1e-7), "0.0000001");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(-0.0), "-0");
        assert_eq!(format_value(0.0), "0");
        // ryu's digits, spelled out: the shortest that round-trip (as Display's), in positional notation; where
        // two shortest candidates are equally close, ryu and Go round to even, Rust's Display does not.
        assert_eq!(
            format_value(f64::from_bits(0x4317_9085_685d_83c9)),
            "1658206780088562.2"
        );
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = f64::from_bits(state);
            if v.is_finite() {
                let (got, display) = (format_value(v), format!("{v}"));
                assert_eq!(got.parse::<f64>().ok().map(f64::to_bits), Some(v.to_bits()), "{got}");
                assert!(!got.contains('e') && got.len() <= display.len(), "{got} vs {display}");
            }
            let w = (state % 1_000_000) as f64 / 100.0 * if state & 1 == 0 { 1.0 } else { -1e-9 };
            assert_eq!(format_value(w), format!("{w}"));
        }
        for v in [
            5e-324,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            1e-7,
            1.5e-7,
            123.456,
            1e300,
            0.1 + 0.2,
        ] {
            assert_eq!(format_value(v), format!("{v}"));
        }
        // The integer fast path prints what Display prints.
        let mut x = 1.0f64;
        for k in 0..2000 {
            for v in [
                x.floor(),
                -x.floor(),
                (x * 0.37).floor(),
                9_007_199_254_740_991.0,
                9_007_199_254_740_992.0,
            ] {
                assert_eq!(format_value(v), format!("{v}"), "{k}: {v}");
            }
            x *= 1.02;
        }
    }

    /// The short-decimal path writes exactly what the shortest-digit path writes, whenever it applies.
    #[test]
    fn short_decimals_print_as_the_shortest_digits() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut taken, mut tried) = (0, 0);
        for i in 0..400_000u64 {
            let r = next();
            let v = match i % 4 {
                // Decimals with 1 to 8 places, of every magnitude the path accepts and beyond.
                0 => (r >> (r % 60)) as f64 / 10f64.powi((r % 8) as i32 + 1) * if r & 1 == 0 { 1.0 } else { -1.0 },
                // Sums and quotients, as rates and averages produce.
                1 => (r % 100_000) as f64 / 100.0 + (r >> 40) as f64 / 1000.0,
                2 => (r % 1_000_000) as f64 / ((r >> 44) % 997 + 1) as f64,
                _ => f64::from_bits(r),
            };
            if !v.is_finite() || v.fract() == 0.0 {
                continue;
            }
            tried += 1;
            let (mut fast, mut slow) = (String::new(), String::new());
            write_shortest_f(&mut slow, v);
            if write_short_decimal(&mut fast, v) {
                taken += 1;
                assert_eq!(fast, slow, "{v:?} ({:#x})", v.to_bits());
            } else {
                assert!(fast.is_empty());
            }
        }
        assert!(
            taken > tried / 3,
            "the path applies to short decimals: {taken} of {tried}"
        );
        for v in [
            0.5,
            -0.5,
            0.001,
            -0.000001,
            1.25,
            9.99,
            0.1 + 0.2,
            1e-7,
            1125899906842.6239,
            12345.678,
        ] {
            let (mut fast, mut slow) = (String::new(), String::new());
            write_shortest_f(&mut slow, v);
            if write_short_decimal(&mut fast, v) {
                assert_eq!(fast, slow, "{v}");
            }
        }
    }

    #[test]
    fn strings_are_escaped() {
        let mut s = String::new();
        write_str(&mut s, "a\"b\\c\n\u{1}");
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\u0001\"");
        for (raw, want) in [
            ("", "\"\""),
            ("host-1:9100", "\"host-1:9100\""),
            ("é✓", "\"é✓\""),
            ("ab\tc", "\"ab\\tc\""),
        ] {
            let mut s = String::new();
            write_str(&mut s, raw);
            assert_eq!(s, want);
        }
    }
}
