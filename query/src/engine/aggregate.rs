//! Aggregation operators. Series are grouped once; each group's columns are then reduced step by step.

use std::collections::HashMap;

use rayon::prelude::*;

use strata_storage::{Labels, METRIC_NAME};

use super::QueryError;
use super::eval::{eval_scalar, eval_string, eval_vector};
use super::value::{Ctx, EvalResult, Grid, Series, Val, fmt_go_float, fmt_go_float_f};
use crate::parser::ast::{AggregateExpr, AggregateOp, Grouping};

/// Neumaier-compensated increment, as Prometheus' `kahansum.Inc`.
pub(crate) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    if t.is_infinite() {
        (t, 0.0)
    } else if sum.abs() >= inc.abs() {
        (t, c + ((sum - t) + inc))
    } else {
        (t, c + ((inc - t) + sum))
    }
}

/// The output labels (and group key) of a series under a grouping.
pub(crate) fn group_labels(labels: &Labels, grouping: &Option<Grouping>) -> Labels {
    // Only the kept labels are cloned (a selection's label sets are many; most aggregations keep few).
    let keep = |x: &&strata_storage::Label| match grouping {
        Some(Grouping::By(names)) => names.contains(&x.name),
        Some(Grouping::Without(names)) => x.name != METRIC_NAME && !names.contains(&x.name),
        None => false,
    };
    Labels::from_sorted(labels.iter().filter(keep).cloned().collect())
}

