//! The Influx line protocol, mapped as VictoriaMetrics maps it:
//! `measurement,tag=v field1=1,field2=2i 1700000000000000000` gives the series
//! `measurement_field1{tag="v"}` and `measurement_field2{tag="v"}`; the `db` query parameter becomes
//! the label `db` unless a tag of that name exists. Timestamps are in `precision` units (nanoseconds
//! by default) and truncated to milliseconds; a line without one gets the request time.
//! Field values: floats, integers (`1i`), unsigned (`1u`), booleans (1/0), and strings holding a number;
//! other string fields are skipped (they are not samples).

use strata_storage::Labels;

use super::{Decoded, LineError, SeriesBuilder, numbered_lines, parse_value};

/// Request options of an Influx write.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The `db` query parameter, added as label `db`.
    pub db: Option<String>,
    /// Timestamp unit.
    pub precision: Precision,
}

/// The unit of line-protocol timestamps (`precision` parameter).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Precision {
    /// Nanoseconds (the default).
    #[default]
    Nanos,
    /// Microseconds (`u`, `us`, `µ`).
    Micros,
    /// Milliseconds (`ms`).
    Millis,
    /// Seconds (`s`).
    Seconds,
    /// Minutes (`m`).
    Minutes,
    /// Hours (`h`).
    Hours,
}

impl Precision {
    /// Parses the `precision` parameter (`ns`, `u`/`us`/`µ`, `ms`, `s`, `m`, `h`; v2 also writes `us`).
    pub fn parse(s: &str) -> Option<Precision> {
        Some(match s {
            "ns" | "n" => Precision::Nanos,
            "u" | "us" | "µ" | "µs" => Precision::Micros,
            "ms" => Precision::Millis,
            "s" => Precision::Seconds,
            "m" => Precision::Minutes,
            "h" => Precision::Hours,
            _ => return None,
        })
    }

    /// Converts a timestamp in this unit to milliseconds (truncating), or `None` on overflow.
    pub fn to_millis(self, t: i64) -> Option<i64> {
        match self {
            Precision::Nanos => Some(t.div_euclid(1_000_000)),
            Precision::Micros => Some(t.div_euclid(1000)),
            Precision::Millis => Some(t),
            Precision::Seconds => t.checked_mul(1000),
            Precision::Minutes => t.checked_mul(60_000),
            Precision::Hours => t.checked_mul(3_600_000),
        }
    }
}

/// Decodes a line-protocol body; `now` is the timestamp of lines without one.
pub fn decode(body: &str, opts: &Options, now: i64) -> Decoded {
    let mut b = SeriesBuilder::default();
    let mut errors = Vec::new();
    let mut key = String::new();
    for (n, raw) in numbered_lines(body) {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Err(reason) = parse_line(&mut b, &mut key, line, opts, now) {
            errors.push(LineError::new(n, reason));
        }
    }
    Decoded {
        series: b.finish(),
        errors,
        metadata: Vec::new(),
    }
}

fn parse_line(b: &mut SeriesBuilder, key: &mut String, line: &str, opts: &Options, now: i64) -> Result<(), String> {
    let sections = split_unescaped(line, b' ', true);
    let mut it = sections.into_iter().filter(|s| !s.is_empty());
    let series = it.next().ok_or("missing measurement")?;
    let fields = it
        .next()
        .ok_or("missing fields: want `measurement[,tags] field=value[,...] [timestamp]`")?;
    let t = match it.next() {
        None => now,
        Some(ts) => {
            let raw: i64 = ts.parse().map_err(|_| format!("cannot parse timestamp {ts:?}"))?;
            opts.precision
                .to_millis(raw)
                .ok_or_else(|| format!("timestamp {ts} out of range"))?
        }
    };
    if let Some(extra) = it.next() {
        return Err(format!("unexpected text {extra:?} after the timestamp"));
    }
    // Parse the measurement and tags once per line, lazily (only when a series is new).
    let mut base: Option<(String, Vec<(String, String)>)> = None;
    for field in split_unescaped(fields, b',', true) {
        let parts = split_unescaped(field, b'=', true);
        let (Some(fkey), Some(fval), None) = (parts.first(), parts.get(1), parts.get(2)) else {
            return Err(format!("cannot parse field {field:?}: want key=value"));
        };
        if fkey.is_empty() {
            return Err(format!("empty field name in {field:?}"));
        }
        let Some(v) = field_value(fval)? else { continue };
        key.clear();
        key.push_str(series);
        key.push('\0');
        key.push_str(fkey);
        let slot = match b.slot_of_key(key) {
            Some(s) => s,
            None => {
                if base.is_none() {
                    base = Some(parse_series(series, opts)?);
                }
                let (measurement, tags) = base.as_ref().ok_or("measurement not parsed")?;
                let name = format!("{measurement}_{}", unescape(fkey));
                let labels = Labels::from_pairs(
                    tags.iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .chain([("__name__", name.as_str())]),
                );
                if let Some(d) = labels.duplicate_name() {
                    return Err(format!("duplicate tag {d:?}"));
                }
                b.slot(labels, Some(key.as_str()))
            }
        };
        b.push(slot, t, v);
    }
    Ok(())
}

