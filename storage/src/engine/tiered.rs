//! Tier-aware reads: a query's time range is cut into segments, each served from one tier, and each
//! series' points from the segments are stitched in time order.
//!
//! For time `t`, the preferred tier serves it when it holds `t` (after its retention horizon, before its
//! completeness watermark); otherwise the finer tiers are tried, finest-but-preferred first, then the coarser
//! ones. The preferred tier is the one asked for, or with `auto` the coarsest whose resolution is at most a
//! fifth of the step and of the selector's range — and with `auto`, raw data serves every time raw retention
//! still keeps, so that answers within raw retention are exact ([`plan_auto_exact`]).

use std::sync::atomic::Ordering;

use rayon::prelude::*;

use super::Storage;
use super::read::{Cursors, Gather};
use crate::db::partition::{TIER_1H, TIER_RAW, TIERS};
use crate::error::Result;
use crate::matcher::LabelMatcher;
use crate::read::{Aggregate, Resolution, SelectHints, Selection, SeriesData, is_stale_nan};
use crate::tier::{Columns, WindowAgg, rebuild_counter};

/// A part of the query range served by one tier: `[from, to]` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Tier id.
    pub tier: u8,
    /// First time (inclusive).
    pub from: i64,
    /// Last time (inclusive).
    pub to: i64,
}

/// The tier a query prefers (see the module docs).
pub fn preferred_tier(h: &SelectHints) -> u8 {
    match h.resolution {
        Resolution::Raw => TIER_RAW,
        Resolution::FiveMinutes => 1,
        Resolution::OneHour => TIER_1H,
        Resolution::Auto => {
            if h.step_ms <= 0 && h.range_ms <= 0 {
                return TIER_RAW;
            }
            TIERS
                .iter()
                .filter(|t| {
                    let need = t.resolution_ms.saturating_mul(5);
                    (h.step_ms <= 0 || need <= h.step_ms) && (h.range_ms <= 0 || need <= h.range_ms)
                })
                .map(|t| t.id)
                .max()
                .unwrap_or(TIER_RAW)
        }
    }
}

/// Cuts `[mint, maxt]` into segments. `horizon[k]` and `complete_to[k]` bound what tier `k` holds.
pub fn plan(preferred: u8, mint: i64, maxt: i64, horizon: [i64; 3], complete_to: [i64; 3]) -> Vec<Segment> {
    let holds = |k: u8, t: i64| {
        let k = usize::from(k);
        horizon.get(k).is_some_and(|&h| h <= t) && complete_to.get(k).is_some_and(|&c| t < c)
    };
    let order: Vec<u8> = (0..=preferred).rev().chain(preferred + 1..=TIER_1H).collect();
    let mut out: Vec<Segment> = Vec::new();
    let mut cursor = mint;
    while cursor <= maxt {
        let Some(pos) = order.iter().position(|&k| holds(k, cursor)) else {
            // Nothing holds this time: skip to where some tier starts holding data.
            let next = (TIER_RAW..=TIER_1H)
                .filter_map(|k| horizon.get(usize::from(k)).copied())
                .filter(|&h| h > cursor)
                .min();
            match next {
                Some(n) => {
                    cursor = n;
                    continue;
                }
                None => break,
            }
        };
        let k = order.get(pos).copied().unwrap_or(TIER_RAW);
        let c = complete_to.get(usize::from(k)).copied().unwrap_or(i64::MAX);
        let mut end = if c == i64::MAX { i64::MAX } else { c - 1 };
        // A more preferred tier may start holding data later in the range.
        for &j in order.iter().take(pos) {
            let h = horizon.get(usize::from(j)).copied().unwrap_or(i64::MIN);
            let c = complete_to.get(usize::from(j)).copied().unwrap_or(i64::MIN);
            if h > cursor && h < c {
                end = end.min(h - 1);
            }
        }
        let end = end.min(maxt);
        match out.last_mut() {
            Some(last) if last.tier == k && last.to.saturating_add(1) == cursor => last.to = end,
            _ => out.push(Segment {
                tier: k,
                from: cursor,
                to: end,
            }),
        }
        if end == i64::MAX {
            break;
        }
        cursor = end + 1;
    }
    out
}

/// [`plan`], except that with [`Resolution::Auto`] raw data serves every time it still holds (from its
/// retention horizon on), so that answers over data within raw retention are exactly Prometheus' own; the
/// preferred downsampled tier serves only what raw retention has dropped. An explicit resolution plans as
/// asked.
pub fn plan_auto_exact(
    resolution: Resolution,
    preferred: u8,
    mint: i64,
    maxt: i64,
    horizon: [i64; 3],
    complete_to: [i64; 3],
) -> Vec<Segment> {
    let raw_from = horizon.first().copied().unwrap_or(i64::MIN);
    if resolution != Resolution::Auto || preferred == TIER_RAW || raw_from <= mint {
        return plan(
            if resolution == Resolution::Auto {
                TIER_RAW
            } else {
                preferred
            },
            mint,
            maxt,
            horizon,
            complete_to,
        );
    }
    let mut out = plan(preferred, mint, maxt.min(raw_from - 1), horizon, complete_to);
    if maxt >= raw_from {
        for seg in plan(TIER_RAW, raw_from, maxt, horizon, complete_to) {
            match out.last_mut() {
                Some(last) if last.tier == seg.tier && last.to.saturating_add(1) == seg.from => last.to = seg.to,
                _ => out.push(seg),
            }
        }
    }
    out
}

