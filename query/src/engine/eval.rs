//! Query set-up, the expression dispatcher and result assembly.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use strata_storage::{Labels, METRIC_NAME, SeriesReader};

use super::value::{Ctx, EvalResult, Grid, RawSeries, Series, Val};
use super::{EngineOptions, InstantSample, QueryError, QueryOptions, QueryResult, QueryStats, RangeSeries, Value};
use crate::parser::ast::{Expr, UnaryOp};

/// The message Prometheus gives when two output series end up with the same labels.
pub(crate) const DUPLICATE_LABELSET: &str = "vector cannot contain metrics with the same labelset";

/// What an expression evaluates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Scalar,
    Str,
    Vector,
    Matrix,
}

/// The static type of an expression.
pub(crate) fn type_of(e: &Expr) -> Ty {
    match e {
        Expr::Number(_) => Ty::Scalar,
        Expr::String(_) => Ty::Str,
        Expr::VectorSelector(_) | Expr::Aggregate(_) => Ty::Vector,
        Expr::MatrixSelector(_) | Expr::Subquery(_) => Ty::Matrix,
        Expr::Paren(e) | Expr::Unary(_, e) => type_of(e),
        Expr::Binary(b) => {
            if type_of(&b.lhs) == Ty::Scalar && type_of(&b.rhs) == Ty::Scalar {
                Ty::Scalar
            } else {
                Ty::Vector
            }
        }
        Expr::Call(c) => match c.func.as_str() {
            "time" | "scalar" | "pi" | "start" | "end" | "range" | "step" => Ty::Scalar,
            _ => Ty::Vector,
        },
    }
}

/// Prometheus' documented name of an expression's type.
pub(crate) fn type_name(e: &Expr) -> &'static str {
    match type_of(e) {
        Ty::Scalar => "scalar",
        Ty::Str => "string",
        Ty::Vector => "instant vector",
        Ty::Matrix => "range vector",
    }
}

