//! The Prometheus text exposition format: `name{label="value",...} value [timestamp_ms]`, one sample
//! per line, with `# HELP`, `# TYPE` (and OpenMetrics `# UNIT`) comments recorded as metadata.
//! Samples without a timestamp get the request time. Quoted (UTF-8) metric and label names of
//! Prometheus 3 (`{"my.metric", "a.b"="c"}`) are accepted; an OpenMetrics exemplar after ` # ` is ignored.

use std::collections::HashMap;

use strata_storage::Labels;

use super::{Decoded, LineError, SeriesBuilder, numbered_lines, parse_value};
use crate::metadata::MetricMetadata;

/// Decodes a text-format body; `now` is the timestamp of samples without one.
pub fn decode(body: &str, now: i64) -> Decoded {
    let mut b = SeriesBuilder::default();
    let mut errors = Vec::new();
    let mut meta = Meta::default();
    for (n, raw) in numbered_lines(body) {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if let Err(reason) = meta.comment(comment) {
                errors.push(LineError::new(n, reason));
            }
            continue;
        }
        if let Err(reason) = sample(&mut b, line, now) {
            errors.push(LineError::new(n, reason));
        }
    }
    Decoded {
        series: b.finish(),
        errors,
        metadata: meta.finish(),
    }
}

fn sample(b: &mut SeriesBuilder, line: &str, now: i64) -> Result<(), String> {
    let key_len = series_len(line)?;
    let (key, rest) = line.split_at_checked(key_len).ok_or("cannot split series from value")?;
    let slot = match b.slot_of_key(key) {
        Some(s) => s,
        None => {
            let labels = parse_series(key)?;
            b.slot(labels, Some(key))
        }
    };
    // Value, optional timestamp, optional exemplar (` # {...} ...`).
    let rest = rest.split_once(" # ").map_or(rest, |(r, _)| r);
    let mut fields = rest.split_ascii_whitespace();
    let vs = fields.next().ok_or("missing value after the series")?;
    let v = parse_value(vs).ok_or_else(|| format!("cannot parse value {vs:?}"))?;
    let t = match fields.next() {
        None => now,
        Some(ts) => ts
            .parse::<i64>()
            .map_err(|_| format!("cannot parse timestamp {ts:?}: want integer milliseconds"))?,
    };
    if let Some(extra) = fields.next() {
        return Err(format!("unexpected text {extra:?} after the timestamp"));
    }
    b.push(slot, t, v);
    Ok(())
}

/// Length of the series part (`name`, `name{...}` or `{...}`) at the start of `line`.
fn series_len(line: &str) -> Result<usize, String> {
    let bytes = line.as_bytes();
    let mut i = bytes
        .iter()
        .take_while(|&&c| c != b'{' && !c.is_ascii_whitespace())
        .count();
    if bytes.get(i) != Some(&b'{') {
        return if i == 0 {
            Err("missing metric name".into())
        } else {
            Ok(i)
        };
    }
    // Find the closing brace outside quoted strings.
    let mut in_quote = false;
    i += 1;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'\\' if in_quote => i += 1,
            b'"' => in_quote = !in_quote,
            b'}' if !in_quote => return Ok(i + 1),
            _ => {}
        }
        i += 1;
    }
    Err("missing closing `}` of the label set".into())
}

fn valid_metric_name(s: &str) -> bool {
    let mut it = s.bytes();
    it.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_' || c == b':')
        && it.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
}

fn valid_label_name(s: &str) -> bool {
    let mut it = s.bytes();
    it.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && it.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Parses `name`, `name{a="b",...}` or `{"name", a="b"}` into labels.
fn parse_series(s: &str) -> Result<Labels, String> {
    let (name, braces) = match s.find('{') {
        Some(i) => (
            s.get(..i).unwrap_or(""),
            s.get(i + 1..s.len().saturating_sub(1)).unwrap_or(""),
        ),
        None => (s, ""),
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut metric = if name.is_empty() {
        None
    } else if valid_metric_name(name) {
        Some(name.to_string())
    } else {
        return Err(format!("invalid metric name {name:?}"));
    };
    let mut rest = braces.trim_start();
    while !rest.is_empty() {
        let (lname, quoted, after) = if rest.starts_with('"') {
            let (v, after) = quoted_string(rest)?;
            (v, true, after)
        } else {
            let end = rest
                .find(|c: char| c == '=' || c == ',' || c.is_whitespace())
                .unwrap_or(rest.len());
            let (n, after) = rest.split_at(end);
            (n.to_string(), false, after)
        };
        let after = after.trim_start();
        if let Some(after_eq) = after.strip_prefix('=') {
            if !quoted && !valid_label_name(&lname) {
                return Err(format!("invalid label name {lname:?}"));
            }
            let (value, after) = quoted_string(after_eq.trim_start()).map_err(|e| format!("label {lname:?}: {e}"))?;
            pairs.push((lname, value));
            rest = after.trim_start();
        } else if quoted {
            // A quoted string without `=` is the metric name (Prometheus 3 syntax).
            if metric.replace(lname).is_some() {
                return Err("metric name given twice".into());
            }
            rest = after;
        } else {
            return Err(format!("expected `=` after label name {lname:?}"));
        }
        match rest.strip_prefix(',') {
            Some(r) => rest = r.trim_start(),
            None if rest.is_empty() => {}
            None => return Err(format!("expected `,` or `}}` before {rest:?}")),
        }
    }
    let metric = metric.ok_or("missing metric name")?;
    if metric.is_empty() {
        return Err("empty metric name".into());
    }
    pairs.push(("__name__".to_string(), metric));
    let labels = Labels::from_pairs(pairs);
    if let Some(d) = labels.duplicate_name() {
        return Err(format!("duplicate label name {d:?}"));
    }
    Ok(labels)
}

/// Reads a double-quoted string with `\\`, `\"` and `\n` escapes; returns it and the text after it.
fn quoted_string(s: &str) -> Result<(String, &str), String> {
    let body = s.strip_prefix('"').ok_or("expected a double-quoted string")?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, body.get(i + 1..).unwrap_or(""))),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, '"')) => out.push('"'),
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Err("missing closing quote".into())
}

