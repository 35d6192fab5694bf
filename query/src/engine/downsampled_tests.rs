#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::sync::Mutex;

use strata_storage::matcher::matches_all;
use strata_storage::{
    Aggregate, LabelMatcher, Labels, MemStore, Resolution, SelectHints, Selection, SeriesData, SeriesReader,
};

use super::{aggregate_for, kernel_name};
use crate::functions::over_time;
use crate::{Engine, QueryOptions, Value};

/// A store whose raw samples live in a [`MemStore`] and which answers a hinted selection from canned
/// per-window aggregates when it has some for the hinted aggregate (then `downsampled` is set), recording
/// every hint it receives.
#[derive(Default)]
struct Tiered {
    raw: MemStore,
    tiers: Vec<(Aggregate, Vec<SeriesData>)>,
    seen: Mutex<Vec<SelectHints>>,
}

impl Tiered {
    fn seen(&self) -> Vec<SelectHints> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

impl SeriesReader for Tiered {
    fn select(&self, m: &[LabelMatcher], mint: i64, maxt: i64) -> strata_storage::Result<Vec<SeriesData>> {
        self.raw.select(m, mint, maxt)
    }

    fn series(&self, m: &[LabelMatcher], mint: i64, maxt: i64) -> strata_storage::Result<Vec<Labels>> {
        self.raw.series(m, mint, maxt)
    }

    fn label_names(&self, m: &[LabelMatcher], mint: i64, maxt: i64) -> strata_storage::Result<Vec<String>> {
        self.raw.label_names(m, mint, maxt)
    }

    fn label_values(
        &self,
        name: &str,
        m: &[LabelMatcher],
        mint: i64,
        maxt: i64,
    ) -> strata_storage::Result<Vec<String>> {
        self.raw.label_values(name, m, mint, maxt)
    }

    fn select_hinted(
        &self,
        m: &[LabelMatcher],
        mint: i64,
        maxt: i64,
        hints: &SelectHints,
    ) -> strata_storage::Result<Selection> {
        self.seen.lock().unwrap().push(*hints);
        let Some((_, data)) = self.tiers.iter().find(|(a, _)| *a == hints.aggregate) else {
            return Ok(Selection {
                series: self.raw.select(m, mint, maxt)?,
                downsampled: false,
            });
        };
        let series = data
            .iter()
            .filter(|s| matches_all(m, &s.labels))
            .filter_map(|s| {
                let (ts, vs): (Vec<i64>, Vec<f64>) = s
                    .timestamps
                    .iter()
                    .zip(&s.values)
                    .filter(|(t, _)| (mint..=maxt).contains(*t))
                    .unzip();
                (!ts.is_empty()).then(|| SeriesData {
                    labels: s.labels.clone(),
                    timestamps: ts,
                    values: vs,
                })
            })
            .collect();
        Ok(Selection {
            series,
            downsampled: true,
        })
    }
}

fn labels(i: &str) -> Labels {
    Labels::from_pairs([("__name__", "m"), ("i", i)])
}

fn series(i: &str, points: &[(i64, f64)]) -> SeriesData {
    SeriesData {
        labels: labels(i),
        timestamps: points.iter().map(|p| p.0).collect(),
        values: points.iter().map(|p| p.1).collect(),
    }
}

/// Raw samples every minute from 0 to 20 minutes, `a` = 5 + minute, `b` = 100 - minute.
fn raw_store() -> MemStore {
    let mut s = MemStore::new();
    for m in 0..=20i64 {
        s.add(&labels("a"), m * 60_000, 5.0 + m as f64);
        s.add(&labels("b"), m * 60_000, 100.0 - m as f64);
    }
    s
}

fn instant(r: &Tiered, q: &str, t: i64) -> Vec<(String, f64)> {
    let res = Engine::default()
        .instant_query(r, q, t, &QueryOptions::default())
        .unwrap();
    let Value::Vector(v) = res.value else {
        panic!("{q}: expected a vector, got {:?}", res.value)
    };
    v.into_iter()
        .map(|s| (s.labels.get("i").unwrap_or("").to_string(), s.v))
        .collect()
}

const MIN: i64 = 60_000;

#[test]
fn functions_pass_their_aggregate_step_range_and_resolution() {
    let r = Tiered {
        raw: raw_store(),
        ..Tiered::default()
    };
    let cases = [
        ("m", Aggregate::Last, 0),
        ("min_over_time(m[10m])", Aggregate::Min, 10 * MIN),
        ("max_over_time(m[10m])", Aggregate::Max, 10 * MIN),
        ("sum_over_time(m[10m])", Aggregate::Sum, 10 * MIN),
        ("count_over_time(m[10m])", Aggregate::Count, 10 * MIN),
        ("avg_over_time(m[10m])", Aggregate::Sum, 10 * MIN),
        ("rate(m[5m])", Aggregate::Counter, 5 * MIN),
        ("increase(m[5m])", Aggregate::Counter, 5 * MIN),
        ("irate(m[5m])", Aggregate::Counter, 5 * MIN),
        ("resets(m[5m])", Aggregate::Counter, 5 * MIN),
        ("last_over_time(m[7m])", Aggregate::Last, 7 * MIN),
        ("delta(m[5m])", Aggregate::Last, 5 * MIN),
        ("deriv(m[5m])", Aggregate::Last, 5 * MIN),
        ("quantile_over_time(0.5, m[5m])", Aggregate::Last, 5 * MIN),
        ("stddev_over_time(m[5m])", Aggregate::Last, 5 * MIN),
        ("sum(rate((m[3m])))", Aggregate::Counter, 3 * MIN),
    ];
    let e = Engine::default();
    for (q, agg, range) in cases {
        e.instant_query(&r, q, 20 * MIN, &QueryOptions::default()).unwrap();
        let want = SelectHints {
            aggregate: agg,
            step_ms: 0,
            range_ms: range,
            resolution: Resolution::Auto,
        };
        assert_eq!(r.seen(), vec![want], "instant {q}");

        let opts = QueryOptions {
            resolution: Resolution::FiveMinutes,
            ..QueryOptions::default()
        };
        e.range_query(&r, q, 10 * MIN, 20 * MIN, 2 * MIN, &opts).unwrap();
        let want = SelectHints {
            step_ms: 2 * MIN,
            resolution: Resolution::FiveMinutes,
            ..want
        };
        assert_eq!(r.seen(), vec![want], "range {q}");
    }
    // A subquery's inner selector is evaluated on the subquery's own step and chooses its own aggregate.
    e.instant_query(
        &r,
        "max_over_time(rate(m[5m])[10m:30s])",
        20 * MIN,
        &QueryOptions::default(),
    )
    .unwrap();
    let seen = r.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].aggregate, seen[0].step_ms, seen[0].range_ms),
        (Aggregate::Counter, 30_000, 5 * MIN)
    );
    e.range_query(
        &r,
        "max_over_time(m[10m:1m])",
        10 * MIN,
        20 * MIN,
        5 * MIN,
        &QueryOptions::default(),
    )
    .unwrap();
    let seen = r.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].aggregate, seen[0].step_ms, seen[0].range_ms),
        (Aggregate::Last, MIN, 0)
    );
}

