//! Binary operators: scalar/scalar, vector/scalar, vector/vector with matching, and set operators.
//! Vector/vector operands are matched once by signature; the columns are then combined step by step.

use std::collections::HashMap;

use strata_storage::{Label, Labels, METRIC_NAME};

use super::QueryError;
use super::eval::{eval_expr, merge_same_labels};
use super::value::{Ctx, EvalResult, Grid, Series, Val};
use crate::parser::ast::{BinaryExpr, BinaryOp, Cardinality, Matching};

/// Applies an arithmetic or comparison operator to two floats: `(value, keep)`. Comparisons keep the
/// left value when true.
pub(crate) fn elem_op(op: BinaryOp, l: f64, r: f64) -> (f64, bool) {
    match op {
        BinaryOp::Add => (l + r, true),
        BinaryOp::Sub => (l - r, true),
        BinaryOp::Mul => (l * r, true),
        BinaryOp::Div => (l / r, true),
        BinaryOp::Mod => (l % r, true),
        BinaryOp::Pow => (l.powf(r), true),
        BinaryOp::Atan2 => (l.atan2(r), true),
        BinaryOp::Eql => (l, l == r),
        BinaryOp::Neq => (l, l != r),
        BinaryOp::Gtr => (l, l > r),
        BinaryOp::Lss => (l, l < r),
        BinaryOp::Gte => (l, l >= r),
        BinaryOp::Lte => (l, l <= r),
        BinaryOp::And | BinaryOp::Or | BinaryOp::Unless => (f64::NAN, false),
    }
}

/// Whether the operator changes what the metric means (its name is dropped from the result).
fn changes_schema(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::Pow | BinaryOp::Atan2
    )
}

