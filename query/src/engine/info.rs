//! `info(v [, data-label-selector])`: enriches series with the data labels of info metrics
//! (`target_info` by default) that share their identifying labels (`instance`, `job`), as Prometheus'
//! `promql/info.go` does.

use std::collections::{BTreeMap, HashMap, HashSet};

use strata_storage::{LabelMatcher, Labels, METRIC_NAME, MatchOp};

use super::QueryError;
use super::eval::{eval_vector, merge_same_labels};
use super::selector::eval_vector_selector;
use super::value::{Ctx, EvalResult, Grid, Series, Val};
use crate::parser::ast::{AtModifier, Call, Expr, VectorSelector};

const TARGET_INFO: &str = "target_info";
const IDENTIFYING: [&str; 2] = ["instance", "job"];

/// The `@` and offset that govern when info series are read: those of the first selector in the
/// expression, with the offsets and `@` of the subqueries around it.
fn first_selector_time(e: &Expr) -> Option<(Option<AtModifier>, i64)> {
    match e {
        Expr::VectorSelector(vs) => Some((vs.at, vs.offset)),
        Expr::MatrixSelector(ms) => Some((ms.selector.at, ms.selector.offset)),
        Expr::Subquery(sq) => first_selector_time(&sq.expr).map(|(at, off)| match at {
            Some(a) => (Some(a), off),
            None => (sq.at, off + sq.offset),
        }),
        Expr::Paren(e) | Expr::Unary(_, e) => first_selector_time(e),
        Expr::Binary(b) => first_selector_time(&b.lhs).or_else(|| first_selector_time(&b.rhs)),
        Expr::Aggregate(a) => a
            .param
            .as_deref()
            .and_then(first_selector_time)
            .or_else(|| first_selector_time(&a.expr)),
        Expr::Call(c) => c.args.iter().find_map(first_selector_time),
        Expr::Number(_) | Expr::String(_) => None,
    }
}

fn regex_matcher(name: &str, re: &str) -> EvalResult<LabelMatcher> {
    LabelMatcher::new(name, MatchOp::RegexMatch, re).map_err(QueryError::Storage)
}

/// Prometheus' `effectiveInfoNameMatchers`.
fn effective_name_matchers(m: &[LabelMatcher]) -> EvalResult<Vec<LabelMatcher>> {
    if m.iter().any(|x| matches!(x.op, MatchOp::Equal | MatchOp::RegexMatch)) {
        return Ok(m.to_vec());
    }
    if !m.is_empty() {
        let mut out = vec![regex_matcher(METRIC_NAME, ".+_info")?];
        out.extend(m.iter().cloned());
        return Ok(out);
    }
    Ok(vec![LabelMatcher::equal(METRIC_NAME, TARGET_INFO)])
}

/// The identifying signature of `labels` for info metric `name`.
fn signature(name: &str, labels: &Labels) -> String {
    let mut s = String::from(name);
    for l in IDENTIFYING {
        if let Some(v) = labels.get(l) {
            s.push('\u{ff}');
            s.push_str(l);
            s.push('=');
            s.push_str(v);
        }
    }
    s
}