/// Parses `measurement[,tag=value...]`; adds the `db` label.
fn parse_series(s: &str, opts: &Options) -> Result<(String, Vec<(String, String)>), String> {
    let mut parts = split_unescaped(s, b',', false).into_iter();
    let measurement = unescape(parts.next().unwrap_or(""));
    if measurement.is_empty() {
        return Err("empty measurement".into());
    }
    let mut tags = Vec::new();
    for tag in parts {
        let kv = split_unescaped(tag, b'=', false);
        let (Some(k), Some(v), None) = (kv.first(), kv.get(1), kv.get(2)) else {
            return Err(format!("cannot parse tag {tag:?}: want key=value"));
        };
        if k.is_empty() {
            return Err(format!("empty tag name in {tag:?}"));
        }
        tags.push((unescape(k), unescape(v)));
    }
    if let Some(db) = &opts.db
        && !tags.iter().any(|(k, _)| k == "db")
    {
        tags.push(("db".to_string(), db.clone()));
    }
    Ok((measurement, tags))
}

/// A field value as a sample value; `None` for a string that is not a number.
fn field_value(s: &str) -> Result<Option<f64>, String> {
    if let Some(q) = s.strip_prefix('"') {
        let inner = q
            .strip_suffix('"')
            .ok_or_else(|| format!("missing closing quote in field value {s:?}"))?;
        return Ok(parse_value(inner.trim()));
    }
    let bad = || format!("cannot parse field value {s:?}");
    if let Some(i) = s.strip_suffix('i') {
        return i.parse::<i64>().map(|n| Some(n as f64)).map_err(|_| bad());
    }
    if let Some(u) = s.strip_suffix('u') {
        return u.parse::<u64>().map(|n| Some(n as f64)).map_err(|_| bad());
    }
    match s {
        "t" | "T" | "true" | "True" | "TRUE" => return Ok(Some(1.0)),
        "f" | "F" | "false" | "False" | "FALSE" => return Ok(Some(0.0)),
        _ => {}
    }
    parse_value(s).map(Some).ok_or_else(bad)
}

/// Splits on `sep` where it is not escaped by a backslash (and, with `quotes`, not inside `"..."`).
fn split_unescaped(s: &str, sep: u8, quotes: bool) -> Vec<&str> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut in_quote = false;
    while let Some(&c) = bytes.get(i) {
        if c == b'\\' {
            i += 2;
            continue;
        }
        if quotes && c == b'"' {
            in_quote = !in_quote;
        } else if c == sep && !in_quote {
            out.push(s.get(start..i).unwrap_or(""));
            start = i + 1;
        }
        i += 1;
    }
    out.push(s.get(start..).unwrap_or(""));
    out
}

/// Removes the backslash of `\,`, `\=`, `\ `, `\"` and `\\`.
fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&n) = chars.peek()
            && matches!(n, ',' | '=' | ' ' | '"' | '\\')
        {
            out.push(n);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn lines_to_series() {
        let body = "cpu,host=a,region=us\\ west usage=0.5,idle=90i,up=t,name=\"x y\" 1700000000000000000\n\
                    # comment\n\
                    mem free=1u\n\
                    broken\n\
                    cpu,host=a usage=zz 1\n\
                    cpu,host=a usage=0.7 1700000001000000000\n";
        let opts = Options {
            db: Some("telegraf".into()),
            precision: Precision::Nanos,
        };
        let d = decode(body, &opts, 99);
        let lines: Vec<usize> = d.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![4, 5], "{:?}", d.errors);
        let names: Vec<String> = d.series.iter().map(|s| s.labels.to_string()).collect();
        assert_eq!(names.len(), 5, "{names:?}");
        let usage = &d.series[0];
        assert_eq!(usage.labels.metric_name(), Some("cpu_usage"));
        assert_eq!(usage.labels.get("region"), Some("us west"));
        assert_eq!(usage.labels.get("db"), Some("telegraf"));
        assert_eq!(usage.samples[0].t, 1_700_000_000_000);
        let last = d
            .series
            .iter()
            .find(|s| s.labels.get("region").is_none() && s.labels.metric_name() == Some("cpu_usage"))
            .unwrap();
        assert_eq!(last.samples[0].v, 0.7);
        let mem = d
            .series
            .iter()
            .find(|s| s.labels.metric_name() == Some("mem_free"))
            .unwrap();
        assert_eq!(mem.samples[0].t, 99);
        assert_eq!(d.series[2].samples[0].v, 1.0);
    }

    #[test]
    fn precision() {
        assert_eq!(Precision::parse("s").unwrap().to_millis(2), Some(2000));
        assert_eq!(Precision::parse("us").unwrap().to_millis(2_500), Some(2));
        assert_eq!(Precision::parse("x"), None);
    }
}
