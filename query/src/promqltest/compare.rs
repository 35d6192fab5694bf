//! Result comparison, as Prometheus' `promqltest` compares (relative epsilon 1e-6, NaN equals NaN).

use std::collections::HashMap;

use strata_storage::Labels;

use super::script::{EvalCmd, Expected};
use super::series::SeqValue;
use crate::engine::Value;

const EPSILON: f64 = 0.000_001;

/// Prometheus' `almost.Equal`.
pub fn almost_equal(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < EPSILON * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < EPSILON
}

fn fmt_vals(ts: &[i64], vs: &[f64]) -> String {
    ts.iter()
        .zip(vs)
        .map(|(t, v)| format!("{v} @[{t}]"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compares a query result with the expectation. `start`/`step` give the timestamps of expected points for
/// matrices; `end` bounds them.
pub fn compare(cmd: &EvalCmd, value: &Value, start: i64, end: i64, step: i64) -> Result<(), String> {
    let by_labels: HashMap<&Labels, &Expected> = cmd
        .expected
        .iter()
        .filter_map(|e| e.labels.as_ref().map(|l| (l, e)))
        .collect();
    match value {
        Value::Matrix(mat) => {
            if cmd.ordered {
                return Err("expected ordered result, but query returned a matrix".into());
            }
            if cmd.expect_scalar {
                return Err("expected scalar result, but got matrix".into());
            }
            if mat
                .windows(2)
                .any(|w| matches!((w.first(), w.get(1)), (Some(a), Some(b)) if a.labels > b.labels))
            {
                return Err("matrix results should always be sorted by labels".into());
            }
            for s in mat {
                let Some(exp) = by_labels.get(&s.labels) else {
                    return Err(format!(
                        "unexpected metric {} in result, has {}",
                        s.labels,
                        fmt_vals(&s.timestamps, &s.values)
                    ));
                };
                let mut want: Vec<(i64, f64)> = Vec::new();
                let mut hist = 0usize;
                for (i, e) in exp.vals.iter().enumerate() {
                    let t = start + i as i64 * step;
                    if t > end {
                        return Err(format!(
                            "expected {} points for {}, but query time range cannot return this many points",
                            exp.vals.len(),
                            s.labels
                        ));
                    }
                    match e {
                        SeqValue::Value(v) => want.push((t, *v)),
                        SeqValue::Histogram => hist += 1,
                        SeqValue::Omitted => {}
                    }
                }
                if want.len() != s.values.len() || hist > 0 {
                    return Err(format!(
                        "expected {} float points and {hist} histogram points for {}, but got {}",
                        want.len(),
                        s.labels,
                        fmt_vals(&s.timestamps, &s.values)
                    ));
                }
                for (i, ((wt, wv), (t, v))) in want.iter().zip(s.timestamps.iter().zip(&s.values)).enumerate() {
                    if wt != t {
                        return Err(format!(
                            "expected float value at index {i} for {} to have timestamp {wt}, but it had timestamp {t}",
                            s.labels
                        ));
                    }
                    if !almost_equal(*v, *wv) {
                        return Err(format!(
                            "expected float value at index {i} (t={t}) for {} to be {wv}, but got {v}",
                            s.labels
                        ));
                    }
                }
            }
            for e in &cmd.expected {
                if let Some(l) = &e.labels
                    && !mat.iter().any(|s| &s.labels == l)
                {
                    return Err(format!("expected metric {l} not found"));
                }
            }
            Ok(())
        }
        Value::Vector(vec) => {
            if cmd.expect_scalar {
                return Err("expected scalar result, but got vector".into());
            }
            for (pos, s) in vec.iter().enumerate() {
                let Some(exp) = by_labels.get(&s.labels) else {
                    return Err(format!("unexpected metric {} in result, has value {}", s.labels, s.v));
                };
                if cmd.ordered && exp.pos != pos + 1 {
                    return Err(format!(
                        "expected metric {} at position {} but was at {}",
                        s.labels,
                        exp.pos,
                        pos + 1
                    ));
                }
                match exp.vals.first() {
                    Some(SeqValue::Value(w)) => {
                        if !almost_equal(*w, s.v) {
                            return Err(format!("expected {w} for {} but got {}", s.labels, s.v));
                        }
                    }
                    Some(SeqValue::Histogram) => {
                        return Err(format!(
                            "expected histogram for {} but got float value {}",
                            s.labels, s.v
                        ));
                    }
                    _ => return Err(format!("no expected value for {}", s.labels)),
                }
            }
            for e in &cmd.expected {
                if let Some(l) = &e.labels
                    && !vec.iter().any(|s| &s.labels == l)
                {
                    return Err(format!("expected metric {l} not found"));
                }
            }
            Ok(())
        }
        Value::Scalar { v, .. } => {
            if !cmd.expect_scalar {
                return Err(format!("expected vector or matrix result, but got scalar {v}"));
            }
            match cmd.expected.first().and_then(|e| e.vals.first()) {
                Some(SeqValue::Value(w)) if almost_equal(*w, *v) => Ok(()),
                Some(SeqValue::Value(w)) => Err(format!("expected scalar {w} but got {v}")),
                _ => Err("bad scalar expectation".into()),
            }
        }
        Value::String { v, .. } => match &cmd.expected_string {
            Some(w) if w == v => Ok(()),
            Some(w) => Err(format!("expected string \"{w}\" but got \"{v}\"")),
            None => Err(format!("unexpected string result \"{v}\"")),
        },
    }
}
