//! `Storage::append_keyed`: the series-ref cache path agrees with `append`, never mixes series whose keys
//! collide, and stays right across deletes, WAL replay and reopen.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::hash::{DefaultHasher, Hash, Hasher};

use common::*;
use strata_storage::{Error, KeyedSeries, LabelMatcher, MemStore, Sample, SeriesReader, Storage};

/// One series of a test batch: label pairs as a sender would send them, and samples.
struct Owned {
    pairs: Vec<(String, String)>,
    samples: Vec<Sample>,
}

/// A key as the HTTP layer derives it: a hash of the labels in arrival order.
fn key_of(pairs: &[(&str, &str)]) -> u64 {
    let mut h = DefaultHasher::new();
    pairs.hash(&mut h);
    h.finish()
}

/// Calls `f` with `batch` as keyed series, every series under `key(i)`.
fn with_keyed<R>(
    batch: &[Owned],
    key: impl Fn(usize, &[(&str, &str)]) -> u64,
    f: impl FnOnce(&[KeyedSeries<'_>]) -> R,
) -> R {
    let pairs: Vec<Vec<(&str, &str)>> = batch
        .iter()
        .map(|o| o.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect())
        .collect();
    let keyed: Vec<KeyedSeries<'_>> = batch
        .iter()
        .zip(&pairs)
        .enumerate()
        .map(|(i, (o, p))| KeyedSeries {
            key: key(i, p),
            labels: p,
            samples: &o.samples,
        })
        .collect();
    f(&keyed)
}

/// Appends `batch` with `append_keyed`, every series under `key(i)`, and mirrors it into `model`.
fn append_keyed_both(
    st: &Storage,
    model: &mut MemStore,
    batch: &[Owned],
    key: impl Fn(usize, &[(&str, &str)]) -> u64,
) -> strata_storage::AppendReport {
    with_keyed(batch, key, |keyed| {
        let rep = st.append_keyed(keyed).unwrap();
        let rejected: Vec<usize> = rep.rejected.iter().map(|r| r.index).collect();
        for (i, k) in keyed.iter().enumerate() {
            if rejected.contains(&i) {
                continue;
            }
            for s in k.samples {
                model.add(&k.to_labels(), s.t, s.v);
            }
        }
        rep
    })
}

fn owned(pairs: &[(&str, &str)], samples: &[(i64, f64)]) -> Owned {
    Owned {
        pairs: pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        samples: samples.iter().map(|&(t, v)| Sample { t, v }).collect(),
    }
}

fn host(i: u64) -> String {
    format!("host-{i}")
}

#[test]
fn keyed_appends_match_the_model_over_random_batches() {
    let dir = tempfile::tempdir().unwrap();
    let st = Storage::open(opts(dir.path())).unwrap();
    let mut model = MemStore::new();
    let mut rng = Rng::new(11);
    for round in 0..60i64 {
        let batch: Vec<Owned> = (0..1 + rng.below(20))
            .map(|_| {
                let h = host(rng.below(30));
                let mut pairs = vec![("__name__", "cpu"), ("instance", h.as_str()), ("job", "node")];
                match rng.below(6) {
                    0 => pairs.reverse(),              // unsorted: never cached
                    1 => pairs.insert(1, ("env", "")), // an empty value is dropped
                    _ => {}
                }
                let n = rng.below(3);
                let samples: Vec<(i64, f64)> = (0..n).map(|k| (round * 1000 + k as i64, rng.next() as f64)).collect();
                owned(&pairs, &samples)
            })
            .collect();
        let rep = append_keyed_both(&st, &mut model, &batch, |_, p| key_of(p));
        assert!(rep.rejected.is_empty(), "{:?}", rep.rejected);
        let want: u64 = batch.iter().map(|o| o.samples.len() as u64).sum();
        assert_eq!(rep.samples_appended, want);
    }
    check_against(&st, &model, "keyed");
    let series = st.select(&all_matcher(), i64::MIN, i64::MAX).unwrap().len() as u64;
    assert_eq!(st.metrics().series_created, series, "a series was created twice");
    assert!(st.metrics().head_bytes > 0);
}

#[test]
fn colliding_keys_never_mix_series() {
    let dir = tempfile::tempdir().unwrap();
    let st = Storage::open(opts(dir.path())).unwrap();
    let mut model = MemStore::new();
    for round in 0..5i64 {
        let batch: Vec<Owned> = (0..8u64)
            .map(|i| {
                let h = host(i);
                owned(
                    &[("__name__", "up"), ("instance", h.as_str())],
                    &[(round, (i * 10) as f64 + round as f64)],
                )
            })
            .collect();
        // Every series under the same key: at most one can be a cache hit, the check tells them apart.
        append_keyed_both(&st, &mut model, &batch, |_, _| 42);
        // And keys that collide only across rounds (series i under the key of series i + 1).
        let shifted: Vec<Owned> = (0..8u64)
            .map(|i| {
                let h = host(i);
                owned(
                    &[("__name__", "up"), ("instance", h.as_str())],
                    &[(round + 100, i as f64)],
                )
            })
            .collect();
        append_keyed_both(&st, &mut model, &shifted, |i, _| (i as u64 + round as u64) << 32);
    }
    check_against(&st, &model, "collisions");
    assert_eq!(st.metrics().series_created, 8);
}

#[test]
fn rejections_and_empty_series_behave_as_in_append() {
    let dir = tempfile::tempdir().unwrap();
    let st = Storage::open(opts(dir.path())).unwrap();
    let mut model = MemStore::new();
    let batch = [
        owned(&[("__name__", "ok"), ("i", "0")], &[(1, 1.0)]),
        owned(&[], &[(1, 1.0)]),
        owned(&[("a", "1"), ("a", "2")], &[(1, 1.0)]),
        owned(&[("", "x"), ("b", "1")], &[(1, 1.0)]),
        owned(&[("__name__", "ok"), ("i", "1")], &[]),
        owned(&[("__name__", "ok"), ("i", "2")], &[(1, 2.0), (2, 3.0)]),
    ];
    for pass in 0..2 {
        let rep = append_keyed_both(&st, &mut model, &batch, |_, p| key_of(p));
        assert_eq!(rep.samples_appended, 3, "pass {pass}");
        let idx: Vec<usize> = rep.rejected.iter().map(|r| r.index).collect();
        assert_eq!(idx, [1, 2, 3], "pass {pass}");
        assert!(
            rep.rejected
                .iter()
                .all(|r| matches!(r.error, Error::InvalidSeries { .. }))
        );
    }
    check_against(&st, &model, "rejections");
    assert_eq!(
        st.metrics().series_created,
        2,
        "a series without samples is not created"
    );
}

#[test]
fn deleted_series_are_rewritten_through_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(dir.path());
    let st = Storage::open(o.clone()).unwrap();
    let mut model = MemStore::new();
    let a = owned(&[("__name__", "m"), ("instance", "a")], &[(1000, 1.0)]);
    let b = owned(&[("__name__", "m"), ("instance", "b")], &[(1000, 2.0)]);
    append_keyed_both(&st, &mut model, &[a, b], |_, p| key_of(p));
    // Same series again: cache hits.
    let again = [
        owned(&[("__name__", "m"), ("instance", "a")], &[(2000, 3.0)]),
        owned(&[("__name__", "m"), ("instance", "b")], &[(2000, 4.0)]),
    ];
    append_keyed_both(&st, &mut model, &again, |_, p| key_of(p));
    assert_eq!(st.metrics().series_created, 2);
    // Delete series a entirely; it leaves the index.
    let ma = vec![LabelMatcher::equal("instance", "a")];
    assert_eq!(st.delete_series(&ma, i64::MIN, i64::MAX).unwrap(), 1);
    assert_eq!(st.status(5).num_series, 1);
    let mut want = MemStore::new();
    let b_labels = again[1].pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    let b_labels = strata_storage::Labels::from_pairs(b_labels);
    want.add(&b_labels, 1000, 2.0);
    want.add(&b_labels, 2000, 4.0);
    check_against(&st, &want, "after delete");
    // Rewritten under the same key: a new series, only the new sample.
    let c = owned(&[("__name__", "m"), ("instance", "a")], &[(3000, 5.0)]);
    append_keyed_both(&st, &mut want, &[c], |_, p| key_of(p));
    assert_eq!(st.metrics().series_created, 3);
    assert_eq!(st.status(5).num_series, 2);
    let d = owned(&[("__name__", "m"), ("instance", "a")], &[(4000, 6.0)]);
    append_keyed_both(&st, &mut want, &[d], |_, p| key_of(p));
    assert_eq!(st.metrics().series_created, 3, "the re-created series is cached");
    check_against(&st, &want, "rewritten");
    // WAL replay and a clean reopen keep it; writing after reopen creates nothing.
    drop(st);
    let st = Storage::open(o.clone()).unwrap();
    check_against(&st, &want, "replayed");
    let e = owned(&[("__name__", "m"), ("instance", "a")], &[(5000, 7.0)]);
    let f = owned(&[("__name__", "m"), ("instance", "b")], &[(5000, 8.0)]);
    append_keyed_both(&st, &mut want, &[e, f], |_, p| key_of(p));
    assert_eq!(st.metrics().series_created, 0, "series known from before the restart");
    st.close().unwrap();
    drop(st);
    let st = Storage::open(o).unwrap();
    check_against(&st, &want, "reopened");
    assert_eq!(st.status(5).num_series, 2);
}

#[test]
fn keyed_writers_and_deletes_run_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let st = Storage::open(opts(dir.path())).unwrap();
    std::thread::scope(|s| {
        for w in 0..3u64 {
            let st = &st;
            s.spawn(move || {
                for round in 0..200i64 {
                    let batch: Vec<Owned> = (0..10u64)
                        .map(|i| {
                            let h = host(i);
                            owned(&[("__name__", "c"), ("instance", h.as_str())], &[(round, w as f64)])
                        })
                        .collect();
                    let rep = with_keyed(&batch, |_, p| key_of(p), |k| st.append_keyed(k).unwrap());
                    assert!(rep.rejected.is_empty());
                    assert_eq!(rep.samples_appended, 10);
                }
            });
        }
        s.spawn(|| {
            for i in 0..50u64 {
                let m = vec![LabelMatcher::equal("instance", host(i % 10).as_str())];
                st.delete_series(&m, i64::MIN, i64::MAX).unwrap();
            }
        });
    });
    // Every series written after the last delete is whole: one sample per round it received.
    let got = st.select(&all_matcher(), i64::MIN, i64::MAX).unwrap();
    assert!(got.len() <= 10);
    let names: Vec<String> = got.iter().map(|s| s.labels.to_string()).collect();
    let mut dedup = names.clone();
    dedup.dedup();
    assert_eq!(names, dedup, "a label set is indexed twice");
    // A final write reaches all ten series, cached or not.
    let batch: Vec<Owned> = (0..10u64)
        .map(|i| {
            let h = host(i);
            owned(&[("__name__", "c"), ("instance", h.as_str())], &[(1_000, 1.0)])
        })
        .collect();
    let mut model = MemStore::new();
    append_keyed_both(&st, &mut model, &batch, |_, p| key_of(p));
    assert_eq!(st.select(&all_matcher(), 1_000, 1_000).unwrap().len(), 10);
}