/// Evaluates an aggregation.
pub(crate) fn eval_aggregate(ctx: &Ctx<'_>, a: &AggregateExpr, grid: &Grid) -> EvalResult<Val> {
    if a.op == AggregateOp::CountValues {
        return count_values(ctx, a, grid);
    }
    if let Some(folded) = super::folded::eval_folded(ctx, a, grid) {
        return folded;
    }
    let params = match &a.param {
        Some(p) if a.op != AggregateOp::CountValues => Some(eval_scalar(ctx, p, grid)?),
        _ => None,
    };
    let input = eval_vector(ctx, &a.expr, grid)?;
    ctx.check()?;
    let n = grid.n;
    // As Prometheus' fParams: NaN propagates into min and max.
    let go_max = |a: f64, b: f64| if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) };
    let go_min = |a: f64, b: f64| if a.is_nan() || b.is_nan() { f64::NAN } else { a.min(b) };
    let pmax = params
        .as_ref()
        .map_or(0.0, |p| p.iter().copied().fold(-f64::MAX, go_max));
    let pmin = params
        .as_ref()
        .map_or(0.0, |p| p.iter().copied().fold(f64::MAX, go_min));
    let pnan = params.as_ref().is_some_and(|p| p.iter().any(|x| x.is_nan()));
    match a.op {
        AggregateOp::Topk | AggregateOp::Bottomk | AggregateOp::Limitk => {
            if pmax < 1.0 {
                return Ok(Val::Vector(Vec::new()));
            }
            if pnan {
                return Err(QueryError::Execution("Parameter value is NaN".into()));
            }
            if pmin <= -9.223_372_036_854_776e18 {
                return Err(QueryError::Execution(format!(
                    "Scalar value {} underflows int64",
                    fmt_go_float(pmin)
                )));
            }
            if pmax >= 9.223_372_036_854_776e18 {
                return Err(QueryError::Execution(format!(
                    "Scalar value {} overflows int64",
                    fmt_go_float(pmax)
                )));
            }
        }
        AggregateOp::LimitRatio => {
            if pmax == 0.0 && pmin == 0.0 {
                return Ok(Val::Vector(Vec::new()));
            }
            if pnan {
                return Err(QueryError::Execution("Ratio value is NaN".into()));
            }
            if pmax > 1.0 {
                ctx.warn(format!(
                    "PromQL warning: ratio value should be between -1 and 1, got {}, capping to 1",
                    fmt_go_float(pmax)
                ));
            }
            if pmin < -1.0 {
                ctx.warn(format!(
                    "PromQL warning: ratio value should be between -1 and 1, got {}, capping to -1",
                    fmt_go_float(pmin)
                ));
            }
        }
        AggregateOp::Quantile => {
            if pnan {
                ctx.warn("PromQL warning: quantile value should be between 0 and 1, got NaN".into());
            }
            if pmax > 1.0 {
                ctx.warn(format!(
                    "PromQL warning: quantile value should be between 0 and 1, got {}",
                    fmt_go_float(pmax)
                ));
            }
            if pmin < 0.0 {
                ctx.warn(format!(
                    "PromQL warning: quantile value should be between 0 and 1, got {}",
                    fmt_go_float(pmin)
                ));
            }
        }
        _ => {}
    }

    // Group series once.
    let mut key_index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<(Labels, Vec<usize>)> = Vec::new();
    for (si, s) in input.iter().enumerate() {
        let key = group_labels(&s.labels, &a.grouping);
        let gi = match key_index.get(&key) {
            Some(&gi) => gi,
            None => {
                key_index.insert(key.clone(), groups.len());
                groups.push((key, Vec::new()));
                groups.len() - 1
            }
        };
        if let Some(g) = groups.get_mut(gi) {
            g.1.push(si);
        }
    }

    if matches!(
        a.op,
        AggregateOp::Topk | AggregateOp::Bottomk | AggregateOp::Limitk | AggregateOp::LimitRatio
    ) {
        let params = params.unwrap_or_default();
        return Ok(Val::Vector(select_k(a.op, &params, input, &groups, n)));
    }

    let params = params.as_deref();
    let input = &input;
    let out: Vec<Series> = groups
        .into_par_iter()
        .filter_map(|(labels, members)| {
            // Steps in blocks, in parallel: each block gathers its steps' values series by series (sequential
            // reads of each member's column), then reduces each step in member order.
            let blocks: Vec<(Vec<Option<f64>>, bool)> = (0..n.div_ceil(STEP_BLOCK))
                .into_par_iter()
                .map(|b| {
                    let first = b * STEP_BLOCK;
                    let len = STEP_BLOCK.min(n - first);
                    let mut bufs: Vec<Vec<f64>> = (0..len).map(|_| Vec::with_capacity(members.len())).collect();
                    let mut drop_name = false;
                    for s in members.iter().filter_map(|&si| input.get(si)) {
                        for (buf, v) in bufs.iter_mut().zip(s.vals.iter().skip(first)) {
                            if let Some(v) = v {
                                buf.push(*v);
                                drop_name |= s.drop_name;
                            }
                        }
                    }
                    let vals = bufs
                        .iter_mut()
                        .enumerate()
                        .map(|(k, buf)| {
                            (!buf.is_empty()).then(|| {
                                let q = params.and_then(|p| p.get(first + k)).copied().unwrap_or(f64::NAN);
                                reduce(a.op, buf, q)
                            })
                        })
                        .collect();
                    (vals, drop_name)
                })
                .collect();
            let drop_name = blocks.iter().any(|b| b.1);
            let vals: Vec<Option<f64>> = blocks.into_iter().flat_map(|b| b.0).collect();
            vals.iter().any(Option::is_some).then_some(Series {
                labels,
                drop_name,
                vals,
            })
        })
        .collect();
    Ok(Val::Vector(out))
}

/// Steps an aggregation reduces together: small enough that a block's buffers (one per step, one value per
/// member) stay cache-friendly, large enough to read each member's column in runs.
const STEP_BLOCK: usize = 64;

/// Reduces one group's values at one step, exactly as Prometheus accumulates them (input order matters for
/// floating point).
fn reduce(op: AggregateOp, vals: &mut [f64], q: f64) -> f64 {
    if op == AggregateOp::Quantile {
        return crate::functions::quantile(q, vals);
    }
    let mut fold = Fold::default();
    for &f in vals.iter() {
        fold.push(op, f);
    }
    fold.result(op).unwrap_or(f64::NAN)
}

