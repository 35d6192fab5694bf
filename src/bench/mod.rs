//! `strata bench`: a remote-write load generator. Requests are generated and encoded up front so the
//! client is not the bottleneck, then sent over several keep-alive connections; each connection owns a
//! shard of the series and sends its requests in time order (so a peer that rejects out-of-order samples,
//! like Prometheus, sees none). Reports samples/s, the server's CPU seconds per million samples and peak
//! RSS (from `/proc/PID`), errors, and bytes on disk after a flush.

pub mod append;
pub mod query;
pub mod workload;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use prost::Message;

use crate::remote::proto;
use workload::{GenSeries, Rng};

/// Bulk sends many points per series per request; live sends one point per series per request, as a
/// real Prometheus does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Many points per series per request.
    Bulk,
    /// One point per series per request.
    Live,
}

/// Settings of one bench run.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Base URL of the server (Strata or Prometheus with --web.enable-remote-write-receiver).
    #[arg(long, default_value = "http://127.0.0.1:9090")]
    pub url: String,
    /// Number of series.
    #[arg(long, default_value_t = 10_000)]
    pub series: usize,
    /// Time span of generated data, ending now (e.g. 2h).
    #[arg(long, default_value = "1h")]
    pub duration: String,
    /// Scrape interval of the generated data.
    #[arg(long, default_value = "15s")]
    pub interval: String,
    /// bulk or live.
    #[arg(long, value_enum, default_value_t = Mode::Bulk)]
    pub mode: Mode,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Samples per request (bulk: points per series × series per request are chosen to fit; live: series per request).
    #[arg(long, default_value_t = 10_000)]
    pub samples_per_request: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Largest scrape-timestamp jitter in ms (uniform in ±N per sample). Prometheus itself snaps scrape
    /// timestamps that are within 2 ms of the ideal interval (`--scrape.timestamp-tolerance`), so what a
    /// real Prometheus remote-writes is closer to 0 than to the default.
    #[arg(long = "jitter-ms", default_value_t = 25)]
    pub jitter_ms: i64,
    /// End of the generated data in Unix milliseconds (default: now). Give the same value to runs against
    /// different servers so that they receive identical samples.
    #[arg(long = "end-ms")]
    pub end_ms: Option<i64>,
    /// PID of the server, for CPU and peak RSS from /proc.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Data directory of the server, to report bytes on disk.
    #[arg(long)]
    pub server_data_dir: Option<PathBuf>,
    /// Call /internal/force_flush after sending (Strata only) before measuring disk bytes.
    #[arg(long)]
    pub flush: bool,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// What a run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// Samples sent and acknowledged.
    pub samples: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Wall-clock seconds of the send phase.
    pub seconds: f64,
    /// Acknowledged samples per second.
    pub samples_per_second: f64,
    /// Server CPU seconds (user + system) per million samples, if the PID was given.
    pub cpu_seconds_per_million: Option<f64>,
    /// Server peak RSS in bytes (VmHWM), if the PID was given.
    pub peak_rss_bytes: Option<u64>,
    /// Bytes under the server's data dir after the run, if given.
    pub disk_bytes: Option<u64>,
    /// Bytes per sample on disk.
    pub bytes_per_sample: Option<f64>,
    /// Share of constant series in the workload.
    pub constant_share: f64,
}

