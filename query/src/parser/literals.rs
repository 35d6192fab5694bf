//! Literal values with Go/Prometheus semantics: number literals (`strconv.ParseInt(s, 0, 64)` then
//! `strconv.ParseFloat`), duration literals (`model.ParseDuration` / `model.Duration.String`), string
//! unquoting (`strutil.Unquote`) and Go-style quoting for the printer and error messages.

use nom::{
    IResult, Parser,
    bytes::complete::take_while1,
    character::complete::digit1,
    combinator::{all_consuming, map_res},
    multi::many1,
};

/// Parses a number token's text as Prometheus does; `Err` carries Prometheus' message.
pub(crate) fn parse_number(text: &str) -> Result<f64, String> {
    if let Some(v) = parse_go_int(text) {
        // Exact integer first, as `strconv.ParseInt(val, 0, 64)`; the cast rounds like Go's float64(n).
        return Ok(v as f64);
    }
    parse_go_float(text)
}

/// `strconv.ParseInt(s, 0, 64)` for the unsigned forms the lexer produces.
fn parse_go_int(s: &str) -> Option<i64> {
    let (digits, radix) = if let Some(rest) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (rest, 16)
    } else if let Some(rest) = s.strip_prefix("0o").or_else(|| s.strip_prefix("0O")) {
        (rest, 8)
    } else if let Some(rest) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        (rest, 2)
    } else if s.len() > 1 && s.starts_with('0') {
        (s.get(1..)?, 8)
    } else {
        (s, 10)
    };
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let cleaned: String = digits.chars().filter(|c| *c != '_').collect();
    if cleaned.is_empty() {
        return None;
    }
    i64::from_str_radix(&cleaned, radix)
        .ok()
        .filter(|_| !cleaned.starts_with(['+', '-']))
}

/// Go's `underscoreOK`: underscores only between digits or after a base prefix.
fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.first() == Some(&b'0')
        && let Some(p) = b.get(1).map(u8::to_ascii_lowercase)
        && (p == b'b' || p == b'o' || p == b'x')
    {
        i = 2;
        saw = b'0';
        hex = p == b'x';
    }
    while let Some(&c) = b.get(i) {
        i += 1;
        if c.is_ascii_digit() || (hex && c.to_ascii_lowercase().is_ascii_hexdigit()) {
            saw = b'0';
            continue;
        }
        if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
            continue;
        }
        if saw == b'_' {
            return false;
        }
        saw = b'!';
    }
    saw != b'_'
}

/// `strconv.ParseFloat(s, 64)` for decimal literals, `Inf` and `NaN`.
fn parse_go_float(s: &str) -> Result<f64, String> {
    let syntax = || {
        format!(
            "error parsing number: strconv.ParseFloat: parsing {}: invalid syntax",
            go_quote(s)
        )
    };
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => return Ok(f64::INFINITY),
        "-inf" | "-infinity" => return Ok(f64::NEG_INFINITY),
        "nan" => return Ok(f64::NAN),
        _ => {}
    }
    if s.contains('_') && !underscore_ok(s) {
        return Err(syntax());
    }
    let cleaned: String = s.chars().filter(|c| *c != '_').collect();
    // Rust also accepts words like "infinity" and signs; the lexer never hands those over, and the
    // checks above keep the grammar to Go's digits/dot/exponent form.
    if !cleaned
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return Err(syntax());
    }
    match cleaned.parse::<f64>() {
        Ok(v) if v.is_infinite() => Err(format!(
            "error parsing number: strconv.ParseFloat: parsing {}: value out of range",
            go_quote(s)
        )),
        Ok(v) => Ok(v),
        Err(_) => Err(syntax()),
    }
}

/// Duration units in Prometheus order (largest first) with their size in nanoseconds.
const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3600 * 1_000_000_000),
    ("w", 7 * 24 * 3600 * 1_000_000_000),
    ("d", 24 * 3600 * 1_000_000_000),
    ("h", 3600 * 1_000_000_000),
    ("m", 60 * 1_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
];