/// Keyed bulk batches, whose whole chunks are encoded before the append lock: series whose head holds a
/// partly filled chunk, batches that go back in time, new and cached series, all agree with the model;
/// whole chunks were written straight to RocksDB.
#[test]
fn bulk_keyed_batches_match_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let st = Storage::open(opts(dir.path())).unwrap();
    let mut model = MemStore::new();
    let mut rng = Rng::new(5);
    let mut next_t = [0i64; 8];
    for _ in 0..40 {
        let chosen: Vec<u64> = (0..8u64).filter(|_| rng.below(4) > 0).collect();
        let batch: Vec<Owned> = chosen
            .into_iter()
            .map(|i| {
                let h = host(i);
                let n = [0, 1, 120, 130, 240, 250][rng.below(6) as usize];
                let slot = &mut next_t[i as usize];
                // Now and then back in time, over samples already written.
                let back = if rng.below(5) == 0 { 50_000 } else { 0 };
                let start = *slot - back;
                let samples: Vec<(i64, f64)> = (0..n).map(|k| (start + k as i64 * 1000, rng.next() as f64)).collect();
                *slot = (*slot).max(start + n as i64 * 1000);
                owned(&[("__name__", "bulk"), ("instance", h.as_str())], &samples)
            })
            .collect();
        let rep = append_keyed_both(&st, &mut model, &batch, |_, p| key_of(p));
        assert!(rep.rejected.is_empty(), "{:?}", rep.rejected);
    }
    check_against(&st, &model, "bulk keyed");
    assert!(st.metrics().chunks_sealed > 20, "{:?}", st.metrics());
}

