//! Series descriptions of the script language: `metric{a="b"} 1 2+3x4 _ _x2 stale Inf {{native}}`.

use strata_storage::{Labels, METRIC_NAME};

/// One expanded point of a series description.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeqValue {
    /// A float (the staleness marker keeps its bits).
    Value(f64),
    /// `_`: no sample at this position.
    Omitted,
    /// A native histogram `{{...}}`, which Strata does not store.
    Histogram,
}

/// Parses a duration as Prometheus' `model.ParseDuration` (`1h30m`, `5m`, `10s`, `100ms`, `1d`, `1w`, `1y`);
/// a bare number is taken as seconds. Negative values are allowed with a leading `-`.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    if body.bytes().all(|b| b.is_ascii_digit()) {
        let v: i64 = body.parse().ok()?;
        return Some(if neg { -v * 1000 } else { v * 1000 });
    }
    let mut total: i64 = 0;
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let n: i64 = body.get(start..i)?.parse().ok()?;
        let ustart = i;
        while i < bytes.len() && bytes.get(i).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
        }
        let mult = match body.get(ustart..i)? {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            "y" => 31_536_000_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(mult)?)?;
    }
    Some(if neg { -total } else { total })
}

/// Parses a number as the script's expected-value lines do (`strconv.ParseInt(s, 0, 64)`, else
/// `ParseFloat`).
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lower = body.to_ascii_lowercase();
    let v = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()? as f64
    } else if lower == "inf" || lower == "infinity" {
        f64::INFINITY
    } else if lower == "nan" {
        f64::NAN
    } else {
        if !body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-' | b'_'))
        {
            return None;
        }
        body.replace('_', "").parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

fn parse_value(s: &str) -> Option<f64> {
    match s {
        "stale" => Some(f64::from_bits(strata_storage::STALE_NAN_BITS)),
        _ => parse_number(s),
    }
}

/// Parses a label set written as `name`, `name{...}` or `{...}`; returns it and the rest of the line.
pub fn parse_metric(line: &str) -> Result<(Labels, &str), String> {
    let line = line.trim_start();
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(line.len());
    let (name, mut rest) = line.split_at(name_end);
    let mut pairs: Vec<(String, String)> = Vec::new();
    if !name.is_empty() {
        pairs.push((METRIC_NAME.to_string(), name.to_string()));
    }
    if let Some(r) = rest.strip_prefix('{') {
        rest = r;
        loop {
            rest = rest.trim_start();
            if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            }
            // A label name, possibly quoted; a lone quoted string is the metric name.
            let (lname, r) = if rest.starts_with(['"', '\'', '`']) {
                let (s, r) = parse_string(rest)?;
                (s, r)
            } else {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '.'))
                    .unwrap_or(rest.len());
                let (n, r) = rest.split_at(end);
                (n.to_string(), r)
            };
            rest = r.trim_start();
            if let Some(r) = rest.strip_prefix('=') {
                let (v, r) = parse_string(r.trim_start())?;
                pairs.push((lname, v));
                rest = r.trim_start();
            } else {
                pairs.push((METRIC_NAME.to_string(), lname));
            }
            if let Some(r) = rest.strip_prefix(',') {
                rest = r;
            }
        }
    }
    if name.is_empty() && pairs.is_empty() && !line.starts_with('{') {
        return Err(format!("invalid series description {line:?}"));
    }
    Ok((Labels::from_pairs(pairs), rest))
}

