//! [`RangeFunc`]: the range-vector functions as an enum, resolved from their name once per query so that
//! evaluating a window is a plain `match` on a small integer.

use super::{Window, over_time, range, smoothing};

/// A range-vector function that [`RangeFunc::eval`] evaluates over one [`Window`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeFunc {
    /// `rate`: per-second extrapolated increase of a counter.
    Rate,
    /// `increase`: extrapolated increase of a counter.
    Increase,
    /// `delta`: extrapolated difference of a gauge.
    Delta,
    /// `irate`: per-second increase between the last two samples.
    Irate,
    /// `idelta`: difference between the last two samples.
    Idelta,
    /// `deriv`: least-squares slope per second.
    Deriv,
    /// `predict_linear(v, t)`: least-squares prediction `t` seconds after the evaluation time.
    PredictLinear,
    /// `changes`: number of value changes.
    Changes,
    /// `resets`: number of decreases.
    Resets,
    /// `avg_over_time`.
    AvgOverTime,
    /// `sum_over_time`.
    SumOverTime,
    /// `min_over_time`.
    MinOverTime,
    /// `max_over_time`.
    MaxOverTime,
    /// `count_over_time`.
    CountOverTime,
    /// `stddev_over_time`.
    StddevOverTime,
    /// `stdvar_over_time`.
    StdvarOverTime,
    /// `last_over_time`.
    LastOverTime,
    /// `first_over_time`.
    FirstOverTime,
    /// `present_over_time`.
    PresentOverTime,
    /// `mad_over_time`.
    MadOverTime,
    /// `quantile_over_time(φ, v)`.
    QuantileOverTime,
    /// `ts_of_min_over_time`.
    TsOfMinOverTime,
    /// `ts_of_max_over_time`.
    TsOfMaxOverTime,
    /// `ts_of_last_over_time`.
    TsOfLastOverTime,
    /// `ts_of_first_over_time`.
    TsOfFirstOverTime,
    /// `double_exponential_smoothing(v, sf, tf)`.
    DoubleExponentialSmoothing,
}

/// Every range function with its PromQL name.
const TABLE: &[(&str, RangeFunc)] = &[
    ("rate", RangeFunc::Rate),
    ("increase", RangeFunc::Increase),
    ("delta", RangeFunc::Delta),
    ("irate", RangeFunc::Irate),
    ("idelta", RangeFunc::Idelta),
    ("deriv", RangeFunc::Deriv),
    ("predict_linear", RangeFunc::PredictLinear),
    ("changes", RangeFunc::Changes),
    ("resets", RangeFunc::Resets),
    ("avg_over_time", RangeFunc::AvgOverTime),
    ("sum_over_time", RangeFunc::SumOverTime),
    ("min_over_time", RangeFunc::MinOverTime),
    ("max_over_time", RangeFunc::MaxOverTime),
    ("count_over_time", RangeFunc::CountOverTime),
    ("stddev_over_time", RangeFunc::StddevOverTime),
    ("stdvar_over_time", RangeFunc::StdvarOverTime),
    ("last_over_time", RangeFunc::LastOverTime),
    ("first_over_time", RangeFunc::FirstOverTime),
    ("present_over_time", RangeFunc::PresentOverTime),
    ("mad_over_time", RangeFunc::MadOverTime),
    ("quantile_over_time", RangeFunc::QuantileOverTime),
    ("ts_of_min_over_time", RangeFunc::TsOfMinOverTime),
    ("ts_of_max_over_time", RangeFunc::TsOfMaxOverTime),
    ("ts_of_last_over_time", RangeFunc::TsOfLastOverTime),
    ("ts_of_first_over_time", RangeFunc::TsOfFirstOverTime),
    ("double_exponential_smoothing", RangeFunc::DoubleExponentialSmoothing),
];

/// The names [`super::eval_range`] accepts.
pub const RANGE_FUNCTIONS: &[&str] = &[
    "rate",
    "increase",
    "delta",
    "irate",
    "idelta",
    "deriv",
    "predict_linear",
    "changes",
    "resets",
    "avg_over_time",
    "sum_over_time",
    "min_over_time",
    "max_over_time",
    "count_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "last_over_time",
    "first_over_time",
    "present_over_time",
    "mad_over_time",
    "quantile_over_time",
    "ts_of_min_over_time",
    "ts_of_max_over_time",
    "ts_of_last_over_time",
    "ts_of_first_over_time",
    "double_exponential_smoothing",
];

impl RangeFunc {
    /// Resolves a PromQL function name; `None` if it is not a range function handled here.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        TABLE.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
    }

    /// The PromQL name.
    #[must_use]
    pub fn name(self) -> &'static str {
        TABLE.iter().find(|(_, f)| *f == self).map_or("", |&(n, _)| n)
    }

    /// Evaluates the function over one window (see [`super::eval_range`] for the parameters); `None` means
    /// no output point: empty window, too few samples, or a missing parameter.
    #[must_use]
    pub fn eval(self, w: &Window, params: &[f64]) -> Option<f64> {
        if w.is_empty() {
            return None;
        }
        let p0 = params.first().copied();
        let p1 = params.get(1).copied();
        match self {
            Self::Rate => range::extrapolated_rate(w, true, true),
            Self::Increase => range::extrapolated_rate(w, true, false),
            Self::Delta => range::extrapolated_rate(w, false, false),
            Self::Irate => range::instant_value(w, true),
            Self::Idelta => range::instant_value(w, false),
            Self::Deriv => range::deriv(w),
            Self::PredictLinear => {
                let eval_ts = p1.map_or(w.range_end, |t| t as i64);
                range::predict_linear(w, p0?, eval_ts)
            }
            Self::Changes => Some(range::changes(w.vs)),
            Self::Resets => Some(range::resets(w.vs)),
            Self::AvgOverTime => over_time::avg(w.vs),
            Self::SumOverTime => over_time::sum(w.vs),
            Self::MinOverTime => over_time::min(w.vs),
            Self::MaxOverTime => over_time::max(w.vs),
            Self::CountOverTime => Some(w.len() as f64),
            Self::StddevOverTime => over_time::stddev(w.vs),
            Self::StdvarOverTime => over_time::stdvar(w.vs),
            Self::LastOverTime => w.vs.last().copied(),
            Self::FirstOverTime => w.vs.first().copied(),
            Self::PresentOverTime => Some(1.0),
            Self::MadOverTime => over_time::mad(w.vs),
            Self::QuantileOverTime => over_time::quantile_over_time(p0?, w.vs),
            Self::TsOfMinOverTime => over_time::ts_of_min(w.ts, w.vs),
            Self::TsOfMaxOverTime => over_time::ts_of_max(w.ts, w.vs),
            Self::TsOfLastOverTime => w.ts.last().map(|&t| t as f64 / 1000.0),
            Self::TsOfFirstOverTime => w.ts.first().map(|&t| t as f64 / 1000.0),
            Self::DoubleExponentialSmoothing => smoothing::double_exponential_smoothing(w.vs, p0?, p1?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(TABLE.len(), RANGE_FUNCTIONS.len());
        for (name, (table_name, f)) in RANGE_FUNCTIONS.iter().zip(TABLE) {
            assert_eq!(name, table_name);
            assert_eq!(RangeFunc::from_name(name), Some(*f));
            assert_eq!(f.name(), *name);
        }
        assert_eq!(RangeFunc::from_name("holt_winters"), None);
        assert_eq!(RangeFunc::from_name("absent_over_time"), None);
    }
}
