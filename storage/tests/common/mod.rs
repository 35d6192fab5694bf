//! Helpers shared by the storage engine tests.
#![allow(clippy::unwrap_used, dead_code, missing_docs)]

use std::path::Path;

use strata_storage::{
    FsyncPolicy, LabelMatcher, Labels, MatchOp, MemStore, Sample, SeriesData, SeriesReader, Storage, StorageOptions,
    WriteSeries,
};

/// A small deterministic PRNG (xorshift64*), so tests need no extra crate and replay the same way.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

pub fn opts(dir: &Path) -> StorageOptions {
    let mut o = StorageOptions::new(dir);
    o.wal_fsync = FsyncPolicy::Never;
    o
}

pub fn series(name: &str, i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", name.to_string()),
        ("instance", format!("host-{i}")),
        ("job", "node".to_string()),
    ])
}

pub fn ws(labels: &Labels, samples: impl IntoIterator<Item = (i64, f64)>) -> WriteSeries {
    WriteSeries {
        labels: labels.clone(),
        samples: samples.into_iter().map(|(t, v)| Sample { t, v }).collect(),
    }
}

pub fn all_matcher() -> Vec<LabelMatcher> {
    vec![LabelMatcher::new("__name__", MatchOp::RegexMatch, ".+").unwrap()]
}

/// Appends to the storage and to the model alike.
pub fn append_both(st: &Storage, model: &mut MemStore, batch: &[WriteSeries]) {
    let rep = st.append(batch).unwrap();
    assert!(rep.rejected.is_empty(), "{:?}", rep.rejected);
    for w in batch {
        for s in &w.samples {
            model.add(&w.labels, s.t, s.v);
        }
    }
}

/// Asserts two selections are equal, comparing values by bits (NaN payloads included); reports the first
/// difference instead of whole columns.
pub fn assert_same(got: &[SeriesData], want: &[SeriesData], ctx: &str) {
    let names = |v: &[SeriesData]| v.iter().map(|s| s.labels.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got.len(),
        want.len(),
        "{ctx}: series count; got {:?}, want {:?}",
        names(got),
        names(want)
    );
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.labels, w.labels, "{ctx}");
        let n = g.timestamps.len().max(w.timestamps.len());
        for i in 0..n {
            let gs = g.timestamps.get(i).zip(g.values.get(i).map(|v| v.to_bits()));
            let ws = w.timestamps.get(i).zip(w.values.get(i).map(|v| v.to_bits()));
            assert_eq!(
                gs,
                ws,
                "{ctx}: {} differs at sample {i} of got {} / want {} (t, value bits)",
                g.labels,
                g.timestamps.len(),
                w.timestamps.len()
            );
        }
    }
}

/// Checks the storage against the model over a full range and a few sub-ranges.
pub fn check_against(st: &Storage, model: &MemStore, ctx: &str) {
    let m = all_matcher();
    for (mint, maxt) in [(i64::MIN, i64::MAX), (0, 50_000), (12_345, 12_345), (100_000, 400_000)] {
        let got = st.select(&m, mint, maxt).unwrap();
        let want = model.select(&m, mint, maxt).unwrap();
        assert_same(&got, &want, &format!("{ctx} [{mint},{maxt}]"));
    }
    // An instant selector's selection: only the newest sample of each series in the range.
    let hints = strata_storage::SelectHints::default();
    assert!(hints.newest_only());
    for (mint, maxt) in [
        (i64::MIN, i64::MAX),
        (0, 60),
        (0, 700),
        (150, 1500),
        (1000, 5000),
        (12_345, 12_345),
    ] {
        let got = st.select_hinted(&m, mint, maxt, &hints).unwrap().series;
        let mut want = model.select(&m, mint, maxt).unwrap();
        for s in &mut want {
            let keep = s.timestamps.len() - 1;
            s.timestamps.drain(..keep);
            s.values.drain(..keep);
        }
        assert_same(&got, &want, &format!("{ctx} newest in [{mint},{maxt}]"));
    }
}