/// Whether `op` reduces a step's values one at a time in input order with [`Fold`] (no parameter, no need
/// to see all values at once).
pub(crate) fn folds(op: AggregateOp) -> bool {
    matches!(
        op,
        AggregateOp::Sum
            | AggregateOp::Avg
            | AggregateOp::Count
            | AggregateOp::Group
            | AggregateOp::Max
            | AggregateOp::Min
            | AggregateOp::Stddev
            | AggregateOp::Stdvar
    )
}

/// The running state of one group at one step under an operator that [`folds`]: values are pushed in input
/// order, as Prometheus accumulates them. Fields by operator: `sum` (x = sum, y = compensation), `avg`
/// (x = sum, y = compensation, z = mean, `incremental` once the sum overflowed), `max`/`min` (x),
/// `stddev`/`stdvar` (x = mean, y = sum of squared deviations); `n` counts the values.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fold {
    x: f64,
    y: f64,
    z: f64,
    n: u32,
    incremental: bool,
}

impl Fold {
    /// Adds the next value.
    #[inline]
    pub(crate) fn push(&mut self, op: AggregateOp, f: f64) {
        match op {
            AggregateOp::Sum => {
                self.push_sum(f);
                return;
            }
            AggregateOp::Avg => {
                self.push_avg(f);
                return;
            }
            _ => {}
        }
        if self.n == 0 {
            self.n = 1;
            match op {
                AggregateOp::Max | AggregateOp::Min => self.x = f,
                AggregateOp::Stddev | AggregateOp::Stdvar => {
                    self.x = f;
                    self.y = if f.is_nan() || f.is_infinite() { f64::NAN } else { 0.0 };
                }
                _ => {}
            }
            return;
        }
        self.n = self.n.saturating_add(1);
        let count = f64::from(self.n);
        match op {
            AggregateOp::Max => {
                if self.x < f || self.x.is_nan() {
                    self.x = f;
                }
            }
            AggregateOp::Min => {
                if self.x > f || self.x.is_nan() {
                    self.x = f;
                }
            }
            AggregateOp::Stddev | AggregateOp::Stdvar => {
                let delta = f - self.x;
                self.x += delta / count;
                self.y += delta * (f - self.x);
            }
            _ => {}
        }
    }

    /// [`Fold::push`] for `sum`, which a caller with many values resolves once.
    #[inline]
    pub(crate) fn push_sum(&mut self, f: f64) {
        if self.n == 0 {
            self.n = 1;
            self.x = f;
            return;
        }
        self.n = self.n.saturating_add(1);
        (self.x, self.y) = kahan_inc(f, self.x, self.y);
    }

    /// [`Fold::push`] for `avg`: a compensated sum until it overflows, then a running mean, as Prometheus
    /// keeps it.
    #[inline]
    pub(crate) fn push_avg(&mut self, f: f64) {
        if self.n == 0 {
            self.n = 1;
            (self.x, self.y, self.z) = (f, 0.0, f);
            return;
        }
        self.n = self.n.saturating_add(1);
        let count = f64::from(self.n);
        if !self.incremental {
            let (nv, nc) = kahan_inc(f, self.x, self.y);
            if !nv.is_infinite() {
                (self.x, self.y) = (nv, nc);
                return;
            }
            self.incremental = true;
            self.z = self.x / (count - 1.0);
            self.y /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (self.z, self.y) = kahan_inc(f / count, q * self.z, q * self.y);
    }

    /// Whether states of `op` can be [`Fold::merge`]d: folded apart over parts of the input, then combined.
    pub(crate) fn merges(op: AggregateOp) -> bool {
        folds(op) && !matches!(op, AggregateOp::Stddev | AggregateOp::Stdvar)
    }

    /// Adds the values folded into `other` (an operator that [`Fold::merges`]): counts add up, maxima and
    /// minima compare as single values do, and a sum adds the other sum with compensation and then its
    /// compensation. An average does the same with its sums until they overflow; then (or if either
    /// already keeps a running mean) it keeps the mean of the two means weighted by their counts. Only the
    /// last bits of a sum or an average can differ from pushing the other's values one by one.
    #[inline]
    pub(crate) fn merge(&mut self, op: AggregateOp, other: &Fold) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let (before, other_n) = (f64::from(self.n), f64::from(other.n));
        self.n = self.n.saturating_add(other.n);
        match op {
            AggregateOp::Sum => {
                (self.x, self.y) = kahan_inc(other.x, self.x, self.y);
                self.y += other.y;
            }
            AggregateOp::Avg => {
                if !self.incremental && !other.incremental {
                    let (sum, c) = kahan_inc(other.x, self.x, self.y);
                    if !sum.is_infinite() {
                        (self.x, self.y) = (sum, c + other.y);
                        return;
                    }
                }
                let mean = |f: &Fold, n: f64| if f.incremental { f.z + f.y } else { f.x / n + f.y / n };
                let total = before + other_n;
                self.z = mean(self, before) * (before / total) + mean(other, other_n) * (other_n / total);
                self.y = 0.0;
                self.incremental = true;
            }
            AggregateOp::Max | AggregateOp::Min => {
                let n = self.n;
                self.push(op, other.x);
                self.n = n;
            }
            _ => {}
        }
    }