impl Storage {
    /// The segments a selection over `[mint, maxt]` with these hints reads.
    pub fn plan_selection(&self, mint: i64, maxt: i64, hints: &SelectHints) -> Vec<Segment> {
        let load = |a: &[std::sync::atomic::AtomicI64; 3]| [0, 1, 2].map(|i| a[i].load(Ordering::Relaxed));
        plan_auto_exact(
            hints.resolution,
            preferred_tier(hints),
            mint,
            maxt,
            load(&self.tiers.horizon),
            load(&self.tiers.complete_to),
        )
    }

    /// [`crate::SeriesReader::select_hinted`] for the engine.
    pub(super) fn select_tiered(
        &self,
        matchers: &[LabelMatcher],
        mint: i64,
        maxt: i64,
        hints: &SelectHints,
    ) -> Result<Selection> {
        let segments = self.plan_selection(mint, maxt, hints);
        if segments.is_empty() {
            return Ok(Selection::default());
        }
        let refs = self.refs_in_range(matchers, mint, maxt);
        self.read_segments(&refs, &segments, hints)
    }

    /// Reads the series `refs` (in key order, as `refs_in_range` gives them) over `segments`, returned in
    /// label order.
    pub(super) fn read_segments(&self, refs: &[u64], segments: &[Segment], hints: &SelectHints) -> Result<Selection> {
        if segments.iter().all(|s| s.tier == TIER_RAW) {
            let ranges: Vec<(i64, i64)> = segments.iter().map(|s| (s.from, s.to)).collect();
            return Ok(Selection {
                series: self.read_raw_refs(refs, &ranges, hints.newest_only())?,
                downsampled: false,
            });
        }
        // As for raw selections: large ones are read in parallel parts, each with its own iterators.
        let parts = super::read::parallel_parts(refs.len());
        let read: Result<Vec<(Vec<(u64, SeriesData)>, bool)>> = refs
            .par_chunks(refs.len().div_ceil(parts).max(1))
            .map(|part| self.read_tiered_part(part, &segments, hints))
            .collect();
        let mut out = Vec::with_capacity(refs.len());
        let mut downsampled = false;
        for (series, ds) in read? {
            out.extend(series);
            downsampled |= ds;
        }
        Ok(Selection {
            series: self.in_label_order(out),
            downsampled,
        })
    }

    /// Reads the series `refs` (in key order, as `refs_in_range` gives them) over `segments`, stitching raw
    /// samples and tier windows; also tells whether any point came from a tier.
    fn read_tiered_part(
        &self,
        refs: &[u64],
        segments: &[Segment],
        hints: &SelectHints,
    ) -> Result<(Vec<(u64, SeriesData)>, bool)> {
        let mut g = Gather::default();
        let mut cursors: Vec<Option<Cursors<'_>>> = segments
            .iter()
            .map(|s| (s.tier == TIER_RAW).then(|| Cursors::new(self, s.from, s.to)))
            .collect();
        let mut out = Vec::with_capacity(refs.len());
        let mut downsampled = false;
        for (r, labels) in self.labels_of(refs) {
            let group = crate::db::keys::group_of(&labels);
            let mut data = SeriesData {
                labels,
                ..Default::default()
            };
            let mut coarse: Vec<WindowAgg> = Vec::new();
            for (seg, cur) in segments.iter().zip(cursors.iter_mut()) {
                if let Some(cur) = cur {
                    flush_coarse(&mut data, &mut coarse, hints.aggregate);
                    if let Some((ts, vs)) = self.read_series(r, seg.from, seg.to, &mut g, cur)? {
                        data.timestamps.extend_from_slice(&ts);
                        if hints.aggregate == Aggregate::Count {
                            data.values
                                .extend(vs.iter().map(|&v| if is_stale_nan(v) { v } else { 1.0 }));
                        } else {
                            data.values.extend_from_slice(&vs);
                        }
                    }
                } else {
                    let need = Columns::for_aggregate(hints.aggregate);
                    let ws = self.read_windows(seg.tier, (group, r), seg.from, seg.to.saturating_add(1), need, true)?;
                    downsampled |= !ws.is_empty();
                    coarse.extend(ws);
                }
            }
            flush_coarse(&mut data, &mut coarse, hints.aggregate);
            if !data.timestamps.is_empty() {
                out.push((r, data));
            }
        }
        Ok((out, downsampled))
    }
}

