//! `strata bench-query`: PromQL evaluation throughput over the real storage engine, in process (no HTTP).
//! Fills a fresh data directory with counters and classic histogram buckets (15 s samples), flushes, then
//! times range queries at 1 m steps: one warm-up, median of the timed runs. Throughput is the samples the
//! query read from storage per second of wall-clock time.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use strata_query::{Engine, EngineOptions, QueryOptions};
use strata_storage::{Labels, Sample, Storage, StorageOptions, WriteSeries};

/// Settings of `strata bench-query`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchQueryArgs {
    /// Series per data set (a counter family and a histogram's bucket series each get this many).
    #[arg(long, default_value_t = 10_000)]
    pub series: usize,
    /// Hours of data, 15 s apart, ending at the last whole hour.
    #[arg(long, default_value_t = 24)]
    pub hours: i64,
    /// An empty (or absent) directory for the store; it is left in place.
    #[arg(long = "data-dir")]
    pub data_dir: PathBuf,
    /// Timed runs per query (after one warm-up).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Extra queries to time besides the two of the issue.
    #[arg(long = "query")]
    pub queries: Vec<String>,
}

const BUCKETS: [&str; 10] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
];

/// Appends the data sets in batches of one series each.
fn fill(st: &Storage, series: usize, start: i64, points: i64) -> anyhow::Result<u64> {
    let mut total = 0u64;
    for i in 0..series {
        // A request counter: jobs of 10 instances each, per-instance rates.
        let l = Labels::from_pairs([
            ("__name__", "http_requests_total".to_string()),
            ("job", format!("job{}", i % 10)),
            ("instance", format!("host-{i}")),
        ]);
        let mut v = 0.0;
        let samples: Vec<Sample> = (0..points)
            .map(|p| {
                v += ((p * 7 + i as i64) % 11) as f64;
                Sample {
                    t: start + p * 15_000,
                    v,
                }
            })
            .collect();
        // A histogram's cumulative bucket counters: one histogram per 10 series.
        let bucket = BUCKETS.get(i % BUCKETS.len()).copied().unwrap_or("+Inf");
        let h = Labels::from_pairs([
            ("__name__", "h_bucket".to_string()),
            ("instance", format!("host-{}", i / BUCKETS.len())),
            ("le", bucket.to_string()),
        ]);
        let share = (i % BUCKETS.len() + 1) as f64;
        let mut c = 0.0;
        let hs: Vec<Sample> = (0..points)
            .map(|p| {
                c += share * (1 + (p + i as i64) % 5) as f64;
                Sample {
                    t: start + p * 15_000,
                    v: c,
                }
            })
            .collect();
        total += (samples.len() + hs.len()) as u64;
        let rep = st.append(&[
            WriteSeries { labels: l, samples },
            WriteSeries { labels: h, samples: hs },
        ])?;
        if let Some(r) = rep.rejected.first() {
            anyhow::bail!("append rejected: {}", r.error);
        }
    }
    Ok(total)
}

/// Runs the benchmark and prints a Markdown table.
pub fn run(a: BenchQueryArgs) -> anyhow::Result<()> {
    let mut o = StorageOptions::new(&a.data_dir);
    o.wal_fsync = strata_storage::FsyncPolicy::Never;
    let st = Storage::open(o).context("opening the store")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let end = (now / 3_600_000 - 1) * 3_600_000;
    let points = a.hours * 240;
    let start = end - points * 15_000;
    let t0 = Instant::now();
    let n = fill(&st, a.series, start, points)?;
    st.flush()?;
    println!(
        "loaded and flushed {n} samples ({} + {} series × {}h at 15 s) in {:.1} s",
        a.series,
        a.series,
        a.hours,
        t0.elapsed().as_secs_f64()
    );
    let engine = Engine::new(EngineOptions {
        max_samples: usize::MAX,
        ..EngineOptions::default()
    });
    let mut queries = vec![
        "sum by (job) (rate(http_requests_total[5m]))".to_string(),
        "histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))".to_string(),
    ];
    queries.extend(a.queries.iter().cloned());
    println!(
        "\nrange query over {}h at 1m steps; median of {} runs after one warm-up;  {} cores\n",
        a.hours,
        a.runs,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| query | series read | samples read | median ms | samples/s |");
    println!("|---|---:|---:|---:|---:|");
    let qo = QueryOptions::default();
    for q in &queries {
        let first = engine
            .range_query(&st, q, start + 3_600_000, end, 60_000, &qo)
            .map_err(|e| anyhow::anyhow!("{q}: {e}"))?;
        let mut times = Vec::with_capacity(a.runs);
        for _ in 0..a.runs.max(1) {
            let t = Instant::now();
            engine
                .range_query(&st, q, start + 3_600_000, end, 60_000, &qo)
                .map_err(|e| anyhow::anyhow!("{q}: {e}"))?;
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
        let loaded = first.stats.samples_loaded;
        println!(
            "| `{q}` | {} | {loaded} | {:.0} | {:.1} M |",
            first.stats.series_selected,
            median * 1000.0,
            loaded as f64 / median / 1e6
        );
    }
    st.close()?;
    Ok(())
}