    /// The aggregate of the values pushed, `None` when there were none.
    pub(crate) fn result(&self, op: AggregateOp) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let count = f64::from(self.n);
        Some(match op {
            AggregateOp::Sum => self.x + self.y,
            AggregateOp::Avg if self.incremental => self.z + self.y,
            AggregateOp::Avg => self.x / count + self.y / count,
            AggregateOp::Count => count,
            AggregateOp::Group => 1.0,
            AggregateOp::Max | AggregateOp::Min => self.x,
            AggregateOp::Stdvar => self.y / count,
            AggregateOp::Stddev => (self.y / count).sqrt(),
            _ => f64::NAN,
        })
    }
}

/// topk / bottomk / limitk / limit_ratio: the output series are input series, present where selected.
fn select_k(
    op: AggregateOp,
    params: &[f64],
    input: Vec<Series>,
    groups: &[(Labels, Vec<usize>)],
    n: usize,
) -> Vec<Series> {
    let total = input.len() as i64;
    let mut selected: Vec<Vec<bool>> = vec![vec![false; n]; input.len()];
    // Order of output rows for single-step queries: per group, in Prometheus' output order.
    let mut order: Vec<usize> = Vec::new();
    let offsets: Vec<f64> = if op == AggregateOp::LimitRatio {
        input.iter().map(|s| ratio_offset(&s.labels)).collect()
    } else {
        Vec::new()
    };
    for step in 0..n {
        let p = params.get(step).copied().unwrap_or(f64::NAN);
        for (_, members) in groups {
            let present: Vec<(usize, f64)> = members
                .iter()
                .filter_map(|&si| {
                    input
                        .get(si)
                        .and_then(|s| s.vals.get(step).copied().flatten())
                        .map(|v| (si, v))
                })
                .collect();
            let chosen: Vec<usize> = match op {
                AggregateOp::LimitRatio => {
                    let r = p.clamp(-1.0, 1.0);
                    if p == 0.0 {
                        Vec::new()
                    } else {
                        present
                            .iter()
                            .filter(|(si, _)| {
                                let off = offsets.get(*si).copied().unwrap_or(0.0);
                                (r >= 0.0 && off < r) || (r < 0.0 && off >= 1.0 + r)
                            })
                            .map(|(si, _)| *si)
                            .collect()
                    }
                }
                _ => {
                    let k = (p as i64).min(total);
                    if k < 1 {
                        Vec::new()
                    } else {
                        let mut c = present.clone();
                        let k = k as usize;
                        // Ties go to the series seen first, as Prometheus' heap keeps them.
                        let cmp = |a: &(usize, f64), b: &(usize, f64)| {
                            let o = if op == AggregateOp::Topk {
                                cmp_desc_nan_last(a.1, b.1)
                            } else {
                                cmp_asc_nan_last(a.1, b.1)
                            };
                            o.then(a.0.cmp(&b.0))
                        };
                        if op != AggregateOp::Limitk {
                            if k < c.len() {
                                c.select_nth_unstable_by(k, cmp);
                                c.truncate(k);
                            }
                            c.sort_by(cmp);
                        }
                        c.into_iter().take(k).map(|(si, _)| si).collect()
                    }
                }
            };
            for si in chosen {
                if let Some(sel) = selected.get_mut(si).and_then(|c| c.get_mut(step)) {
                    *sel = true;
                }
                if n == 1 {
                    order.push(si);
                }
            }
        }
    }
    let mut rows: Vec<Option<Series>> = input.into_iter().map(Some).collect();
    let mut out = Vec::new();
    let mut take = |si: usize, rows: &mut Vec<Option<Series>>| {
        if let Some(mut s) = rows.get_mut(si).and_then(Option::take) {
            let sel = selected.get(si);
            for (i, v) in s.vals.iter_mut().enumerate() {
                if !sel.and_then(|c| c.get(i)).copied().unwrap_or(false) {
                    *v = None;
                }
            }
            if s.vals.iter().any(Option::is_some) {
                out.push(s);
            }
        }
    };
    if n == 1 {
        for si in order {
            take(si, &mut rows);
        }
    } else {
        for si in 0..rows.len() {
            take(si, &mut rows);
        }
    }
    out
}