#[test]
fn aggregate_and_kernel_choice() {
    assert_eq!(aggregate_for("avg_over_time"), Aggregate::Sum);
    assert_eq!(aggregate_for("changes"), Aggregate::Last);
    assert_eq!(aggregate_for("first_over_time"), Aggregate::Last);
    assert_eq!(kernel_name("count_over_time", true), "sum_over_time");
    assert_eq!(kernel_name("count_over_time", false), "count_over_time");
    assert_eq!(kernel_name("max_over_time", true), "max_over_time");
}

/// Per-window aggregates of series `a` over 5-minute windows ending at 4m and 9m (placed at the windows'
/// last raw samples), followed by raw samples from 10m on.
fn tier(agg: Aggregate) -> Vec<SeriesData> {
    // Raw `a` at minutes 0..=4 is 5..=9, at 5..=9 it is 10..=14.
    let (w1, w2) = match agg {
        Aggregate::Sum => (35.0, 60.0),
        Aggregate::Count => (5.0, 5.0),
        Aggregate::Min => (5.0, 10.0),
        Aggregate::Max => (9.0, 14.0),
        _ => (9.0, 14.0),
    };
    let raw = |m: i64| if agg == Aggregate::Count { 1.0 } else { 5.0 + m as f64 };
    let mut pts = vec![(4 * MIN, w1), (9 * MIN, w2)];
    pts.extend((10..=12).map(|m| (m * MIN, raw(m))));
    vec![series("a", &pts)]
}

#[test]
fn count_over_time_sums_counts_when_downsampled() {
    let r = Tiered {
        raw: raw_store(),
        tiers: vec![(Aggregate::Count, tier(Aggregate::Count))],
        ..Tiered::default()
    };
    // Window (0, 12m]: counts 5 + 5 and three raw samples.
    assert_eq!(
        instant(&r, "count_over_time(m{i=\"a\"}[12m])", 12 * MIN),
        vec![("a".into(), 13.0)]
    );
    // Without downsampling the raw samples in (0, 12m] are counted: minutes 1 to 12.
    let raw = Tiered {
        raw: raw_store(),
        ..Tiered::default()
    };
    assert_eq!(
        instant(&raw, "count_over_time(m{i=\"a\"}[12m])", 12 * MIN),
        vec![("a".into(), 12.0)]
    );
}

