//! Functions over range vectors (`rate(x[5m])`, `avg_over_time(q[1h:5m])`, ...): every window of every
//! series is handed to the kernels in [`crate::functions`].

use rayon::prelude::*;
use strata_storage::METRIC_NAME;

use super::QueryError;
use super::downsampled::{aggregate_for, avg_columns, kernel_name};
use super::eval::{Ty, eval_scalar, type_of};
use super::selector::{RangeInput, range_input};
use super::value::{Ctx, EvalResult, Grid, RawSeries, Series, Val, column_points, fmt_go_float};
use crate::functions::{RangeFunc, Window, range};
use crate::parser::ast::{Call, Expr};
use strata_storage::MatchOp;

/// Range functions whose per-step parameters need attention before each window.
#[derive(Clone, Copy)]
enum Special {
    /// `double_exponential_smoothing`: the factors are validated.
    Smoothing,
    /// `predict_linear`: the evaluation time is appended.
    PredictLinear,
    /// `quantile_over_time`: invalid quantiles are collected for a warning.
    Quantile,
    /// Everything else.
    None,
}

/// One series' output column, its first error and the invalid quantiles it saw.
/// A series' output column, its number of points, its first error and the invalid quantiles it saw.
type SeriesOutcome = (Vec<Option<f64>>, usize, Option<QueryError>, Vec<f64>);

/// Whether this call has a range-vector argument.
pub(crate) fn has_matrix_arg(c: &Call) -> bool {
    c.args.iter().any(|a| type_of(a) == Ty::Matrix)
}

/// A range-function call taken apart: its range-vector argument and the per-step values of its other
/// (scalar) arguments, in order.
pub(crate) struct RangeCall<'e> {
    pub name: &'e str,
    pub matrix_expr: &'e Expr,
    pub params: Vec<Vec<f64>>,
}

impl<'e> RangeCall<'e> {
    /// Evaluates the scalar arguments of `c` on `grid`.
    pub(crate) fn new(ctx: &Ctx<'_>, c: &'e Call, grid: &Grid) -> EvalResult<Self> {
        let name = c.func.as_str();
        let Some(mi) = c.args.iter().position(|a| type_of(a) == Ty::Matrix) else {
            return Err(QueryError::Execution(format!("function {name} expects a range vector")));
        };
        let mut params: Vec<Vec<f64>> = Vec::new();
        for (i, a) in c.args.iter().enumerate() {
            if i != mi {
                params.push(eval_scalar(ctx, a, grid)?);
            }
        }
        let matrix_expr = c
            .args
            .get(mi)
            .ok_or_else(|| QueryError::Execution("missing argument".into()))?;
        Ok(RangeCall {
            name,
            matrix_expr,
            params,
        })
    }
}

/// Evaluates a function whose arguments include one range vector.
pub(crate) fn eval_range_call(ctx: &Ctx<'_>, c: &Call, grid: &Grid) -> EvalResult<Val> {
    let call = RangeCall::new(ctx, c, grid)?;
    let (name, matrix_expr) = (call.name, call.matrix_expr);
    let input = range_input(ctx, matrix_expr, grid, aggregate_for(name))?;
    ctx.check()?;

    if name == "absent_over_time" {
        let mut present = vec![false; grid.n];
        input.for_each_window(|_, step, _, _| {
            if let Some(p) = present.get_mut(step) {
                *p = true;
            }
        });
        let vals: Vec<Option<f64>> = present.iter().map(|p| if *p { None } else { Some(1.0) }).collect();
        if vals.iter().all(Option::is_none) {
            return Ok(Val::Vector(Vec::new()));
        }
        return Ok(Val::Vector(vec![Series {
            labels: absent_labels(matrix_expr),
            drop_name: true,
            vals,
        }]));
    }

    range_call_series(ctx, &call, input, grid).map(|(series, _)| Val::Vector(series))
}

