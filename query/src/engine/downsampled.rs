//! Range functions over selections that storage answered in part from a downsampled tier.
//!
//! A range selector tells storage, in its [`strata_storage::SelectHints`], which per-window aggregate its
//! consuming function needs ([`aggregate_for`]). When the answer says `downsampled`, some points are such
//! aggregates (at the window's last raw sample time) and the rest are raw samples standing for themselves.
//! Most functions then apply unchanged (min of mins, max of maxes, sum of sums, rate over the rebuilt
//! counter, last of lasts); `count_over_time` sums the counts ([`kernel_name`]) and `avg_over_time` divides
//! summed sums by summed counts from a second selection ([`avg_columns`]).
//!
//! When the answer is not downsampled nothing here changes the evaluation: the kernel is the function's
//! own and `avg_over_time` keeps Prometheus' exact algorithm.

use std::collections::HashMap;

use rayon::prelude::*;
use strata_storage::{Aggregate, Labels};

use super::selector::{RangeInput, range_input};
use super::value::{Ctx, EvalResult, Grid, RawSeries};
use crate::functions::over_time;
use crate::parser::ast::Expr;

/// The per-window aggregate that the range function `func` needs from a downsampled tier. Functions
/// without a better fit (`last_over_time`, `delta`, `deriv`, `quantile_over_time`, ...) get
/// [`Aggregate::Last`]; `avg_over_time` asks for [`Aggregate::Sum`] first (and, when that answer is
/// downsampled, for [`Aggregate::Count`] too).
pub(crate) fn aggregate_for(func: &str) -> Aggregate {
    match func {
        "min_over_time" => Aggregate::Min,
        "max_over_time" => Aggregate::Max,
        "sum_over_time" | "avg_over_time" => Aggregate::Sum,
        "count_over_time" => Aggregate::Count,
        "rate" | "increase" | "irate" | "resets" => Aggregate::Counter,
        _ => Aggregate::Last,
    }
}

/// The kernel that evaluates `func` over one window of a selection: `count_over_time` of downsampled data
/// sums the [`Aggregate::Count`] points (a raw point counts 1) instead of counting them; every other
/// function, and every function over raw data, is its own kernel.
pub(crate) fn kernel_name(func: &str, downsampled: bool) -> &str {
    if downsampled && func == "count_over_time" {
        "sum_over_time"
    } else {
        func
    }
}

/// `avg_over_time` of a downsampled selection: per window, the sum of the [`Aggregate::Sum`] points of
/// `sums` (already read from `matrix_expr`) divided by the sum of the [`Aggregate::Count`] points of a second
/// selection of the same expression. Series are matched by labels; a series without counts, or a window
/// without a count, gives no point. Returns one column per series of `sums`, in its order.
pub(crate) fn avg_columns(
    ctx: &Ctx<'_>,
    matrix_expr: &Expr,
    grid: &Grid,
    sums: &RangeInput,
) -> EvalResult<Vec<Vec<Option<f64>>>> {
    let counts = range_input(ctx, matrix_expr, grid, Aggregate::Count)?;
    // Storage with nothing downsampled this time returns raw values: each of them counts 1.
    let unit_counts = !counts.downsampled;
    let by_labels: HashMap<&Labels, &RawSeries> = counts.series.iter().map(|s| (&s.labels, s)).collect();
    sums.series
        .par_iter()
        .map(|s| {
            ctx.check()?;
            let mut col = vec![None; grid.n];
            let Some(c) = by_labels.get(&s.labels) else {
                return Ok(col);
            };
            let mut count_col: Vec<Option<f64>> = vec![None; grid.n];
            sums.windows_of(c, |step, _, vs| {
                let n = if unit_counts { vs.len() as f64 } else { vs.iter().sum() };
                if let Some(slot) = count_col.get_mut(step) {
                    *slot = Some(n);
                }
            });
            sums.windows_of(s, |step, _, vs| {
                if let (Some(slot), Some(Some(n))) = (col.get_mut(step), count_col.get(step))
                    && *n > 0.0
                {
                    *slot = over_time::sum(vs).map(|total| total / n);
                }
            });
            Ok(col)
        })
        .collect()
}

#[cfg(test)]
#[path = "downsampled_tests.rs"]
mod tests;
