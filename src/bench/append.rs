//! `strata bench-append`: append throughput of the storage engine on one thread, in process (no HTTP, no
//! protobuf): what the head, the WAL and sealing cost per sample. node_exporter-like series
//! (`super::workload`) are created by a first append (untimed), then every further append adds `--batch`
//! samples to each series in one `Storage::append` call, as the remote-write handler does for a live
//! Prometheus (`--batch 1`) or a bulk request (`--batch 120`: whole chunks, sealed straight into RocksDB). Values are
//! generated before the clock starts. Reports samples/s, the appending thread's CPU seconds per million
//! samples (background threads, e.g. RocksDB's flushes, are not counted there) and head bytes per series.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use strata_storage::{FsyncPolicy, KeyedSeries, Labels, Sample, Storage, StorageOptions, WriteSeries};

use super::workload::{Rng, generate};

/// Settings of `strata bench-append`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchAppendArgs {
    /// Series appended to in every scrape.
    #[arg(long, default_value_t = 100_000)]
    pub series: usize,
    /// Scrapes (15 s apart) after the append that creates the series.
    #[arg(long, default_value_t = 240)]
    pub scrapes: usize,
    /// Samples per series per append call: 1 is a live scrape, more is a bulk (backfill) request.
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Append through `Storage::append_keyed` (the remote-write path: series found by a key of their labels'
    /// wire bytes, checked against the index) instead of `Storage::append` (label sets hashed every time).
    /// Keys are computed before the clock starts.
    #[arg(long)]
    pub keyed: bool,
    /// An empty (or absent) directory for the store; it is left in place.
    #[arg(long = "data-dir")]
    pub data_dir: PathBuf,
}

/// CPU seconds used so far by the calling thread.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Runs the benchmark and prints a Markdown table.
pub fn run(a: BenchAppendArgs) -> anyhow::Result<()> {
    let batch = a.batch.max(1);
    let rounds = a.scrapes.div_ceil(batch);
    let mut o = StorageOptions::new(&a.data_dir);
    o.wal_fsync = FsyncPolicy::Never;
    let st = Storage::open(o).context("opening the store")?;
    let mut gen_series = generate(a.series, 42);
    let mut rng = Rng::new(7);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let start = now - (rounds * batch + 1) as i64 * 15_000;
    // Values of every round, generated up front: [round][series][sample in batch].
    let values: Vec<Vec<f64>> = (0..rounds)
        .map(|_| {
            gen_series
                .iter_mut()
                .flat_map(|s| (0..batch).map(|_| s.step(&mut rng)).collect::<Vec<_>>())
                .collect()
        })
        .collect();
    let mut writes: Vec<WriteSeries> = gen_series
        .iter()
        .map(|s| WriteSeries {
            labels: Labels::from_pairs(s.labels.iter().cloned()),
            // As many samples as a later append brings, ending at `start`: a bulk request's whole chunks
            // are sealed straight from the request only while the head chunk is empty, as it is after these.
            samples: (0..batch)
                .map(|k| Sample {
                    t: start - (batch - 1 - k) as i64 * 15_000,
                    v: s.value,
                })
                .collect(),
        })
        .collect();
    // For --keyed: each series' sorted pairs and a key (FNV-1a of its label strings).
    let label_sets: Vec<Labels> = writes.iter().map(|w| w.labels.clone()).collect();
    let pairs: Vec<Vec<(&str, &str)>> = label_sets
        .iter()
        .map(|l| l.iter().map(|l| (l.name.as_str(), l.value.as_str())).collect())
        .collect();
    let keys: Vec<u64> = pairs
        .iter()
        .map(|p| {
            p.iter()
                .flat_map(|(n, v)| n.bytes().chain([0xff]).chain(v.bytes()).chain([0xfe]))
                .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
                })
        })
        .collect();
    let t0 = Instant::now();
    let rep = st.append(&writes)?;
    if let Some(r) = rep.rejected.first() {
        anyhow::bail!("append rejected: {}", r.error);
    }
    let create_s = t0.elapsed().as_secs_f64();
    for w in &mut writes {
        w.samples = vec![Sample { t: 0, v: 0.0 }; batch];
    }
    let (cpu0, t1) = (thread_cpu_seconds(), Instant::now());
    let mut appended = 0u64;
    for (round, vals) in values.iter().enumerate() {
        for (w, vs) in writes.iter_mut().zip(vals.chunks_exact(batch)) {
            for (k, (s, &v)) in w.samples.iter_mut().zip(vs).enumerate() {
                let scrape = (round * batch + k + 1) as i64;
                // A few ms of jitter, as scrapes have.
                *s = Sample {
                    t: start + scrape * 15_000 + (scrape * 7 + v.to_bits() as i64 % 5).rem_euclid(5),
                    v,
                };
            }
        }
        appended += if a.keyed {
            let batch: Vec<KeyedSeries<'_>> = writes
                .iter()
                .zip(&pairs)
                .zip(&keys)
                .map(|((w, p), &key)| KeyedSeries {
                    key,
                    labels: p,
                    samples: &w.samples,
                })
                .collect();
            st.append_keyed(&batch)?.samples_appended
        } else {
            st.append(&writes)?.samples_appended
        };
    }
    let secs = t1.elapsed().as_secs_f64();
    let cpu = match (cpu0, thread_cpu_seconds()) {
        (Some(a), Some(b)) => b - a,
        _ => f64::NAN,
    };
    let m = st.metrics();
    println!(
        "{} series created in {:.2} s; then {} {} appends of {} sample(s) per series, one thread, WAL fsync never\n",
        a.series,
        create_s,
        rounds,
        if a.keyed { "keyed" } else { "labelled" },
        batch
    );
    println!("| figure | value |");
    println!("|---|---:|");
    println!("| samples appended | {appended} |");
    println!("| samples/s (wall) | {:.2} M |", appended as f64 / secs / 1e6);
    println!(
        "| appending thread CPU s per million samples | {:.3} |",
        cpu / (appended as f64 / 1e6)
    );
    println!(
        "| samples per CPU-second of the appending thread | {:.2} M |",
        appended as f64 / cpu / 1e6
    );
    println!("| chunks sealed inline | {} |", m.chunks_sealed);
    println!(
        "| head bytes per series (chunks, buffers, per-series state) | {:.0} |",
        m.head_bytes as f64 / m.head_series.max(1) as f64
    );
    st.close()?;
    Ok(())
}
