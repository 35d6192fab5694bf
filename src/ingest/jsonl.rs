//! VictoriaMetrics JSON lines, one series per line:
//! `{"metric":{"__name__":"up","job":"x"},"values":[1,null,"Infinity"],"timestamps":[1700000000000,...]}`.
//!
//! Values are JSON numbers; `null` is the Prometheus staleness marker (the only NaN VictoriaMetrics
//! stores, and what its export writes for it); the strings `"NaN"`, `"Inf"`, `"Infinity"` (any case,
//! optionally signed) are the other special values. Timestamps are integer milliseconds.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use strata_storage::{Labels, STALE_NAN_BITS};

use super::{Decoded, LineError, SeriesBuilder, numbered_lines, parse_value};

#[derive(Deserialize)]
struct Line {
    metric: Option<HashMap<String, String>>,
    #[serde(default)]
    values: Vec<Value>,
    #[serde(default)]
    timestamps: Vec<i64>,
}

/// One element of `values`.
struct Value(f64);

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, null, or one of \"NaN\", \"Infinity\", \"-Infinity\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value(v as f64))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value(f64::from_bits(STALE_NAN_BITS)))
            }
            fn visit_none<E: de::Error>(self) -> Result<Value, E> {
                self.visit_unit()
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
                if s.eq_ignore_ascii_case("null") {
                    return self.visit_unit();
                }
                match parse_value(s) {
                    Some(v) if !v.is_finite() => Ok(Value(v)),
                    _ => Err(E::custom(format!("unsupported value string {s:?}"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Decodes a JSON-lines body. Empty lines are skipped.
pub fn decode(body: &str) -> Decoded {
    let mut b = SeriesBuilder::default();
    let mut errors = Vec::new();
    for (n, line) in numbered_lines(body) {
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok((labels, ts, vs)) => {
                let slot = b.slot(labels, None);
                for (t, v) in ts.into_iter().zip(vs) {
                    b.push(slot, t, v.0);
                }
            }
            Err(reason) => errors.push(LineError::new(n, reason)),
        }
    }
    Decoded {
        series: b.finish(),
        errors,
        metadata: Vec::new(),
    }
}

fn parse_line(line: &str) -> Result<(Labels, Vec<i64>, Vec<Value>), String> {
    let l: Line = serde_json::from_str(line).map_err(|e| format!("cannot parse json line: {e}"))?;
    let metric = l.metric.ok_or("missing `metric` object")?;
    // An empty label name would override the metric name in VictoriaMetrics; it is skipped, as there.
    let labels = Labels::from_pairs(metric.into_iter().filter(|(k, _)| !k.is_empty()));
    if labels.is_empty() {
        return Err("missing labels in `metric`".into());
    }
    if l.values.is_empty() {
        return Err("missing `values` array".into());
    }
    if l.timestamps.is_empty() {
        return Err("missing `timestamps` array".into());
    }
    if l.values.len() != l.timestamps.len() {
        return Err(format!(
            "`timestamps` array size must match `values` array size; got {}; want {}",
            l.timestamps.len(),
            l.values.len()
        ));
    }
    Ok((labels, l.timestamps, l.values))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn good_and_bad_lines() {
        let body = concat!(
            r#"{"metric":{"__name__":"up","job":"a"},"values":[1,2.5,null,"Infinity","-Inf","NaN"],"timestamps":[1,2,3,4,5,6]}"#,
            "\n\n",
            r#"{"metric":{"__name__":"up"},"values":[1],"timestamps":[1,2]}"#,
            "\r\n",
            r#"{"metric":{"__name__":"up","job":"a"},"values":[7],"timestamps":[7]}"#,
            "\nnot json\n",
            r#"{"metric":{"__name__":"x"},"values":["abc"],"timestamps":[1]}"#,
        );
        let d = decode(body);
        assert_eq!(d.series.len(), 1);
        let s = &d.series[0].samples;
        assert_eq!(s.len(), 7);
        assert_eq!(s[1].v, 2.5);
        assert_eq!(s[2].v.to_bits(), STALE_NAN_BITS);
        assert_eq!(s[3].v, f64::INFINITY);
        assert_eq!(s[4].v, f64::NEG_INFINITY);
        assert!(s[5].v.is_nan() && s[5].v.to_bits() != STALE_NAN_BITS);
        let lines: Vec<usize> = d.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 5, 6]);
        assert!(d.errors[0].reason.contains("array size"), "{}", d.errors[0]);
    }
}