/// Appends pending windows to the series as points of `agg`.
fn flush_coarse(data: &mut SeriesData, coarse: &mut Vec<WindowAgg>, agg: Aggregate) {
    if coarse.is_empty() {
        return;
    }
    // Segments are disjoint and in time order, but guard the strictly-increasing contract anyway.
    let after = data.timestamps.last().copied().unwrap_or(i64::MIN);
    coarse.retain(|w| w.t > after);
    data.timestamps.extend(coarse.iter().map(|w| w.t));
    if agg == Aggregate::Counter {
        data.values.extend(rebuild_counter(coarse));
    } else {
        data.values.extend(coarse.iter().map(|w| w.value(agg)));
    }
    coarse.clear();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const H: i64 = 3_600_000;

    fn hints(resolution: Resolution, step_ms: i64, range_ms: i64) -> SelectHints {
        SelectHints {
            aggregate: Aggregate::Last,
            step_ms,
            range_ms,
            resolution,
        }
    }

    #[test]
    fn auto_picks_the_coarsest_tier_with_five_points_per_step_and_range() {
        assert_eq!(preferred_tier(&hints(Resolution::Auto, 0, 0)), 0);
        assert_eq!(preferred_tier(&hints(Resolution::Auto, 60_000, 300_000)), 0);
        assert_eq!(preferred_tier(&hints(Resolution::Auto, H, 0)), 1);
        assert_eq!(preferred_tier(&hints(Resolution::Auto, H, H)), 1);
        assert_eq!(
            preferred_tier(&hints(Resolution::Auto, H, 300_000)),
            0,
            "a 5m range needs raw"
        );
        assert_eq!(preferred_tier(&hints(Resolution::Auto, 6 * H, 0)), 2);
        assert_eq!(preferred_tier(&hints(Resolution::Auto, 0, 30 * 24 * H)), 2);
        assert_eq!(preferred_tier(&hints(Resolution::Raw, 6 * H, 0)), 0);
        assert_eq!(preferred_tier(&hints(Resolution::OneHour, 0, 0)), 2);
    }

    #[test]
    fn auto_reads_raw_wherever_raw_is_kept() {
        let seg = |tier, from, to| Segment { tier, from, to };
        // Raw kept from 100 on; 5m and 1h complete up to 200 and 150, kept from 0.
        let (horizon, complete) = ([100, 0, 0], [i64::MAX, 200, 150]);
        let auto = |p, lo, hi| plan_auto_exact(Resolution::Auto, p, lo, hi, horizon, complete);
        assert_eq!(auto(1, 120, 300), vec![seg(0, 120, 300)], "all within raw retention");
        assert_eq!(auto(1, 0, 300), vec![seg(1, 0, 99), seg(0, 100, 300)]);
        assert_eq!(auto(2, 0, 300), vec![seg(2, 0, 99), seg(0, 100, 300)]);
        assert_eq!(auto(2, 0, 50), vec![seg(2, 0, 50)], "all before the raw horizon");
        // Raw never dropped: raw only.
        let forever = plan_auto_exact(Resolution::Auto, 2, 0, 300, [i64::MIN, 0, 0], complete);
        assert_eq!(forever, vec![seg(0, 0, 300)]);
        // An explicit resolution is planned as asked.
        let five = plan_auto_exact(Resolution::FiveMinutes, 1, 120, 300, horizon, complete);
        assert_eq!(five, plan(1, 120, 300, horizon, complete));
        assert_eq!(five.first().map(|s| s.tier), Some(1));
    }

    #[test]
    fn plans_stitch_tiers_by_horizon_and_watermark() {
        let seg = |tier, from, to| Segment { tier, from, to };
        // Raw kept from 100 on, 5m complete up to 200 (kept from 0), 1h complete up to 150.
        let horizon = [100, 0, i64::MIN];
        let complete = [i64::MAX, 200, 150];
        assert_eq!(
            plan(0, 0, 300, horizon, complete),
            vec![seg(1, 0, 99), seg(0, 100, 300)]
        );
        assert_eq!(
            plan(1, 0, 300, horizon, complete),
            vec![seg(1, 0, 199), seg(0, 200, 300)]
        );
        assert_eq!(
            plan(2, -50, 300, horizon, complete),
            vec![seg(2, -50, 149), seg(1, 150, 199), seg(0, 200, 300)]
        );
        assert_eq!(plan(0, 120, 130, horizon, complete), vec![seg(0, 120, 130)]);
        // Nothing downsampled yet and raw kept forever: raw only.
        let fresh = plan(2, 0, 10, [i64::MIN; 3], [i64::MAX, i64::MIN, i64::MIN]);
        assert_eq!(fresh, vec![seg(0, 0, 10)]);
        // Data before every horizon is gone: the plan starts where data starts.
        assert_eq!(
            plan(0, -500, 300, [100, 50, 0], complete),
            vec![seg(2, 0, 49), seg(1, 50, 99), seg(0, 100, 300)]
        );
        assert_eq!(
            plan(0, i64::MIN, i64::MAX, [i64::MIN; 3], [i64::MAX, 0, 0]),
            vec![seg(0, i64::MIN, i64::MAX)]
        );
    }
}
