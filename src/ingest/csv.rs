//! CSV import with VictoriaMetrics column descriptors: `format=<pos>:<type>:<arg>,...` where `<pos>` is
//! the 1-based column, and `<type>` is `metric` (the column holds a value of metric `<arg>`), `label`
//! (the column holds the value of label `<arg>`) or `time` (`<arg>` is `unix_s`, `unix_ms`, `unix_ns` or
//! `rfc3339`). Example: `format=2:metric:ask,3:metric:bid,1:label:ticker,4:time:unix_s`.
//!
//! Each row gives one sample per non-empty metric column, at the row's time (the request time without a
//! time column). Empty cells are ignored; extra columns are ignored. Fields may be quoted with `"` (or
//! `'`), a doubled quote standing for itself; a quoted field may span lines. As in VictoriaMetrics, the
//! first row is skipped when it looks like a header (a metric or time cell that does not parse).
//! Strata extension: a `label:__name__` column sets the metric name of rows (allowed with exactly one
//! metric column), so a CSV export with `__name__` re-imports into the same series.

use std::borrow::Cow;

use super::{Decoded, LineError, SeriesBuilder, parse_value};
use crate::api::params::parse_rfc3339;

/// Most columns a descriptor may name (VictoriaMetrics' limit).
const MAX_COLUMNS: usize = 64 * 1024;

/// How a time column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// Unix seconds (integer, or a decimal fraction).
    UnixS,
    /// Unix milliseconds.
    UnixMs,
    /// Unix nanoseconds.
    UnixNs,
    /// RFC 3339, e.g. `2006-01-02T15:04:05.999Z`.
    Rfc3339,
}

impl TimeFormat {
    /// Parses a format name.
    pub fn parse(s: &str) -> Option<TimeFormat> {
        Some(match s {
            "unix_s" => TimeFormat::UnixS,
            "unix_ms" => TimeFormat::UnixMs,
            "unix_ns" => TimeFormat::UnixNs,
            "rfc3339" => TimeFormat::Rfc3339,
            _ => return None,
        })
    }

    /// Parses a cell into milliseconds.
    pub fn parse_cell(self, s: &str) -> Option<i64> {
        match self {
            TimeFormat::UnixS => match s.parse::<i64>() {
                Ok(n) => n.checked_mul(1000),
                Err(_) => s
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && f.abs() < 9.2e15)
                    .map(|f| (f * 1000.0).round() as i64),
            },
            TimeFormat::UnixMs => s.parse().ok(),
            TimeFormat::UnixNs => s.parse::<i64>().ok().map(|n| n.div_euclid(1_000_000)),
            TimeFormat::Rfc3339 => parse_rfc3339(s),
        }
    }
}

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Ignore,
    Time(TimeFormat),
    Label(String),
    Metric(String),
}

/// Parsed column descriptors (the `format` parameter).
#[derive(Debug, Clone)]
pub struct Columns {
    cols: Vec<Column>,
    name_col: Option<usize>,
}

impl Columns {
    /// Parses `<pos>:<type>:<arg>,...`.
    pub fn parse(s: &str) -> Result<Columns, String> {
        let mut cols: Vec<Column> = Vec::new();
        let (mut metrics, mut has_time) = (0, false);
        for (i, entry) in s.split(',').enumerate() {
            let n = i + 1;
            let mut parts = entry.splitn(3, ':');
            let (Some(pos), Some(typ), Some(arg)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(format!(
                    "entry #{n} must have the form <column_pos>:<column_type>:<extension>; got {entry:?}"
                ));
            };
            let pos: usize = pos
                .parse()
                .map_err(|_| format!("cannot parse <column_pos> of entry #{n} {entry:?}"))?;
            if pos == 0 || pos > MAX_COLUMNS {
                return Err(format!(
                    "<column_pos> must be in 1..={MAX_COLUMNS}; got {pos} for entry #{n} {entry:?}"
                ));
            }
            let col = match typ {
                "time" if has_time => return Err(format!("duplicate time column at entry #{n} {entry:?}")),
                "time" => {
                    has_time = true;
                    Column::Time(TimeFormat::parse(arg).ok_or_else(|| {
                        format!(
                            "unknown time format {arg:?} in entry #{n}; supported: unix_s, unix_ms, unix_ns, rfc3339"
                        )
                    })?)
                }
                "label" | "metric" if arg.is_empty() => return Err(format!("empty name in entry #{n} {entry:?}")),
                "label" => Column::Label(arg.to_string()),
                "metric" => {
                    metrics += 1;
                    Column::Metric(arg.to_string())
                }
                other => {
                    return Err(format!(
                        "unknown <column_type> {other:?} in entry #{n}; allowed: time, metric, label"
                    ));
                }
            };
            if cols.len() < pos {
                cols.resize(pos, Column::Ignore);
            }
            let slot = cols.get_mut(pos - 1).ok_or("column position out of range")?;
            if *slot != Column::Ignore {
                return Err(format!("duplicate <column_pos> {pos} in entry #{n} {entry:?}"));
            }
            *slot = col;
        }
        if metrics == 0 {
            return Err(format!("missing 'metric' column in {s:?}"));
        }
        let name_col = cols.iter().position(|c| *c == Column::Label("__name__".into()));
        if name_col.is_some() && metrics > 1 {
            return Err("a label:__name__ column needs exactly one metric column".into());
        }
        Ok(Columns { cols, name_col })
    }
}

