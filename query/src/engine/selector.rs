//! Selectors: instant vector selectors with lookback and staleness, range selectors and subqueries as
//! sources of per-step windows.

use rayon::prelude::*;
use strata_storage::{Aggregate, SelectHints, Selection, SeriesData, has_stale_nan, is_stale_nan};

use super::eval::eval_expr;
use super::value::{Ctx, EvalResult, Grid, RawSeries, Series, Val};
use crate::parser::ast::{AtModifier, Expr, Subquery, VectorSelector};

/// Resolves an `@` modifier to a timestamp.
pub(crate) fn at_time(ctx: &Ctx<'_>, at: Option<AtModifier>) -> Option<i64> {
    at.map(|a| match a {
        AtModifier::Timestamp(t) => t,
        AtModifier::Start => ctx.query_start,
        AtModifier::End => ctx.query_end,
    })
}

/// The reference time of each step for a node with `@`/offset: `(at or t) - offset`.
pub(crate) fn ref_times(ctx: &Ctx<'_>, grid: &Grid, at: Option<AtModifier>, offset: i64) -> Vec<i64> {
    match at_time(ctx, at) {
        Some(a) => vec![a - offset; grid.n],
        None => (0..grid.n).map(|i| grid.t(i) - offset).collect(),
    }
}

/// The hints of a selection evaluated on `grid`: the aggregate its consumer needs, the range of a range
/// selector (0 for an instant vector selector), the query's resolution, and the step of `grid`, which is the
/// query's step (0 for an instant query) or, inside a subquery, the subquery's own step.
pub(crate) fn select_hints(ctx: &Ctx<'_>, grid: &Grid, aggregate: Aggregate, range_ms: i64) -> SelectHints {
    // An instant query evaluates on a one-step grid of step 1 (as Prometheus does); storage is told 0.
    let step_ms = if ctx.query_step == 0 && grid.step <= 1 {
        0
    } else {
        grid.step
    };
    SelectHints {
        aggregate,
        step_ms,
        range_ms,
        resolution: ctx.resolution,
    }
}

/// Reads the series matching a selector with samples in `[mint, maxt]`, letting storage pick a tier by
/// `hints`.
pub(crate) fn fetch(
    ctx: &Ctx<'_>,
    vs: &VectorSelector,
    mint: i64,
    maxt: i64,
    hints: &SelectHints,
) -> EvalResult<Selection> {
    ctx.check()?;
    let sel = ctx.reader.select_hinted(&vs.matchers, mint, maxt, hints)?;
    let n: usize = sel.series.iter().map(|s| s.timestamps.len()).sum();
    ctx.count_read(n as u64, sel.series.len() as u64);
    ctx.add_samples(n)?;
    Ok(sel)
}

/// Evaluates an instant vector selector over the grid. With `want_ts`, the column holds the found sample's
/// timestamp in seconds instead of its value (for `timestamp()`).
pub(crate) fn eval_vector_selector(
    ctx: &Ctx<'_>,
    vs: &VectorSelector,
    grid: &Grid,
    want_ts: bool,
) -> EvalResult<Vec<Series>> {
    if grid.n == 0 {
        return Ok(Vec::new());
    }
    let refs = ref_times(ctx, grid, vs.at, vs.offset);
    let (lo, hi) = min_max(&refs);
    let hints = select_hints(ctx, grid, Aggregate::Last, 0);
    let data = fetch(ctx, vs, lo - ctx.lookback + 1, hi, &hints)?.series;
    let loaded: usize = data.iter().map(|s| s.timestamps.len()).sum();
    let lookback = ctx.lookback;
    let out: Vec<Series> = data
        .into_par_iter()
        .filter_map(|s| lookback_series(s, &refs, lookback, want_ts))
        .collect();
    ctx.release_samples(loaded);
    let pts: usize = out.iter().map(Series::points).sum();
    ctx.add_samples(pts)?;
    Ok(out)
}

