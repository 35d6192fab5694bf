//! Function calls over instant vectors and scalars; range-vector functions live in `range_fn`, label and
//! ordering functions in `labels_fn`.

use std::collections::HashMap;

use strata_storage::{Labels, METRIC_NAME};

use super::QueryError;
use super::eval::{eval_scalar, eval_vector};
use super::range_fn::{absent_labels, eval_range_call, has_matrix_arg};
use super::selector::eval_vector_selector;
use super::value::{Ctx, EvalResult, Grid, Series, Val, fmt_go_float};
use crate::parser::ast::{Call, Expr};

/// Evaluates a function call.
pub(crate) fn eval_call(ctx: &Ctx<'_>, c: &Call, grid: &Grid) -> EvalResult<Val> {
    let name = c.func.as_str();
    let arg = |i: usize| {
        c.args
            .get(i)
            .ok_or_else(|| QueryError::Execution(format!("missing argument {i} of {name}")))
    };
    let n = grid.n;
    match name {
        "time" => return Ok(Val::Scalar((0..n).map(|i| grid.t(i) as f64 / 1000.0).collect())),
        "pi" => return Ok(Val::Scalar(vec![std::f64::consts::PI; n])),
        "start" => return Ok(Val::Scalar(vec![ctx.query_start as f64 / 1000.0; n])),
        "end" => return Ok(Val::Scalar(vec![ctx.query_end as f64 / 1000.0; n])),
        "range" => return Ok(Val::Scalar(vec![(ctx.query_end - ctx.query_start) as f64 / 1000.0; n])),
        "step" => return Ok(Val::Scalar(vec![ctx.query_step as f64 / 1000.0; n])),
        "max_of" | "min_of" => {
            let a = eval_scalar(ctx, arg(0)?, grid)?;
            let b = eval_scalar(ctx, arg(1)?, grid)?;
            let f = if name == "max_of" {
                crate::functions::max_of
            } else {
                crate::functions::min_of
            };
            return Ok(Val::Scalar(a.iter().zip(&b).map(|(&x, &y)| f(x, y)).collect()));
        }
        "scalar" => {
            let v = eval_vector(ctx, arg(0)?, grid)?;
            let mut out = vec![f64::NAN; n];
            for (i, slot) in out.iter_mut().enumerate() {
                let mut found = None;
                let mut many = false;
                for s in &v {
                    if let Some(Some(x)) = s.vals.get(i) {
                        if found.is_some() {
                            many = true;
                            break;
                        }
                        found = Some(*x);
                    }
                }
                *slot = if many { f64::NAN } else { found.unwrap_or(f64::NAN) };
            }
            return Ok(Val::Scalar(out));
        }
        "vector" => {
            let v = eval_scalar(ctx, arg(0)?, grid)?;
            return Ok(Val::Vector(vec![Series {
                labels: Labels::default(),
                drop_name: false,
                vals: v.into_iter().map(Some).collect(),
            }]));
        }
        "timestamp" => {
            let a = arg(0)?;
            let mut series = if let Expr::VectorSelector(vs) = a {
                eval_vector_selector(ctx, vs, grid, true)?
            } else {
                let mut v = eval_vector(ctx, a, grid)?;
                for s in &mut v {
                    for (i, x) in s.vals.iter_mut().enumerate() {
                        if x.is_some() {
                            *x = Some(grid.t(i) as f64 / 1000.0);
                        }
                    }
                }
                v
            };
            for s in &mut series {
                s.drop_name = true;
            }
            return Ok(Val::Vector(series));
        }
        "absent" => {
            let a = arg(0)?;
            let v = eval_vector(ctx, a, grid)?;
            let mut vals = vec![Some(1.0); n];
            for s in &v {
                for (slot, x) in vals.iter_mut().zip(&s.vals) {
                    if x.is_some() {
                        *slot = None;
                    }
                }
            }
            if vals.iter().all(Option::is_none) {
                return Ok(Val::Vector(Vec::new()));
            }
            return Ok(Val::Vector(vec![Series {
                labels: absent_labels(a),
                drop_name: false,
                vals,
            }]));
        }
        "label_replace" => return super::labels_fn::label_replace(ctx, c, grid),
        "label_join" => return super::labels_fn::label_join(ctx, c, grid),
        "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => {
            return super::labels_fn::sort_call(ctx, c, grid);
        }
        "histogram_quantile" | "histogram_quantiles" | "histogram_fraction" => return histogram_call(ctx, c, grid),
        "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev" | "histogram_stdvar" => {
            // Native histograms only: float samples give no output.
            let _ = eval_vector(ctx, arg(0)?, grid)?;
            return Ok(Val::Vector(Vec::new()));
        }
        "info" => return super::info::eval_info(ctx, c, grid),
        "minute" | "hour" | "day_of_week" | "day_of_month" | "day_of_year" | "days_in_month" | "month" | "year" => {
            return date_call(ctx, c, grid);
        }
        _ => {}
    }
    if has_matrix_arg(c) {
        return eval_range_call(ctx, c, grid);
    }
    // Per-value math: first argument a vector, the rest scalars.
    let mut params: Vec<Vec<f64>> = Vec::new();
    for a in c.args.iter().skip(1) {
        params.push(eval_scalar(ctx, a, grid)?);
    }
    if crate::parser::functions::lookup(name).is_none() {
        return Err(QueryError::Execution(format!("unknown function with name {name:?}")));
    }
    let mut v = eval_vector(ctx, arg(0)?, grid)?;
    let mut p: Vec<f64> = Vec::with_capacity(params.len());
    for s in &mut v {
        for (i, x) in s.vals.iter_mut().enumerate() {
            if let Some(val) = *x {
                p.clear();
                p.extend(params.iter().map(|c| c.get(i).copied().unwrap_or(f64::NAN)));
                *x = crate::functions::eval_math(name, val, &p);
            }
        }
        s.drop_name = true;
    }
    v.retain(|s| s.vals.iter().any(Option::is_some));
    Ok(Val::Vector(v))
}

