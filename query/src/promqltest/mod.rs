//! A runner for Prometheus' PromQL test scripts (`load`, `clear`, `eval instant|range`, `expect ...`),
//! checking results the way Prometheus' own `promqltest` does: instant queries are also re-run as range
//! queries and with `@` modifiers added, annotations are matched against `expect warn|info` lines.
//!
//! Evals that depend on what Strata does not store (native histograms `{{...}}`, `load_with_nhcb`, `@st`
//! start timestamps) are skipped and reported with the reason, never hidden.

pub mod compare;
pub mod script;
pub mod series;

use std::sync::LazyLock;

use strata_storage::{Labels, MemStore, SeriesReader, is_stale_nan};

use crate::engine::{Engine, EngineOptions, QueryError, QueryOptions, QueryResult, Value};
use crate::parser::ast::{AtModifier, Expr};
pub use script::{Command, EvalCmd, EvalKind, MsgMatch, parse_script};
use series::SeqValue;

/// What happened to one eval.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Passed.
    Pass,
    /// Failed; the first line of the mismatch.
    Fail(String),
    /// Not run, with the reason.
    Skip(String),
}

/// The outcome of one eval command.
#[derive(Debug, Clone)]
pub struct EvalReport {
    /// 1-based line of the eval.
    pub line: usize,
    /// The query.
    pub expr: String,
    /// Outcome.
    pub outcome: Outcome,
}

/// The outcome of a whole script.
#[derive(Debug, Clone, Default)]
pub struct ScriptReport {
    /// One entry per eval, in script order.
    pub evals: Vec<EvalReport>,
}

impl ScriptReport {
    /// Number of passed evals.
    pub fn passed(&self) -> usize {
        self.evals.iter().filter(|e| e.outcome == Outcome::Pass).count()
    }

    /// Number of failed evals.
    pub fn failed(&self) -> usize {
        self.evals
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Fail(_)))
            .count()
    }

    /// Number of skipped evals.
    pub fn skipped(&self) -> usize {
        self.evals
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Skip(_)))
            .count()
    }
}

/// Series whose data Strata could not load faithfully, with the reason and the times of the missing
/// samples (`None`: all times).
#[derive(Default)]
struct Unsupported {
    series: Vec<(Labels, &'static str, Option<Vec<i64>>)>,
}

impl Unsupported {
    fn add(&mut self, labels: &Labels, why: &'static str, t: Option<i64>) {
        if let Some(entry) = self.series.iter_mut().find(|(l, w, _)| l == labels && *w == why) {
            match (&mut entry.2, t) {
                (Some(ts), Some(t)) => ts.push(t),
                (slot, _) => *slot = None,
            }
            return;
        }
        self.series.push((labels.clone(), why, t.map(|t| vec![t])));
    }

    /// Why the query cannot be answered faithfully when it reads data in `[lo, hi]` (`None`: any time).
    fn reason_for(&self, e: &Expr, window: Option<(i64, i64)>) -> Option<&'static str> {
        let mut sels = Vec::new();
        collect_selectors(e, &mut sels);
        for m in sels {
            for (l, why, times) in &self.series {
                let in_window = match (times, window) {
                    (Some(ts), Some((lo, hi))) => ts.iter().any(|t| *t >= lo && *t <= hi),
                    _ => true,
                };
                if in_window && strata_storage::matcher::matches_all(m, l) {
                    return Some(why);
                }
            }
        }
        None
    }
}

