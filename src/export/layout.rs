//! Go time layouts (`2006-01-02 15:04:05.000`) for the CSV export's `__timestamp__:custom:<layout>`
//! columns, as VictoriaMetrics accepts them. Times are written in UTC. Supported elements: `2006` `06`
//! `January` `Jan` `01` `1` `Monday` `Mon` `02` `_2` `2` `002` `15` `03` `3` `04` `4` `05` `5` `PM`
//! `pm` `MST` `Z07:00` `Z0700` `Z07` `-07:00` `-0700` `-07`, and fractions `.000`/`.999` (or with `,`).

use std::fmt::Write;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(String),
    Year4,
    Year2,
    MonthLong,
    MonthShort,
    Month2,
    Month,
    DayLong,
    DayShort,
    Day2,
    DaySpace,
    Day,
    YearDay,
    Hour24,
    Hour12Pad,
    Hour12,
    Min2,
    Min,
    Sec2,
    Sec,
    PmUpper,
    PmLower,
    Zone,
    /// `Z...` forms print `Z` for UTC; `-...` forms print the given zero offset.
    Offset {
        z: bool,
        zero: &'static str,
    },
    /// Fraction with separator, digit count, and whether trailing zeros are trimmed (`9`s).
    Frac {
        sep: char,
        digits: usize,
        trim: bool,
    },
}

/// A parsed layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout(Vec<Tok>);

