//! CSV export, as VictoriaMetrics' `/api/v1/export/csv` writes it: the `format` parameter lists the
//! columns, e.g. `__name__,__value__,__timestamp__:unix_ms,instance`; a header row repeats that list,
//! then one row per sample. Columns: `__value__`; `__timestamp__` (milliseconds) or
//! `__timestamp__:<unix_s|unix_ms|unix_ns|rfc3339|custom:<Go layout>>`; anything else is a label name
//! (empty when the series lacks it). Cells holding `"`, `,`, or a line break are quoted RFC 4180-style.
//! Values print as the shortest decimal that reads back exactly; `NaN`, `+Inf`, `-Inf` otherwise
//! (CSV has a single NaN: the staleness marker prints as `NaN` too).

use std::io::Write;

use strata_storage::Labels;

use super::layout::Layout;

/// One column of the export.
#[derive(Debug, Clone)]
pub enum Field {
    /// The sample value.
    Value,
    /// The sample timestamp in the given format.
    Timestamp(TimeOut),
    /// A label's value.
    Label(String),
}

/// Output format of a timestamp column.
#[derive(Debug, Clone)]
pub enum TimeOut {
    /// Unix seconds (truncated).
    UnixS,
    /// Unix milliseconds.
    UnixMs,
    /// Unix nanoseconds.
    UnixNs,
    /// RFC 3339 in UTC with up to millisecond precision (trailing zeros dropped).
    Rfc3339,
    /// A Go time layout such as `2006-01-02 15:04:05`.
    Custom(Layout),
}

/// The parsed `format` parameter.
#[derive(Debug, Clone)]
pub struct CsvFormat {
    /// Columns in order.
    pub fields: Vec<Field>,
    /// The header row (the `format` parameter's names).
    pub header: String,
}

