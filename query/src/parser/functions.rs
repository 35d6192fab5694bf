//! The PromQL function signature table, taken from Prometheus 3.x `promql/parser/functions.go`.
//!
//! The parser uses it for arity and argument type checks; the evaluator uses it to know what exists.

use super::ast::ValueType;

/// The signature of one PromQL function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionSig {
    /// The function's name.
    pub name: &'static str,
    /// The argument types, in order. With `variadic != 0` the last type repeats for the optional arguments.
    pub arg_types: &'static [ValueType],
    /// As Prometheus: 0 = exactly `arg_types.len()` arguments; -1 = the last argument is optional and may
    /// repeat without limit; n > 0 = the last argument is optional and up to n trailing ones may be given.
    pub variadic: i32,
    /// The type of the result.
    pub return_type: ValueType,
    /// Whether Prometheus gates it behind `--enable-feature=promql-experimental-functions`
    /// (Strata always enables them).
    pub experimental: bool,
}

impl FunctionSig {
    /// The smallest number of arguments the function accepts.
    pub fn min_args(&self) -> usize {
        if self.variadic == 0 {
            self.arg_types.len()
        } else {
            self.arg_types.len().saturating_sub(1)
        }
    }

    /// The largest number of arguments the function accepts; `None` when unlimited.
    pub fn max_args(&self) -> Option<usize> {
        match self.variadic {
            0 => Some(self.arg_types.len()),
            n if n < 0 => None,
            n => Some(self.min_args() + usize::try_from(n).unwrap_or(0)),
        }
    }

    /// The expected type of the argument at `index`, taking variadic repetition into account; `None` when
    /// the function takes no argument there.
    pub fn arg_type(&self, index: usize) -> Option<ValueType> {
        match self.arg_types.get(index) {
            Some(t) => Some(*t),
            None if self.variadic != 0 => self.arg_types.last().copied(),
            None => None,
        }
    }
}