/// How far back and forward of its evaluation times a query may read data (conservatively), or `None`
/// when an `@` modifier makes it read at arbitrary times.
fn data_reach(e: &Expr, lookback: i64) -> Option<(i64, i64)> {
    fn walk(e: &Expr, back: i64, fwd: i64, lookback: i64, acc: &mut (i64, i64)) -> bool {
        let sel = |offset: i64, range: i64, acc: &mut (i64, i64)| {
            acc.0 = acc.0.max(back + lookback + range + offset.max(0));
            acc.1 = acc.1.max(fwd + (-offset).max(0));
        };
        match e {
            Expr::VectorSelector(vs) => {
                sel(vs.offset, 0, acc);
                vs.at.is_none()
            }
            Expr::MatrixSelector(ms) => {
                sel(ms.selector.offset, ms.range, acc);
                ms.selector.at.is_none()
            }
            Expr::Subquery(sq) => {
                let step = sq.step.unwrap_or(60_000);
                sq.at.is_none()
                    && walk(
                        &sq.expr,
                        back + sq.range + step + sq.offset.max(0),
                        fwd + (-sq.offset).max(0),
                        lookback,
                        acc,
                    )
            }
            Expr::Paren(e) | Expr::Unary(_, e) => walk(e, back, fwd, lookback, acc),
            Expr::Binary(b) => walk(&b.lhs, back, fwd, lookback, acc) && walk(&b.rhs, back, fwd, lookback, acc),
            Expr::Aggregate(a) => {
                walk(&a.expr, back, fwd, lookback, acc)
                    && a.param.as_deref().is_none_or(|p| walk(p, back, fwd, lookback, acc))
            }
            Expr::Call(c) => c.args.iter().all(|a| walk(a, back, fwd, lookback, acc)),
            Expr::Number(_) | Expr::String(_) => true,
        }
    }
    let mut acc = (0, 0);
    walk(e, 0, 0, lookback, &mut acc).then_some(acc)
}

fn collect_selectors<'a>(e: &'a Expr, out: &mut Vec<&'a [strata_storage::LabelMatcher]>) {
    match e {
        Expr::VectorSelector(vs) => out.push(&vs.matchers),
        Expr::MatrixSelector(ms) => out.push(&ms.selector.matchers),
        Expr::Subquery(sq) => collect_selectors(&sq.expr, out),
        Expr::Paren(e) | Expr::Unary(_, e) => collect_selectors(e, out),
        Expr::Binary(b) => {
            collect_selectors(&b.lhs, out);
            collect_selectors(&b.rhs, out);
        }
        Expr::Aggregate(a) => {
            collect_selectors(&a.expr, out);
            if let Some(p) = &a.param {
                collect_selectors(p, out);
            }
        }
        Expr::Call(c) => c.args.iter().for_each(|a| collect_selectors(a, out)),
        Expr::Number(_) | Expr::String(_) => {}
    }
}

/// The engine settings of Prometheus' test engine.
pub fn test_engine() -> Engine {
    Engine::new(EngineOptions::default())
}

/// Runs a script and reports every eval.
pub fn run_script(input: &str) -> Result<ScriptReport, String> {
    Ok(run_inner(input)?.0)
}

/// An eval with the result lines bless mode would write for it.
type Blessed = (EvalCmd, Option<Vec<String>>);

/// Runs a script; also returns, per eval, the replacement result lines for bless mode.
fn run_inner(input: &str) -> Result<(ScriptReport, Vec<Blessed>), String> {
    let cmds = parse_script(input)?;
    let engine = test_engine();
    let mut store = MemStore::new();
    let mut unsupported = Unsupported::default();
    let mut report = ScriptReport::default();
    let mut blessed = Vec::new();
    for cmd in cmds {
        match cmd {
            Command::Clear => {
                store.clear();
                unsupported = Unsupported::default();
            }
            Command::Load(load) => {
                for (labels, vals) in &load.series {
                    let mut t = 0i64;
                    for v in vals {
                        match v {
                            SeqValue::Value(f) => store.add(labels, t, *f),
                            SeqValue::Histogram => {
                                unsupported.add(labels, "native histogram samples in loaded data", Some(t));
                            }
                            SeqValue::Omitted => {}
                        }
                        t += load.step;
                    }
                    if load.with_nhcb
                        && let Some(name) = labels.metric_name()
                    {
                        for suffix in ["_bucket", "_count", "_sum"] {
                            if let Some(base) = name.strip_suffix(suffix) {
                                let mut l = labels.clone();
                                l.remove("le");
                                l.set(strata_storage::METRIC_NAME, base);
                                unsupported.add(&l, "load_with_nhcb (native histograms with custom buckets)", None);
                            }
                        }
                    }
                }
                for l in &load.st_series {
                    unsupported.add(l, "@st start timestamps", None);
                }
            }
            Command::Eval(ev) => {
                let (outcome, lines) = run_eval(&engine, &store, &unsupported, &ev);
                report.evals.push(EvalReport {
                    line: ev.line,
                    expr: ev.expr.clone(),
                    outcome,
                });
                blessed.push((*ev, lines));
            }
        }
    }
    Ok((report, blessed))
}