/// One `<digits><unit letters>` part of a duration.
fn duration_part(i: &str) -> IResult<&str, (u64, &str)> {
    (
        map_res(digit1, str::parse::<u64>),
        take_while1(|c: char| !c.is_ascii_digit()),
    )
        .parse(i)
}

/// `model.ParseDuration`: returns nanoseconds, or Prometheus' message.
pub(crate) fn parse_duration(s: &str) -> Result<i64, String> {
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err("empty duration string".to_owned());
    }
    let invalid = || format!("not a valid duration string: {}", go_quote(s));
    let parts = match all_consuming(many1(duration_part)).parse(s) {
        Ok((_, parts)) => parts,
        Err(_) => return Err(invalid()),
    };
    let mut total: u64 = 0;
    let mut last_pos: Option<usize> = None;
    for (value, unit) in parts {
        let Some(pos) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(format!("unknown unit {} in duration {}", go_quote(unit), go_quote(s)));
        };
        if last_pos.is_some_and(|l| pos <= l) {
            return Err(invalid());
        }
        last_pos = Some(pos);
        let mult = UNITS.get(pos).map_or(1, |(_, m)| *m);
        if value > (1u64 << 63) / mult {
            return Err("duration out of range".to_owned());
        }
        total = total.saturating_add(value * mult);
        if total > i64::MAX as u64 {
            return Err("duration out of range".to_owned());
        }
    }
    i64::try_from(total).map_err(|_| "duration out of range".to_owned())
}

/// `model.Duration(d).String()` for a duration in milliseconds (non-negative).
pub(crate) fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut ms = ms.unsigned_abs();
    let mut out = String::new();
    let steps: [(&str, u64, bool); 7] = [
        ("y", 1000 * 60 * 60 * 24 * 365, true),
        ("w", 1000 * 60 * 60 * 24 * 7, true),
        ("d", 1000 * 60 * 60 * 24, false),
        ("h", 1000 * 60 * 60, false),
        ("m", 1000 * 60, false),
        ("s", 1000, false),
        ("ms", 1, false),
    ];
    for (unit, mult, exact) in steps {
        if exact && !ms.is_multiple_of(mult) {
            continue;
        }
        let v = ms / mult;
        if v > 0 {
            out.push_str(&v.to_string());
            out.push_str(unit);
            ms -= v * mult;
        }
    }
    out
}

/// `strconv.FormatFloat(v, 'f', -1, 64)`, with Go's spelling of the infinities.
pub(crate) fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v}")
    }
}