#[test]
fn other_functions_combine_aggregates_unchanged() {
    let r = Tiered {
        raw: raw_store(),
        tiers: [Aggregate::Min, Aggregate::Max, Aggregate::Sum]
            .into_iter()
            .map(|a| (a, tier(a)))
            .collect(),
        ..Tiered::default()
    };
    let q = |f: &str| instant(&r, &format!("{f}(m{{i=\"a\"}}[12m])"), 12 * MIN);
    assert_eq!(q("min_over_time"), vec![("a".into(), 5.0)]);
    assert_eq!(q("max_over_time"), vec![("a".into(), 17.0)]);
    assert_eq!(q("sum_over_time"), vec![("a".into(), 35.0 + 60.0 + 15.0 + 16.0 + 17.0)]);
}

#[test]
fn avg_over_time_divides_summed_sums_by_summed_counts() {
    let mut sums = tier(Aggregate::Sum);
    let mut counts = tier(Aggregate::Count);
    // `b` has sums but no counts: no output. `c` has counts only: ignored.
    sums.push(series("b", &[(4 * MIN, 480.0), (9 * MIN, 455.0)]));
    counts.push(series("c", &[(4 * MIN, 5.0)]));
    let r = Tiered {
        raw: raw_store(),
        tiers: vec![(Aggregate::Sum, sums.clone()), (Aggregate::Count, counts)],
        ..Tiered::default()
    };
    let got = instant(&r, "avg_over_time(m[12m])", 12 * MIN);
    assert_eq!(got, vec![("a".into(), (35.0 + 60.0 + 15.0 + 16.0 + 17.0) / 13.0)]);
    let seen = r.seen();
    assert_eq!(
        seen.iter().map(|h| h.aggregate).collect::<Vec<_>>(),
        vec![Aggregate::Sum, Aggregate::Count]
    );
    assert_eq!(
        seen[0],
        SelectHints {
            aggregate: Aggregate::Sum,
            ..seen[1]
        }
    );
    assert_eq!(seen[1].range_ms, 12 * MIN);

    // Per step in a range query: the window (1m, 6m] holds the 4m sum (35 over 5) only.
    let res = Engine::default()
        .range_query(
            &r,
            "avg_over_time(m{i=\"a\"}[5m])",
            6 * MIN,
            12 * MIN,
            6 * MIN,
            &QueryOptions::default(),
        )
        .unwrap();
    let Value::Matrix(m) = res.value else { panic!() };
    assert_eq!(m[0].values, vec![35.0 / 5.0, (60.0 + 15.0 + 16.0 + 17.0) / 8.0]);

    // When the second selection comes back raw, each of its points counts 1.
    let r = Tiered {
        raw: raw_store(),
        tiers: vec![(Aggregate::Sum, sums)],
        ..Tiered::default()
    };
    // Raw `a` in (0, 12m] has 12 points.
    let got = instant(&r, "avg_over_time(m{i=\"a\"}[12m])", 12 * MIN);
    assert_eq!(got, vec![("a".into(), (35.0 + 60.0 + 15.0 + 16.0 + 17.0) / 12.0)]);
}

#[test]
fn raw_answers_keep_prometheus_algorithms() {
    // Values where a plain sum / count differs from Prometheus' Kahan mean.
    let vals = [1e16, 1.0, 1.0, -1e16, 3.0, 0.1, 0.2, 0.3];
    let mut raw = MemStore::new();
    for (i, v) in vals.iter().enumerate() {
        raw.add(&labels("k"), (i as i64 + 1) * MIN, *v);
    }
    let r = Tiered {
        raw,
        ..Tiered::default()
    };
    let t = vals.len() as i64 * MIN;
    let got = instant(&r, "avg_over_time(m[1h])", t);
    let want = over_time::avg(&vals).unwrap();
    assert_eq!(got[0].1.to_bits(), want.to_bits());
    assert_ne!(want, vals.iter().sum::<f64>() / vals.len() as f64);
    // One selection only, and count_over_time counts raw points whatever their values.
    assert_eq!(r.seen().len(), 1);
    assert_eq!(instant(&r, "count_over_time(m[1h])", t), vec![("k".into(), 8.0)]);
    let got = instant(&r, "sum_over_time(m[1h])", t);
    assert_eq!(got[0].1.to_bits(), over_time::sum(&vals).unwrap().to_bits());
}