static CONTEXT_FUNCS: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"(start|end|range|step)\(\)").unwrap_or_else(|_| unreachable!()));

fn check_annotations(ev: &EvalCmd, res: &QueryResult) -> Result<(), String> {
    if ev.warn_legacy && res.warnings.is_empty() {
        return Err("expected warnings but got none".into());
    }
    if ev.info_legacy && res.infos.is_empty() {
        return Err("expected info annotations but got none".into());
    }
    for (kind, expected, actual) in [("warn", &ev.warn, &res.warnings), ("info", &ev.info, &res.infos)] {
        if expected.is_empty() {
            continue;
        }
        if actual.is_empty() {
            return Err(format!("expected {kind} annotations but none were found"));
        }
        for e in expected {
            if !actual.iter().any(|a| e.matches(a)) {
                return Err(format!(
                    "expected {kind} annotation matching {e:?} but no matching annotation was found, found: {actual:?}",
                    e = e.to_string()
                ));
            }
        }
        for a in actual {
            if !expected.iter().any(|e| e.matches(a)) {
                return Err(format!("unexpected {kind} annotation {a:?}"));
            }
        }
    }
    if ev.no_warn && !res.warnings.is_empty() {
        return Err(format!("unexpected warning annotations: {:?}", res.warnings));
    }
    if ev.no_info && !res.infos.is_empty() {
        return Err(format!("unexpected info annotations: {:?}", res.infos));
    }
    Ok(())
}

fn check_failure(ev: &EvalCmd, err: &QueryError) -> Result<(), String> {
    match &ev.fail {
        Some(m) if m.matches(&err.to_string()) => Ok(()),
        Some(m) => Err(format!("expected error matching {:?}, but got: {err}", m.to_string())),
        None => Err(format!("error evaluating query: {err}")),
    }
}

fn run_eval(
    engine: &Engine,
    store: &MemStore,
    unsupported: &Unsupported,
    ev: &EvalCmd,
) -> (Outcome, Option<Vec<String>>) {
    if ev.expected.iter().any(|e| e.vals.contains(&SeqValue::Histogram)) {
        return (Outcome::Skip("native histogram in expected result".into()), None);
    }
    let ast = match crate::parser::parse(&ev.expr) {
        Ok(a) => a,
        Err(e) => return (Outcome::Fail(format!("parse error: {}", e.message)), None),
    };
    // The times the eval reads, including the range re-run of instant queries one minute either side.
    let (lo, hi) = match ev.kind {
        EvalKind::Instant { at } => (at - 60_000, at + 60_000),
        EvalKind::Range { start, end, .. } => (start, end),
    };
    let window = data_reach(&ast, EngineOptions::default().lookback_delta_ms).map(|(b, f)| (lo - b, hi + f));
    if let Some(why) = unsupported.reason_for(&ast, window)
        && std::env::var("STRATA_RUN_SKIPPED").is_err()
    {
        return (Outcome::Skip(why.to_string()), None);
    }
    let opts = QueryOptions::default();
    match ev.kind {
        EvalKind::Range { start, end, step } => {
            let res = engine.range_query_expr(store, &ast, start, end, step, &opts);
            let bless = res.as_ref().ok().map(|r| format_result(&r.value, start, end, step));
            let outcome = match res {
                Err(e) => check_failure(ev, &e),
                Ok(_) if ev.fail.is_some() => Err("expected error but got none".into()),
                Ok(r) => check_annotations(ev, &r).and_then(|()| compare::compare(ev, &r.value, start, end, step)),
            };
            (to_outcome(outcome), bless)
        }
        EvalKind::Instant { at } => {
            let first = run_instant(engine, store, ev, &ast, at);
            let bless = engine
                .instant_query_expr(store, &ast, at, &opts)
                .ok()
                .map(|r| format_result(&r.value, at, at, 1));
            if let Err(e) = first {
                return (Outcome::Fail(e), bless);
            }
            if let Some(variants) = at_modifier_variants(&ast, at) {
                for (e2, t2) in variants {
                    if let Err(e) = run_instant(engine, store, ev, &e2, t2) {
                        return (
                            Outcome::Fail(format!("with @ {t2} added at eval time {t2}: {e}")),
                            bless,
                        );
                    }
                }
            }
            (Outcome::Pass, bless)
        }
    }
}