impl Layout {
    /// Parses a Go layout; text that is not a layout element is copied literally.
    pub fn parse(s: &str) -> Layout {
        let words: [(&str, Tok); 30] = [
            ("January", Tok::MonthLong),
            ("Jan", Tok::MonthShort),
            ("Monday", Tok::DayLong),
            ("Mon", Tok::DayShort),
            ("MST", Tok::Zone),
            ("2006", Tok::Year4),
            ("002", Tok::YearDay),
            ("01", Tok::Month2),
            ("02", Tok::Day2),
            ("03", Tok::Hour12Pad),
            ("04", Tok::Min2),
            ("05", Tok::Sec2),
            ("06", Tok::Year2),
            ("15", Tok::Hour24),
            ("_2", Tok::DaySpace),
            ("PM", Tok::PmUpper),
            ("pm", Tok::PmLower),
            (
                "Z07:00:00",
                Tok::Offset {
                    z: true,
                    zero: "+00:00:00",
                },
            ),
            (
                "Z07:00",
                Tok::Offset {
                    z: true,
                    zero: "+00:00",
                },
            ),
            ("Z0700", Tok::Offset { z: true, zero: "+0000" }),
            ("Z07", Tok::Offset { z: true, zero: "+00" }),
            (
                "-07:00:00",
                Tok::Offset {
                    z: false,
                    zero: "+00:00:00",
                },
            ),
            (
                "-07:00",
                Tok::Offset {
                    z: false,
                    zero: "+00:00",
                },
            ),
            (
                "-0700",
                Tok::Offset {
                    z: false,
                    zero: "+0000",
                },
            ),
            ("-07", Tok::Offset { z: false, zero: "+00" }),
            ("1", Tok::Month),
            ("2", Tok::Day),
            ("3", Tok::Hour12),
            ("4", Tok::Min),
            ("5", Tok::Sec),
        ];
        let mut toks = Vec::new();
        let mut lit = String::new();
        let mut rest = s;
        'outer: while let Some(c) = rest.chars().next() {
            if (c == '.' || c == ',')
                && let Some(d @ ('0' | '9')) = rest.chars().nth(1)
            {
                let digits = rest.get(1..).unwrap_or("").chars().take_while(|&x| x == d).count();
                let after = rest.get(1 + digits..).unwrap_or("");
                if !after.starts_with(|x: char| x.is_ascii_digit()) {
                    flush(&mut toks, &mut lit);
                    toks.push(Tok::Frac {
                        sep: c,
                        digits,
                        trim: d == '9',
                    });
                    rest = after;
                    continue;
                }
            }
            for (w, tok) in &words {
                if rest.starts_with(w) {
                    flush(&mut toks, &mut lit);
                    toks.push(tok.clone());
                    rest = rest.get(w.len()..).unwrap_or("");
                    continue 'outer;
                }
            }
            lit.push(c);
            rest = rest.get(c.len_utf8()..).unwrap_or("");
        }
        flush(&mut toks, &mut lit);
        Layout(toks)
    }

    /// Formats a millisecond timestamp in UTC.
    pub fn format(&self, t: i64) -> String {
        let secs = t.div_euclid(1000);
        let ms = t.rem_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let (hour, min, sec) = (sod / 3600, sod % 3600 / 60, sod % 60);
        let h12 = if hour % 12 == 0 { 12 } else { hour % 12 };
        let month = MONTHS.get((m - 1) as usize).copied().unwrap_or("");
        let weekday = DAYS.get((days + 4).rem_euclid(7) as usize).copied().unwrap_or("");
        let yday = days - days_from_civil(y, 1, 1) + 1;
        let mut out = String::new();
        for tok in &self.0 {
            let _ = match tok {
                Tok::Lit(s) => write!(out, "{s}"),
                Tok::Year4 => write!(out, "{y:04}"),
                Tok::Year2 => write!(out, "{:02}", y.rem_euclid(100)),
                Tok::MonthLong => write!(out, "{month}"),
                Tok::MonthShort => write!(out, "{}", month.get(..3).unwrap_or("")),
                Tok::Month2 => write!(out, "{m:02}"),
                Tok::Month => write!(out, "{m}"),
                Tok::DayLong => write!(out, "{weekday}"),
                Tok::DayShort => write!(out, "{}", weekday.get(..3).unwrap_or("")),
                Tok::Day2 => write!(out, "{d:02}"),
                Tok::DaySpace => write!(out, "{d:>2}"),
                Tok::Day => write!(out, "{d}"),
                Tok::YearDay => write!(out, "{yday:03}"),
                Tok::Hour24 => write!(out, "{hour:02}"),
                Tok::Hour12Pad => write!(out, "{h12:02}"),
                Tok::Hour12 => write!(out, "{h12}"),
                Tok::Min2 => write!(out, "{min:02}"),
                Tok::Min => write!(out, "{min}"),
                Tok::Sec2 => write!(out, "{sec:02}"),
                Tok::Sec => write!(out, "{sec}"),
                Tok::PmUpper => write!(out, "{}", if hour >= 12 { "PM" } else { "AM" }),
                Tok::PmLower => write!(out, "{}", if hour >= 12 { "pm" } else { "am" }),
                Tok::Zone => write!(out, "UTC"),
                Tok::Offset { z, zero } => write!(out, "{}", if *z { "Z" } else { zero }),
                Tok::Frac { sep, digits, trim } => {
                    let nanos = format!("{:09}", ms * 1_000_000);
                    let mut f = nanos.get(..(*digits).min(9)).unwrap_or("").to_string();
                    if *trim {
                        f = f.trim_end_matches('0').to_string();
                    }
                    if f.is_empty() { Ok(()) } else { write!(out, "{sep}{f}") }
                }
            };
        }
        out
    }
}

fn flush(toks: &mut Vec<Tok>, lit: &mut String) {
    if !lit.is_empty() {
        toks.push(Tok::Lit(std::mem::take(lit)));
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// The date of a day count since 1970-01-01.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_layouts() {
        let t = 1_700_000_000_250; // 2023-11-14T22:13:20.25Z, a Tuesday
        assert_eq!(Layout::parse("2006-01-02 15:04:05").format(t), "2023-11-14 22:13:20");
        assert_eq!(
            Layout::parse("2006-01-02T15:04:05.000Z07:00").format(t),
            "2023-11-14T22:13:20.250Z"
        );
        assert_eq!(
            Layout::parse("Mon Jan _2 3:04:05.999 PM MST 2006").format(t),
            "Tue Nov 14 10:13:20.25 PM UTC 2023"
        );
        assert_eq!(
            Layout::parse("02/01/06 -0700 day 002").format(t),
            "14/11/23 +0000 day 318"
        );
        assert_eq!(Layout::parse("Monday, January 2").format(0), "Thursday, January 1");
    }
}