/// Runs a query: `step == 0` is an instant query at `start`.
pub(crate) fn run(
    eopts: &EngineOptions,
    reader: &dyn SeriesReader,
    expr: &Expr,
    start: i64,
    end: i64,
    step: i64,
    qopts: &QueryOptions,
) -> Result<QueryResult, QueryError> {
    let ty = type_of(expr);
    if step > 0 && !matches!(ty, Ty::Scalar | Ty::Vector) {
        return Err(QueryError::BadData(format!(
            "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
            type_name(expr)
        )));
    }
    let timeout = qopts.timeout.unwrap_or(eopts.timeout);
    let ctx = Ctx {
        reader,
        lookback: qopts
            .lookback_delta_ms
            .filter(|l| *l > 0)
            .unwrap_or(eopts.lookback_delta_ms),
        max_samples: eopts.max_samples,
        deadline: Instant::now() + timeout,
        cancel: qopts.cancel.clone(),
        default_subquery_step: eopts.default_subquery_step_ms,
        query_start: start,
        query_end: end,
        query_step: step,
        resolution: qopts.resolution,
        warnings: Mutex::new(Vec::new()),
        infos: Mutex::new(Vec::new()),
        samples_loaded: AtomicU64::new(0),
        series_selected: AtomicU64::new(0),
        cur_samples: AtomicUsize::new(0),
    };
    let grid = if step == 0 {
        Grid { start, step: 1, n: 1 }
    } else {
        Grid::new(start, end, step)
    };
    let val = eval_expr(&ctx, expr, &grid)?;
    let value = match val {
        Val::Scalar(col) => {
            if step == 0 {
                Value::Scalar {
                    t: start,
                    v: col.first().copied().unwrap_or(f64::NAN),
                }
            } else {
                Value::Matrix(vec![RangeSeries {
                    labels: Labels::default(),
                    timestamps: (0..grid.n).map(|i| grid.t(i)).collect(),
                    values: col,
                }])
            }
        }
        Val::Str(s) => Value::String { t: start, v: s },
        Val::Vector(series) => {
            let series = drop_flagged_names(series);
            if step == 0 {
                let mut out = Vec::with_capacity(series.len());
                let mut seen = std::collections::HashSet::with_capacity(series.len());
                for s in series {
                    if let Some(Some(v)) = s.vals.first() {
                        if !seen.insert(s.labels.clone()) {
                            return Err(QueryError::Execution(DUPLICATE_LABELSET.into()));
                        }
                        out.push(InstantSample {
                            labels: s.labels,
                            t: start,
                            v: *v,
                        });
                    }
                }
                Value::Vector(out)
            } else {
                let mut merged = merge_same_labels(series)?;
                merged.sort_by(|a, b| a.labels.cmp(&b.labels));
                Value::Matrix(
                    merged
                        .into_iter()
                        .filter_map(|s| {
                            let mut timestamps = Vec::new();
                            let mut values = Vec::new();
                            for (i, v) in s.vals.iter().enumerate() {
                                if let Some(v) = v {
                                    timestamps.push(grid.t(i));
                                    values.push(*v);
                                }
                            }
                            (!timestamps.is_empty()).then_some(RangeSeries {
                                labels: s.labels,
                                timestamps,
                                values,
                            })
                        })
                        .collect(),
                )
            }
        }
        Val::Matrix(raw) => {
            let mut by_labels: HashMap<Labels, usize> = HashMap::new();
            let mut out: Vec<RawSeries> = Vec::new();
            for mut s in raw {
                if s.drop_name {
                    s.labels.remove(METRIC_NAME);
                }
                if let Some(&i) = by_labels.get(&s.labels) {
                    let Some(base) = out.get_mut(i) else { continue };
                    let mut pts: Vec<(i64, f64)> = base
                        .ts
                        .iter()
                        .copied()
                        .zip(base.vs.iter().copied())
                        .chain(s.ts.into_iter().zip(s.vs))
                        .collect();
                    pts.sort_by_key(|p| p.0);
                    if pts.windows(2).any(|w| w.first().map(|a| a.0) == w.get(1).map(|b| b.0)) {
                        return Err(QueryError::Execution(DUPLICATE_LABELSET.into()));
                    }
                    base.ts = pts.iter().map(|p| p.0).collect();
                    base.vs = pts.iter().map(|p| p.1).collect();
                } else {
                    by_labels.insert(s.labels.clone(), out.len());
                    out.push(s);
                }
            }
            out.sort_by(|a, b| a.labels.cmp(&b.labels));
            Value::Matrix(
                out.into_iter()
                    .map(|s| RangeSeries {
                        labels: s.labels,
                        timestamps: s.ts,
                        values: s.vs,
                    })
                    .collect(),
            )
        }
    };
    Ok(QueryResult {
        value,
        stats: QueryStats {
            samples_loaded: ctx.samples_loaded.load(Ordering::Relaxed),
            series_selected: ctx.series_selected.load(Ordering::Relaxed),
        },
        warnings: ctx
            .warnings
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
        infos: ctx
            .infos
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    })
}

/// Removes `__name__` from series flagged for delayed name removal.
fn drop_flagged_names(mut series: Vec<Series>) -> Vec<Series> {
    for s in &mut series {
        if s.drop_name {
            s.labels.remove(METRIC_NAME);
            s.drop_name = false;
        }
    }
    series
}

/// Merges series with identical label sets into one column; fails when two of them have a point at the
/// same step. Keeps first-seen order.
pub(crate) fn merge_same_labels(series: Vec<Series>) -> EvalResult<Vec<Series>> {
    let mut index: HashMap<Labels, usize> = HashMap::with_capacity(series.len());
    let mut out: Vec<Series> = Vec::with_capacity(series.len());
    for s in series {
        if let Some(&i) = index.get(&s.labels) {
            let Some(base) = out.get_mut(i) else { continue };
            for (dst, src) in base.vals.iter_mut().zip(s.vals) {
                if src.is_some() {
                    if dst.is_some() {
                        return Err(QueryError::Execution(DUPLICATE_LABELSET.into()));
                    }
                    *dst = src;
                }
            }
        } else {
            index.insert(s.labels.clone(), out.len());
            out.push(s);
        }
    }
    Ok(out)
}