fn to_outcome(r: Result<(), String>) -> Outcome {
    match r {
        Ok(()) => Outcome::Pass,
        Err(e) => Outcome::Fail(e),
    }
}

fn run_instant(engine: &Engine, store: &dyn SeriesReader, ev: &EvalCmd, ast: &Expr, at: i64) -> Result<(), String> {
    let opts = QueryOptions::default();
    let res = match engine.instant_query_expr(store, ast, at, &opts) {
        Err(e) => return check_failure(ev, &e),
        Ok(_) if ev.fail.is_some() => return Err("expected error but got none".into()),
        Ok(r) => r,
    };
    check_annotations(ev, &res)?;
    let (start, end, step) = ev.range_vector.unwrap_or((at, at, 0));
    compare::compare(ev, &res.value, start, end, step)?;
    if ev.exclude_from_range() || CONTEXT_FUNCS.is_match(&ev.expr) {
        return Ok(());
    }
    let ranged = engine
        .range_query_expr(store, ast, at - 60_000, at + 60_000, 60_000, &opts)
        .map_err(|e| format!("error evaluating query in range mode: {e}"))?;
    if ev.ordered {
        return Ok(());
    }
    let Value::Matrix(mat) = &ranged.value else {
        return Err("range mode did not return a matrix".into());
    };
    let mut vec = Vec::new();
    for s in mat {
        if let Some(i) = s.timestamps.iter().position(|&t| t == at)
            && let Some(&v) = s.values.get(i)
        {
            vec.push(crate::engine::InstantSample {
                labels: s.labels.clone(),
                t: at,
                v,
            });
        }
    }
    let as_value = if matches!(res.value, Value::Scalar { .. }) {
        match vec.first() {
            Some(s) => Value::Scalar { t: at, v: s.v },
            None => return Err("range mode returned no scalar".into()),
        }
    } else {
        Value::Vector(vec)
    };
    compare::compare(ev, &as_value, start, end, step).map_err(|e| format!("range mode: {e}"))
}

const AT_UNSAFE: &[&str] = &[
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "end",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "range",
    "start",
    "step",
    "time",
    "timestamp",
];

