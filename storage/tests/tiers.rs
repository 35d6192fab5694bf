//! Downsampled tiers and retention: what a store whose raw tier keeps one day answers from its 5 m and 1 h
//! tiers must agree with the raw data another store keeps forever.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use strata_storage::{Aggregate, LabelMatcher, Resolution, SelectHints, SeriesData, SeriesReader, Storage};

const H: i64 = 3_600_000;
const DAY: i64 = 24 * H;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Four days of 15 s samples ending two hours ago, on whole hours: a counter with resets, a noisy gauge
/// and a constant.
fn workload(end: i64) -> Vec<strata_storage::WriteSeries> {
    let start = end - 4 * DAY;
    let ts: Vec<i64> = (0..(4 * DAY / 15_000))
        .map(|k| start + k * 15_000 + (k * 7919) % 900)
        .collect();
    let counter = ts.iter().enumerate().map(|(k, &t)| {
        let k = k as f64;
        // Resets every 10 000 samples.
        (
            t,
            ((k % 10_000.0) * 2.5 + (k * 0.37).sin().abs() * 3.0).floor() / 100.0 * 100.0,
        )
    });
    let gauge = ts
        .iter()
        .enumerate()
        .map(|(k, &t)| (t, 50.0 + 40.0 * ((k as f64) / 500.0).sin() + (k % 13) as f64));
    let constant = ts.iter().map(|&t| (t, 7.0));
    vec![
        ws(&series("req_total", 0), counter),
        ws(&series("temp", 0), gauge),
        ws(&series("const", 0), constant),
    ]
}

fn hints(aggregate: Aggregate, resolution: Resolution) -> SelectHints {
    SelectHints {
        aggregate,
        step_ms: H,
        range_ms: H,
        resolution,
    }
}

fn one(st: &Storage, name: &str, mint: i64, maxt: i64, h: SelectHints) -> (SeriesData, bool) {
    let m = vec![LabelMatcher::equal("__name__", name)];
    let sel = st.select_hinted(&m, mint, maxt, &h).unwrap();
    assert_eq!(sel.series.len(), 1, "{name} [{mint}, {maxt}]");
    (sel.series.into_iter().next().unwrap(), sel.downsampled)
}

