//! Hand-written JSON encoding of query results, byte-compatible with Prometheus: timestamps as seconds with
//! up to three decimals (`1435781451.781`, `1.5` printed as `1.500` like Prometheus' `MarshalTimestamp`),
//! sample values as strings in Go's shortest `'f'` format (`"NaN"`, `"+Inf"`, `"-Inf"`).

use std::fmt::Write as _;

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
    } else {
        // Rust's Display prints the shortest round-tripping digits without an exponent, as Go's 'f', -1 does.
        let _ = write!(out, "{v}");
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

fn write_point(out: &mut String, t: i64, v: f64) {
    out.push('[');
    write_timestamp(out, t);
    out.push_str(",\"");
    write_value(out, v);
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
        write_point(out, s.t, s.v);
        out.push('}');
    }
    out.push(']');
}

fn write_matrix(out: &mut String, m: &[RangeSeries]) {
    out.push('[');
    let mut first = true;
    for s in m.iter().filter(|s| !s.timestamps.is_empty()) {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str("{\"metric\":");
        write_labels(out, &s.labels);
        out.push_str(",\"values\":[");
        for (i, (t, v)) in s.timestamps.iter().zip(&s.values).enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_point(out, *t, *v);
        }
        out.push_str("]}");
    }
    out.push(']');
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
            write_point(&mut out, *t, *v);
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
        // The integer fast path prints what Display prints.
        let mut x = 1.0f64;
        for k in 0..2000 {
            for v in [
                x,
                -x,
                x.floor(),
                (x * 0.37).floor(),
                9_007_199_254_740_991.0,
                9_007_199_254_740_992.0,
            ] {
                assert_eq!(format_value(v), format!("{v}"), "{k}: {v}");
            }
            x *= 1.02;
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
