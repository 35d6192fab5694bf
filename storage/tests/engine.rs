//! Storage engine behaviour: round trips, out-of-order merge, reopen, delete, validation, metrics.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use strata_storage::{
    Error, FsyncPolicy, LabelMatcher, Labels, MatchOp, MemStore, STALE_NAN_BITS, SeriesReader, Storage, StorageOptions,
};

#[test]
fn append_and_read_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let st = Storage::open(opts(dir.path())).unwrap();
    let mut model = MemStore::new();
    let stale = f64::from_bits(STALE_NAN_BITS);
    for i in 0..5 {
        let l = series("node_cpu_seconds_total", i);
        let samples: Vec<(i64, f64)> = (0..1000)
            .map(|k| (k * 15_000, if k == 500 { stale } else { (k as f64) * 0.25 + i as f64 }))
            .collect();
        append_both(&st, &mut model, &[ws(&l, samples)]);
    }
    check_against(&st, &model, "head");
    // Read the stale marker back bit-exact.
    let m = vec![LabelMatcher::equal("instance", "host-2")];
    let got = st.select(&m, 500 * 15_000, 500 * 15_000).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].values[0].to_bits(), STALE_NAN_BITS);
    st.flush().unwrap();
    check_against(&st, &model, "flushed");
    let met = st.metrics();
    assert_eq!(met.samples_appended, 5000);
    assert_eq!(met.series_created, 5);
    assert_eq!(met.head_series, 5);
    assert_eq!(met.head_chunks, 0);
    assert!(met.chunks_sealed >= 5 * 1000 / 120, "{met:?}");
    assert!(met.disk_bytes > 0);
    let status = st.status(10);
    assert_eq!(status.num_series, 5);
    assert_eq!(status.min_time, 0);
    assert_eq!(status.max_time, 999 * 15_000);
    assert!(status.chunk_count >= 5 * 9);
}

#[test]
fn out_of_order_and_overwrites_newest_wins() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.chunk_max_samples = 16;
    let st = Storage::open(o.clone()).unwrap();
    let mut model = MemStore::new();
    let l = series("m", 0);
    append_both(&st, &mut model, &[ws(&l, (100..200).map(|t| (t * 10, t as f64)))]);
    // Older data (backfill), interleaved timestamps, duplicates of existing ones.
    append_both(
        &st,
        &mut model,
        &[ws(&l, (0..100).rev().map(|t| (t * 10, -(t as f64))))],
    );
    append_both(
        &st,
        &mut model,
        &[ws(&l, (0..200).step_by(3).map(|t| (t * 10 + 5, 1000.0 + t as f64)))],
    );
    append_both(
        &st,
        &mut model,
        &[ws(&l, (0..200).step_by(7).map(|t| (t * 10, 2000.0 + t as f64)))],
    );
    check_against(&st, &model, "head");
    st.maintain().unwrap();
    // Overwrite sealed data, then seal again and overwrite once more.
    append_both(
        &st,
        &mut model,
        &[ws(&l, (0..200).step_by(5).map(|t| (t * 10, 3000.0 + t as f64)))],
    );
    check_against(&st, &model, "overwrite sealed");
    st.flush().unwrap();
    append_both(
        &st,
        &mut model,
        &[ws(&l, (0..200).step_by(11).map(|t| (t * 10, 4000.0 + t as f64)))],
    );
    append_both(
        &st,
        &mut model,
        &[ws(&l, [(1990, 5.0), (1990, 6.0), (2500, 7.0), (2500, 8.0)])],
    );
    check_against(&st, &model, "after flush");
    assert!(st.metrics().samples_out_of_order > 100);
    drop(st);
    let st = Storage::open(o).unwrap();
    check_against(&st, &model, "reopened");
}