fn increase(vs: &[f64]) -> f64 {
    vs.windows(2)
        .map(|w| if w[1] >= w[0] { w[1] - w[0] } else { w[1] })
        .sum()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn one_day_of_raw_plus_tiers_agrees_with_raw_kept_forever() {
    // Ends at a block boundary of the 5 m tier (6 h) at least one block before now, so that a flush
    // downsamples every window: blocks are written once complete.
    let end = (now_ms() / (6 * H) - 1) * 6 * H;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Storage::open(opts(dir_a.path())).unwrap();
    let mut ob = opts(dir_b.path());
    ob.retention_ms = [Some(DAY), None, None];
    let b = Storage::open(ob.clone()).unwrap();
    let batch = workload(end);
    for st in [&a, &b] {
        let rep = st.append(&batch).unwrap();
        assert!(rep.rejected.is_empty());
        st.flush().unwrap();
    }
    // B dropped its raw partitions older than a day, and disk space with them.
    let (ta, tb) = (a.tier_status(), b.tier_status());
    assert!(ta[0].partitions >= 4 && tb[0].partitions <= 2, "{ta:?} {tb:?}");
    assert!(tb[0].bytes < ta[0].bytes / 2, "{ta:?} {tb:?}");
    assert!(tb[0].horizon >= end - 2 * DAY, "{tb:?}");
    assert_eq!((tb[1].series, tb[2].series), (3, 3), "{tb:?}");
    assert!(tb[1].samples >= 4 * 24 * 12 - 1 && tb[2].samples >= 4 * 24, "{tb:?}");

    let check = |b: &Storage, ctx: &str| {
        let mut coarse_windows = 0;
        for hour in 1..(4 * 24) {
            // Whole windows: raw samples in [lo, hi] are exactly those of the windows starting there.
            let (lo, hi) = (end - 4 * DAY + hour * H, end - 4 * DAY + (hour + 1) * H - 1);
            for name in ["req_total", "temp", "const"] {
                let (raw, ds) = one(&a, name, lo, hi, hints(Aggregate::Last, Resolution::Raw));
                assert!(!ds);
                let n = raw.values.len() as f64;
                let (cnt, ds) = one(b, name, lo, hi, hints(Aggregate::Count, Resolution::Raw));
                coarse_windows += usize::from(ds);
                // A raw-only answer is raw samples, to be counted; a downsampled one has counts to add up.
                let got = if ds {
                    cnt.values.iter().sum::<f64>()
                } else {
                    cnt.values.len() as f64
                };
                assert_eq!(got, n, "{ctx} count {name} hour {hour}");
                let (mx, _) = one(b, name, lo, hi, hints(Aggregate::Max, Resolution::Raw));
                let want = raw.values.iter().copied().fold(f64::MIN, f64::max);
                assert_eq!(mx.values.iter().copied().fold(f64::MIN, f64::max), want, "{ctx} max");
                let (mn, _) = one(b, name, lo, hi, hints(Aggregate::Min, Resolution::Raw));
                let want = raw.values.iter().copied().fold(f64::MAX, f64::min);
                assert_eq!(mn.values.iter().copied().fold(f64::MAX, f64::min), want, "{ctx} min");
                let (sm, _) = one(b, name, lo, hi, hints(Aggregate::Sum, Resolution::Raw));
                assert!(
                    close(sm.values.iter().sum(), raw.values.iter().sum()),
                    "{ctx} sum {name} hour {hour}"
                );
                // The rebuilt counter rises between its first and last point exactly as the raw data did.
                let (c, ds) = one(b, name, lo, hi, hints(Aggregate::Counter, Resolution::Raw));
                if ds {
                    let (first, last) = (c.timestamps[0], *c.timestamps.last().unwrap());
                    let (r, _) = one(&a, name, first, last, hints(Aggregate::Last, Resolution::Raw));
                    let got = c.values.last().unwrap() - c.values[0];
                    assert!(
                        close(got, increase(&r.values)),
                        "{ctx} counter {name} hour {hour}: {got}"
                    );
                    assert!(c.values.windows(2).all(|w| w[1] >= w[0]), "no resets left");
                } else {
                    assert_eq!(c, raw, "{ctx}: raw data is served as is");
                }
            }
        }
        // The last day is still raw in B; the first three come from the 5 m tier.
        assert!(
            coarse_windows >= 3 * 40 && coarse_windows < 3 * 80,
            "{ctx}: {coarse_windows}"
        );
    };
    check(&b, "after flush");
    drop(b);
    let b = Storage::open(ob.clone()).unwrap();
    check(&b, "after reopen");

    // Store A answers from its tiers too when asked; auto reads raw wherever raw is kept (all of A's data,
    // B's last day) and the tiers picked for hourly steps before that.
    let (lo, hi) = (end - 3 * DAY, end - 2 * DAY);
    let (c5, ds) = one(&a, "temp", lo, hi, hints(Aggregate::Count, Resolution::FiveMinutes));
    assert!(ds && c5.values.len() == 24 * 12, "{}", c5.values.len());
    let (c1, ds) = one(&a, "temp", lo, hi, hints(Aggregate::Count, Resolution::OneHour));
    assert!(ds && c1.values.len() == 24);
    assert_eq!(c1.values.iter().sum::<f64>(), c5.values.iter().sum::<f64>());
    let auto = a.plan_selection(lo, now_ms(), &hints(Aggregate::Last, Resolution::Auto));
    assert!(auto.iter().all(|s| s.tier == 0), "{auto:?}");
    let auto = b.plan_selection(lo, now_ms(), &hints(Aggregate::Last, Resolution::Auto));
    assert_eq!(auto.first().unwrap().tier, 1, "{auto:?}");
    assert_eq!(
        auto.last().unwrap().tier,
        0,
        "the newest minutes come from raw: {auto:?}"
    );

    // Deleting a range removes it from every tier.
    let m = vec![LabelMatcher::equal("__name__", "temp")];
    b.delete_series(&m, end - 3 * DAY, end - 2 * DAY).unwrap();
    let sel = b
        .select_hinted(
            &m,
            end - 3 * DAY + 1,
            end - 2 * DAY,
            &hints(Aggregate::Count, Resolution::Raw),
        )
        .unwrap();
    assert!(
        sel.series.is_empty(),
        "{:?}",
        sel.series.first().map(|s| s.values.len())
    );
    let (after, _) = one(
        &b,
        "temp",
        end - 2 * DAY + 1,
        end,
        hints(Aggregate::Count, Resolution::Raw),
    );
    assert!(after.values.iter().sum::<f64>() > 0.0);
}

#[test]
fn live_data_is_downsampled_once_its_block_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.chunk_max_samples = 120;
    let st = Storage::open(o).unwrap();
    // Six hours of data around a 5 m block boundary (6 h), appended in order in small batches like a
    // scrape. The block after the boundary must have ended more than the tier's 10 settling minutes ago
    // for the flush below to complete it, whatever the time of day the test runs at.
    let boundary = ((now_ms() - H / 3) / (6 * H) - 1) * 6 * H;
    let (start, end) = (boundary - 3 * H, boundary + 3 * H);
    for k in 0..(6 * H / 15_000) {
        let t = start + k * 15_000;
        st.append(&[ws(&series("g", 0), [(t, k as f64)])]).unwrap();
    }
    st.downsample().unwrap();
    // The block before the boundary is complete and sealed: downsampled. The one after still has the open
    // head chunk (its last 30 minutes), so it is not, although most of its chunks are sealed.
    let status = st.tier_status();
    assert_eq!(status[1].complete_to, boundary, "{status:?}");
    assert_eq!(status[1].samples, 3 * 12, "{status:?}");
    let m = vec![LabelMatcher::equal("__name__", "g")];
    let sel = st
        .select_hinted(&m, start, end, &hints(Aggregate::Count, Resolution::FiveMinutes))
        .unwrap();
    assert!(sel.downsampled);
    let total: f64 = sel.series[0].values.iter().sum();
    assert_eq!(
        total,
        (6 * H / 15_000) as f64,
        "raw fills in where the tier is not complete"
    );
    // Once everything is sealed, a flush completes the second block too.
    st.flush().unwrap();
    let status = st.tier_status();
    assert_eq!(status[1].samples, 6 * 12, "{status:?}");
}