/// Resolves the escapes of a lexed string token (quotes included) as `strutil.Unquote` does.
///
/// The lexer has already validated the escapes, so this cannot fail; `\x` and octal escapes give raw
/// bytes as in Go, and bytes that do not form UTF-8 become U+FFFD.
pub(crate) fn unquote(token: &str) -> String {
    let mut chars = token.chars();
    let Some(quote) = chars.next() else {
        return String::new();
    };
    let body = token
        .get(quote.len_utf8()..token.len().saturating_sub(quote.len_utf8()))
        .unwrap_or("");
    if quote == '`' {
        return body.to_owned();
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut it = body.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let Some(e) = it.next() else { break };
        let simple = match e {
            'a' => Some(0x07),
            'b' => Some(0x08),
            'f' => Some(0x0c),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(0x0b),
            '\\' => Some(b'\\'),
            '\'' => Some(b'\''),
            '"' => Some(b'"'),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            continue;
        }
        let (n, radix, first) = match e {
            '0'..='7' => (2, 8, Some(e)),
            'x' => (2, 16, None),
            'u' => (4, 16, None),
            'U' => (8, 16, None),
            _ => (0, 10, None),
        };
        let mut v: u32 = first.and_then(|d| d.to_digit(8)).unwrap_or(0);
        for _ in 0..n {
            if let Some(d) = it.next().and_then(|d| d.to_digit(radix)) {
                v = v * radix + d;
            }
        }
        match e {
            '0'..='7' | 'x' => out.push(u8::try_from(v).unwrap_or(u8::MAX)),
            _ => {
                let ch = char::from_u32(v).unwrap_or('\u{FFFD}');
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Whether Go's `unicode.IsPrint` would call the rune printable (close approximation).
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c, '\u{AD}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{E000}'..='\u{F8FF}')
}

/// Appends Go's escape for `c` inside a quoted literal delimited by `quote`.
fn push_escaped(out: &mut String, c: char, quote: char) {
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if is_print(c) => out.push(c),
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// `strconv.Quote(s)`.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// `fmt.Sprintf("%q", r)` for a rune.
pub(crate) fn go_quote_rune(c: char) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'');
    out.push('\'');
    out
}

/// `fmt.Sprintf("%#U", r)`, e.g. `U+0063 'c'`.
pub(crate) fn go_unicode_rune(c: char) -> String {
    if is_print(c) {
        format!("U+{:04X} '{c}'", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

/// Go's `%.10q`: quotes at most the first 10 runes of `s`.
pub(crate) fn go_quote_truncated(s: &str, max_runes: usize) -> String {
    let cut: String = s.chars().take(max_runes).collect();
    go_quote(&cut)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("1").unwrap(), 1.0);
        assert_eq!(parse_number("0x1f").unwrap(), 31.0);
        assert_eq!(parse_number("0X1F").unwrap(), 31.0);
        assert_eq!(parse_number("017").unwrap(), 15.0);
        assert_eq!(parse_number("08").unwrap(), 8.0);
        assert_eq!(parse_number("1e3").unwrap(), 1000.0);
        assert_eq!(parse_number(".5").unwrap(), 0.5);
        assert_eq!(parse_number("5.").unwrap(), 5.0);
        assert_eq!(parse_number("1_000").unwrap(), 1000.0);
        assert_eq!(parse_number("1_000.5").unwrap(), 1000.5);
        assert_eq!(parse_number("Inf").unwrap(), f64::INFINITY);
        assert!(parse_number("nAn").unwrap().is_nan());
        assert!(
            parse_number(&"9".repeat(400))
                .unwrap_err()
                .ends_with("value out of range")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000_000_000);
        assert_eq!(parse_duration("5ms").unwrap(), 5_000_000);
        assert_eq!(parse_duration("1y").unwrap(), 365 * 86_400_000_000_000);
        assert_eq!(
            parse_duration("5m1h").unwrap_err(),
            r#"not a valid duration string: "5m1h""#
        );
        assert_eq!(
            parse_duration("5y1hs").unwrap_err(),
            r#"unknown unit "hs" in duration "5y1hs""#
        );
        assert_eq!(
            parse_duration("1.5m").unwrap_err(),
            r#"unknown unit "." in duration "1.5m""#
        );
        assert_eq!(parse_duration("300y").unwrap_err(), "duration out of range");
        assert_eq!(format_duration(5_400_000), "1h30m");
        assert_eq!(format_duration(90 * 86_400_000), "90d");
        assert_eq!(format_duration(14 * 86_400_000), "2w");
        assert_eq!(format_duration(365 * 86_400_000), "1y");
        assert_eq!(format_duration(1500), "1s500ms");
        assert_eq!(format_duration(0), "0s");
    }

    #[test]
    fn strings() {
        assert_eq!(unquote(r#""a\nb\"c""#), "a\nb\"c");
        assert_eq!(unquote(r"'a\'b'"), "a'b");
        assert_eq!(unquote(r#""\x41\101\u00e4\U0001F600""#), "AAä😀");
        assert_eq!(unquote("`a\\nb`"), "a\\nb");
        assert_eq!(unquote(r#""a\xc5z""#), "a\u{FFFD}z");
        assert_eq!(go_quote("a\"b\\\n\u{1}ä"), r#""a\"b\\\n\x01ä""#);
        assert_eq!(go_quote_rune('\''), r"'\''");
        assert_eq!(go_unicode_rune('c'), "U+0063 'c'");
        assert_eq!(format_float(f64::INFINITY), "+Inf");
        assert_eq!(format_float(1e21), "1000000000000000000000");
        assert_eq!(format_float(-0.5), "-0.5");
    }
}