/// Evaluates `info()`.
pub(crate) fn eval_info(ctx: &Ctx<'_>, c: &Call, grid: &Grid) -> EvalResult<Val> {
    let arg = c
        .args
        .first()
        .ok_or_else(|| QueryError::Execution("info() needs an argument".into()))?;
    let (at, offset) = first_selector_time(arg).unwrap_or((None, 0));
    let base = eval_vector(ctx, arg, grid)?;

    // Data label matchers by label name, and the matchers on the info metric's name.
    let mut data_matchers: BTreeMap<String, Vec<LabelMatcher>> = BTreeMap::new();
    let mut name_matchers: Vec<LabelMatcher> = Vec::new();
    match c.args.get(1) {
        Some(Expr::VectorSelector(sel)) => {
            for m in &sel.matchers {
                data_matchers.entry(m.name.clone()).or_default().push(m.clone());
                if m.name == METRIC_NAME {
                    name_matchers.push(m.clone());
                }
            }
        }
        Some(_) => {
            return Err(QueryError::Execution(
                "info()'s second argument must be a label selector".into(),
            ));
        }
        None => name_matchers.push(LabelMatcher::equal(METRIC_NAME, TARGET_INFO)),
    }
    let effective = effective_name_matchers(&name_matchers)?;
    let ignored: Vec<bool> = base
        .iter()
        .map(|s| {
            let name = s.labels.get(METRIC_NAME).unwrap_or("");
            effective.iter().all(|m| m.matches(name))
        })
        .collect();

    // Identifying label values of the series to enrich.
    let mut id_values: BTreeMap<&str, HashSet<&str>> = BTreeMap::new();
    for (s, ign) in base.iter().zip(&ignored) {
        if *ign {
            continue;
        }
        for l in IDENTIFYING {
            if let Some(v) = s.labels.get(l) {
                id_values.entry(l).or_default().insert(v);
            }
        }
    }
    let mut info_series: Vec<Series> = Vec::new();
    if !id_values.is_empty() {
        let mut matchers = Vec::new();
        for (name, vals) in &id_values {
            let mut vals: Vec<&str> = vals.iter().copied().collect();
            vals.sort_unstable();
            let re = vals.iter().map(|v| regex::escape(v)).collect::<Vec<_>>().join("|");
            matchers.push(regex_matcher(name, &re)?);
        }
        let mut sel_names = Vec::new();
        for ms in data_matchers.values() {
            for m in ms {
                if m.name == METRIC_NAME {
                    sel_names.push(m.clone());
                } else {
                    matchers.push(m.clone());
                }
            }
        }
        matchers.extend(effective_name_matchers(&sel_names)?);
        let vs = VectorSelector {
            name: None,
            matchers,
            offset,
            at,
        };
        // Values are the original sample timestamps, to prefer the newest info sample.
        info_series = eval_vector_selector(ctx, &vs, grid, true)?;
    }
    data_matchers.remove(METRIC_NAME);
    for ms in data_matchers.values_mut() {
        ms.retain(|m| m.name != METRIC_NAME);
    }
    data_matchers.retain(|_, ms| !ms.is_empty());
    let all_match_empty = data_matchers.values().flatten().all(LabelMatcher::matches_empty);

    let info_names: Vec<String> = {
        let mut n: Vec<String> = info_series
            .iter()
            .filter_map(|s| s.labels.get(METRIC_NAME).map(str::to_string))
            .collect();
        n.sort();
        n.dedup();
        n
    };
    let info_sigs: Vec<String> = info_series
        .iter()
        .map(|s| signature(s.labels.get(METRIC_NAME).unwrap_or(""), &s.labels))
        .collect();
    let base_sigs: Vec<Vec<(String, String)>> = base
        .iter()
        .map(|s| {
            info_names
                .iter()
                .map(|n| (n.clone(), signature(n, &s.labels)))
                .collect()
        })
        .collect();

    let mut out: Vec<Series> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    for step in 0..grid.n {
        ctx.check()?;
        // The newest info sample per signature.
        let mut by_sig: HashMap<&str, (usize, f64)> = HashMap::new();
        for (ii, s) in info_series.iter().enumerate() {
            let Some(Some(orig_t)) = s.vals.get(step) else { continue };
            let sig = info_sigs.get(ii).map_or("", String::as_str);
            match by_sig.get(sig) {
                Some(&(_, existing)) if existing > *orig_t => {}
                Some(&(ei, existing)) if existing == *orig_t => {
                    let e = info_series.get(ei).map(|x| x.labels.clone()).unwrap_or_default();
                    return Err(QueryError::Execution(format!(
                        "found duplicate series for info metric: existing {} @ {}, new {} @ {}",
                        super::binary::go_labels_string(&e),
                        (existing * 1000.0).round() as i64,
                        super::binary::go_labels_string(&s.labels),
                        (orig_t * 1000.0).round() as i64
                    )));
                }
                _ => {
                    by_sig.insert(sig, (ii, *orig_t));
                }
            }
        }
        for (bi, bs) in base.iter().enumerate() {
            let Some(Some(v)) = bs.vals.get(step) else { continue };
            let labels = if ignored.get(bi).copied().unwrap_or(false) {
                bs.labels.clone()
            } else {
                let mut added = Labels::default();
                let mut seen = false;
                for (_, sig) in base_sigs.get(bi).map(Vec::as_slice).unwrap_or(&[]) {
                    let Some(&(ii, _)) = by_sig.get(sig.as_str()) else {
                        continue;
                    };
                    let Some(is) = info_series.get(ii) else { continue };
                    for l in is.labels.iter() {
                        if l.name == METRIC_NAME || (!data_matchers.is_empty() && !data_matchers.contains_key(&l.name))
                        {
                            continue;
                        }
                        if let Some(prev) = added.get(&l.name)
                            && prev != l.value
                        {
                            return Err(QueryError::Execution(format!("conflicting label: {}", l.name)));
                        }
                        if bs.labels.get(&l.name).is_none() {
                            added.set(&l.name, &l.value);
                        }
                    }
                    seen = true;
                }
                if !seen && !all_match_empty {
                    continue;
                }
                let mut l = bs.labels.clone();
                for x in added.iter() {
                    l.set(&x.name, &x.value);
                }
                l
            };
            let i = *index.entry(labels.clone()).or_insert_with(|| {
                out.push(Series {
                    labels,
                    drop_name: bs.drop_name,
                    vals: vec![None; grid.n],
                });
                out.len() - 1
            });
            if let Some(slot) = out.get_mut(i).and_then(|s| s.vals.get_mut(step)) {
                if slot.is_some() {
                    return Err(QueryError::Execution(super::eval::DUPLICATE_LABELSET.into()));
                }
                *slot = Some(*v);
            }
        }
    }
    Ok(Val::Vector(merge_same_labels(out)?))
}