/// As Prometheus' `atModifierTestCases`: the expression with `@ <eval time>` on every selector and subquery
/// (not inside subqueries), evaluated at several other times; `None` when a function depends on the
/// evaluation time.
fn at_modifier_variants(ast: &Expr, at: i64) -> Option<Vec<(Expr, i64)>> {
    fn unsafe_call(e: &Expr) -> bool {
        match e {
            Expr::Call(c) => AT_UNSAFE.contains(&c.func.as_str()) || c.args.iter().any(unsafe_call),
            Expr::Subquery(sq) => unsafe_call(&sq.expr),
            Expr::Paren(e) | Expr::Unary(_, e) => unsafe_call(e),
            Expr::Binary(b) => unsafe_call(&b.lhs) || unsafe_call(&b.rhs),
            Expr::Aggregate(a) => unsafe_call(&a.expr) || a.param.as_deref().is_some_and(unsafe_call),
            _ => false,
        }
    }
    fn set_at(e: &mut Expr, ts: i64) {
        match e {
            Expr::VectorSelector(vs) => {
                vs.at.get_or_insert(AtModifier::Timestamp(ts));
            }
            Expr::MatrixSelector(ms) => {
                ms.selector.at.get_or_insert(AtModifier::Timestamp(ts));
            }
            Expr::Subquery(sq) => {
                sq.at.get_or_insert(AtModifier::Timestamp(ts));
            }
            Expr::Paren(e) | Expr::Unary(_, e) => set_at(e, ts),
            Expr::Binary(b) => {
                set_at(&mut b.lhs, ts);
                set_at(&mut b.rhs, ts);
            }
            Expr::Aggregate(a) => {
                set_at(&mut a.expr, ts);
                if let Some(p) = a.param.as_deref_mut() {
                    set_at(p, ts);
                }
            }
            Expr::Call(c) => c.args.iter_mut().for_each(|a| set_at(a, ts)),
            Expr::Number(_) | Expr::String(_) => {}
        }
    }
    if unsafe_call(ast) {
        return None;
    }
    let mut e = ast.clone();
    set_at(&mut e, at);
    let times = if at == 0 {
        vec![-1000, 0, 1000]
    } else {
        vec![-10 * at, 0, at / 5, at, 10 * at]
    };
    Some(times.into_iter().map(|t| (e.clone(), t)).collect())
}

fn fmt_value(v: f64) -> String {
    if is_stale_nan(v) {
        "stale".into()
    } else if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v}")
    }
}

fn fmt_labels(l: &Labels) -> String {
    if l.is_empty() { "{}".into() } else { l.to_string() }
}

/// Formats a result as expected-result lines (for bless mode).
fn format_result(value: &Value, start: i64, end: i64, step: i64) -> Vec<String> {
    match value {
        Value::Scalar { v, .. } => vec![format!("  {}", fmt_value(*v))],
        Value::String { .. } => Vec::new(),
        Value::Vector(vec) => vec
            .iter()
            .map(|s| format!("  {} {}", fmt_labels(&s.labels), fmt_value(s.v)))
            .collect(),
        Value::Matrix(mat) => mat
            .iter()
            .map(|s| {
                let mut vals = Vec::new();
                let mut t = start;
                let mut j = 0usize;
                while t <= end && step > 0 {
                    match s.timestamps.get(j) {
                        Some(&ts) if ts == t => {
                            vals.push(fmt_value(s.values.get(j).copied().unwrap_or(f64::NAN)));
                            j += 1;
                        }
                        _ => vals.push("_".into()),
                    }
                    t += step;
                }
                while vals.last().is_some_and(|v| v == "_") {
                    vals.pop();
                }
                format!("  {} {}", fmt_labels(&s.labels), vals.join(" "))
            })
            .collect(),
    }
}

/// Runs a script and returns its text with every eval's expected result lines replaced by the actual
/// results (bless mode). Evals that fail to evaluate keep their lines.
pub fn bless_script(input: &str) -> Result<String, String> {
    let (_, blessed) = run_inner(input)?;
    let mut lines: Vec<Option<String>> = input.lines().map(|l| Some(l.to_string())).collect();
    let mut inserts: Vec<(usize, Vec<String>)> = Vec::new();
    for (ev, new) in blessed {
        let Some(new) = new else { continue };
        if ev.expected_string.is_some() || ev.fail.is_some() {
            continue;
        }
        let at = ev.result_lines.first().copied().unwrap_or(ev.last_line + 1);
        for &i in &ev.result_lines {
            if let Some(l) = lines.get_mut(i) {
                *l = None;
            }
        }
        inserts.push((at, new));
    }
    let mut out = Vec::new();
    for (i, l) in lines.into_iter().enumerate() {
        for (_, new) in inserts.iter().filter(|(at, _)| *at == i) {
            out.extend(new.iter().cloned());
        }
        if let Some(l) = l {
            out.push(l);
        }
    }
    let n = input.lines().count();
    for (_, new) in inserts.iter().filter(|(at, _)| *at >= n) {
        out.extend(new.iter().cloned());
    }
    let mut s = out.join("\n");
    s.push('\n');
    Ok(s)
}