#[test]
fn reopen_after_close_and_without_close() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = MemStore::new();
    {
        let st = Storage::open(opts(dir.path())).unwrap();
        for i in 0..20 {
            append_both(
                &st,
                &mut model,
                &[ws(&series("a", i), (0..300).map(|k| (k * 1000, k as f64 * i as f64)))],
            );
        }
        st.close().unwrap();
        assert!(matches!(
            st.append(&[ws(&series("a", 0), [(1, 1.0)])]),
            Err(Error::Closed)
        ));
    }
    let wal_files = std::fs::read_dir(dir.path().join("wal")).unwrap().count();
    assert_eq!(wal_files, 1, "close leaves one empty segment");
    {
        let st = Storage::open(opts(dir.path())).unwrap();
        check_against(&st, &model, "after close");
        for i in 0..20 {
            append_both(
                &st,
                &mut model,
                &[ws(&series("a", i), (300..400).map(|k| (k * 1000, k as f64)))],
            );
            append_both(
                &st,
                &mut model,
                &[ws(&series("b", i), (0..50).map(|k| (k * 1000, k as f64)))],
            );
        }
        // Seal part of it so replay meets data that is also sealed.
        st.maintain().unwrap();
        append_both(&st, &mut model, &[ws(&series("a", 3), [(5000, 55.0), (399_000, 66.0)])]);
        // Dropped without close: the WAL brings the rest back.
    }
    for round in 0..2 {
        let st = Storage::open(opts(dir.path())).unwrap();
        check_against(&st, &model, &format!("replay {round}"));
        assert_eq!(st.status(5).num_series, 40);
    }
}

#[test]
fn delete_series_ranges_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.chunk_max_samples = 32;
    let st = Storage::open(o.clone()).unwrap();
    let mut model = MemStore::new();
    for i in 0..4 {
        append_both(
            &st,
            &mut model,
            &[ws(&series("d", i), (0..500).map(|k| (k * 100, k as f64)))],
        );
    }
    st.maintain().unwrap();
    // A range in the middle of sealed and head data of host-1.
    let m1 = vec![LabelMatcher::equal("instance", "host-1")];
    assert_eq!(st.delete_series(&m1, 10_050, 30_000).unwrap(), 1);
    // Whole series host-2.
    let m2 = vec![LabelMatcher::equal("instance", "host-2")];
    assert_eq!(st.delete_series(&m2, i64::MIN, i64::MAX).unwrap(), 1);
    // Nothing there.
    assert_eq!(st.delete_series(&m1, 1_000_000, 2_000_000).unwrap(), 0);
    let mut want = MemStore::new();
    for i in 0..4 {
        for k in 0..500i64 {
            let t = k * 100;
            if (i == 1 && (10_050..=30_000).contains(&t)) || i == 2 {
                continue;
            }
            want.add(&series("d", i), t, k as f64);
        }
    }
    check_against(&st, &want, "after delete");
    assert_eq!(
        st.label_values("instance", &all_matcher(), i64::MIN, i64::MAX).unwrap(),
        ["host-0", "host-1", "host-3"]
    );
    assert_eq!(st.status(5).num_series, 3);
    // Write again into the deleted range: the new data shows.
    let extra = [ws(&series("d", 1), [(20_000, 42.0)]), ws(&series("d", 2), [(7, 7.0)])];
    st.append(&extra).unwrap();
    want.add(&series("d", 1), 20_000, 42.0);
    want.add(&series("d", 2), 7, 7.0);
    check_against(&st, &want, "rewritten");
    drop(st);
    let st = Storage::open(o.clone()).unwrap();
    check_against(&st, &want, "replayed delete");
    st.close().unwrap();
    drop(st);
    let st = Storage::open(o).unwrap();
    check_against(&st, &want, "reopened delete");
}