impl CsvFormat {
    /// Parses a comma-separated column list.
    pub fn parse(format: &str) -> Result<CsvFormat, String> {
        if format.is_empty() {
            return Err("missing `format` parameter, e.g. format=__name__,__value__,__timestamp__:unix_ms".into());
        }
        let fields = format
            .split(',')
            .map(|f| {
                Ok(match f {
                    "" => return Err(format!("empty column name in format {format:?}")),
                    "__value__" => Field::Value,
                    "__timestamp__" => Field::Timestamp(TimeOut::UnixMs),
                    _ => match f.strip_prefix("__timestamp__:") {
                        Some("unix_s") => Field::Timestamp(TimeOut::UnixS),
                        Some("unix_ms") => Field::Timestamp(TimeOut::UnixMs),
                        Some("unix_ns") => Field::Timestamp(TimeOut::UnixNs),
                        Some("rfc3339") => Field::Timestamp(TimeOut::Rfc3339),
                        Some(other) => match other.strip_prefix("custom:") {
                            Some(layout) => Field::Timestamp(TimeOut::Custom(Layout::parse(layout))),
                            None => {
                                return Err(format!(
                                    "unsupported timestamp format {other:?}; supported: unix_s, unix_ms, unix_ns, rfc3339, custom:<layout>"
                                ));
                            }
                        },
                        None => Field::Label(f.to_string()),
                    },
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut header = Vec::new();
        for (i, name) in format.split(',').enumerate() {
            if i > 0 {
                header.push(b',');
            }
            write_cell(&mut header, name);
        }
        Ok(CsvFormat {
            fields,
            header: String::from_utf8_lossy(&header).into_owned(),
        })
    }

    /// Appends one row per sample of a series.
    pub fn write_rows(&self, buf: &mut Vec<u8>, labels: &Labels, timestamps: &[i64], values: &[f64]) {
        // Label cells are the same on every row: render them once.
        let label_cells: Vec<Vec<u8>> = self
            .fields
            .iter()
            .map(|f| {
                let mut c = Vec::new();
                if let Field::Label(name) = f {
                    write_cell(&mut c, labels.get(name).unwrap_or(""));
                }
                c
            })
            .collect();
        for (t, v) in timestamps.iter().zip(values) {
            for (i, (f, cell)) in self.fields.iter().zip(&label_cells).enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                match f {
                    Field::Label(_) => buf.extend_from_slice(cell),
                    Field::Value => write_value(buf, *v),
                    Field::Timestamp(tf) => write_time(buf, tf, *t),
                }
            }
            buf.push(b'\n');
        }
    }
}

fn write_value(buf: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        buf.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        buf.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else {
        let _ = write!(buf, "{v}");
    }
}

fn write_time(buf: &mut Vec<u8>, tf: &TimeOut, t: i64) {
    let _ = match tf {
        TimeOut::UnixS => write!(buf, "{}", t / 1000),
        TimeOut::UnixMs => write!(buf, "{t}"),
        TimeOut::UnixNs => write!(buf, "{}", i128::from(t) * 1_000_000),
        TimeOut::Rfc3339 => {
            buf.extend_from_slice(rfc3339(t).as_bytes());
            Ok(())
        }
        TimeOut::Custom(layout) => {
            write_cell(buf, &layout.format(t));
            Ok(())
        }
    };
}

/// RFC 3339 in UTC, fraction only when non-zero and without trailing zeros (Go's `.999` layout).
pub fn rfc3339(t: i64) -> String {
    let mut s = crate::api::params::format_rfc3339(t);
    // `format_rfc3339` always writes `.mmmZ`.
    if let Some(dot) = s.rfind('.') {
        let frac: String = s
            .get(dot + 1..s.len() - 1)
            .unwrap_or("")
            .trim_end_matches('0')
            .to_string();
        s.truncate(dot);
        if !frac.is_empty() {
            s.push('.');
            s.push_str(&frac);
        }
        s.push('Z');
    }
    s
}

/// Writes a cell, quoting it when it holds `"`, `,`, `\n` or `\r`.
pub fn write_cell(buf: &mut Vec<u8>, s: &str) {
    if !s.contains(['"', ',', '\n', '\r']) {
        buf.extend_from_slice(s.as_bytes());
        return;
    }
    buf.push(b'"');
    for part in s.split_inclusive('"') {
        buf.extend_from_slice(part.as_bytes());
        if part.ends_with('"') {
            buf.push(b'"');
        }
    }
    buf.push(b'"');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rows() {
        let f = CsvFormat::parse(
            "__name__,__value__,__timestamp__:unix_ms,job,missing,__timestamp__:rfc3339,__timestamp__:unix_s",
        )
        .unwrap();
        assert_eq!(
            f.header,
            "__name__,__value__,__timestamp__:unix_ms,job,missing,__timestamp__:rfc3339,__timestamp__:unix_s"
        );
        let labels = Labels::from_pairs([("__name__", "up"), ("job", "a,\"b\"")]);
        let mut buf = Vec::new();
        f.write_rows(
            &mut buf,
            &labels,
            &[1_700_000_000_000, 1_700_000_000_250],
            &[1.5, f64::NEG_INFINITY],
        );
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "up,1.5,1700000000000,\"a,\"\"b\"\"\",,2023-11-14T22:13:20Z,1700000000\n\
             up,-Inf,1700000000250,\"a,\"\"b\"\"\",,2023-11-14T22:13:20.25Z,1700000000\n"
        );
        assert!(CsvFormat::parse("__timestamp__:bogus").is_err());
        assert!(CsvFormat::parse("").is_err());
    }

    #[test]
    fn cells_read_back() {
        let labels = Labels::from_pairs([("__name__", "m"), ("a", "x\ny,\"z\"")]);
        let f = CsvFormat::parse("a,__name__,__value__,__timestamp__").unwrap();
        let mut buf = Vec::new();
        f.write_rows(&mut buf, &labels, &[5], &[2.0]);
        let cols = crate::ingest::csv::Columns::parse("1:label:a,2:label:__name__,3:metric:v,4:time:unix_ms").unwrap();
        let d = crate::ingest::csv::decode(std::str::from_utf8(&buf).unwrap(), &cols, 0);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(d.series[0].labels, labels);
    }
}