/// Parses a quoted string (`"..."` with Go escapes, `'...'`, or a raw `` `...` ``); returns it and the rest.
pub fn parse_string(s: &str) -> Result<(String, &str), String> {
    let mut chars = s.char_indices();
    let Some((_, q)) = chars.next() else {
        return Err("expected string".into());
    };
    if !matches!(q, '"' | '\'' | '`') {
        return Err(format!("expected string at {s:?}"));
    }
    let mut out = String::new();
    let mut bytes: Vec<u8> = Vec::new();
    while let Some((i, c)) = chars.next() {
        if c == q {
            flush_bytes(&mut bytes, &mut out);
            return Ok((out, s.get(i + c.len_utf8()..).unwrap_or("")));
        }
        if c == '\\' && q != '`' {
            let Some((_, e)) = chars.next() else { break };
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'a' => out.push('\u{7}'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'v' => out.push('\u{b}'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                '\'' => out.push('\''),
                'x' => {
                    let h: String = chars.by_ref().take(2).map(|x| x.1).collect();
                    let b = u8::from_str_radix(&h, 16).map_err(|e| e.to_string())?;
                    bytes.push(b);
                    continue;
                }
                'u' | 'U' => {
                    let len = if e == 'u' { 4 } else { 8 };
                    let h: String = chars.by_ref().take(len).map(|x| x.1).collect();
                    let cp = u32::from_str_radix(&h, 16).map_err(|e| e.to_string())?;
                    flush_bytes(&mut bytes, &mut out);
                    out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                }
                d if d.is_digit(8) => {
                    let mut h = String::from(d);
                    h.extend(chars.by_ref().take(2).map(|x| x.1));
                    let b = u8::from_str_radix(&h, 8).map_err(|e| e.to_string())?;
                    bytes.push(b);
                    continue;
                }
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
            continue;
        }
        flush_bytes(&mut bytes, &mut out);
        out.push(c);
    }
    Err(format!("unterminated string {s:?}"))
}

fn flush_bytes(bytes: &mut Vec<u8>, out: &mut String) {
    if !bytes.is_empty() {
        out.push_str(&String::from_utf8_lossy(bytes));
        bytes.clear();
    }
}

/// Splits the value part of a series description into items, keeping `{{...}}` together.
fn split_items(s: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut depth = 0i32;
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        match c {
            '{' => {
                depth += 1;
                start.get_or_insert(i);
            }
            '}' => depth -= 1,
            c if c.is_whitespace() && depth == 0 => {
                if let Some(st) = start.take()
                    && let Some(item) = s.get(st..i)
                {
                    items.push(item);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(st) = start
        && let Some(item) = s.get(st..)
    {
        items.push(item);
    }
    items
}

/// Expands the value items of a series description.
pub fn parse_values(s: &str) -> Result<Vec<SeqValue>, String> {
    let mut out = Vec::new();
    for item in split_items(s) {
        if item.starts_with("{{") {
            // `{{...}}`, `{{...}}x3`, `{{...}}+{{...}}x3`.
            let reps = item
                .rsplit_once("}}x")
                .and_then(|(_, n)| n.parse::<usize>().ok())
                .map_or(1, |n| n + 1);
            out.extend(std::iter::repeat_n(SeqValue::Histogram, reps));
            continue;
        }
        if item == "_" {
            out.push(SeqValue::Omitted);
            continue;
        }
        if let Some(n) = item.strip_prefix("_x") {
            let n: usize = n.parse().map_err(|_| format!("bad repeat {item:?}"))?;
            out.extend(std::iter::repeat_n(SeqValue::Omitted, n));
            continue;
        }
        let (body, times) = match item.rsplit_once('x') {
            Some((b, n)) if !b.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) && !n.is_empty() => {
                (b, Some(n.parse::<u64>().map_err(|e| e.to_string())?))
            }
            _ => (item, None),
        };
        // Split `base(+|-)delta`, where the sign is not the leading one nor part of an exponent.
        let mut split = None;
        let bytes = body.as_bytes();
        for (i, &c) in bytes.iter().enumerate().skip(1) {
            if (c == b'+' || c == b'-') && !matches!(bytes.get(i - 1), Some(b'e') | Some(b'E')) {
                split = Some(i);
                break;
            }
        }
        let (base, delta) = match split {
            Some(i) => {
                let (b, d) = body.split_at(i);
                (b, Some(d))
            }
            None => (body, None),
        };
        let base = parse_value(base).ok_or_else(|| format!("bad value {item:?}"))?;
        match (delta, times) {
            (None, None) => out.push(SeqValue::Value(base)),
            (None, Some(n)) => {
                for _ in 0..=n {
                    out.push(SeqValue::Value(base));
                }
            }
            (Some(d), Some(n)) => {
                let d = parse_number(d).ok_or_else(|| format!("bad delta {item:?}"))?;
                let mut v = base;
                for _ in 0..=n {
                    out.push(SeqValue::Value(v));
                    v += d;
                }
            }
            (Some(_), None) => return Err(format!("bad value {item:?}")),
        }
    }
    Ok(out)
}

/// Parses a whole series description line.
pub fn parse_series(line: &str) -> Result<(Labels, Vec<SeqValue>), String> {
    let (labels, rest) = parse_metric(line)?;
    Ok((labels, parse_values(rest)?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn expands() {
        let (l, v) = parse_series(r#"foo{a="b"} 1+1x2 _ stale -2-1x1 0x2 _x2"#).unwrap();
        assert_eq!(l.get("a"), Some("b"));
        assert_eq!(l.get("__name__"), Some("foo"));
        assert_eq!(v.len(), 3 + 1 + 1 + 2 + 3 + 2);
        assert_eq!(v[0], SeqValue::Value(1.0));
        assert_eq!(v[2], SeqValue::Value(3.0));
        assert_eq!(v[3], SeqValue::Omitted);
        assert!(matches!(v[4], SeqValue::Value(x) if strata_storage::is_stale_nan(x)));
        assert_eq!(v[6], SeqValue::Value(-3.0));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration_ms("0"), Some(0));
        assert_eq!(parse_duration_ms("100ms"), Some(100));
    }
}
