//! Request parameters as Prometheus' HTTP API reads them: URL query and form body merged, repeated keys
//! (`match[]`) kept, times as RFC 3339 or float seconds rounded to the millisecond, durations as float
//! seconds or Prometheus duration strings (`1m0s`, `1h30m`).

use strata_query::parser::{self, ast::Expr};
use strata_storage::{LabelMatcher, Resolution};

use super::error::ApiError;

/// The smallest and largest timestamps the API accepts as "unbounded" (Prometheus' `MinTime`/`MaxTime`
/// are ±2^63/1000 ms; we clamp to the same range).
pub const MIN_TIME: i64 = i64::MIN / 1000 + 1;
/// See [`MIN_TIME`].
pub const MAX_TIME: i64 = i64::MAX / 1000 - 1;

/// Decoded request parameters.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses the raw URL query and, for form posts, the body.
    pub fn parse(raw_query: Option<&str>, form_body: Option<&[u8]>) -> Self {
        let mut v: Vec<(String, String)> = Vec::new();
        if let Some(q) = raw_query {
            v.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        if let Some(b) = form_body {
            v.extend(form_urlencoded::parse(b).into_owned());
        }
        Params(v)
    }

    /// The first value of `name`, if given and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A required time parameter.
    pub fn time(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|s| {
                parse_time(s).ok_or_else(|| {
                    ApiError::bad_data(format!(
                        "invalid parameter {name:?}: cannot parse {s:?} to a valid timestamp"
                    ))
                })
            })
            .transpose()
    }

    /// An optional duration parameter in milliseconds.
    pub fn duration(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|s| {
                parse_duration(s).ok_or_else(|| {
                    ApiError::bad_data(format!(
                        "invalid parameter {name:?}: cannot parse {s:?} to a valid duration"
                    ))
                })
            })
            .transpose()
    }

    /// An optional non-negative integer parameter (`limit`); 0 means unlimited, as in Prometheus.
    pub fn limit(&self, name: &str) -> Result<Option<usize>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(s) => match s.parse::<i64>() {
                Ok(n) if n > 0 => Ok(Some(n as usize)),
                Ok(0) => Ok(None),
                _ => Err(ApiError::bad_data(format!(
                    "invalid parameter {name:?}: cannot parse {s:?}: must be a non-negative integer"
                ))),
            },
        }
    }

    /// Thanos' `max_source_resolution` (`raw`, `5m`, `1h`, `auto`; default auto): the coarsest downsampled
    /// tier a query may be answered from.
    pub fn resolution(&self) -> Result<Resolution, ApiError> {
        const NAME: &str = "max_source_resolution";
        match self.get(NAME) {
            None => Ok(Resolution::Auto),
            Some(s) => Resolution::parse(s).ok_or_else(|| {
                ApiError::bad_data(format!(
                    "invalid parameter {NAME:?}: cannot parse {s:?}: must be one of raw, 5m, 1h, auto"
                ))
            }),
        }
    }

    /// `match[]` selectors, each parsed into its matchers.
    pub fn match_sets(&self) -> Result<Vec<Vec<LabelMatcher>>, ApiError> {
        self.all("match[]").into_iter().map(parse_selector).collect()
    }

    /// `start`/`end` with Prometheus' defaults (unbounded), checking order.
    pub fn range_or_all(&self) -> Result<(i64, i64), ApiError> {
        let start = self.time("start")?.unwrap_or(MIN_TIME);
        let end = self.time("end")?.unwrap_or(MAX_TIME);
        if end < start {
            return Err(ApiError::bad_data(
                "invalid parameter \"end\": end timestamp must not be before start time",
            ));
        }
        Ok((start, end))
    }
}

/// Parses one `match[]` selector such as `up{job="api"}`.
pub fn parse_selector(s: &str) -> Result<Vec<LabelMatcher>, ApiError> {
    match parser::parse(s) {
        Ok(Expr::VectorSelector(vs)) => Ok(vs.matchers),
        Ok(_) => Err(ApiError::bad_data(format!(
            "invalid parameter \"match[]\": {s:?} is not a vector selector"
        ))),
        Err(e) => Err(ApiError::bad_data(format!("invalid parameter \"match[]\": {e}"))),
    }
}