/// `# HELP`/`# TYPE`/`# UNIT` per metric family, in order of first appearance.
#[derive(Default)]
struct Meta {
    order: Vec<String>,
    by_name: HashMap<String, (Option<&'static str>, String, String)>,
}

impl Meta {
    fn comment(&mut self, text: &str) -> Result<(), String> {
        let text = text.trim_start();
        let (word, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        if !matches!(word, "HELP" | "TYPE" | "UNIT") {
            return Ok(()); // an ordinary comment, or `# EOF`
        }
        let rest = rest.trim_start();
        let (name, arg) = if rest.starts_with('"') {
            let (n, after) = quoted_string(rest)?;
            (n, after.trim_start())
        } else {
            let (n, a) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            (n.to_string(), a.trim_start())
        };
        if name.is_empty() {
            return Err(format!("missing metric name in # {word}"));
        }
        let kind = if word == "TYPE" {
            Some(match arg.trim() {
                "counter" => "counter",
                "gauge" => "gauge",
                "histogram" => "histogram",
                "gaugehistogram" => "gaugehistogram",
                "summary" => "summary",
                "info" => "info",
                "stateset" => "stateset",
                "untyped" | "unknown" => "unknown",
                other => return Err(format!("unknown metric type {other:?} in # TYPE")),
            })
        } else {
            None
        };
        if !self.by_name.contains_key(&name) {
            self.order.push(name.clone());
        }
        let entry = self.by_name.entry(name).or_default();
        match word {
            "HELP" => entry.1 = unescape_help(arg),
            "UNIT" => entry.2 = arg.trim().to_string(),
            _ => entry.0 = kind,
        }
        Ok(())
    }

    fn finish(mut self) -> Vec<(String, MetricMetadata)> {
        self.order
            .into_iter()
            .filter_map(|name| {
                let (kind, help, unit) = self.by_name.remove(&name)?;
                Some((
                    name,
                    MetricMetadata {
                        kind: kind.unwrap_or("unknown"),
                        help,
                        unit,
                    },
                ))
            })
            .collect()
    }
}

fn unescape_help(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('\\') => out.push('\\'),
                Some(o) => {
                    out.push('\\');
                    out.push(o);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn samples_metadata_and_errors() {
        let body = "# HELP http_requests_total The total.\\nSecond line.\n\
                    # TYPE http_requests_total counter\n\
                    http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n\
                    http_requests_total{method=\"post\",code=\"400\",} 3 1395066363000\n\
                    bad{a=\"b\" 1\n\
                    up 1\n\
                    {\"my.metric\", \"a.b\"=\"x\\\"y\"} +Inf 5\n\
                    http_requests_total{method=\"post\",code=\"200\"} 1028 1395066364000 # {trace_id=\"1\"} 1\n\
                    up x\n\
                    # TYPE foo bogus\n";
        let d = decode(body, 42);
        let lines: Vec<usize> = d.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![5, 9, 10], "{:?}", d.errors);
        assert_eq!(d.series.len(), 4);
        assert_eq!(d.series[0].samples.len(), 2);
        assert_eq!(d.series[0].labels.get("code"), Some("200"));
        assert_eq!(d.series[2].samples[0].t, 42);
        assert_eq!(d.series[3].labels.metric_name(), Some("my.metric"));
        assert_eq!(d.series[3].labels.get("a.b"), Some("x\"y"));
        assert_eq!(d.series[3].samples[0].v, f64::INFINITY);
        assert_eq!(d.metadata.len(), 1);
        assert_eq!(d.metadata[0].1.kind, "counter");
        assert_eq!(d.metadata[0].1.help, "The total.\nSecond line.");
    }
}
