//! Footprint measurement (ignored by default; run in release):
//! `cargo test --release -p strata-storage --test footprint -- --ignored --nocapture`
//!
//! 10 000 node_exporter-like series (counters, gauges, constants; 15 s scrapes with a few ms of jitter) for
//! 3 hours, appended scrape by scrape; prints head bytes per series and bytes on disk per sample after flush.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Instant;

use common::*;
use strata_storage::{FsyncPolicy, Labels, Sample, SeriesReader, Storage, StorageOptions, WriteSeries};

const HOSTS: usize = 50;
const PER_HOST: usize = 200;
const HOURS: i64 = 3;

enum Kind {
    Counter { v: f64, rate: f64 },
    Gauge { v: f64 },
    Constant { v: f64 },
}

#[test]
#[ignore = "measurement; run explicitly in release mode"]
fn bytes_per_sample_node_exporter_like() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = StorageOptions::new(dir.path());
    o.wal_fsync = FsyncPolicy::Never;
    let st = Storage::open(o).unwrap();
    let mut rng = Rng::new(42);
    let mut series: Vec<(Labels, Kind)> = Vec::with_capacity(HOSTS * PER_HOST);
    for h in 0..HOSTS {
        for k in 0..PER_HOST {
            let (name, kind) = match k % 4 {
                0 => (
                    "node_cpu_seconds_total",
                    Kind::Counter {
                        v: rng.below(1_000_000) as f64 / 100.0,
                        rate: 0.01 + (k % 7) as f64,
                    },
                ),
                1 => (
                    "node_network_receive_bytes_total",
                    Kind::Counter {
                        v: rng.below(1 << 40) as f64,
                        rate: 1000.0 * (1 + k % 13) as f64,
                    },
                ),
                2 => (
                    "node_memory_Active_bytes",
                    Kind::Gauge {
                        v: (rng.below(1 << 34) & !4095) as f64,
                    },
                ),
                _ => ("node_filesystem_readonly", Kind::Constant { v: (k % 2) as f64 }),
            };
            let labels = Labels::from_pairs([
                ("__name__", name.to_string()),
                ("instance", format!("10.0.{}.{}:9100", h / 250, h % 250)),
                ("job", "node".to_string()),
                ("cpu", (k / 4 % 16).to_string()),
                ("device", format!("dev{}", k / 64)),
                ("mode", ["idle", "user", "system", "iowait"][k / 16 % 4].to_string()),
            ]);
            series.push((labels, kind));
        }
    }
    let n_series = series.len();
    let scrapes = HOURS * 3600 / 15;
    let t0 = 1_700_000_000_000i64;
    let started = Instant::now();
    let mut samples = 0u64;
    let mut head_per_series = 0.0;
    for s in 0..scrapes {
        let mut batch: Vec<WriteSeries> = Vec::with_capacity(n_series);
        for (labels, kind) in series.iter_mut() {
            let v = match kind {
                Kind::Counter { v, rate } => {
                    *v += (*rate * 15.0 * (0.5 + rng.below(100) as f64 / 100.0) * 100.0).round() / 100.0;
                    *v
                }
                Kind::Gauge { v } => {
                    if rng.below(3) == 0 {
                        *v += ((rng.below(2001) as f64) - 1000.0) * 4096.0;
                    }
                    *v
                }
                Kind::Constant { v } => *v,
            };
            let t = t0 + s * 15_000 + rng.below(7) as i64 - 3;
            batch.push(WriteSeries {
                labels: labels.clone(),
                samples: vec![Sample { t, v }],
            });
        }
        samples += st.append(&batch).unwrap().samples_appended;
        if s == 60 {
            let m = st.metrics();
            head_per_series = m.head_bytes as f64 / m.head_series as f64;
        }
    }
    let ingest = started.elapsed();
    st.flush().unwrap();
    let m = st.metrics();
    let disk = m.disk_bytes;
    let q = Instant::now();
    let got = st.select(&all_matcher(), i64::MIN, i64::MAX).unwrap();
    let read = q.elapsed();
    assert_eq!(got.iter().map(|s| s.timestamps.len() as u64).sum::<u64>(), samples);
    println!(
        "series: {n_series}, samples: {samples}, chunks sealed: {}",
        m.chunks_sealed
    );
    println!(
        "ingest: {:.2?} ({:.0} samples/s); full read: {:.2?} ({:.0} samples/s)",
        ingest,
        samples as f64 / ingest.as_secs_f64(),
        read,
        samples as f64 / read.as_secs_f64()
    );
    println!("head bytes per series (half-full chunks, index included): {head_per_series:.0}");
    println!(
        "disk bytes after flush: {disk} = {:.3} bytes/sample",
        disk as f64 / samples as f64
    );
    println!(
        "wal bytes written: {} = {:.2} bytes/sample",
        m.wal_bytes_written,
        m.wal_bytes_written as f64 / samples as f64
    );
    st.close().unwrap();
    drop(st);
    // What the chunks themselves take, without RocksDB's block and index overhead.
    let cfs = rocksdb::DB::list_cf(&rocksdb::Options::default(), dir.path().join("db")).unwrap();
    let db =
        rocksdb::DB::open_cf_for_read_only(&rocksdb::Options::default(), dir.path().join("db"), &cfs, false).unwrap();
    let (mut keys, mut values, mut chunks) = (0usize, 0usize, 0usize);
    for name in cfs.iter().filter(|n| n.starts_with("raw_")) {
        for item in db.iterator_cf(db.cf_handle(name).unwrap(), rocksdb::IteratorMode::Start) {
            let (k, v) = item.unwrap();
            keys += k.len();
            values += v.len();
            chunks += 1;
        }
    }
    println!(
        "chunk values: {values} B = {:.3} bytes/sample ({chunks} chunks, {:.1} samples/chunk); keys {:.3} bytes/sample",
        values as f64 / samples as f64,
        samples as f64 / chunks as f64,
        keys as f64 / samples as f64
    );
}