/// Every function of Prometheus 3.x, sorted by name.
#[rustfmt::skip]
pub static FUNCTIONS: &[FunctionSig] = &[
    FunctionSig { name: "abs", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "absent", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "absent_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "acos", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "acosh", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "asin", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "asinh", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "atan", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "atanh", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "avg_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "ceil", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "changes", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "clamp", arg_types: &[ValueType::Vector, ValueType::Scalar, ValueType::Scalar], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "clamp_max", arg_types: &[ValueType::Vector, ValueType::Scalar], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "clamp_min", arg_types: &[ValueType::Vector, ValueType::Scalar], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "cos", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "cosh", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "count_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "day_of_month", arg_types: &[ValueType::Vector], variadic: 1, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "day_of_week", arg_types: &[ValueType::Vector], variadic: 1, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "day_of_year", arg_types: &[ValueType::Vector], variadic: 1, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "days_in_month", arg_types: &[ValueType::Vector], variadic: 1, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "deg", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "delta", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "deriv", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "double_exponential_smoothing", arg_types: &[ValueType::Matrix, ValueType::Scalar, ValueType::Scalar], variadic: 0, return_type: ValueType::Vector, experimental: true },
    FunctionSig { name: "end", arg_types: &[], variadic: 0, return_type: ValueType::Scalar, experimental: true },
    FunctionSig { name: "exp", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "first_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "floor", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "histogram_avg", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "histogram_count", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "histogram_fraction", arg_types: &[ValueType::Scalar, ValueType::Scalar, ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "histogram_quantile", arg_types: &[ValueType::Scalar, ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "histogram_quantiles", arg_types: &[ ValueType::Vector, ValueType::String, ValueType::Scalar, ValueType::Scalar, ], variadic: 9, return_type: ValueType::Vector, experimental: true },
    FunctionSig { name: "histogram_stddev", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "histogram_stdvar", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "histogram_sum", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "hour", arg_types: &[ValueType::Vector], variadic: 1, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "idelta", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "increase", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "info", arg_types: &[ValueType::Vector, ValueType::Vector], variadic: 1, return_type: ValueType::Vector, experimental: true },
    FunctionSig { name: "irate", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "label_join", arg_types: &[ ValueType::Vector, ValueType::String, ValueType::String, ValueType::String, ], variadic: -1, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "label_replace", arg_types: &[ ValueType::Vector, ValueType::String, ValueType::String, ValueType::String, ValueType::String, ], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "last_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "ln", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "log10", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "log2", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "mad_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: true },
    FunctionSig { name: "max_of", arg_types: &[ValueType::Scalar, ValueType::Scalar], variadic: 0, return_type: ValueType::Scalar, experimental: true },
    FunctionSig { name: "max_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "min_of", arg_types: &[ValueType::Scalar, ValueType::Scalar], variadic: 0, return_type: ValueType::Scalar, experimental: true },
    FunctionSig { name: "min_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "minute", arg_types: &[ValueType::Vector], variadic: 1, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "month", arg_types: &[ValueType::Vector], variadic: 1, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "pi", arg_types: &[], variadic: 0, return_type: ValueType::Scalar, experimental: false },
    FunctionSig { name: "predict_linear", arg_types: &[ValueType::Matrix, ValueType::Scalar], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "present_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "quantile_over_time", arg_types: &[ValueType::Scalar, ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "rad", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "range", arg_types: &[], variadic: 0, return_type: ValueType::Scalar, experimental: true },
    FunctionSig { name: "rate", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "resets", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "round", arg_types: &[ValueType::Vector, ValueType::Scalar], variadic: 1, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "scalar", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Scalar, experimental: false },
    FunctionSig { name: "sgn", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "sin", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "sinh", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "sort", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "sort_by_label", arg_types: &[ValueType::Vector, ValueType::String], variadic: -1, return_type: ValueType::Vector, experimental: true },
    FunctionSig { name: "sort_by_label_desc", arg_types: &[ValueType::Vector, ValueType::String], variadic: -1, return_type: ValueType::Vector, experimental: true },
    FunctionSig { name: "sort_desc", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "sqrt", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "start", arg_types: &[], variadic: 0, return_type: ValueType::Scalar, experimental: true },
    FunctionSig { name: "start_timestamp", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: true },
    FunctionSig { name: "stddev_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "stdvar_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "step", arg_types: &[], variadic: 0, return_type: ValueType::Scalar, experimental: true },
    FunctionSig { name: "sum_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "tan", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "tanh", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "time", arg_types: &[], variadic: 0, return_type: ValueType::Scalar, experimental: false },
    FunctionSig { name: "timestamp", arg_types: &[ValueType::Vector], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "ts_of_first_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: true },
    FunctionSig { name: "ts_of_last_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: true },
    FunctionSig { name: "ts_of_max_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: true },
    FunctionSig { name: "ts_of_min_over_time", arg_types: &[ValueType::Matrix], variadic: 0, return_type: ValueType::Vector, experimental: true },
    FunctionSig { name: "vector", arg_types: &[ValueType::Scalar], variadic: 0, return_type: ValueType::Vector, experimental: false },
    FunctionSig { name: "year", arg_types: &[ValueType::Vector], variadic: 1, return_type: ValueType::Vector, experimental: false },
];

/// Looks a function up by its exact (case-sensitive) name.
pub fn lookup(name: &str) -> Option<&'static FunctionSig> {
    FUNCTIONS
        .binary_search_by(|f| f.name.cmp(name))
        .ok()
        .and_then(|i| FUNCTIONS.get(i))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in FUNCTIONS.windows(2) {
            assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
        }
        assert_eq!(FUNCTIONS.len(), 90);
    }

    #[test]
    fn lookup_and_arity() {
        let rate = lookup("rate").unwrap();
        assert_eq!(rate.arg_types, &[ValueType::Matrix]);
        assert_eq!((rate.min_args(), rate.max_args()), (1, Some(1)));
        let round = lookup("round").unwrap();
        assert_eq!((round.min_args(), round.max_args()), (1, Some(2)));
        let lj = lookup("label_join").unwrap();
        assert_eq!((lj.min_args(), lj.max_args()), (3, None));
        assert_eq!(lj.arg_type(7), Some(ValueType::String));
        assert!(lookup("limitk").is_none(), "limitk is an aggregation, not a function");
        assert!(lookup("Rate").is_none());
        assert!(lookup("mad_over_time").unwrap().experimental);
    }
}
