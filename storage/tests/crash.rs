//! Crash safety: a child process (this test binary, re-executed in child mode) appends batches with
//! `FsyncPolicy::Always` and prints each acknowledged batch id; the parent kills it with SIGKILL at random
//! points, reopens the storage and checks that every acknowledged sample is there with the right value and
//! that nothing else is. The one batch in flight may be there in part: each of its samples is there or
//! not (a bulk write's directly sealed chunks and its other samples go to different logs).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use strata_storage::{FsyncPolicy, MemStore, SeriesData, SeriesReader, Storage, StorageOptions, WriteSeries};

const CHILD_DIR: &str = "STRATA_CRASH_CHILD_DIR";
const CHILD_START: &str = "STRATA_CRASH_CHILD_START";
const CHILD_IDLE: &str = "STRATA_CRASH_CHILD_IDLE_MS";
const SERIES: usize = 12;
const TRIALS: u64 = 24;

fn child_opts(dir: &Path, idle_ms: i64) -> StorageOptions {
    let mut o = StorageOptions::new(dir);
    o.wal_fsync = FsyncPolicy::Always;
    o.chunk_max_samples = 24;
    o.head_idle_seal_ms = idle_ms;
    o
}

/// Batch `b`: new in-order samples per series, plus (from batch 5 on) an overwrite of an older timestamp
/// and a sample in the past that nobody wrote before, so out-of-order data and "newest wins" are exercised.
/// Odd series get 5 new samples per batch (into the head chunk), even series 48, two whole chunks that
/// are sealed straight into RocksDB, bypassing the WAL. Every third batch is instead one new series of two
/// whole chunks: nothing of it, not even its labels, goes into Strata's WAL.
fn batch(b: i64) -> Vec<WriteSeries> {
    if b % 3 == 2 {
        let s = (0..48).map(|k| (1_000_000 + b * 50 + k, (b * 100 + k) as f64));
        return vec![ws(&series("crash-new", b as usize), s)];
    }
    (0..SERIES)
        .map(|i| {
            let l = series("crash", i);
            let (n, step) = if i % 2 == 0 { (48, 1) } else { (5, 10) };
            let mut s: Vec<(i64, f64)> = (0..n)
                .map(|k| (1_000_000 + b * 50 + k * step, (b * 100 + k) as f64 + i as f64))
                .collect();
            if b >= 5 {
                s.push((1_000_000 + (b - 5) * 50 + (b % 5) * 10, -(b as f64) - i as f64 / 100.0));
                s.push((b * 7 + 3, b as f64));
            }
            ws(&l, s)
        })
        .collect()
}

fn apply(model: &mut MemStore, b: i64) {
    for w in batch(b) {
        for s in &w.samples {
            model.add(&w.labels, s.t, s.v);
        }
    }
}

fn child(dir: &str) {
    let start: i64 = std::env::var(CHILD_START).unwrap().parse().unwrap();
    let idle: i64 = std::env::var(CHILD_IDLE).unwrap().parse().unwrap();
    let st = std::sync::Arc::new(Storage::open(child_opts(Path::new(dir), idle)).unwrap());
    let bg = st.clone();
    // Upkeep in the background: sealing and WAL truncation race with appends and with the kill.
    std::thread::spawn(move || {
        loop {
            bg.maintain().unwrap();
            std::thread::sleep(Duration::from_millis(7));
        }
    });
    println!("READY");
    let mut b = start;
    loop {
        st.append(&batch(b)).unwrap();
        println!("ACK {b}");
        b += 1;
    }
}

/// Checks that `got` holds every sample of `want` and nothing outside `want_next` (which extends `want` by
/// the batch in flight), each sample with its value in one of the two.
fn assert_between(got: &[SeriesData], want: &[SeriesData], want_next: &[SeriesData], ctx: &str) {
    type Points = BTreeMap<String, BTreeMap<i64, u64>>;
    let points = |v: &[SeriesData]| -> Points {
        v.iter()
            .map(|s| {
                let p = s
                    .timestamps
                    .iter()
                    .zip(&s.values)
                    .map(|(&t, v)| (t, v.to_bits()))
                    .collect();
                (s.labels.to_string(), p)
            })
            .collect()
    };
    let (got, want, next) = (points(got), points(want), points(want_next));
    let value = |m: &Points, l: &str, t: i64| m.get(l).and_then(|p| p.get(&t)).copied();
    for (l, p) in &want {
        for (&t, &v) in p {
            let g = value(&got, l, t);
            assert!(
                g == Some(v) || (g.is_some() && g == value(&next, l, t)),
                "{ctx}: acknowledged sample {l} @ {t} is {g:?}, want {v:#x}"
            );
        }
    }
    for (l, p) in &got {
        for (&t, &v) in p {
            assert!(
                value(&next, l, t) == Some(v) || value(&want, l, t) == Some(v),
                "{ctx}: sample {l} @ {t} = {v:#x} was never written"
            );
        }
    }
}

#[test]
fn kill9_loses_no_acknowledged_sample() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        child(&dir);
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng::new(0x5eed);
    let mut acked: i64 = -1;
    let mut model = MemStore::new();
    let mut total_acks = 0;
    for trial in 0..TRIALS {
        let idle = if trial % 2 == 0 { 0 } else { 60_000 };
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "kill9_loses_no_acknowledged_sample",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_START, (acked + 1).to_string())
            .env(CHILD_IDLE, idle.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut last = None;
            let mut ready = false;
            for line in BufReader::new(stdout).lines() {
                let line = line.unwrap();
                if line.ends_with("READY") {
                    ready = true;
                } else if let Some(b) = line.strip_prefix("ACK ") {
                    last = Some(b.parse::<i64>().unwrap());
                }
            }
            (ready, last)
        });
        // Kill at a random point: sometimes during open/replay, mostly while appending.
        std::thread::sleep(Duration::from_millis(40 + rng.below(360)));
        child.kill().unwrap();
        child.wait().unwrap();
        let (ready, last) = reader.join().unwrap();
        if let Some(last) = last {
            assert!(ready);
            for b in acked + 1..=last {
                apply(&mut model, b);
            }
            total_acks += last - acked;
            acked = last;
        }
        // Reopen: every acknowledged batch is there; of the batch in flight, any part or none.
        let st = Storage::open(child_opts(dir.path(), idle)).unwrap();
        let got = st.select(&all_matcher(), i64::MIN, i64::MAX).unwrap();
        let mut with_next = model.clone();
        apply(&mut with_next, acked + 1);
        let want = model.select(&all_matcher(), i64::MIN, i64::MAX).unwrap();
        let want_next = with_next.select(&all_matcher(), i64::MIN, i64::MAX).unwrap();
        if got == want_next {
            // The next child rewrites that batch with the same content; the model must include it.
            model = with_next;
            acked += 1;
        } else if got != want {
            assert_between(
                &got,
                &want,
                &want_next,
                &format!("trial {trial}: acked {acked} + part of the next"),
            );
        }
        // Every third time the parent closes cleanly (seal + empty WAL), else it just drops.
        if trial % 3 == 0 {
            st.close().unwrap();
        }
        drop(st);
    }
    assert!(total_acks > 100, "children acknowledged only {total_acks} batches");
    eprintln!(
        "crash test: {TRIALS} trials, {total_acks} acknowledged batches, {:?}",
        started.elapsed()
    );
}