/// Decodes a CSV body; `now` is the timestamp of rows without a time cell.
pub fn decode(body: &str, cols: &Columns, now: i64) -> Decoded {
    let mut b = SeriesBuilder::default();
    let mut errors = Vec::new();
    let mut key = String::new();
    let mut first = true;
    for (line, rec) in Records::new(body) {
        let fields = match rec {
            Ok(f) => f,
            Err(reason) => {
                errors.push(LineError::new(line, reason));
                first = false;
                continue;
            }
        };
        if std::mem::take(&mut first) && is_header(&fields, cols) {
            continue;
        }
        if let Err(reason) = row(&mut b, &mut key, &fields, cols, now) {
            errors.push(LineError::new(line, reason));
        }
    }
    Decoded {
        series: b.finish(),
        errors,
        metadata: Vec::new(),
    }
}

fn is_header(fields: &[Cow<'_, str>], cols: &Columns) -> bool {
    cols.cols.iter().zip(fields).any(|(c, f)| {
        !f.is_empty()
            && match c {
                Column::Time(tf) => tf.parse_cell(f).is_none(),
                Column::Metric(_) => parse_value(f).is_none(),
                _ => false,
            }
    })
}

fn row(
    b: &mut SeriesBuilder,
    key: &mut String,
    fields: &[Cow<'_, str>],
    cols: &Columns,
    now: i64,
) -> Result<(), String> {
    if fields.len() < cols.cols.len() {
        return Err(format!(
            "missing columns: got {}; want at least {}",
            fields.len(),
            cols.cols.len()
        ));
    }
    let mut t = now;
    key.clear();
    for (c, f) in cols.cols.iter().zip(fields) {
        match c {
            Column::Time(tf) if !f.is_empty() => {
                t = tf
                    .parse_cell(f)
                    .ok_or_else(|| format!("cannot parse timestamp from {f:?}"))?;
            }
            Column::Label(_) => {
                key.push_str(f);
                key.push('\0');
            }
            _ => {}
        }
    }
    let prefix = key.len();
    for (i, (c, f)) in cols.cols.iter().zip(fields).enumerate() {
        let Column::Metric(metric) = c else { continue };
        if f.is_empty() {
            continue;
        }
        let v = parse_value(f).ok_or_else(|| format!("cannot parse value of metric {metric:?} from {f:?}"))?;
        key.truncate(prefix);
        key.push_str(&i.to_string());
        let slot = match b.slot_of_key(key) {
            Some(s) => s,
            None => {
                let name_override = cols.name_col.and_then(|nc| fields.get(nc)).filter(|n| !n.is_empty());
                let name = name_override.map_or(metric.as_str(), |n| n.as_ref());
                let labels = strata_storage::Labels::from_pairs(
                    cols.cols
                        .iter()
                        .zip(fields)
                        .filter_map(|(c, f)| label_name(c).filter(|n| *n != "__name__").map(|n| (n, f.as_ref())))
                        .chain([("__name__", name)]),
                );
                if let Some(d) = labels.duplicate_name() {
                    return Err(format!("duplicate label {d:?}"));
                }
                b.slot(labels, Some(key.as_str()))
            }
        };
        b.push(slot, t, v);
    }
    Ok(())
}

fn label_name(c: &Column) -> Option<&str> {
    match c {
        Column::Label(n) => Some(n.as_str()),
        _ => None,
    }
}

/// Iterates over CSV records: (1-based first line, fields or error). Empty lines are skipped.
pub struct Records<'a> {
    s: &'a str,
    pos: usize,
    line: usize,
}

impl<'a> Records<'a> {
    /// Reads records from `s`.
    pub fn new(s: &'a str) -> Self {
        Records { s, pos: 0, line: 1 }
    }

    /// Skips to the start of the next physical line.
    fn skip_line(&mut self) {
        match self.s.get(self.pos..).and_then(|r| r.find('\n')) {
            Some(i) => {
                self.pos += i + 1;
                self.line += 1;
            }
            None => self.pos = self.s.len(),
        }
    }

    fn record(&mut self) -> Result<Vec<Cow<'a, str>>, String> {
        let s = self.s;
        let bytes = s.as_bytes();
        let mut fields = Vec::new();
        loop {
            let start = self.pos;
            match bytes.get(start) {
                Some(&q @ (b'"' | b'\'')) => {
                    let mut out: Option<String> = None;
                    let mut seg = start + 1;
                    let mut i = start + 1;
                    loop {
                        match bytes.get(i) {
                            None => return Err("missing closing quote".into()),
                            Some(b'\n') => {
                                self.line += 1;
                                i += 1;
                            }
                            Some(&c) if c == q => {
                                if bytes.get(i + 1) == Some(&q) {
                                    let o = out.get_or_insert_with(String::new);
                                    o.push_str(s.get(seg..=i).unwrap_or(""));
                                    i += 2;
                                    seg = i;
                                    continue;
                                }
                                let tail = s.get(seg..i).unwrap_or("");
                                fields.push(match out {
                                    Some(mut o) => {
                                        o.push_str(tail);
                                        Cow::Owned(o)
                                    }
                                    None => Cow::Borrowed(tail),
                                });
                                self.pos = i + 1;
                                break;
                            }
                            Some(_) => i += 1,
                        }
                    }
                    match bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        None => return Ok(fields),
                        Some(b'\n') => {
                            self.pos += 1;
                            self.line += 1;
                            return Ok(fields);
                        }
                        Some(b'\r') if bytes.get(self.pos + 1) == Some(&b'\n') => {
                            self.pos += 2;
                            self.line += 1;
                            return Ok(fields);
                        }
                        Some(_) => return Err("missing comma after quoted field".into()),
                    }
                }
                _ => {
                    let rest = s.get(start..).unwrap_or("");
                    let end = rest.find([',', '\n']).unwrap_or(rest.len());
                    let field = rest.get(..end).unwrap_or("");
                    self.pos = start + end;
                    match bytes.get(self.pos) {
                        Some(b',') => {
                            fields.push(Cow::Borrowed(field));
                            self.pos += 1;
                        }
                        Some(b'\n') => {
                            fields.push(Cow::Borrowed(field.strip_suffix('\r').unwrap_or(field)));
                            self.pos += 1;
                            self.line += 1;
                            return Ok(fields);
                        }
                        _ => {
                            fields.push(Cow::Borrowed(field.strip_suffix('\r').unwrap_or(field)));
                            return Ok(fields);
                        }
                    }
                }
            }
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = (usize, Result<Vec<Cow<'a, str>>, String>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let rest = self.s.get(self.pos..)?;
            if rest.is_empty() {
                return None;
            }
            if rest.starts_with('\n') || rest.starts_with("\r\n") {
                self.skip_line();
                continue;
            }
            let (line, start) = (self.line, self.pos);
            let r = self.record();
            if r.is_err() {
                // Resume at the physical line after the one the bad record started on.
                self.pos = start;
                self.line = line;
                self.skip_line();
            }
            return Some((line, r));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn descriptors() {
        assert!(Columns::parse("1:metric:x,2:label:a,3:time:unix_s").is_ok());
        assert!(Columns::parse("1:label:a").unwrap_err().contains("missing 'metric'"));
        assert!(
            Columns::parse("1:metric:x,1:label:a")
                .unwrap_err()
                .contains("duplicate")
        );
        assert!(Columns::parse("1:metric:x,2:time:bogus").is_err());
        assert!(Columns::parse("1:metric:x,2:time:unix_s,3:time:unix_ms").is_err());
        assert!(Columns::parse("x:metric:x").is_err());
        assert!(Columns::parse("1:metric:x,2:metric:y,3:label:__name__").is_err());
    }

    #[test]
    fn rows() {
        let cols = Columns::parse("2:metric:ask,3:metric:bid,1:label:ticker,4:time:unix_s,5:label:market").unwrap();
        let body = "ticker,ask,bid,time,market\n\
                    GOOG,1.23,4.56,1700000000,NYSE\n\
                    \n\
                    MSFT,3.21,,1700000001,\"NAS\"\"DAQ\"\n\
                    IBM,x,1,1700000002,NYSE\n\
                    IBM,1,1\n\
                    \"multi\nline\",1,2,1700000003,\"a,b\"\r\n\
                    bad\"quote,1,2,3,4\n\
                    \"unterminated,1\n";
        let d = decode(body, &cols, 0);
        let lines: Vec<usize> = d.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![5, 6, 10], "{:?}", d.errors);
        let find = |name: &str, ticker: &str| {
            d.series
                .iter()
                .find(|s| s.labels.metric_name() == Some(name) && s.labels.get("ticker") == Some(ticker))
        };
        assert_eq!(find("ask", "GOOG").unwrap().samples[0].t, 1_700_000_000_000);
        assert_eq!(find("bid", "GOOG").unwrap().samples[0].v, 4.56);
        assert_eq!(find("ask", "MSFT").unwrap().labels.get("market"), Some("NAS\"DAQ"));
        assert!(find("bid", "MSFT").is_none());
        assert_eq!(find("ask", "multi\nline").unwrap().labels.get("market"), Some("a,b"));
        assert_eq!(find("bid", "bad\"quote").unwrap().samples[0].t, 3000);
    }

    #[test]
    fn name_column_overrides_metric() {
        let cols = Columns::parse("1:label:__name__,2:metric:value,3:time:unix_ms,4:label:job").unwrap();
        let d = decode("__name__,__value__,__timestamp__:unix_ms,job\nup,1,5,a\n", &cols, 0);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(d.series[0].labels.to_string(), "up{job=\"a\"}");
    }
}