/// Parses a timestamp: float Unix seconds (rounded to the millisecond) or RFC 3339.
pub fn parse_time(s: &str) -> Option<i64> {
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() {
            return None;
        }
        let ms = (f * 1000.0).round();
        if ms < MIN_TIME as f64 || ms > MAX_TIME as f64 {
            return None;
        }
        return Some(ms as i64);
    }
    parse_rfc3339(s)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` into milliseconds, rounding the fraction.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if b.len() < 20
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, min, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let digits = s.get(start..i)?;
        if digits.is_empty() {
            return None;
        }
        let d9: String = digits.chars().chain(std::iter::repeat('0')).take(9).collect();
        nanos = d9.parse().ok()?;
    }
    let offset_s = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && b.get(i + 3) == Some(&b':') => {
            let o = num(i + 1, 2)? * 3600 + num(i + 4, 2)? * 60;
            if sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86400 + hour * 3600 + min * 60 + sec - offset_s;
    Some(secs * 1000 + (nanos as f64 / 1e6).round() as i64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats milliseconds as RFC 3339 UTC with millisecond precision (`2015-07-01T20:10:51.781Z`).
pub fn format_rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let frac = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (inverse of `days_from_civil`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// Parses a duration: float seconds, or a Prometheus duration (`1y2w3d4h5m6s7ms`, units in that order).
pub fn parse_duration(s: &str) -> Option<i64> {
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() || f.abs() > (i64::MAX / 1000) as f64 {
            return None;
        }
        return Some((f * 1000.0).round() as i64);
    }
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ];
    let mut rest = s;
    let mut total: i64 = 0;
    let mut last_unit = None;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: i64 = rest.get(..digits)?.parse().ok()?;
        rest = rest.get(digits..)?;
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = rest.get(..unit_len)?;
        let pos = UNITS.iter().position(|(u, _)| *u == unit)?;
        if last_unit.is_some_and(|l| pos <= l) {
            return None;
        }
        last_unit = Some(pos);
        let (_, mult) = UNITS.get(pos)?;
        total = total.checked_add(n.checked_mul(*mult)?)?;
        rest = rest.get(unit_len..)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1435781451.781"), Some(1_435_781_451_781));
        assert_eq!(parse_time("1.0005"), Some(1001));
        assert_eq!(parse_time("2015-07-01T20:10:51.781Z"), Some(1_435_781_451_781));
        assert_eq!(parse_time("2015-07-01T22:10:51.781+02:00"), Some(1_435_781_451_781));
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("abc"), None);
        assert_eq!(parse_time("NaN"), None);
        assert_eq!(parse_time("2015-13-01T00:00:00Z"), None);
        assert_eq!(format_rfc3339(1_435_781_451_781), "2015-07-01T20:10:51.781Z");
        assert_eq!(parse_time(&format_rfc3339(-86_400_001)), Some(-86_400_001));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15"), Some(15_000));
        assert_eq!(parse_duration("0.5"), Some(500));
        assert_eq!(parse_duration("1m0s"), Some(60_000));
        assert_eq!(parse_duration("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration("100ms"), Some(100));
        assert_eq!(parse_duration("1d"), Some(86_400_000));
        assert_eq!(parse_duration("1m1h"), None);
        assert_eq!(parse_duration("x"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn max_source_resolution() {
        let res = |q: &str| Params::parse(Some(q), None).resolution();
        assert_eq!(res("query=up").ok(), Some(Resolution::Auto));
        assert_eq!(res("max_source_resolution=").ok(), Some(Resolution::Auto));
        assert_eq!(res("max_source_resolution=auto").ok(), Some(Resolution::Auto));
        assert_eq!(res("max_source_resolution=raw").ok(), Some(Resolution::Raw));
        assert_eq!(res("max_source_resolution=5m").ok(), Some(Resolution::FiveMinutes));
        assert_eq!(res("max_source_resolution=1h").ok(), Some(Resolution::OneHour));
        let form = Params::parse(None, Some(b"query=up&max_source_resolution=1h"));
        assert_eq!(form.resolution().ok(), Some(Resolution::OneHour));
    }

    #[tokio::test]
    async fn bad_max_source_resolution_is_a_400() {
        use axum::response::IntoResponse;
        let Err(e) = Params::parse(Some("max_source_resolution=2h"), None).resolution() else {
            panic!("2h must be rejected");
        };
        let resp = e.into_response();
        assert_eq!(resp.status(), axum::http::StatusCode::BAD_REQUEST);
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .map_err(|e| e.to_string());
        let json: serde_json::Value = serde_json::from_slice(&body.unwrap_or_default()).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({
                "status": "error",
                "errorType": "bad_data",
                "error": "invalid parameter \"max_source_resolution\": cannot parse \"2h\": must be one of raw, 5m, 1h, auto",
            })
        );
    }

    #[test]
    fn repeated_keys_and_form_body_merge() {
        let p = Params::parse(Some("match[]=up&match[]=foo&start=1"), Some(b"end=2&query=a%2Bb"));
        assert_eq!(p.all("match[]"), vec!["up", "foo"]);
        assert_eq!(p.get("query"), Some("a+b"));
        assert_eq!(p.range_or_all().ok(), Some((1000, 2000)));
    }
}