/// The output series of an instant vector selector for one selected series (see [`lookback_points`]);
/// `None` when it has no point.
pub(crate) fn lookback_series(s: SeriesData, refs: &[i64], lookback: i64, want_ts: bool) -> Option<Series> {
    let mut vals = vec![None; refs.len()];
    let points = lookback_points(&s.timestamps, &s.values, refs, lookback, want_ts, |i, v| {
        if let Some(slot) = vals.get_mut(i) {
            *slot = Some(v);
        }
    });
    (points > 0).then_some(Series {
        labels: s.labels,
        drop_name: false,
        vals,
    })
}

/// Hands the value an instant vector selector takes at each reference time of `refs` to `out` as
/// `(step, value)`, in step order: the newest sample at or before the time and less than `lookback` older,
/// unless it is a stale marker (with `want_ts`, its timestamp in seconds). Returns the number of points.
#[inline]
pub(crate) fn lookback_points(
    ts: &[i64],
    vs: &[f64],
    refs: &[i64],
    lookback: i64,
    want_ts: bool,
    mut out: impl FnMut(usize, f64),
) -> usize {
    let mut points = 0;
    // `j` is the number of samples with ts <= current reference time.
    let mut j = 0usize;
    let mut prev_ref = i64::MIN;
    for (i, &r) in refs.iter().enumerate() {
        if r < prev_ref {
            j = 0;
        }
        prev_ref = r;
        while j < ts.len() && ts.get(j).is_some_and(|&t| t <= r) {
            j += 1;
        }
        if j == 0 {
            continue;
        }
        let (Some(&t), Some(&v)) = (ts.get(j - 1), vs.get(j - 1)) else {
            continue;
        };
        if t > r - lookback && !is_stale_nan(v) {
            out(i, if want_ts { t as f64 / 1000.0 } else { v });
            points += 1;
        }
    }
    points
}

/// The source of a range-vector argument: raw series and the window `(end - range, end]` of each step.
pub(crate) struct RangeInput {
    /// Source series (stale markers removed).
    pub series: Vec<RawSeries>,
    /// Window length in milliseconds.
    pub range: i64,
    /// Right (inclusive) edge of the window at each step.
    pub ends: Vec<i64>,
    /// Whether storage answered part of the selection with per-window aggregates of a downsampled tier.
    pub downsampled: bool,
}

impl RangeInput {
    /// Calls `f(series_index, step, ts_window, vs_window)` for every non-empty window, two pointers per series.
    pub fn for_each_window(&self, mut f: impl FnMut(usize, usize, &[i64], &[f64])) {
        for (si, s) in self.series.iter().enumerate() {
            self.windows_of(s, |step, ts, vs| f(si, step, ts, vs));
        }
    }

    /// Calls `f(step, ts_window, vs_window)` for every non-empty window of one series.
    pub fn windows_of(&self, s: &RawSeries, mut f: impl FnMut(usize, &[i64], &[f64])) {
        let (mut lo, mut hi) = (0usize, 0usize);
        let mut prev_end = i64::MIN;
        for (step, &end) in self.ends.iter().enumerate() {
            if end < prev_end {
                lo = 0;
                hi = 0;
            }
            prev_end = end;
            let start = end - self.range;
            while hi < s.ts.len() && s.ts.get(hi).is_some_and(|&t| t <= end) {
                hi += 1;
            }
            while lo < hi && s.ts.get(lo).is_some_and(|&t| t <= start) {
                lo += 1;
            }
            if lo < hi
                && let (Some(ts), Some(vs)) = (s.ts.get(lo..hi), s.vs.get(lo..hi))
            {
                f(step, ts, vs);
            }
        }
    }
}

/// Evaluates a range selector or subquery argument into a [`RangeInput`] for the grid. `aggregate` is what
/// the consuming function needs from a downsampled tier (see [`super::downsampled::aggregate_for`]); it
/// applies to a range selector only, a subquery's inner selectors choose their own.
pub(crate) fn range_input(ctx: &Ctx<'_>, expr: &Expr, grid: &Grid, aggregate: Aggregate) -> EvalResult<RangeInput> {
    match expr {
        Expr::Paren(e) => range_input(ctx, e, grid, aggregate),
        Expr::MatrixSelector(ms) => {
            let ends = ref_times(ctx, grid, ms.selector.at, ms.selector.offset);
            let (lo, hi) = min_max(&ends);
            let hints = select_hints(ctx, grid, aggregate, ms.range);
            let sel = fetch(ctx, &ms.selector, lo - ms.range + 1, hi, &hints)?;
            Ok(matrix_input(sel, ms.range, ends))
        }
        Expr::Subquery(sq) => {
            let ends = ref_times(ctx, grid, sq.at, sq.offset);
            let series = eval_subquery_series(ctx, sq, &ends)?;
            Ok(RangeInput {
                series,
                range: sq.range,
                ends,
                downsampled: false,
            })
        }
        _ => Err(super::QueryError::Execution(format!(
            "expected a range vector, got {}",
            super::eval::type_name(expr)
        ))),
    }
}