/// Two writers send bulk batches for the same series at once, in interleaved time ranges: a head state
/// checked before the append lock may have changed by the time the lock is taken, and every sample still
/// lands once.
#[test]
fn concurrent_bulk_writers_of_one_series_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let st = Storage::open(opts(dir.path())).unwrap();
    let batch = |w: i64, round: i64| {
        let start = (round * 2 + w) * 130_000;
        let samples: Vec<(i64, f64)> = (0..130).map(|k| (start + k * 1000, (start + k) as f64)).collect();
        vec![owned(&[("__name__", "shared"), ("instance", "a")], &samples)]
    };
    std::thread::scope(|s| {
        for w in 0..2i64 {
            let st = &st;
            s.spawn(move || {
                for round in 0..60i64 {
                    let rep = with_keyed(&batch(w, round), |_, p| key_of(p), |k| st.append_keyed(k).unwrap());
                    assert_eq!(rep.samples_appended, 130);
                }
            });
        }
    });
    let mut model = MemStore::new();
    for round in 0..60 {
        for w in 0..2 {
            for o in batch(w, round) {
                let l = strata_storage::Labels::from_pairs(o.pairs.iter().map(|(n, v)| (n.as_str(), v.clone())));
                for x in &o.samples {
                    model.add(&l, x.t, x.v);
                }
            }
        }
    }
    check_against(&st, &model, "concurrent bulk");
}