#[test]
fn rejects_bad_series_individually() {
    let dir = tempfile::tempdir().unwrap();
    let st = Storage::open(opts(dir.path())).unwrap();
    let dup = Labels::from_pairs([("a", "1"), ("a", "2")]);
    let empty_name = Labels::from_pairs([("", "x"), ("b", "1")]);
    let batch = [
        ws(&series("ok", 0), [(1, 1.0)]),
        ws(&Labels::default(), [(1, 1.0)]),
        ws(&dup, [(1, 1.0)]),
        ws(&empty_name, [(1, 1.0)]),
        ws(&series("ok", 1), [(1, 2.0), (2, 3.0)]),
    ];
    let rep = st.append(&batch).unwrap();
    assert_eq!(rep.samples_appended, 3);
    let idx: Vec<usize> = rep.rejected.iter().map(|r| r.index).collect();
    assert_eq!(idx, [1, 2, 3]);
    assert!(
        rep.rejected
            .iter()
            .all(|r| matches!(r.error, Error::InvalidSeries { .. }))
    );
    assert_eq!(st.select(&all_matcher(), 0, 10).unwrap().len(), 2);
    // A series without __name__ is fine.
    let noname = Labels::from_pairs([("job", "x")]);
    assert!(st.append(&[ws(&noname, [(5, 5.0)])]).unwrap().rejected.is_empty());
    assert_eq!(st.select(&[LabelMatcher::equal("job", "x")], 0, 10).unwrap().len(), 1);
}

#[test]
fn labels_restricted_by_matchers_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let st = Storage::open(opts(dir.path())).unwrap();
    st.append(&[
        ws(
            &Labels::from_pairs([("__name__", "x"), ("zone", "a")]),
            [(1000, 1.0), (2000, 1.0)],
        ),
        ws(
            &Labels::from_pairs([("__name__", "y"), ("region", "eu")]),
            [(5000, 1.0)],
        ),
    ])
    .unwrap();
    assert_eq!(st.label_names(&[], 0, 3000).unwrap(), ["__name__", "zone"]);
    assert_eq!(st.label_names(&[], 0, 10_000).unwrap(), ["__name__", "region", "zone"]);
    assert_eq!(st.label_values("__name__", &[], 4000, 6000).unwrap(), ["y"]);
    assert_eq!(
        st.label_values("__name__", &[LabelMatcher::equal("zone", "a")], 0, 10_000)
            .unwrap(),
        ["x"]
    );
    assert_eq!(st.series(&all_matcher(), 2500, 4999).unwrap().len(), 0);
    assert_eq!(st.series(&all_matcher(), 0, 10_000).unwrap().len(), 2);
    st.flush().unwrap();
    assert_eq!(st.label_names(&[], 4000, 6000).unwrap(), ["__name__", "region"]);
}

#[test]
fn maintain_seals_idle_data_and_truncates_wal() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.head_idle_seal_ms = 0;
    let st = Storage::open(o.clone()).unwrap();
    let mut model = MemStore::new();
    for i in 0..10 {
        append_both(
            &st,
            &mut model,
            &[ws(&series("idle", i), (0..50).map(|k| (k * 1000, k as f64)))],
        );
    }
    assert_eq!(st.metrics().head_chunks, 10);
    st.maintain().unwrap();
    assert_eq!(st.metrics().head_chunks, 0);
    let segs = std::fs::read_dir(dir.path().join("wal")).unwrap().count();
    assert_eq!(segs, 1, "sealed segments are deleted");
    check_against(&st, &model, "sealed");
    drop(st);
    let st = Storage::open(o).unwrap();
    check_against(&st, &model, "reopened");
}

