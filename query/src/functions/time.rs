//! Date functions of a timestamp in seconds, in UTC: `minute`, `hour`, `day_of_week`, `day_of_month`,
//! `day_of_year`, `days_in_month`, `month`, `year`.
//!
//! As Prometheus, the timestamp is first truncated towards zero to whole seconds. The proleptic Gregorian
//! calendar is computed with Howard Hinnant's `civil_from_days` (no leap seconds, as Go's `time`).

/// A civil date and time of day in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year (astronomical: year 0 exists).
    pub year: i64,
    /// Month, 1..=12.
    pub month: u32,
    /// Day of month, 1..=31.
    pub day: u32,
    /// Hour, 0..=23.
    pub hour: u32,
    /// Minute, 0..=59.
    pub minute: u32,
    /// Day of week, 0 = Sunday.
    pub weekday: u32,
}

/// Whether `year` is a leap year.
#[must_use]
pub fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1..=12) of `year`.
#[must_use]
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Converts days since 1970-01-01 to `(year, month, day)`.
#[must_use]
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Splits whole seconds since the Unix epoch into a civil UTC date and time.
#[must_use]
pub fn civil_from_unix(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: (sod / 3600) as u32,
        minute: (sod % 3600 / 60) as u32,
        weekday: (days + 4).rem_euclid(7) as u32, // 1970-01-01 was a Thursday.
    }
}

/// Day of the year, 1..=366.
#[must_use]
pub fn day_of_year(c: &Civil) -> u32 {
    const CUMULATIVE: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let before = CUMULATIVE.get(c.month.saturating_sub(1) as usize).copied().unwrap_or(0);
    before + c.day + u32::from(c.month > 2 && is_leap(c.year))
}

/// A date function, resolved from its name once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeFunc {
    /// `minute`: 0..=59.
    Minute,
    /// `hour`: 0..=23.
    Hour,
    /// `day_of_week`: 0 = Sunday ..= 6.
    DayOfWeek,
    /// `day_of_month`: 1..=31.
    DayOfMonth,
    /// `day_of_year`: 1..=366.
    DayOfYear,
    /// `days_in_month`: 28..=31.
    DaysInMonth,
    /// `month`: 1..=12.
    Month,
    /// `year`.
    Year,
}

/// Every date function with its PromQL name.
const TABLE: &[(&str, TimeFunc)] = &[
    ("minute", TimeFunc::Minute),
    ("hour", TimeFunc::Hour),
    ("day_of_week", TimeFunc::DayOfWeek),
    ("day_of_month", TimeFunc::DayOfMonth),
    ("day_of_year", TimeFunc::DayOfYear),
    ("days_in_month", TimeFunc::DaysInMonth),
    ("month", TimeFunc::Month),
    ("year", TimeFunc::Year),
];

impl TimeFunc {
    /// Resolves a PromQL function name; `None` if it is not a date function.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        TABLE.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
    }

    /// The PromQL name.
    #[must_use]
    pub fn name(self) -> &'static str {
        TABLE.iter().find(|(_, f)| *f == self).map_or("", |&(n, _)| n)
    }

    /// Evaluates the function at `t_seconds` (UTC), truncated to whole seconds first. NaN, ±Inf and
    /// values outside the `i64` range give NaN (Prometheus converts them with Go's
    /// implementation-defined float-to-int conversion, which yields an arbitrary date).
    #[must_use]
    pub fn apply(self, t_seconds: f64) -> f64 {
        // 2^63: the first float beyond i64.
        const LIMIT: f64 = 9_223_372_036_854_775_808.0;
        let t = t_seconds.trunc();
        if !(-LIMIT..LIMIT).contains(&t) {
            return f64::NAN;
        }
        let c = civil_from_unix(t as i64);
        match self {
            Self::Minute => f64::from(c.minute),
            Self::Hour => f64::from(c.hour),
            Self::DayOfWeek => f64::from(c.weekday),
            Self::DayOfMonth => f64::from(c.day),
            Self::DayOfYear => f64::from(day_of_year(&c)),
            Self::DaysInMonth => f64::from(days_in_month(c.year, c.month)),
            Self::Month => f64::from(c.month),
            Self::Year => c.year as f64,
        }
    }
}

/// Evaluates a date function of `t_seconds` (UTC); see [`TimeFunc::apply`]. Returns `None` if `name` is
/// not a date function.
#[must_use]
pub fn eval_time(name: &str, t_seconds: f64) -> Option<f64> {
    Some(TimeFunc::from_name(name)?.apply(t_seconds))
}