fn cmp_desc_nan_last(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => b.partial_cmp(&a).unwrap_or(std::cmp::Ordering::Equal),
    }
}

fn cmp_asc_nan_last(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
    }
}

/// The position of a series in `[0, 1)` used by `limit_ratio`: its label hash over the hash range, as
/// Prometheus' `HashRatioSampler` (xxhash64 of `name 0xff value 0xff ...`).
fn ratio_offset(labels: &Labels) -> f64 {
    let mut b = Vec::new();
    for l in labels.iter() {
        b.extend_from_slice(l.name.as_bytes());
        b.push(0xff);
        b.extend_from_slice(l.value.as_bytes());
        b.push(0xff);
    }
    super::labels_fn::xxhash64(&b) as f64 / u64::MAX as f64
}

/// count_values: counts series per distinct value, the value going into a label.
fn count_values(ctx: &Ctx<'_>, a: &AggregateExpr, grid: &Grid) -> EvalResult<Val> {
    let label = match &a.param {
        Some(p) => eval_string(p)?,
        None => return Err(QueryError::Execution("count_values needs a label name".into())),
    };
    if !valid_label_name(&label) {
        return Err(QueryError::Execution(format!("invalid label name {label:?}")));
    }
    let grouping = match &a.grouping {
        Some(Grouping::By(names)) => {
            let mut names = names.clone();
            names.push(label.clone());
            Some(Grouping::By(names))
        }
        None => Some(Grouping::By(vec![label.clone()])),
        other => other.clone(),
    };
    let input = eval_vector(ctx, &a.expr, grid)?;
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<Series> = Vec::new();
    for step in 0..grid.n {
        for s in &input {
            let Some(Some(v)) = s.vals.get(step) else { continue };
            let mut l = s.labels.clone();
            l.set(&label, &fmt_go_float_f(*v));
            let key = group_labels(&l, &grouping);
            let i = *index.entry(key.clone()).or_insert_with(|| {
                out.push(Series {
                    labels: key,
                    drop_name: false,
                    vals: vec![None; grid.n],
                });
                out.len() - 1
            });
            if let Some(slot) = out.get_mut(i).and_then(|o| o.vals.get_mut(step)) {
                *slot = Some(slot.unwrap_or(0.0) + 1.0);
            }
        }
    }
    Ok(Val::Vector(out))
}

/// Whether `name` is a valid label name: any non-empty valid UTF-8 in Prometheus 3. Strings are decoded
/// into Rust strings, where invalid bytes became U+FFFD, so that character marks an invalid name.
pub(crate) fn valid_label_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('\u{fffd}')
}