#[test]
fn concurrent_appenders_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = StorageOptions::new(dir.path());
    o.wal_fsync = FsyncPolicy::Always;
    let st = std::sync::Arc::new(Storage::open(o.clone()).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|th| {
            let st = st.clone();
            std::thread::spawn(move || {
                for b in 0..50i64 {
                    st.append(&[ws(&series("conc", th), [(b * 10, b as f64)])]).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let m = st.metrics();
    assert_eq!(m.samples_appended, 400);
    assert!(m.wal_fsyncs >= 1 && m.wal_fsyncs <= 400, "{m:?}");
    drop(st);
    let st = Storage::open(o).unwrap();
    let got = st.select(&all_matcher(), i64::MIN, i64::MAX).unwrap();
    assert_eq!(got.len(), 8);
    assert!(got.iter().all(|s| s.timestamps.len() == 50));
}

/// Random operations against the in-memory model, with flushes, upkeep, deletes and reopens in between.
#[test]
fn random_ops_match_model() {
    for seed in 1..=4u64 {
        let dir = tempfile::tempdir().unwrap();
        let mut o = opts(dir.path());
        o.chunk_max_samples = 8 + (seed as usize % 3) * 20;
        o.head_idle_seal_ms = if seed % 2 == 0 { 0 } else { 3_600_000 };
        let mut rng = Rng::new(seed);
        let mut st = Storage::open(o.clone()).unwrap();
        let mut model = MemStore::new();
        let mut newest = [0i64; 6];
        for step in 0..300 {
            match rng.below(100) {
                0..=59 => {
                    let mut batch = Vec::new();
                    for _ in 0..1 + rng.below(3) {
                        let i = rng.below(6) as usize;
                        let mut samples = Vec::new();
                        for _ in 0..1 + rng.below(20) {
                            let t = match rng.below(4) {
                                0 => rng.below(newest[i] as u64 + 1) as i64,
                                _ => {
                                    newest[i] += 1 + rng.below(30) as i64;
                                    newest[i]
                                }
                            };
                            let v = if rng.below(50) == 0 {
                                f64::from_bits(STALE_NAN_BITS)
                            } else {
                                rng.below(1000) as f64
                            };
                            samples.push((t, v));
                        }
                        batch.push(ws(&series("r", i), samples));
                    }
                    append_both(&st, &mut model, &batch);
                }
                60..=69 => st.maintain().unwrap(),
                70..=74 => st.flush().unwrap(),
                75..=79 => {
                    let i = rng.below(6) as usize;
                    let a = rng.below(newest[i] as u64 + 1) as i64;
                    let b = a + rng.below(200) as i64;
                    st.delete_series(&[LabelMatcher::equal("instance", format!("host-{i}"))], a, b)
                        .unwrap();
                    let mut next = MemStore::new();
                    for s in model.select(&all_matcher(), i64::MIN, i64::MAX).unwrap() {
                        for (&t, &v) in s.timestamps.iter().zip(&s.values) {
                            if s.labels.get("instance") != Some(&format!("host-{i}")) || t < a || t > b {
                                next.add(&s.labels, t, v);
                            }
                        }
                    }
                    model = next;
                }
                80..=89 => {
                    if rng.below(2) == 0 {
                        st.close().unwrap();
                    }
                    drop(st);
                    st = Storage::open(o.clone()).unwrap();
                }
                _ => check_against(&st, &model, &format!("seed {seed} step {step}")),
            }
        }
        check_against(&st, &model, &format!("seed {seed} end"));
    }
}

#[test]
fn fsync_policies_count_fsyncs() {
    for (policy, expect_syncs) in [
        (FsyncPolicy::Always, true),
        (FsyncPolicy::Interval(std::time::Duration::from_millis(1)), true),
        (FsyncPolicy::Never, false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut o = StorageOptions::new(dir.path());
        o.wal_fsync = policy;
        let st = Storage::open(o).unwrap();
        st.append(&[ws(&series("f", 0), [(1, 1.0)])]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        st.maintain().unwrap();
        let syncs = st.metrics().wal_fsyncs;
        assert_eq!(syncs > 0, expect_syncs, "{policy:?}: {syncs} fsyncs");
        assert!(st.metrics().wal_bytes_written > 0);
    }
}

/// The new series of a batch that also has samples for the head are logged with those samples, in
/// Strata's WAL; both logs are fsynced.
#[test]
fn new_series_are_logged_with_their_head_samples() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.wal_fsync = FsyncPolicy::Always;
    let st = Storage::open(o).unwrap();
    let mut model = MemStore::new();
    let whole = ws(&series("whole", 0), (0..240).map(|k| (k * 15_000, k as f64)));
    append_both(&st, &mut model, &[whole, ws(&series("part", 0), [(1, 1.0)])]);
    let m = st.metrics();
    assert!(m.wal_bytes_written > 0, "{m:?}");
    assert_eq!((m.chunks_sealed, m.wal_fsyncs), (2, 2), "{m:?}");
    check_against(&st, &model, "written");
    drop(st);
    let st = Storage::open(opts(dir.path())).unwrap();
    check_against(&st, &model, "reopened");
}

#[test]
fn bulk_batches_write_whole_chunks_straight_to_rocksdb() {
    let dir = tempfile::tempdir().unwrap();
    let st = Storage::open(opts(dir.path())).unwrap();
    let mut model = MemStore::new();
    let l = series("bulk", 0);
    // 3 whole chunks (120 samples each) and 10 more, in order: the chunks are sealed by the append itself.
    append_both(
        &st,
        &mut model,
        &[ws(&l, (0..370).map(|k| (k * 15_000, k as f64 * 0.5)))],
    );
    let m = st.metrics();
    assert_eq!(m.chunks_sealed, 3, "{m:?}");
    check_against(&st, &model, "direct");
    // The head now holds 10 samples: the next batch fills it sample by sample (no direct write).
    append_both(
        &st,
        &mut model,
        &[ws(&l, (370..500).map(|k| (k * 15_000, k as f64 * 0.5)))],
    );
    assert_eq!(st.metrics().chunks_sealed, 4);
    // Out of order or unsorted batches take the sample-by-sample path too.
    append_both(
        &st,
        &mut model,
        &[ws(&l, (0..240).rev().map(|k| (k * 15_000 + 7, -(k as f64))))],
    );
    check_against(&st, &model, "mixed");
    drop(st);
    let st = Storage::open(opts(dir.path())).unwrap();
    check_against(&st, &model, "reopened");
}

/// A batched selection holds the same series, with the same samples, as the one-shot selection: every
/// batch in label order, batches in ref order, none larger than asked; stopping early stops.
#[test]
fn batched_selection_holds_the_whole_selection() {
    let dir = tempfile::tempdir().unwrap();
    let st = Storage::open(opts(dir.path())).unwrap();
    let mut model = MemStore::new();
    // Created in an order unlike label order (host-9, host-8, ...), half sealed, half in the head.
    for i in (0..10).rev() {
        let samples: Vec<(i64, f64)> = (0..200).map(|k| (k * 15_000, (k * i) as f64)).collect();
        append_both(&st, &mut model, &[ws(&series("m", i as usize), samples)]);
        if i == 5 {
            st.flush().unwrap();
        }
    }
    let hints = strata_storage::SelectHints {
        aggregate: strata_storage::Aggregate::Last,
        step_ms: 60_000,
        range_ms: 300_000, // a range selector's: every sample, not only the newest
        resolution: strata_storage::Resolution::Raw,
    };
    let whole = st.select_hinted(&all_matcher(), 0, 10_000_000, &hints).unwrap();
    let mut batches: Vec<Vec<strata_storage::SeriesData>> = Vec::new();
    st.select_batched(&all_matcher(), 0, 10_000_000, &hints, 3, &mut |sel| {
        batches.push(sel.series);
        true
    })
    .unwrap();
    assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 3, 3, 1]);
    for b in &batches {
        assert!(
            b.windows(2).all(|w| w[0].labels < w[1].labels),
            "a batch is in label order"
        );
    }
    let mut got: Vec<strata_storage::SeriesData> = batches.into_iter().flatten().collect();
    got.sort_by(|a, b| a.labels.cmp(&b.labels));
    assert_same(&got, &whole.series, "batched");
    let mut calls = 0;
    st.select_batched(&all_matcher(), 0, 10_000_000, &hints, 3, &mut |_| {
        calls += 1;
        false
    })
    .unwrap();
    assert_eq!(calls, 1, "returning false stops");
}

/// After a restart an instant selection of the newest samples answers with the newest write of each
/// series' newest timestamp: the value the open scan keeps in memory comes from the last chunk written
/// for that timestamp (an out-of-order overwrite sealed after the original), not an earlier one.
#[test]
fn newest_values_after_restart_are_the_last_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = MemStore::new();
    let newest = strata_storage::SelectHints {
        aggregate: strata_storage::Aggregate::Last,
        step_ms: 0,
        range_ms: 0,
        resolution: strata_storage::Resolution::Raw,
    };
    {
        let st = Storage::open(opts(dir.path())).unwrap();
        for i in 0..4usize {
            let samples: Vec<(i64, f64)> = (0..100).map(|k| (k * 1000, (k * 10 + i as i64) as f64)).collect();
            append_both(&st, &mut model, &[ws(&series("m", i), samples)]);
        }
        st.flush().unwrap();
        // Series 0: its newest sample overwritten (sealed as a later chunk ending at the same time); series
        // 1: a staleness marker as its newest sample; series 2: its newest samples deleted.
        append_both(&st, &mut model, &[ws(&series("m", 0), [(99_000, -7.5)])]);
        append_both(
            &st,
            &mut model,
            &[ws(&series("m", 1), [(100_000, f64::from_bits(STALE_NAN_BITS))])],
        );
        st.flush().unwrap();
        st.delete_series(
            &[LabelMatcher::new("instance", MatchOp::Equal, "host-2").unwrap()],
            95_000,
            99_000,
        )
        .unwrap();
        st.close().unwrap();
    }
    let st = Storage::open(opts(dir.path())).unwrap();
    let got = st.select_hinted(&all_matcher(), 0, 200_000, &newest).unwrap();
    let want: Vec<_> = model
        .select(&all_matcher(), 0, 200_000)
        .unwrap()
        .into_iter()
        .map(|mut s| {
            let keep = s.timestamps.len() - 1;
            s.timestamps.drain(..keep);
            s.values.drain(..keep);
            s
        })
        .collect();
    let mut want = want;
    // The model keeps deleted samples: series 2's newest is now the one before the deleted range.
    want[2].timestamps = vec![94_000];
    want[2].values = vec![942.0];
    assert_same(&got.series, &want, "newest after restart");
    assert_eq!(got.series[0].values[0], -7.5);
}

/// A bulk write's whole chunks go to RocksDB without passing through the WAL, and so do the labels of its
/// new series; they are fsynced there under `Always` (one fsync, RocksDB's), and are all there after a
/// reopen without a clean close.
#[test]
fn bulk_chunks_bypass_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.wal_fsync = FsyncPolicy::Always;
    let mut model = MemStore::new();
    {
        let st = Storage::open(o.clone()).unwrap();
        let batch: Vec<_> = (0..10)
            .map(|i| {
                let samples = (0..240).map(|k| (k * 15_000 + (k * 7) % 5, (k * 100 + i) as f64 * 0.01));
                ws(&series("bulk", i as usize), samples)
            })
            .collect();
        append_both(&st, &mut model, &batch);
        let m = st.metrics();
        assert_eq!(m.chunks_sealed, 20, "two whole chunks per series, sealed at once");
        assert_eq!(
            (m.wal_bytes_written, m.wal_fsyncs),
            (0, 1),
            "nothing in Strata's WAL: {m:?}"
        );
        // Dropped without close: nothing is sealed or flushed on the way out.
    }
    let st = Storage::open(o).unwrap();
    check_against(&st, &model, "reopened after a bulk write");
}
