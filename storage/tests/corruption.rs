//! Damaged files: torn and flipped WAL records, flipped chunk bytes. The storage opens with what is intact.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use common::*;
use strata_storage::{LabelMatcher, MemStore, SeriesReader, Storage};

fn wal_segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// Writes `n` batches (one sample per series per batch) without closing; returns the per-batch models.
fn write_batches(dir: &Path, n: i64) -> Vec<MemStore> {
    let st = Storage::open(opts(dir)).unwrap();
    let mut model = MemStore::new();
    let mut models = Vec::new();
    for b in 0..n {
        let batch: Vec<_> = (0..3)
            .map(|i| ws(&series("w", i), [(b * 1000, (b * 10 + i as i64) as f64)]))
            .collect();
        append_both(&st, &mut model, &batch);
        models.push(model.clone());
    }
    models
}

#[test]
fn torn_wal_tail_keeps_earlier_batches() {
    let dir = tempfile::tempdir().unwrap();
    let models = write_batches(dir.path(), 50);
    let segs = wal_segments(dir.path());
    assert_eq!(segs.len(), 1);
    let len = std::fs::metadata(&segs[0]).unwrap().len();
    // Cut the last record in half.
    OpenOptions::new()
        .write(true)
        .open(&segs[0])
        .unwrap()
        .set_len(len - 7)
        .unwrap();
    let st = Storage::open(opts(dir.path())).unwrap();
    check_against(&st, &models[48], "torn tail");
    // Writes continue in a fresh segment and survive another replay.
    let mut model = models[48].clone();
    append_both(&st, &mut model, &[ws(&series("w", 0), [(99_000, 1.5)])]);
    drop(st);
    let st = Storage::open(opts(dir.path())).unwrap();
    check_against(&st, &model, "after torn tail, reopened");
}

#[test]
fn flipped_wal_bytes_stop_the_segment_there() {
    let dir = tempfile::tempdir().unwrap();
    let models = write_batches(dir.path(), 40);
    let seg = &wal_segments(dir.path())[0];
    let mut bytes = std::fs::read(seg).unwrap();
    // Each batch is one samples record of equal size after the first (which also creates the series).
    let flip_at = bytes.len() * 3 / 4;
    bytes[flip_at] ^= 0x5a;
    std::fs::write(seg, &bytes).unwrap();
    let st = Storage::open(opts(dir.path())).unwrap();
    let got = st.select(&all_matcher(), i64::MIN, i64::MAX).unwrap();
    // Some prefix of the batches is intact: the result equals one of the per-batch models.
    let n = got[0].timestamps.len();
    assert!((20..40).contains(&n), "kept {n} batches");
    check_against(&st, &models[n - 1], "flipped wal byte");
}

#[test]
fn garbage_segment_header_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let models = write_batches(dir.path(), 10);
    // A later segment with a bad header, e.g. from a different program.
    std::fs::write(
        dir.path().join("wal").join("00000000000000000009.wal"),
        b"not a wal segment",
    )
    .unwrap();
    let st = Storage::open(opts(dir.path())).unwrap();
    check_against(&st, &models[9], "bad header");
}

#[test]
fn flipped_chunk_bytes_are_skipped_other_data_intact() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.chunk_max_samples = 100;
    let mut model = MemStore::new();
    {
        let st = Storage::open(o.clone()).unwrap();
        for i in 0..3 {
            append_both(
                &st,
                &mut model,
                &[ws(&series("c", i), (0..1000).map(|k| (k * 15_000, k as f64)))],
            );
        }
        st.close().unwrap();
    }
    // Flip one byte inside one chunk of series ref 2 (host-1), straight in RocksDB.
    let flipped_key;
    {
        let db_path = dir.path().join("db");
        // All samples lie in the first day: the raw partition starting at 0.
        let cfs = rocksdb::DB::list_cf(&rocksdb::Options::default(), &db_path).unwrap();
        assert!(cfs.iter().any(|c| c == "raw_0"), "{cfs:?}");
        let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), &db_path, cfs).unwrap();
        let cf = db.cf_handle("raw_0").unwrap();
        let mut chosen = None;
        for item in db.iterator_cf(cf, rocksdb::IteratorMode::Start) {
            let (k, v) = item.unwrap();
            // Key: tier u8, metric group u32 BE, ref u64 BE, max_t, seq. Take the 4th chunk of ref 2.
            if k[5..13] == 2u64.to_be_bytes() {
                chosen.get_or_insert_with(Vec::new).push((k.to_vec(), v.to_vec()));
            }
        }
        let (k, mut v) = chosen.unwrap().swap_remove(3);
        let mid = v.len() / 2;
        v[mid] ^= 0x01;
        db.put_cf(cf, &k, &v).unwrap();
        flipped_key = k;
    }
    let st = Storage::open(o).unwrap();
    assert_eq!(st.metrics().corrupt_chunks, 1, "found by the scan at open");
    let got = st.select(&all_matcher(), i64::MIN, i64::MAX).unwrap();
    assert_eq!(st.metrics().corrupt_chunks, 2, "and again by the read that skipped it");
    assert_eq!(got.len(), 3);
    let want = model.select(&all_matcher(), i64::MIN, i64::MAX).unwrap();
    for (g, w) in got.iter().zip(&want) {
        if g.labels.get("instance") == Some("host-1") {
            // Exactly the 100 samples of the 4th chunk are missing; the rest is there.
            assert_eq!(g.timestamps.len(), 900);
            let missing: Vec<i64> = w
                .timestamps
                .iter()
                .copied()
                .filter(|t| !g.timestamps.contains(t))
                .collect();
            assert_eq!(missing, (300..400).map(|k| k * 15_000).collect::<Vec<_>>());
            let max_t = i64::from_be_bytes(flipped_key[13..21].try_into().unwrap()) ^ i64::MIN;
            assert_eq!(max_t, 399 * 15_000);
        } else {
            assert_same(std::slice::from_ref(g), std::slice::from_ref(w), "intact series");
        }
    }
    // Queries outside the broken chunk are unaffected.
    let m = vec![LabelMatcher::equal("instance", "host-1")];
    assert_eq!(st.select(&m, 0, 299 * 15_000).unwrap()[0].timestamps.len(), 300);
}