/// Evaluates an expression over the grid.
///
/// Sample accounting follows Prometheus' peak semantics: while a node runs, everything its children hold
/// counts; once it is done, only its own output stays accounted.
pub(crate) fn eval_expr(ctx: &Ctx<'_>, expr: &Expr, grid: &Grid) -> EvalResult<Val> {
    ctx.check()?;
    if grid.n > ctx.max_samples {
        // Even one series over this grid would exceed the limit; fail before allocating columns.
        return Err(QueryError::TooManySamples);
    }
    let before = ctx.cur_samples.load(Ordering::Relaxed);
    let v = eval_node(ctx, expr, grid)?;
    let pts = match &v {
        Val::Scalar(c) => c.len(),
        Val::Str(_) => 0,
        Val::Vector(s) => s.iter().map(Series::points).sum(),
        Val::Matrix(m) => m.iter().map(|s| s.ts.len()).sum(),
    };
    ctx.cur_samples.store(before, Ordering::Relaxed);
    ctx.add_samples(pts)?;
    Ok(v)
}

fn eval_node(ctx: &Ctx<'_>, expr: &Expr, grid: &Grid) -> EvalResult<Val> {
    match expr {
        Expr::Number(v) => Ok(Val::Scalar(vec![*v; grid.n])),
        Expr::String(s) => Ok(Val::Str(s.clone())),
        Expr::Paren(e) => eval_expr(ctx, e, grid),
        Expr::VectorSelector(vs) => Ok(Val::Vector(super::selector::eval_vector_selector(
            ctx, vs, grid, false,
        )?)),
        Expr::MatrixSelector(_) | Expr::Subquery(_) => {
            if grid.n != 1 {
                return Err(QueryError::Execution(
                    "cannot do range evaluation of matrix selector".into(),
                ));
            }
            Ok(Val::Matrix(super::selector::eval_matrix_value(ctx, expr, grid)?))
        }
        Expr::Unary(op, e) => {
            let v = eval_expr(ctx, e, grid)?;
            if *op == UnaryOp::Pos {
                return Ok(v);
            }
            Ok(match v {
                Val::Scalar(col) => Val::Scalar(col.into_iter().map(|x| -x).collect()),
                Val::Vector(mut series) => {
                    for s in &mut series {
                        s.drop_name = true;
                        for v in s.vals.iter_mut().flatten() {
                            *v = -*v;
                        }
                    }
                    Val::Vector(series)
                }
                other => other,
            })
        }
        Expr::Binary(b) => super::binary::eval_binary(ctx, b, grid),
        Expr::Aggregate(a) => super::aggregate::eval_aggregate(ctx, a, grid),
        Expr::Call(c) => super::calls::eval_call(ctx, c, grid),
    }
}

/// Evaluates an expression that must be a scalar (a function or aggregation parameter).
pub(crate) fn eval_scalar(ctx: &Ctx<'_>, expr: &Expr, grid: &Grid) -> EvalResult<Vec<f64>> {
    match eval_expr(ctx, expr, grid)? {
        Val::Scalar(c) => Ok(c),
        _ => Err(QueryError::Execution(format!(
            "expected scalar, got {}",
            type_name(expr)
        ))),
    }
}

/// Evaluates an expression that must be an instant vector.
pub(crate) fn eval_vector(ctx: &Ctx<'_>, expr: &Expr, grid: &Grid) -> EvalResult<Vec<Series>> {
    match eval_expr(ctx, expr, grid)? {
        Val::Vector(v) => Ok(v),
        _ => Err(QueryError::Execution(format!(
            "expected instant vector, got {}",
            type_name(expr)
        ))),
    }
}

/// Evaluates an expression that must be a string literal.
pub(crate) fn eval_string(expr: &Expr) -> EvalResult<String> {
    match expr {
        Expr::String(s) => Ok(s.clone()),
        Expr::Paren(e) => eval_string(e),
        _ => Err(QueryError::Execution(format!(
            "expected string, got {}",
            type_name(expr)
        ))),
    }
}