#[test]
fn series_whose_data_all_expired_leave_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.retention_ms = [Some(DAY), Some(DAY), Some(DAY)];
    let st = Storage::open(o.clone()).unwrap();
    let now = now_ms();
    // "old" stopped 90 days ago: every tier's partitions holding it end before the retention cutoff.
    let old_end = now - 90 * DAY;
    let old = ws(
        &series("old", 0),
        (0..400).map(|k| (old_end - 400 * 15_000 + k * 15_000, k as f64)),
    );
    let fresh = ws(
        &series("fresh", 0),
        (0..400).map(|k| (now - 400 * 15_000 + k * 15_000, k as f64)),
    );
    st.append(&[old, fresh]).unwrap();
    let all = vec![LabelMatcher::equal("job", "node")];
    assert_eq!(st.series(&all, i64::MIN, i64::MAX).unwrap().len(), 2);
    st.flush().unwrap();
    let check = |st: &Storage, ctx: &str| {
        let left = st.series(&all, i64::MIN, i64::MAX).unwrap();
        assert_eq!(left.len(), 1, "{ctx}: {left:?}");
        assert_eq!(left[0].get("__name__"), Some("fresh"), "{ctx}");
        let names = st.label_values("__name__", &[], i64::MIN, i64::MAX).unwrap();
        assert_eq!(names, vec!["fresh".to_string()], "{ctx}");
        assert_eq!(st.metrics().head_series, 1, "{ctx}");
        let sel = st.select(&all, now - DAY, now).unwrap();
        assert_eq!(sel.len(), 1, "{ctx}");
        assert_eq!(sel[0].values.len(), 400, "{ctx}");
    };
    check(&st, "after flush");
    drop(st);
    let st = Storage::open(o).unwrap();
    check(&st, "reopened");
    // The name can come back: a new series with a new ref.
    st.append(&[ws(&series("old", 0), [(now, 1.0)])]).unwrap();
    assert_eq!(st.series(&all, i64::MIN, i64::MAX).unwrap().len(), 2);
}
