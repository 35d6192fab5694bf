//! The read path against its model and its own invariants: walking from series to series, stepping over
//! older chunks, chunks sealed under open iterators, runs handed over without a merge.

#![allow(clippy::unwrap_used)]
use super::*;
use crate::{FsyncPolicy, Labels, Sample, StorageOptions, WriteSeries};

/// A series' sealed chunks and its head chunk come out as runs in time order (the head, read first, goes
/// last), so its columns are handed over without a merge, whatever part of them a range takes.
#[test]
fn sealed_chunks_and_the_head_chunk_are_read_without_a_merge() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = StorageOptions::new(dir.path());
    o.wal_fsync = FsyncPolicy::Never;
    o.chunk_max_samples = 10;
    let st = Storage::open(o).unwrap();
    let labels = Labels::from_pairs([("__name__", "m".to_string())]);
    let samples: Vec<Sample> = (0..25)
        .map(|i| Sample {
            t: 1_000 + i * 15_000,
            v: i as f64,
        })
        .collect();
    st.append(&[WriteSeries { labels, samples }]).unwrap();
    let r = st.refs_in_range(&[], i64::MIN, i64::MAX)[0];
    let sealed = st.head.shard(r).read().get(&r).unwrap().sealed_chunks;
    assert!(sealed >= 1, "the series has sealed chunks");
    for (mint, maxt) in [(0, 10_000_000), (100_000, 300_000), (200_000, 350_000)] {
        let mut cur = Cursors::new(&st, mint, maxt);
        let mut g = Gather::default();
        let (ts, vs) = st.read_series(r, mint, maxt, &mut g, &mut cur).unwrap().unwrap();
        let want: Vec<i64> = (0..25)
            .map(|i| 1_000 + i * 15_000)
            .filter(|t| (mint..=maxt).contains(t))
            .collect();
        assert_eq!(ts, want, "{mint} {maxt}");
        assert_eq!(
            vs,
            want.iter().map(|t| ((t - 1_000) / 15_000) as f64).collect::<Vec<_>>()
        );
        // The runs were in time order: the columns were handed over, not merged sample by sample.
        assert!(g.merge.is_empty(), "{mint} {maxt}: merged");
    }
}

/// A reader whose RocksDB iterators were opened before a chunk was sealed still reads it: the chunk has
/// left the head, and the iterators' view (taken earlier, before its partition even existed) lacks it.
#[test]
fn chunk_sealed_after_the_iterators_opened_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = StorageOptions::new(dir.path());
    o.wal_fsync = FsyncPolicy::Never;
    let st = Storage::open(o).unwrap();
    let labels = Labels::from_pairs([("__name__", "m".to_string())]);
    let samples: Vec<Sample> = (0..50)
        .map(|i| Sample {
            t: 1_000 + i * 15_000,
            v: i as f64,
        })
        .collect();
    st.append(&[WriteSeries { labels, samples }]).unwrap();
    let r = st
        .head
        .shards()
        .iter()
        .flat_map(|s| s.read().keys().copied().collect::<Vec<_>>())
        .next()
        .unwrap();
    let (mint, maxt) = (0, 10_000_000);
    let mut cur = Cursors::new(&st, mint, maxt);
    let mut g = Gather::default();
    let (ts, _) = st.read_series(r, mint, maxt, &mut g, &mut cur).unwrap().unwrap();
    assert_eq!(ts.len(), 50, "from the head");
    st.flush().unwrap(); // seals the head chunk into a new raw partition
    let (ts, vs) = st.read_series(r, mint, maxt, &mut g, &mut cur).unwrap().unwrap();
    assert_eq!(ts.len(), 50, "from RocksDB, through iterators opened before the seal");
    assert_eq!(vs.last().copied(), Some(49.0));
}

/// Reads that walk from one series to the next without seeking return what seeks return: series of
/// two metrics created interleaved, over different time spans (some end before others start), read
/// by selections with gaps (unselected neighbours) over several ranges, against the in-memory model. With
/// 4 to 12 chunks per series, a scan steps over a few older chunks or seeks past many.
#[test]
fn walking_from_series_to_series_reads_what_seeking_reads() {
    use crate::matcher::{LabelMatcher, MatchOp};
    let dir = tempfile::tempdir().unwrap();
    let mut o = StorageOptions::new(dir.path());
    o.wal_fsync = FsyncPolicy::Never;
    o.chunk_max_samples = 10;
    let st = Storage::open(o).unwrap();
    let mut model = crate::MemStore::new();
    let mut batch = Vec::new();
    for i in 0..12i64 {
        for name in ["a", "b"] {
            let labels = Labels::from_pairs([("__name__", name.to_string()), ("instance", format!("host-{i}"))]);
            let start = (i % 4) * 200_000;
            // 4 to 12 chunks: a scan from a series' start steps over older chunks, or seeks past many.
            let samples: Vec<Sample> = (0..40 + (i % 3) * 40)
                .map(|k| Sample {
                    t: start + k * 15_000,
                    v: (i * 1000 + k) as f64,
                })
                .collect();
            for x in &samples {
                model.add(&labels, x.t, x.v);
            }
            batch.push(WriteSeries { labels, samples });
        }
    }
    st.append(&batch).unwrap();
    st.flush().unwrap();
    let re = |name: &str, v: &str| LabelMatcher::new(name, MatchOp::RegexMatch, v).unwrap();
    let selections = [
        vec![re("__name__", "a")],
        vec![re("__name__", ".+")],
        vec![re("__name__", "b"), re("instance", "host-(1|3|4|7|8|11)")],
        vec![re("__name__", ".+"), re("instance", "host-(0|5|6|10)")],
    ];
    for m in &selections {
        for (mint, maxt) in [
            (i64::MIN, i64::MAX),
            (300_000, 500_000),
            (650_000, 700_000),
            (0, 100_000),
            (590_000, 610_000),
            (1_000_000, 1_200_000),
            (1_500_000, i64::MAX),
        ] {
            let got = st.select(m, mint, maxt).unwrap();
            let want = model.select(m, mint, maxt).unwrap();
            assert_eq!(got.len(), want.len(), "{m:?} {mint} {maxt}");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g.labels, w.labels);
                assert_eq!(g.timestamps, w.timestamps, "{} {mint} {maxt}", g.labels);
                assert_eq!(g.values, w.values, "{} {mint} {maxt}", g.labels);
            }
        }
    }
    // Series asked for out of key order (descending refs) are found too: the iterators seek back.
    let mut refs = st.refs_in_range(&selections[1], i64::MIN, i64::MAX);
    refs.sort_unstable_by(|a, b| b.cmp(a));
    let got = st.read_raw_refs(&refs, &[(i64::MIN, i64::MAX)], false).unwrap();
    let want = model.select(&selections[1], i64::MIN, i64::MAX).unwrap();
    assert_eq!(got.len(), 24);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(
            (&g.labels, &g.timestamps, &g.values),
            (&w.labels, &w.timestamps, &w.values)
        );
    }
}
