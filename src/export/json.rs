//! JSON-lines export, one series per line, as VictoriaMetrics' `/api/v1/export` writes it:
//! `{"metric":{"__name__":"up","job":"x"},"values":[1,0.5],"timestamps":[1700000000000,1700000015000]}`.
//!
//! Values are JSON numbers in the shortest form that reads back to the same `f64`. Special values:
//! the staleness marker is `null` (as VictoriaMetrics writes it: the only NaN it stores), any other
//! NaN is `"NaN"`, infinities are `"Infinity"` and `"-Infinity"`. The importer reads all of these back
//! bit-exact.

use std::io::Write;

use strata_storage::{Labels, METRIC_NAME, is_stale_nan};

/// Appends one JSON line for a series (nothing when it has no samples).
pub fn write_line(buf: &mut Vec<u8>, labels: &Labels, timestamps: &[i64], values: &[f64]) {
    if timestamps.is_empty() {
        return;
    }
    buf.extend_from_slice(b"{\"metric\":{");
    let mut first = true;
    let name = labels.metric_name();
    let rest = labels.iter().filter(|l| l.name != METRIC_NAME);
    for (n, v) in name
        .map(|n| (METRIC_NAME, n))
        .into_iter()
        .chain(rest.map(|l| (l.name.as_str(), l.value.as_str())))
    {
        if !first {
            buf.push(b',');
        }
        first = false;
        write_str(buf, n);
        buf.push(b':');
        write_str(buf, v);
    }
    buf.extend_from_slice(b"},\"values\":[");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        write_value(buf, *v);
    }
    buf.extend_from_slice(b"],\"timestamps\":[");
    for (i, t) in timestamps.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        // Writing to a Vec cannot fail.
        let _ = write!(buf, "{t}");
    }
    buf.extend_from_slice(b"]}\n");
}

/// Writes a value as described in the module documentation.
pub fn write_value(buf: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        buf.extend_from_slice(if is_stale_nan(v) { b"null" } else { b"\"NaN\"" });
    } else if v.is_infinite() {
        buf.extend_from_slice(if v > 0.0 { b"\"Infinity\"" } else { b"\"-Infinity\"" });
    } else {
        // Rust's shortest round-trip formatting, never with an exponent: valid JSON.
        let _ = write!(buf, "{v}");
    }
}

/// Writes a JSON string literal.
pub fn write_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match c {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        buf.extend_from_slice(bytes.get(start..i).unwrap_or(&[]));
        match esc {
            Some(e) => buf.extend_from_slice(e),
            None => {
                let _ = write!(buf, "\\u{c:04x}");
            }
        }
        start = i + 1;
    }
    buf.extend_from_slice(bytes.get(start..).unwrap_or(&[]));
    buf.push(b'"');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use strata_storage::STALE_NAN_BITS;

    #[test]
    fn line_round_trips_through_the_importer() {
        let labels = Labels::from_pairs([("__name__", "up"), ("Job", "a\"b\\c\n\u{1}"), ("z", "é")]);
        let vs = [
            1.0,
            0.1,
            -0.0,
            1e300,
            5e-324,
            f64::from_bits(STALE_NAN_BITS),
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let ts: Vec<i64> = (0..vs.len() as i64).map(|i| 1_700_000_000_000 + i).collect();
        let mut buf = Vec::new();
        write_line(&mut buf, &labels, &ts, &vs);
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.starts_with(r#"{"metric":{"__name__":"up","Job":"a\"b\\c\n\u0001","z":"é"},"values":[1,0.1,-0,"#),
            "{text}"
        );
        assert!(text.contains(r#"null,"NaN","Infinity","-Infinity"]"#), "{text}");
        let d = crate::ingest::jsonl::decode(&text);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(d.series[0].labels, labels);
        for (s, (t, v)) in d.series[0].samples.iter().zip(ts.iter().zip(vs)) {
            assert_eq!(s.t, *t);
            if v.is_nan() && !is_stale_nan(v) {
                assert!(s.v.is_nan() && !is_stale_nan(s.v));
            } else {
                assert_eq!(s.v.to_bits(), v.to_bits(), "{v}");
            }
        }
    }
}