/// The output series of a range-function call (other than `absent_over_time`) over `input`: one per input
/// series with any output point, in input order; and their number of points (added to the query's sample
/// count).
pub(crate) fn range_call_series(
    ctx: &Ctx<'_>,
    call: &RangeCall<'_>,
    input: RangeInput,
    grid: &Grid,
) -> EvalResult<(Vec<Series>, usize)> {
    let (name, matrix_expr, params) = (call.name, call.matrix_expr, &call.params);
    let keep_name = matches!(name, "last_over_time" | "first_over_time");
    // One column per series, computed in parallel; errors and bad quantiles come back with it.
    let per_series: Vec<SeriesOutcome> = if input.downsampled && name == "avg_over_time" {
        avg_columns(ctx, matrix_expr, grid, &input)?
            .into_iter()
            .map(|col| {
                let points = column_points(&col);
                (col, points, None, Vec::new())
            })
            .collect()
    } else {
        kernel_columns(ctx, name, &input, params, grid)
    };
    let mut cols = Vec::with_capacity(per_series.len());
    let mut bad_quantiles: Vec<f64> = Vec::new();
    for (col, points, err, bad_q) in per_series {
        if let Some(e) = err {
            return Err(e);
        }
        add_quantiles(&mut bad_quantiles, bad_q);
        cols.push((col, points));
    }
    warn_bad_quantiles(ctx, bad_quantiles);
    let mut out = Vec::with_capacity(cols.len());
    let mut pts = 0usize;
    for (s, (vals, points)) in input.series.into_iter().zip(cols) {
        if points == 0 {
            continue;
        }
        pts += points;
        if let Some(msg) = not_a_counter(name, &s.labels) {
            ctx.info(msg);
        }
        out.push(Series {
            labels: s.labels,
            drop_name: !keep_name || s.drop_name,
            vals,
        });
    }
    ctx.add_samples(pts)?;
    Ok((out, pts))
}

/// Adds the quantiles of `more` not yet in `seen` (compared bit for bit), in order.
pub(crate) fn add_quantiles(seen: &mut Vec<f64>, more: Vec<f64>) {
    for q in more {
        if !seen.iter().any(|b| b.to_bits() == q.to_bits()) {
            seen.push(q);
        }
    }
}

/// Warns of the invalid quantiles `quantile_over_time` was given.
pub(crate) fn warn_bad_quantiles(ctx: &Ctx<'_>, bad: Vec<f64>) {
    for q in bad {
        ctx.warn(format!(
            "PromQL warning: quantile value should be between 0 and 1, got {}",
            fmt_go_float(q)
        ));
    }
}

/// The info annotation that `rate` and `increase` (`name`) give for a series whose metric name does not look
/// like a counter's.
pub(crate) fn not_a_counter(name: &str, labels: &strata_storage::Labels) -> Option<String> {
    if !matches!(name, "rate" | "increase") {
        return None;
    }
    let metric = labels.get(METRIC_NAME)?;
    (!["_total", "_sum", "_count", "_bucket"]
        .iter()
        .any(|suf| metric.ends_with(suf)))
    .then(|| {
        format!(
            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {metric:?}"
        )
    })
}

/// The output column of every series of `input` under the range function `name`, computed in parallel,
/// with each series' first error and the invalid quantiles it saw.
fn kernel_columns(
    ctx: &Ctx<'_>,
    name: &str,
    input: &RangeInput,
    params: &[Vec<f64>],
    grid: &Grid,
) -> Vec<SeriesOutcome> {
    let kernel = Kernel::new(name, input, params);
    input
        .series
        .par_iter()
        .map(|s| {
            let mut col = Vec::new();
            let (points, err, bad_q) = kernel.column(ctx, input, s, grid, &mut col);
            (col, points, err, bad_q)
        })
        .collect()
}

/// A range function resolved once for every series of an input: what [`Kernel::column`] needs per window.
pub(crate) struct Kernel<'p> {
    func: Option<RangeFunc>,
    present: bool,
    special: Special,
    /// Every window of a range selector has the selector's length: `rate`'s divisor, computed once.
    rate_seconds: f64,
    /// `Some(is_rate)` for `rate` and `increase`.
    counter_rate: Option<bool>,
    params: &'p [Vec<f64>],
}

impl<'p> Kernel<'p> {
    /// The kernel of range function `name` (not `absent_over_time`) over `input`, with the per-step values
    /// of its scalar arguments.
    pub(crate) fn new(name: &str, input: &RangeInput, params: &'p [Vec<f64>]) -> Self {
        let func = RangeFunc::from_name(kernel_name(name, input.downsampled));
        Kernel {
            func,
            present: name == "present_over_time",
            special: match name {
                "double_exponential_smoothing" => Special::Smoothing,
                "predict_linear" => Special::PredictLinear,
                "quantile_over_time" => Special::Quantile,
                _ => Special::None,
            },
            rate_seconds: crate::functions::duration_seconds(input.range),
            counter_rate: match func {
                Some(RangeFunc::Rate) => Some(true),
                Some(RangeFunc::Increase) => Some(false),
                _ => None,
            },
            params,
        }
    }

