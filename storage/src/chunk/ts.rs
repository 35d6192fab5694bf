//! Sealed timestamp encodings (`docs/format/chunks.md`, "Timestamp encodings"): `Regular` (nothing stored),
//! `DeltaOfDelta` and `Grid`, both as residual blocks. The first and last timestamps come from the header
//! (`min_t`, `max_t`), so only the samples in between are coded.

use super::TsEncoding;
use super::bits::{ByteReader, corrupt, median, put_varint, unzigzag, zigzag};
use super::residuals::{self, ResidualReader};
use crate::Result;

/// The wrapping differences of consecutive timestamps.
pub(super) fn intervals(ts: &[i64]) -> impl Iterator<Item = i64> + '_ {
    ts.iter().zip(ts.iter().skip(1)).map(|(a, b)| b.wrapping_sub(*a))
}

/// Buffers reused from chunk to chunk; their contents mean nothing between calls.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Intervals or grid residuals, for medians.
    work: Vec<i64>,
    /// Zig-zagged delta-of-delta residuals.
    dod: Vec<u64>,
    /// Zig-zagged grid residuals.
    grid: Vec<u64>,
}

impl Scratch {
    /// Releases buffers that a very long chunk grew.
    pub(crate) fn trim(&mut self) {
        /// Capacity (elements) kept between chunks: a few default-sized chunks.
        const KEEP: usize = 1024;
        if self.work.capacity() > KEEP {
            self.work = Vec::new();
        }
        for v in [&mut self.dod, &mut self.grid] {
            if v.capacity() > KEEP {
                *v = Vec::new();
            }
        }
    }
}

/// The grid's `step`: each sample is assigned a slot (its offset from `t_0` in median intervals, so
/// missed scrapes skip slots), then the step is the least-squares slope of time over slot, rounded. For
/// jittered scrapes this recovers the configured interval exactly, where the median interval can be off
/// by a millisecond or two and the error would accumulate along the chunk. The step is stored, so how
/// a slot exactly half-way rounds only matters for size: slots are found with a multiplication by the
/// reciprocal and a branch-free rounding (jitter puts half of the quotients just below an integer and
/// half just above, which a branch would mispredict every other sample).
pub(super) fn grid_step(ts: &[i64], median: i64) -> i64 {
    let Some(&t0) = ts.first() else {
        return median;
    };
    if median <= 0 {
        return median;
    }
    let inv = 1.0 / median as f64;
    let (mut sxy, mut sxx) = (0f64, 0f64);
    for &t in ts {
        let x = t.wrapping_sub(t0) as f64;
        let slot = nearest(x * inv);
        sxy += slot * x;
        sxx += slot * slot;
    }
    if sxx > 0.0 { (sxy / sxx).round() as i64 } else { median }
}

/// An integer nearest to `x` (ties to even) for finite `x`, without branching on `x`'s fraction: adding
/// and subtracting `1.5 × 2^52` rounds below `2^51`; from `2^52` on every `f64` is an integer, and in
/// between `x` is returned as it is (within a half of an integer).
#[inline]
fn nearest(x: f64) -> f64 {
    /// `1.5 × 2^52`.
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    /// `2^51`.
    const LIMIT: f64 = 2_251_799_813_685_248.0;
    if x.abs() < LIMIT { (x + MAGIC) - MAGIC } else { x }
}

/// Whether the grid re-anchors after residual `r` (a gap or a phase change).
#[inline]
pub(super) fn reanchors(r: i64, step: i64) -> bool {
    r.unsigned_abs() > step.unsigned_abs() / 2
}

/// Zig-zagged delta-of-delta residuals of the inner samples `1..n-1`, into `zs`.
pub(super) fn dod_residuals(ts: &[i64], step: i64, zs: &mut Vec<u64>) {
    let inner = ts.len().saturating_sub(2);
    zs.clear();
    let mut d_prev = step;
    for d in intervals(ts).take(inner) {
        zs.push(zigzag(d.wrapping_sub(d_prev)));
        d_prev = d;
    }
}

/// Grid residuals (signed) of the inner samples, following the re-anchoring rule, in order.
pub(super) fn grid_residuals(ts: &[i64], step: i64, offset: i64) -> impl Iterator<Item = i64> + '_ {
    let inner = ts.len().saturating_sub(2);
    let mut g = ts.first().copied().unwrap_or(0).wrapping_add(offset);
    ts.iter().skip(1).take(inner).map(move |&t| {
        g = g.wrapping_add(step);
        let r = t.wrapping_sub(g);
        if reanchors(r, step) {
            g = t.wrapping_add(offset);
        }
        r
    })
}

/// Whether all intervals equal `span / (n-1)` exactly.
pub(super) fn is_regular(ts: &[i64]) -> bool {
    let (Some(&first), Some(&last)) = (ts.first(), ts.last()) else {
        return true;
    };
    if ts.len() <= 2 {
        return true;
    }
    let span = last.wrapping_sub(first) as u64;
    let gaps = (ts.len() - 1) as u64;
    if !span.is_multiple_of(gaps) {
        return false;
    }
    let step = (span / gaps) as i64;
    intervals(ts).all(|d| d == step)
}

/// The step every coded mode predicts from the header alone, `span / (count-1)`, so that only a small
/// adjustment needs storing.
pub(super) fn base_step(min_t: i64, max_t: i64, count: usize) -> i64 {
    let gaps = count.saturating_sub(1).max(1) as u64;
    (max_t.wrapping_sub(min_t) as u64 / gaps) as i64
}