/// CPU ticks (user + system) of a process, from /proc/PID/stat.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Peak resident set size (VmHWM) of a process in bytes.
pub fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Total size of the files under a directory.
pub fn dir_bytes(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else { return 0 };
    rd.filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn encode(series: &[GenSeries], points: &[Vec<(i64, f64)>]) -> Vec<u8> {
    let req = proto::WriteRequest {
        timeseries: series
            .iter()
            .zip(points)
            .map(|(s, p)| proto::TimeSeries {
                labels: s
                    .labels
                    .iter()
                    .map(|(n, v)| proto::Label {
                        name: n.clone(),
                        value: v.clone(),
                    })
                    .collect(),
                samples: p
                    .iter()
                    .map(|(t, v)| proto::Sample {
                        value: *v,
                        timestamp: *t,
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
        metadata: vec![],
    };
    snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .unwrap_or_default()
}

/// Pre-encoded requests of one connection with their sample counts, in rounds: every connection sends its
/// round `k` before any connection starts round `k + 1`, so all connections move through time together (a
/// peer like Prometheus rejects samples more than an hour older than the newest it has seen).
type Shard = Vec<Vec<(Vec<u8>, u64)>>;

/// Generates and encodes every request, split into one shard per connection.
pub fn build_requests(a: &BenchArgs, now_ms: i64) -> anyhow::Result<(Vec<Shard>, f64, u64)> {
    let span = crate::api::params::parse_duration(&a.duration).context("invalid --duration")?;
    let interval = crate::api::params::parse_duration(&a.interval)
        .context("invalid --interval")?
        .max(1);
    let steps = (span / interval).max(1) as usize;
    let mut series = workload::generate(a.series, a.seed);
    let share = workload::constant_share(&series);
    let conns = a.connections.max(1);
    let per_shard = series.len().div_ceil(conns);
    let mut rng = Rng::new(a.seed ^ 0x5eed);
    let jitter_ms = a.jitter_ms.max(0);
    let start = now_ms - steps as i64 * interval;
    let mut shards = Vec::with_capacity(conns);
    let mut total = 0u64;
    for chunk in series.chunks_mut(per_shard.max(1)) {
        // Points per series per request and series per request.
        let (pts, per_req) = match a.mode {
            Mode::Live => (1, a.samples_per_request.max(1)),
            Mode::Bulk => {
                // 30 minutes of 15 s points per series and request at most: a round spans at most that.
                let pts = steps.min(120).max(1);
                (pts, (a.samples_per_request / pts).max(1))
            }
        };
        let mut shard = Vec::new();
        let mut step = 0;
        while step < steps {
            let n = pts.min(steps - step);
            let mut round = Vec::new();
            for group in chunk.chunks_mut(per_req) {
                let points: Vec<Vec<(i64, f64)>> = group
                    .iter_mut()
                    .map(|s| {
                        (step..step + n)
                            .map(|k| {
                                let jitter = if jitter_ms > 0 {
                                    rng.range(-jitter_ms, jitter_ms)
                                } else {
                                    0
                                };
                                (start + k as i64 * interval + jitter, s.step(&mut rng))
                            })
                            .collect()
                    })
                    .collect();
                let samples = (group.len() * n) as u64;
                total += samples;
                round.push((encode(group, &points), samples));
            }
            shard.push(round);
            step += n;
        }
        shards.push(shard);
    }
    Ok((shards, share, total))
}

/// Sends one round of requests over one connection.
fn send_round(
    client: &reqwest::blocking::Client,
    url: &str,
    round: &[(Vec<u8>, u64)],
    acked: &AtomicU64,
    errors: &AtomicU64,
    bar: &indicatif::ProgressBar,
) {
    for (body, n) in round {
        let r = client
            .post(url)
            .header("Content-Type", "application/x-protobuf")
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(body.clone())
            .send();
        match r {
            Ok(resp) if resp.status().is_success() => {
                acked.fetch_add(*n, Ordering::Relaxed);
            }
            _ => {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        bar.inc(*n);
    }
}

/// Runs the bench and prints the report.
pub fn run(a: BenchArgs) -> anyhow::Result<Report> {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let now = a.end_ms.unwrap_or(wall);
    eprintln!("generating {} series × {} ({:?} mode)...", a.series, a.duration, a.mode);
    let (shards, share, total) = build_requests(&a, now)?;
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} samples {per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let acked = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let cpu0 = a.server_pid.and_then(cpu_seconds);
    let url = format!("{}/api/v1/write", a.url.trim_end_matches('/'));
    let t0 = Instant::now();
    let barrier = std::sync::Barrier::new(shards.len());
    let rounds = shards.iter().map(Vec::len).max().unwrap_or(0);
    std::thread::scope(|scope| {
        for shard in &shards {
            let (acked, errors, bar, url) = (acked.clone(), errors.clone(), bar.clone(), url.clone());
            let barrier = &barrier;
            scope.spawn(move || {
                let client = match reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(120))
                    .build()
                {
                    Ok(c) => Some(c),
                    Err(_) => {
                        errors.fetch_add(shard.iter().map(|r| r.len() as u64).sum(), Ordering::Relaxed);
                        None
                    }
                };
                for k in 0..rounds {
                    if let (Some(client), Some(round)) = (&client, shard.get(k)) {
                        send_round(client, &url, round, &acked, &errors, &bar);
                    }
                    barrier.wait();
                }
            });
        }
    });
    let seconds = t0.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let cpu = match (cpu0, a.server_pid.and_then(cpu_seconds)) {
        (Some(c0), Some(c1)) => Some(c1 - c0),
        _ => None,
    };
    if a.flush {
        // A flush seals the head and downsamples everything new: minutes for hundreds of millions of samples.
        let r = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(3600))
            .build()
            .and_then(|c| {
                c.post(format!("{}/internal/force_flush", a.url.trim_end_matches('/')))
                    .send()
            });
        if !r.as_ref().is_ok_and(|r| r.status().is_success()) {
            eprintln!("force_flush failed: {r:?}");
        }
    }
    let samples = acked.load(Ordering::Relaxed);
    let disk = a.server_data_dir.as_deref().map(dir_bytes);
    let report = Report {
        samples,
        errors: errors.load(Ordering::Relaxed),
        seconds,
        samples_per_second: samples as f64 / seconds.max(1e-9),
        cpu_seconds_per_million: cpu.map(|c| c / (samples.max(1) as f64 / 1e6)),
        peak_rss_bytes: a.server_pid.and_then(peak_rss),
        disk_bytes: disk,
        bytes_per_sample: disk.map(|d| d as f64 / samples.max(1) as f64),
        constant_share: share,
    };
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("samples          {}", report.samples);
        println!("errors           {}", report.errors);
        println!("seconds          {:.2}", report.seconds);
        println!("samples/s        {:.0}", report.samples_per_second);
        if let Some(c) = report.cpu_seconds_per_million {
            println!("cpu s / 1M       {c:.3}");
        }
        if let Some(r) = report.peak_rss_bytes {
            println!("peak RSS         {:.1} MiB", r as f64 / 1048576.0);
        }
        if let (Some(d), Some(b)) = (report.disk_bytes, report.bytes_per_sample) {
            println!("disk bytes       {d} ({b:.3} B/sample)");
        }
        println!("constant series  {:.0} %", report.constant_share * 100.0);
    }
    Ok(report)
}