    /// Fills `col` (resized to the grid) with the output column of series `s` of `input`; returns its
    /// number of points, its first error and the invalid quantiles it saw.
    pub(crate) fn column(
        &self,
        ctx: &Ctx<'_>,
        input: &RangeInput,
        s: &RawSeries,
        grid: &Grid,
        col: &mut Vec<Option<f64>>,
    ) -> (usize, Option<QueryError>, Vec<f64>) {
        col.clear();
        col.resize(grid.n, None);
        self.each(ctx, input, s, grid, |step, v| {
            if let Some(slot) = col.get_mut(step) {
                *slot = Some(v);
            }
        })
    }

    /// Hands every output point `(step, value)` of series `s` of `input` to `out`, in step order; returns
    /// their number, the series' first error (no point follows it) and the invalid quantiles it saw.
    #[inline]
    pub(crate) fn each(
        &self,
        ctx: &Ctx<'_>,
        input: &RangeInput,
        s: &RawSeries,
        grid: &Grid,
        mut out: impl FnMut(usize, f64),
    ) -> (usize, Option<QueryError>, Vec<f64>) {
        // Timeout and cancellation are checked once per series.
        let mut err: Option<QueryError> = ctx.check().err();
        let mut bad_q: Vec<f64> = Vec::new();
        let mut points = 0usize;
        if err.is_some() {
            return (points, err, bad_q);
        }
        // A series that never drops has no reset in any of its windows: one scan instead of one per window,
        // and a tight loop over its windows.
        if let Some(is_rate) = self.counter_rate
            && !self.present
            && !range::has_drop(&s.vs)
        {
            let rate_seconds = is_rate.then_some(self.rate_seconds);
            input.windows_of(s, |step, ts, vs| {
                if let Some(&end) = input.ends.get(step) {
                    let w = Window {
                        ts,
                        vs,
                        range_start: end - input.range,
                        range_end: end,
                    };
                    if let Some(v) = range::counter_rate_without_resets(&w, rate_seconds) {
                        points += 1;
                        out(step, v);
                    }
                }
            });
            return (points, err, bad_q);
        }
        let mut step_params: Vec<f64> = Vec::with_capacity(self.params.len() + 1);
        input.windows_of(s, |step, ts, vs| {
            if err.is_some() {
                return;
            }
            let Some(&end) = input.ends.get(step) else { return };
            step_params.clear();
            step_params.extend(self.params.iter().map(|p| p.get(step).copied().unwrap_or(f64::NAN)));
            match self.special {
                Special::Smoothing => {
                    let sf = step_params.first().copied().unwrap_or(f64::NAN);
                    let tf = step_params.get(1).copied().unwrap_or(f64::NAN);
                    if let Some(msg) = crate::functions::smoothing_params_error(sf, tf) {
                        err = Some(QueryError::Execution(msg));
                        return;
                    }
                }
                Special::PredictLinear => step_params.push(grid.t(step) as f64),
                Special::Quantile => {
                    let q = step_params.first().copied().unwrap_or(f64::NAN);
                    if (q.is_nan() || !(0.0..=1.0).contains(&q)) && !bad_q.iter().any(|b| b.to_bits() == q.to_bits()) {
                        bad_q.push(q);
                    }
                }
                Special::None => {}
            }
            let w = Window {
                ts,
                vs,
                range_start: end - input.range,
                range_end: end,
            };
            let v = if self.present {
                Some(1.0)
            } else {
                self.func.and_then(|f| f.eval(&w, &step_params))
            };
            if let Some(v) = v {
                points += 1;
                out(step, v);
            }
        });
        (points, err, bad_q)
    }
}

/// The labels of `absent()`/`absent_over_time()` output: the equality matchers of the selector, except
/// `__name__` and labels matched more than once.
pub(crate) fn absent_labels(e: &Expr) -> strata_storage::Labels {
    let matchers = match e {
        Expr::VectorSelector(vs) => &vs.matchers,
        Expr::MatrixSelector(ms) => &ms.selector.matchers,
        _ => return Default::default(),
    };
    let mut l = strata_storage::Labels::default();
    let mut has: Vec<&str> = Vec::new();
    for m in matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if m.op == MatchOp::Equal && !has.contains(&m.name.as_str()) {
            l.set(&m.name, &m.value);
            has.push(&m.name);
        } else {
            l.remove(&m.name);
        }
    }
    l
}