fn btos(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// Evaluates a binary expression.
pub(crate) fn eval_binary(ctx: &Ctx<'_>, b: &BinaryExpr, grid: &Grid) -> EvalResult<Val> {
    let lhs = eval_expr(ctx, &b.lhs, grid)?;
    let rhs = eval_expr(ctx, &b.rhs, grid)?;
    match (lhs, rhs) {
        (Val::Scalar(l), Val::Scalar(r)) => Ok(Val::Scalar(
            l.iter()
                .zip(&r)
                .map(|(&l, &r)| {
                    let (v, keep) = elem_op(b.op, l, r);
                    if b.op.is_comparison() { btos(keep) } else { v }
                })
                .collect(),
        )),
        (Val::Vector(l), Val::Scalar(r)) => Ok(Val::Vector(vector_scalar(b, l, &r, false))),
        (Val::Scalar(l), Val::Vector(r)) => Ok(Val::Vector(vector_scalar(b, r, &l, true))),
        (Val::Vector(l), Val::Vector(r)) => {
            if b.op.is_set() {
                Ok(Val::Vector(merge_same_labels(set_op(b, l, r))?))
            } else {
                Ok(Val::Vector(vector_vector(ctx, b, l, r)?))
            }
        }
        _ => Err(QueryError::Execution(
            "invalid operand types for binary operator".into(),
        )),
    }
}

fn vector_scalar(b: &BinaryExpr, vec: Vec<Series>, sc: &[f64], swap: bool) -> Vec<Series> {
    let mut out = Vec::with_capacity(vec.len());
    for mut s in vec {
        let mut any = false;
        for (slot, &k) in s.vals.iter_mut().zip(sc) {
            let Some(x) = *slot else { continue };
            let (l, r) = if swap { (k, x) } else { (x, k) };
            let (mut v, keep) = elem_op(b.op, l, r);
            if b.op.is_comparison() && swap {
                v = x;
            }
            *slot = if b.return_bool {
                Some(btos(keep))
            } else if keep {
                Some(v)
            } else {
                None
            };
            any |= slot.is_some();
        }
        if changes_schema(b.op) || b.return_bool {
            s.drop_name = true;
        }
        if any {
            out.push(s);
        }
    }
    out
}

/// How series are matched: `(on, labels)`.
fn matching_of(b: &BinaryExpr) -> (bool, Vec<String>) {
    match &b.matching {
        Some(Matching::On(l)) => (true, l.clone()),
        Some(Matching::Ignoring(l)) => (false, l.clone()),
        None => (false, Vec::new()),
    }
}

/// The join signature of a label set.
fn signature(labels: &Labels, on: bool, names: &[String]) -> String {
    let mut sig = String::new();
    for l in labels.iter() {
        let include = if on {
            names.contains(&l.name)
        } else {
            l.name != METRIC_NAME && !names.contains(&l.name)
        };
        if include {
            sig.push_str(&l.name);
            sig.push('\u{ff}');
            sig.push_str(&l.value);
            sig.push('\u{fe}');
        }
    }
    sig
}

/// The labels used for matching, for error messages.
fn match_labels(labels: &Labels, on: bool, names: &[String]) -> Labels {
    let mut l = labels.clone();
    l.retain(|x| {
        if on {
            names.contains(&x.name)
        } else {
            x.name != METRIC_NAME && !names.contains(&x.name)
        }
    });
    l
}

fn set_op(b: &BinaryExpr, lhs: Vec<Series>, rhs: Vec<Series>) -> Vec<Series> {
    let (on, names) = matching_of(b);
    let n = lhs.first().or(rhs.first()).map_or(0, |s| s.vals.len());
    // Presence of each signature per step on one side.
    let presence = |side: &[Series]| {
        let mut m: HashMap<String, Vec<bool>> = HashMap::new();
        for s in side {
            let col = m
                .entry(signature(&s.labels, on, &names))
                .or_insert_with(|| vec![false; n]);
            for (p, v) in col.iter_mut().zip(&s.vals) {
                *p |= v.is_some();
            }
        }
        m
    };
    match b.op {
        BinaryOp::And | BinaryOp::Unless => {
            let keep_if = b.op == BinaryOp::And;
            let rp = presence(&rhs);
            lhs.into_iter()
                .filter_map(|mut s| {
                    let col = rp.get(&signature(&s.labels, on, &names));
                    let mut any = false;
                    for (i, v) in s.vals.iter_mut().enumerate() {
                        let present = col.and_then(|c| c.get(i)).copied().unwrap_or(false);
                        if present != keep_if {
                            *v = None;
                        }
                        any |= v.is_some();
                    }
                    any.then_some(s)
                })
                .collect()
        }
        _ => {
            let lp = presence(&lhs);
            let mut out = lhs;
            for mut s in rhs {
                let col = lp.get(&signature(&s.labels, on, &names));
                let mut any = false;
                for (i, v) in s.vals.iter_mut().enumerate() {
                    if col.and_then(|c| c.get(i)).copied().unwrap_or(false) {
                        *v = None;
                    }
                    any |= v.is_some();
                }
                if any {
                    out.push(s);
                }
            }
            out
        }
    }
}

/// Keeps the earliest (step, priority) error.
struct FirstError(Option<(usize, u8, String)>);

impl FirstError {
    fn set(&mut self, step: usize, prio: u8, msg: impl FnOnce() -> String) {
        if self.0.as_ref().is_none_or(|(s, p, _)| (step, prio) < (*s, *p)) {
            self.0 = Some((step, prio, msg()));
        }
    }
}

fn vector_vector(ctx: &Ctx<'_>, b: &BinaryExpr, lhs: Vec<Series>, rhs: Vec<Series>) -> EvalResult<Vec<Series>> {
    ctx.check()?;
    let (on, names) = matching_of(b);
    let (card, include) = match &b.card {
        Cardinality::ManyToOne(inc) => (1u8, inc.clone()),
        Cardinality::OneToMany(inc) => (2u8, inc.clone()),
        _ => (0u8, Vec::new()),
    };
    let swapped = card == 2;
    let (many, one) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
    let n = many.first().or(one.first()).map_or(0, |s| s.vals.len());
    let mut err = FirstError(None);

    // Group the "one" side by signature and detect duplicates present at the same step.
    let mut one_groups: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, s) in one.iter().enumerate() {
        one_groups.entry(signature(&s.labels, on, &names)).or_default().push(i);
    }
    let side = if swapped { "left" } else { "right" };
    // Prometheus only looks at the "one" side at steps where the other side has samples.
    let many_present: Vec<bool> = (0..n)
        .map(|step| many.iter().any(|s| s.vals.get(step).is_some_and(Option::is_some)))
        .collect();
    for idxs in one_groups.values().filter(|v| v.len() > 1) {
        for step in 0..n {
            if !many_present.get(step).copied().unwrap_or(false) {
                continue;
            }
            let present: Vec<usize> = idxs
                .iter()
                .copied()
                .filter(|&i| one.get(i).and_then(|s| s.vals.get(step)).is_some_and(|v| v.is_some()))
                .collect();
            if let (Some(&a), Some(&bb)) = (present.first(), present.get(1)) {
                let (Some(sa), Some(sb)) = (one.get(a), one.get(bb)) else {
                    continue;
                };
                err.set(step, 0, || {
                    let (mut d1, mut d2) = (go_labels_string(&sb.labels), go_labels_string(&sa.labels));
                    if d1 > d2 {
                        std::mem::swap(&mut d1, &mut d2);
                    }
                    format!(
                        "found duplicate series for the match group {} on the {side} hand-side of the operation: [{d1}, {d2}];many-to-many matching not allowed: matching labels must be unique on one side",
                        go_labels_string(&match_labels(&sb.labels, on, &names))
                    )
                });
                break;
            }
        }
    }

    // Combine every "many" series with each "one" series of its group.
    let mut out: Vec<Series> = Vec::new();
    // Per signature, per step: which many-side series matched (one-to-one check) / output labels (many-to-one).
    let mut matched_count: HashMap<String, Vec<u32>> = HashMap::new();
    let mut out_sig: Vec<String> = Vec::new();
    for ms in &many {
        let sig = signature(&ms.labels, on, &names);
        let Some(group) = one_groups.get(&sig) else { continue };
        let mut matched_steps = vec![false; n];
        for &oi in group {
            let Some(os) = one.get(oi) else { continue };
            let mut vals = vec![None; n];
            for step in 0..n {
                let (Some(Some(mv)), Some(Some(ov))) = (ms.vals.get(step), os.vals.get(step)) else {
                    continue;
                };
                if let Some(m) = matched_steps.get_mut(step) {
                    *m = true;
                }
                let (l, r) = if swapped { (*ov, *mv) } else { (*mv, *ov) };
                let (v, keep) = elem_op(b.op, l, r);
                let v = if b.return_bool {
                    Some(btos(keep))
                } else if keep {
                    Some(v)
                } else {
                    None
                };
                if let (Some(slot), Some(v)) = (vals.get_mut(step), v) {
                    *slot = Some(v);
                }
            }
            // Series that matched but were filtered out still count for the match checks.
            let labels = result_labels(&ms.labels, &os.labels, b.op, card, on, &names, &include);
            out.push(Series {
                labels,
                drop_name: b.return_bool,
                vals,
            });
            out_sig.push(sig.clone());
        }
        if card == 0 {
            let counts = matched_count.entry(sig).or_insert_with(|| vec![0; n]);
            for (step, m) in matched_steps.iter().enumerate() {
                if *m && let Some(c) = counts.get_mut(step) {
                    *c += 1;
                    if *c > 1 {
                        err.set(step, 1, || {
                            "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
                                .to_string()
                        });
                    }
                }
            }
        }
    }
    // Output rows are created for every (many, one) pair; presence of a match (even a filtered one) matters
    // for the checks, so recompute match presence per pair for the many-to-one check.
    if card != 0 {
        let mut seen: HashMap<(&str, &Labels), Vec<bool>> = HashMap::new();
        let mut pair = 0usize;
        for ms in &many {
            let sig = signature(&ms.labels, on, &names);
            let Some(group) = one_groups.get(&sig) else { continue };
            for &oi in group {
                let (Some(os), Some(o)) = (one.get(oi), out.get(pair)) else {
                    continue;
                };
                let sig_ref = out_sig.get(pair).map_or("", String::as_str);
                let col = seen.entry((sig_ref, &o.labels)).or_insert_with(|| vec![false; n]);
                for step in 0..n {
                    let matched = ms.vals.get(step).is_some_and(Option::is_some)
                        && os.vals.get(step).is_some_and(Option::is_some);
                    if matched && let Some(c) = col.get_mut(step) {
                        if *c {
                            err.set(step, 1, || {
                                "multiple matches for labels: grouping labels must ensure unique matches".to_string()
                            });
                        }
                        *c = true;
                    }
                }
                pair += 1;
            }
        }
    }
    if let Some((_, _, msg)) = err.0 {
        return Err(QueryError::Execution(msg));
    }
    out.retain(|s| s.vals.iter().any(Option::is_some));
    merge_same_labels(out)
}

/// The labels of a vector/vector result, as Prometheus' `resultMetric`.
fn result_labels(
    many: &Labels,
    one: &Labels,
    op: BinaryOp,
    card: u8,
    on: bool,
    names: &[String],
    include: &[String],
) -> Labels {
    let mut l = many.clone();
    if changes_schema(op) {
        l.remove(METRIC_NAME);
        l.remove("__type__");
        l.remove("__unit__");
    }
    if card == 0 {
        if on {
            l.retain(|x: &Label| names.contains(&x.name));
        } else {
            l.retain(|x: &Label| !names.contains(&x.name));
        }
    }
    for name in include {
        match one.get(name) {
            Some(v) => {
                let v = v.to_string();
                l.set(name, &v);
            }
            None => l.remove(name),
        }
    }
    l
}

/// Formats labels as Prometheus' `labels.Labels.String()`: `{__name__="x", a="b"}`.
pub(crate) fn go_labels_string(l: &Labels) -> String {
    let legacy = |n: &str| {
        let mut chars = n.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let parts: Vec<String> = l
        .iter()
        .map(|x| {
            if legacy(&x.name) {
                format!("{}={:?}", x.name, x.value)
            } else {
                format!("{:?}={:?}", x.name, x.value)
            }
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}