/// The names [`eval_time`] accepts.
pub const TIME_FUNCTIONS: &[&str] = &[
    "minute",
    "hour",
    "day_of_week",
    "day_of_month",
    "day_of_year",
    "days_in_month",
    "month",
    "year",
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn t(name: &str, secs: f64) -> f64 {
        eval_time(name, secs).unwrap()
    }

    // "Test time-related functions" in functions.test.
    #[test]
    fn conformance() {
        assert_eq!(t("year", 0.0), 1970.0);
        assert_eq!(t("month", 0.0), 1.0);
        assert_eq!(t("day_of_month", 0.0), 1.0);
        assert_eq!(t("day_of_year", 0.0), 1.0);
        assert_eq!(t("day_of_week", 0.0), 4.0);
        assert_eq!(t("hour", 0.0), 0.0);
        assert_eq!(t("minute", 0.0), 0.0);
        // 2006-01-02 22:04:05 UTC, a Monday.
        let ts = 1_136_239_445.0;
        assert_eq!(t("year", ts), 2006.0);
        assert_eq!(t("month", ts), 1.0);
        assert_eq!(t("day_of_month", ts), 2.0);
        assert_eq!(t("day_of_year", ts), 2.0);
        assert_eq!(t("day_of_week", ts), 1.0);
        assert_eq!(t("hour", ts), 22.0);
        assert_eq!(t("minute", ts), 4.0);
        assert_eq!(t("year", 1_230_767_999.0), 2008.0);
        assert_eq!(t("year", 1_230_768_000.0), 2009.0);
        assert_eq!(
            t("month", 1_456_790_399.0) + t("day_of_month", 1_456_790_399.0) / 100.0,
            2.29
        );
        assert_eq!(
            t("month", 1_456_790_400.0) + t("day_of_month", 1_456_790_400.0) / 100.0,
            3.01
        );
        assert_eq!(t("day_of_year", 1_483_191_420.0), 366.0);
        assert_eq!(t("day_of_year", 1_672_493_820.0), 365.0);
        assert_eq!(t("days_in_month", 1_454_284_800.0), 29.0);
        assert_eq!(t("days_in_month", 1_485_907_200.0), 28.0);
    }

    #[test]
    fn truncation_and_negative_times() {
        // Truncation towards zero: -0.5 s is 1970-01-01 00:00:00, not 1969-12-31 23:59:59.
        assert_eq!(t("year", -0.5), 1970.0);
        assert_eq!(t("minute", 59.999), 0.0);
        assert_eq!(t("year", -1.0), 1969.0);
        assert_eq!(t("hour", -1.0), 23.0);
        assert_eq!(t("minute", -1.0), 59.0);
        assert_eq!(t("day_of_week", -1.0), 3.0);
        assert_eq!(t("day_of_year", -1.0), 365.0);
        assert_eq!(t("days_in_month", -1.0), 31.0);
        // 1900 was not a leap year, 2000 was.
        assert_eq!(t("days_in_month", -2_206_310_400.0), 28.0); // 1900-02-01
        assert_eq!(t("days_in_month", 949_363_200.0), 29.0); // 2000-02-01
        assert_eq!(t("year", 253_402_300_799.0), 9999.0); // 9999-12-31 23:59:59
        assert_eq!(t("year", 253_402_300_800.0), 10000.0);
    }

    #[test]
    fn non_finite_and_unknown() {
        for name in TIME_FUNCTIONS {
            assert!(t(name, f64::NAN).is_nan());
            assert!(t(name, f64::INFINITY).is_nan());
            assert!(t(name, 1e19).is_nan());
            assert!(!t(name, 1e12).is_nan());
        }
        assert_eq!(eval_time("time", 0.0), None);
        for name in TIME_FUNCTIONS {
            assert_eq!(TimeFunc::from_name(name).unwrap().name(), *name);
        }
    }

    #[test]
    fn civil_roundtrip_against_day_counting() {
        // Walk day by day from 1600-03-01 and compare with an independent counter.
        let (mut y, mut m, mut d) = (1600i64, 3u32, 1u32);
        let start = -135_080; // days from 1970-01-01 back to 1600-03-01
        assert_eq!(civil_from_days(start), (1600, 3, 1));
        for days in start..start + 200_000 {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            d += 1;
            if d > days_in_month(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