/// Date functions: of the sample values (seconds), or of the evaluation time without an argument.
fn date_call(ctx: &Ctx<'_>, c: &Call, grid: &Grid) -> EvalResult<Val> {
    let name = c.func.as_str();
    let Some(a) = c.args.first() else {
        let vals = (0..grid.n)
            .map(|i| crate::functions::eval_time(name, (grid.t(i).div_euclid(1000)) as f64))
            .collect();
        return Ok(Val::Vector(vec![Series {
            labels: Labels::default(),
            drop_name: false,
            vals,
        }]));
    };
    let mut v = eval_vector(ctx, a, grid)?;
    for s in &mut v {
        for x in s.vals.iter_mut() {
            if let Some(val) = *x {
                *x = crate::functions::eval_time(name, val);
            }
        }
        s.drop_name = true;
    }
    v.retain(|s| s.vals.iter().any(Option::is_some));
    Ok(Val::Vector(v))
}

/// histogram_quantile(φ, buckets), histogram_quantiles(buckets, label, φ...) and
/// histogram_fraction(lower, upper, buckets) over classic histograms: series are grouped by their labels
/// without `le`.
fn histogram_call(ctx: &Ctx<'_>, c: &Call, grid: &Grid) -> EvalResult<Val> {
    let name = c.func.as_str();
    let missing = || QueryError::Execution(format!("missing argument of {name}"));
    // (vector argument, scalar parameters, output label for histogram_quantiles)
    let (vec_arg, param_args, q_label): (&Expr, Vec<&Expr>, Option<String>) = match name {
        "histogram_quantile" => (
            c.args.get(1).ok_or_else(missing)?,
            c.args.iter().take(1).collect(),
            None,
        ),
        "histogram_fraction" => (
            c.args.get(2).ok_or_else(missing)?,
            c.args.iter().take(2).collect(),
            None,
        ),
        _ => (
            c.args.first().ok_or_else(missing)?,
            c.args.iter().skip(2).collect(),
            Some(super::eval::eval_string(c.args.get(1).ok_or_else(missing)?)?),
        ),
    };
    let is_fraction = name == "histogram_fraction";
    let mut params = Vec::new();
    for a in &param_args {
        params.push(eval_scalar(ctx, a, grid)?);
    }
    // Quantile parameters are validated at every step, whatever the input.
    if !is_fraction {
        let mut bad_q: Vec<f64> = Vec::new();
        for q in params.iter().flatten() {
            if (q.is_nan() || !(0.0..=1.0).contains(q)) && !bad_q.iter().any(|b| b.to_bits() == q.to_bits()) {
                bad_q.push(*q);
            }
        }
        for q in bad_q {
            ctx.warn(format!(
                "PromQL warning: quantile value should be between 0 and 1, got {}",
                fmt_go_float(q)
            ));
        }
    }
    let input = eval_vector(ctx, vec_arg, grid)?;
    // Group once: key = labels without `le`; remember each member's upper bound.
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<(Labels, Vec<(usize, f64)>)> = Vec::new();
    for (si, s) in input.iter().enumerate() {
        let le = s.labels.get("le").unwrap_or("");
        let Some(ub) = parse_go_float(le) else {
            if s.vals.iter().any(Option::is_some) {
                let mut msg =
                    format!("PromQL warning: bucket label \"le\" is missing or has a malformed value of {le:?}");
                if let Some(metric) = s.labels.get(METRIC_NAME) {
                    msg.push_str(&format!(" for metric name {metric:?}"));
                }
                ctx.warn(msg);
            }
            continue;
        };
        let mut key = s.labels.clone();
        key.remove("le");
        let gi = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        if let Some(g) = groups.get_mut(gi) {
            g.1.push((si, ub));
        }
    }
    let outputs = if is_fraction || q_label.is_none() {
        1
    } else {
        params.len()
    };
    let mut out = Vec::with_capacity(groups.len() * outputs);
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for (labels, members) in groups {
        let mut cols: Vec<Vec<Option<f64>>> = vec![vec![None; grid.n]; outputs];
        for step in 0..grid.n {
            for (oi, col) in cols.iter_mut().enumerate() {
                buckets.clear();
                for &(si, ub) in &members {
                    if let Some(Some(v)) = input.get(si).and_then(|s| s.vals.get(step)) {
                        buckets.push((ub, *v));
                    }
                }
                if buckets.is_empty() {
                    continue;
                }
                let p = |i: usize| params.get(i).and_then(|p| p.get(step)).copied().unwrap_or(f64::NAN);
                let v = if is_fraction {
                    crate::functions::bucket_fraction(p(0), p(1), &mut buckets)
                } else {
                    let (q, fixed) = crate::functions::bucket_quantile(p(oi), &mut buckets);
                    if fixed {
                        let mut msg = "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)".to_string();
                        if let Some(m) = labels.get(METRIC_NAME) {
                            msg.push_str(&format!(" for metric name {m:?}"));
                        }
                        ctx.info(msg);
                    }
                    q
                };
                if let Some(slot) = col.get_mut(step) {
                    *slot = Some(v);
                }
            }
        }
        for (oi, vals) in cols.into_iter().enumerate() {
            if !vals.iter().any(Option::is_some) {
                continue;
            }
            let mut l = labels.clone();
            if let Some(ql) = &q_label {
                let q = params.get(oi).and_then(|p| p.first()).copied().unwrap_or(f64::NAN);
                l.set(ql, &fmt_openmetrics_float(q));
            }
            out.push(Series {
                labels: l,
                drop_name: true,
                vals,
            });
        }
    }
    Ok(Val::Vector(super::eval::merge_same_labels(out)?))
}

/// Formats a float as Prometheus' `labels.FormatOpenMetricsFloat` (`1.0`, `0.25`, `NaN`, `+Inf`).
fn fmt_openmetrics_float(f: f64) -> String {
    let s = fmt_go_float(f);
    if f.is_finite() && !s.contains(['.', 'e']) {
        format!("{s}.0")
    } else {
        s
    }
}

/// Parses a float as Go's `strconv.ParseFloat` accepts it (for `le` labels).
pub(crate) fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.trim_start_matches(['+', '-']);
    let lower = t.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(if s.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower == "nan" {
        return Some(f64::NAN);
    }
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    s.parse::<f64>().ok()
}
