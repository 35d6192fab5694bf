//! Functions over range vectors (`rate(x[5m])`, `avg_over_time(q[1h:5m])`, ...): every window of every
//! series is handed to the kernels in [`crate::functions`].

use rayon::prelude::*;
use strata_storage::METRIC_NAME;

use super::QueryError;
use super::downsampled::{aggregate_for, avg_columns, kernel_name};
use super::eval::{Ty, eval_scalar, type_of};
use super::selector::{RangeInput, range_input};
use super::value::{Ctx, EvalResult, Grid, Series, Val, column_points, fmt_go_float};
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
        for q in bad_q {
            if !bad_quantiles.iter().any(|b| b.to_bits() == q.to_bits()) {
                bad_quantiles.push(q);
            }
        }
        cols.push((col, points));
    }
    for q in bad_quantiles {
        ctx.warn(format!(
            "PromQL warning: quantile value should be between 0 and 1, got {}",
            fmt_go_float(q)
        ));
    }
    let mut out = Vec::with_capacity(cols.len());
    let mut pts = 0usize;
    for (s, (vals, points)) in input.series.into_iter().zip(cols) {
        if points == 0 {
            continue;
        }
        pts += points;
        if matches!(name, "rate" | "increase")
            && let Some(metric) = s.labels.get(METRIC_NAME)
            && !["_total", "_sum", "_count", "_bucket"]
                .iter()
                .any(|suf| metric.ends_with(suf))
        {
            ctx.info(format!(
                "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {metric:?}"
            ));
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

/// The output column of every series of `input` under the range function `name`, computed in parallel,
/// with each series' first error and the invalid quantiles it saw.
fn kernel_columns(
    ctx: &Ctx<'_>,
    name: &str,
    input: &RangeInput,
    params: &[Vec<f64>],
    grid: &Grid,
) -> Vec<SeriesOutcome> {
    let kernel = kernel_name(name, input.downsampled);
    // Resolved once, not per window.
    let func = RangeFunc::from_name(kernel);
    let present = name == "present_over_time";
    let special = match name {
        "double_exponential_smoothing" => Special::Smoothing,
        "predict_linear" => Special::PredictLinear,
        "quantile_over_time" => Special::Quantile,
        _ => Special::None,
    };
    // Every window of a range selector has the selector's length.
    let rate_seconds = crate::functions::duration_seconds(input.range);
    let counter_rate = match func {
        Some(RangeFunc::Rate) => Some(true),
        Some(RangeFunc::Increase) => Some(false),
        _ => None,
    };
    input
        .series
        .par_iter()
        .map(|s| {
            let mut col = vec![None; grid.n];
            // Timeout and cancellation are checked once per series.
            let mut err: Option<QueryError> = ctx.check().err();
            let mut bad_q: Vec<f64> = Vec::new();
            let mut step_params: Vec<f64> = Vec::with_capacity(params.len() + 1);
            // A series that never drops has no reset in any of its windows: one scan instead of one per window,
            // and a tight loop over its windows.
            if let Some(is_rate) = counter_rate
                && !present
                && !range::has_drop(&s.vs)
            {
                input.windows_of(s, |step, ts, vs| {
                    if let (Some(&end), Some(slot)) = (input.ends.get(step), col.get_mut(step)) {
                        let w = Window {
                            ts,
                            vs,
                            range_start: end - input.range,
                            range_end: end,
                        };
                        *slot = range::counter_rate_without_resets(&w, is_rate.then_some(rate_seconds));
                    }
                });
                let points = column_points(&col);
                return (col, points, err, bad_q);
            }
            input.windows_of(s, |step, ts, vs| {
                if err.is_some() {
                    return;
                }
                let Some(&end) = input.ends.get(step) else { return };
                step_params.clear();
                step_params.extend(params.iter().map(|p| p.get(step).copied().unwrap_or(f64::NAN)));
                match special {
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
                        if (q.is_nan() || !(0.0..=1.0).contains(&q))
                            && !bad_q.iter().any(|b| b.to_bits() == q.to_bits())
                        {
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
                let out = if present {
                    Some(1.0)
                } else {
                    func.and_then(|f| f.eval(&w, &step_params))
                };
                if let Some(slot) = col.get_mut(step) {
                    *slot = out;
                }
            });
            // Counted while the column is still in this core's cache, not in later passes over all of them.
            let points = column_points(&col);
            (col, points, err, bad_q)
        })
        .collect()
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