/// Length of `v` as a signed varint.
pub(super) fn varint_len(v: i64) -> usize {
    (64 - (zigzag(v) | 1).leading_zeros()).div_ceil(7) as usize
}

/// Encodes the timestamp section with the smallest encoding; returns which one was used. The coded
/// encodings are sized without writing them ([`residuals::plan`]) and only the smaller is written
/// (`Grid` only when strictly smaller).
pub(crate) fn encode(ts: &[i64], sc: &mut Scratch, out: &mut Vec<u8>) -> TsEncoding {
    let (Some(&min_t), Some(&max_t)) = (ts.first(), ts.last()) else {
        return TsEncoding::Regular;
    };
    if is_regular(ts) {
        return TsEncoding::Regular;
    }
    let base = base_step(min_t, max_t, ts.len());

    // Grid first (with jitter it is the smaller), then delta-of-delta only if it can be as small: it
    // wins ties.
    sc.work.clear();
    sc.work.extend(intervals(ts));
    let dod_step = median(&mut sc.work);
    let step = grid_step(ts, dod_step);
    // Pass 1 without offset, then centre the residuals on their median.
    sc.work.clear();
    sc.work
        .extend(grid_residuals(ts, step, 0).filter(|&r| !reanchors(r, step)));
    let offset = median(&mut sc.work);
    sc.grid.clear();
    sc.grid.extend(grid_residuals(ts, step, offset).map(zigzag));
    let grid_plan = residuals::plan(&sc.grid);
    let grid_size = varint_len(step.wrapping_sub(base)) + varint_len(offset) + grid_plan.len;

    dod_residuals(ts, dod_step, &mut sc.dod);
    let dod_head = varint_len(dod_step.wrapping_sub(base));
    match residuals::plan_below(&sc.dod, (grid_size + 1).saturating_sub(dod_head)) {
        Some(dod_plan) => {
            put_varint(out, dod_step.wrapping_sub(base));
            residuals::encode_planned(&sc.dod, dod_plan.form, out);
            TsEncoding::DeltaOfDelta
        }
        None => {
            put_varint(out, step.wrapping_sub(base));
            put_varint(out, offset);
            residuals::encode_planned(&sc.grid, grid_plan.form, out);
            TsEncoding::Grid
        }
    }
}

/// Decodes the timestamp section, appending `count` timestamps to `out`.
pub(crate) fn decode(
    encoding: TsEncoding,
    r: &mut ByteReader<'_>,
    count: usize,
    min_t: i64,
    max_t: i64,
    out: &mut Vec<i64>,
) -> Result<()> {
    let start = out.len();
    out.push(min_t);
    let inner = count.saturating_sub(2);
    match encoding {
        TsEncoding::Regular => {
            if count >= 2 {
                let span = max_t.wrapping_sub(min_t) as u64;
                let gaps = (count - 1) as u64;
                if !span.is_multiple_of(gaps) {
                    return Err(corrupt(format!(
                        "regular timestamps: span {span} not divisible by {gaps} intervals"
                    )));
                }
                let step = (span / gaps) as i64;
                let mut t = min_t;
                for _ in 0..inner {
                    t = t.wrapping_add(step);
                    out.push(t);
                }
            }
        }
        TsEncoding::DeltaOfDelta => {
            let step = r.varint()?.wrapping_add(base_step(min_t, max_t, count));
            let mut res = ResidualReader::new(r)?;
            let mut t = min_t;
            let mut d = step;
            res.for_each(inner, |z| {
                d = d.wrapping_add(unzigzag(z));
                t = t.wrapping_add(d);
                out.push(t);
            })?;
            res.finish(r)?;
        }
        TsEncoding::Grid => {
            let step = r.varint()?.wrapping_add(base_step(min_t, max_t, count));
            let offset = r.varint()?;
            let mut res = ResidualReader::new(r)?;
            let mut g = min_t.wrapping_add(offset);
            res.for_each(inner, |z| {
                g = g.wrapping_add(step);
                let residual = unzigzag(z);
                let t = g.wrapping_add(residual);
                if reanchors(residual, step) {
                    g = t.wrapping_add(offset);
                }
                out.push(t);
            })?;
            res.finish(r)?;
        }
    }
    if count >= 2 {
        out.push(max_t);
    }
    let decoded = out.get(start..).unwrap_or_default();
    if decoded.iter().zip(decoded.iter().skip(1)).any(|(a, b)| a >= b) {
        return Err(corrupt("timestamps not strictly increasing"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn nearest_is_an_integer_within_a_half(x in prop_oneof![
            -1e6f64..1e6,
            (any::<i32>(), 0u32..4).prop_map(|(m, k)| f64::from(m) / f64::from(2u32.pow(k))),
            any::<u64>().prop_map(f64::from_bits).prop_filter("finite", |x| x.is_finite()),
            Just(-0.0),
            Just(-0.5),
            Just(0.49999999999999994),
            Just(2_251_799_813_685_247.5),
            Just(4_503_599_627_370_495.5),
        ]) {
            let n = nearest(x);
            prop_assert!((n - x).abs() <= 0.5, "{x} -> {n}");
            prop_assert!(n.fract() == 0.0 || x.abs() >= 2_251_799_813_685_248.0, "{x} -> {n}");
            // Off a tie it is the usual rounding.
            if (x - x.trunc()).abs() != 0.5 && x.abs() < 2_251_799_813_685_248.0 {
                prop_assert_eq!(n, x.round());
            }
        }
    }
}