/// The [`RangeInput`] of a range selector's selection (stale markers removed, empty series dropped), with
/// windows of `range` ending at `ends`.
pub(crate) fn matrix_input(sel: Selection, range: i64, ends: Vec<i64>) -> RangeInput {
    let series = sel
        .series
        .into_iter()
        .filter_map(|s| {
            let (ts, vs) = if has_stale_nan(&s.values) {
                let mut ts = Vec::with_capacity(s.timestamps.len());
                let mut vs = Vec::with_capacity(s.values.len());
                for (&t, &v) in s.timestamps.iter().zip(&s.values) {
                    if !is_stale_nan(v) {
                        ts.push(t);
                        vs.push(v);
                    }
                }
                (ts, vs)
            } else {
                (s.timestamps, s.values)
            };
            (!ts.is_empty()).then_some(RawSeries {
                labels: s.labels,
                drop_name: false,
                ts,
                vs,
            })
        })
        .collect();
    RangeInput {
        series,
        range,
        ends,
        downsampled: sel.downsampled,
    }
}

/// Evaluates a subquery's inner expression on its own grid, aligned to absolute multiples of its step,
/// covering the windows ending at `ends`.
fn eval_subquery_series(ctx: &Ctx<'_>, sq: &Subquery, ends: &[i64]) -> EvalResult<Vec<RawSeries>> {
    if ends.is_empty() {
        return Ok(Vec::new());
    }
    let (lo, hi) = min_max(ends);
    let step = sq.step.filter(|s| *s > 0).unwrap_or(ctx.default_subquery_step).max(1);
    let first = lo - sq.range;
    let mut start = step * first.div_euclid(step);
    if start <= first {
        start += step;
    }
    let inner = Grid::new(start, hi, step);
    let val = eval_expr(ctx, &sq.expr, &inner)?;
    let series = match val {
        Val::Vector(v) => v,
        Val::Scalar(col) => vec![Series {
            labels: Default::default(),
            drop_name: false,
            vals: col.into_iter().map(Some).collect(),
        }],
        _ => {
            return Err(super::QueryError::Execution(
                "subquery is only allowed on instant vector".into(),
            ));
        }
    };
    Ok(series
        .into_iter()
        .filter_map(|s| {
            let mut ts = Vec::new();
            let mut vs = Vec::new();
            for (i, v) in s.vals.iter().enumerate() {
                if let Some(v) = v {
                    ts.push(inner.t(i));
                    vs.push(*v);
                }
            }
            (!ts.is_empty()).then_some(RawSeries {
                labels: s.labels,
                drop_name: s.drop_name,
                ts,
                vs,
            })
        })
        .collect())
}

/// The raw samples of a range selector or subquery at a single instant (the value of `x[5m]` in an
/// instant query).
pub(crate) fn eval_matrix_value(ctx: &Ctx<'_>, expr: &Expr, grid: &Grid) -> EvalResult<Vec<RawSeries>> {
    let input = range_input(ctx, expr, grid, Aggregate::Last)?;
    let mut out: Vec<RawSeries> = Vec::new();
    input.for_each_window(|si, step, ts, vs| {
        if step == 0
            && let Some(s) = input.series.get(si)
        {
            out.push(RawSeries {
                labels: s.labels.clone(),
                drop_name: s.drop_name,
                ts: ts.to_vec(),
                vs: vs.to_vec(),
            });
        }
    });
    Ok(out)
}

pub(crate) fn min_max(v: &[i64]) -> (i64, i64) {
    let lo = v.iter().copied().min().unwrap_or(0);
    let hi = v.iter().copied().max().unwrap_or(0);
    (lo, hi)
}
