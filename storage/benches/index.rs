//! Series index bench: 1M node_exporter-like series (100 metric names, 1000 instances, 10 jobs, cpu /
//! mode / device / … labels). Builds the index once (timed and memory-measured outside criterion), then
//! measures `select`, `get`, `get_or_create` of existing series and label queries.
//!
//! Run: `CARGO_TARGET_DIR=/work/target cargo bench -p strata-storage --bench index`
//! (`STRATA_INDEX_BENCH_SERIES=100000` for a smaller index). Results: `docs/performance.md`.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use strata_storage::index::{Index, SeriesRef};
use strata_storage::{LabelMatcher, Labels, MatchOp};

const HOSTS: usize = 1000;
const JOBS: usize = 10;
const MODES: [&str; 8] = ["idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"];
const STATES: [&str; 5] = ["activating", "active", "deactivating", "failed", "inactive"];

/// The 1000 series of one host: 100 metric names in node_exporter's shapes.
fn host_series(host: usize, mut emit: impl FnMut(Labels)) {
    let instance = format!("host-{host}:9100");
    let job = format!("job-{}", host % JOBS);
    let mut push = |name: &str, extra: &[(&str, String)]| {
        let mut pairs: Vec<(&str, String)> = vec![
            ("__name__", name.to_string()),
            ("instance", instance.clone()),
            ("job", job.clone()),
        ];
        pairs.extend(extra.iter().map(|(n, v)| (*n, v.clone())));
        emit(Labels::from_pairs(pairs));
    };
    // 1 + 1 metrics: 64 + 16 series.
    for cpu in 0..8 {
        for mode in MODES {
            push(
                "node_cpu_seconds_total",
                &[("cpu", cpu.to_string()), ("mode", mode.to_string())],
            );
        }
        for mode in ["nice", "user"] {
            push(
                "node_cpu_guest_seconds_total",
                &[("cpu", cpu.to_string()), ("mode", mode.to_string())],
            );
        }
    }
    // 10 filesystem metrics × 4 mounts: 40 series.
    for m in 0..10 {
        for (dev, mnt, fs) in [
            ("sda1", "/", "ext4"),
            ("sda2", "/boot", "vfat"),
            ("sdb1", "/data", "xfs"),
            ("tmpfs", "/run", "tmpfs"),
        ] {
            push(
                &format!("node_filesystem_metric_{m}"),
                &[
                    ("device", dev.into()),
                    ("mountpoint", mnt.into()),
                    ("fstype", fs.into()),
                ],
            );
        }
    }
    // 16 network metrics × 8 interfaces: 128 series.
    for m in 0..16 {
        let dir = if m % 2 == 0 { "receive" } else { "transmit" };
        for d in 0..8 {
            push(
                &format!("node_network_{dir}_metric_{m}_total"),
                &[("device", format!("eth{d}"))],
            );
        }
    }
    // 20 disk metrics × 8 disks: 160 series.
    for m in 0..20 {
        for d in b'a'..b'i' {
            push(
                &format!("node_disk_metric_{m}_total"),
                &[("device", format!("sd{}", d as char))],
            );
        }
    }
    // systemd: 100 units × 5 states: 500 series.
    for u in 0..100 {
        for s in STATES {
            push(
                "node_systemd_unit_state",
                &[("name", format!("unit-{u}.service")), ("state", s.into())],
            );
        }
    }
    // hwmon: 2 chips × 21 sensors: 42 series.
    for chip in 0..2 {
        for sensor in 0..21 {
            push(
                "node_hwmon_temp_celsius",
                &[
                    ("chip", format!("platform_coretemp_{chip}")),
                    ("sensor", format!("temp{sensor}")),
                ],
            );
        }
    }
    // 50 plain gauges: 50 series.
    for m in 0..50 {
        push(&format!("node_memory_metric_{m}_bytes"), &[]);
    }
}

fn rss_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

struct Built {
    index: Index,
    sample: Vec<Labels>,
}

fn build() -> Built {
    let hosts = std::env::var("STRATA_INDEX_BENCH_SERIES")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .map_or(HOSTS, |n| (n / 1000).max(1));
    let rss0 = rss_bytes();
    let start = Instant::now();
    let mut index = Index::new();
    let mut sample = Vec::new();
    let mut n = 0usize;
    for host in 0..hosts {
        host_series(host, |l| {
            // Keep every 997th label set for the lookup benches.
            if n.is_multiple_of(997) {
                sample.push(l.clone());
            }
            n += 1;
            index.get_or_create(&l);
        });
    }
    let took = start.elapsed();
    let rss1 = rss_bytes();
    let series = index.len();
    let heap = index.heap_bytes();
    eprintln!(
        "index bench: {series} series, {} metric names, built in {:.2?} ({:.0} ns/series)",
        index.label_values("__name__", None).len(),
        took,
        took.as_nanos() as f64 / series as f64
    );
    eprintln!(
        "index bench: heap_bytes() = {heap} ({:.1} B/series)",
        heap as f64 / series as f64
    );
    if let (Some(a), Some(b)) = (rss0, rss1) {
        let grown = b.saturating_sub(a);
        eprintln!(
            "index bench: RSS grew {grown} bytes while building ({:.1} B/series)",
            grown as f64 / series as f64
        );
    }
    Built { index, sample }
}

fn m(name: &str, op: MatchOp, value: &str) -> LabelMatcher {
    LabelMatcher::new(name, op, value).unwrap()
}

fn bench(c: &mut Criterion) {
    let Built { mut index, sample } = build();
    let queries: Vec<(&str, Vec<LabelMatcher>)> = vec![
        (
            "select/cpu_name_eq+instance_prefix+mode_ne",
            vec![
                m("__name__", MatchOp::Equal, "node_cpu_seconds_total"),
                m("instance", MatchOp::RegexMatch, "host-1.*"),
                m("mode", MatchOp::NotEqual, "idle"),
            ],
        ),
        (
            "select/name_alternation+job_eq",
            vec![
                m(
                    "__name__",
                    MatchOp::RegexMatch,
                    "node_disk_metric_1_total|node_disk_metric_2_total",
                ),
                m("job", MatchOp::Equal, "job-3"),
            ],
        ),
        (
            "select/name_regex_scan+device_class",
            vec![
                m("__name__", MatchOp::RegexMatch, "node_network_receive_.*_total"),
                m("device", MatchOp::RegexMatch, "eth[0-3]"),
            ],
        ),
        (
            "select/single_instance",
            vec![m("instance", MatchOp::Equal, "host-42:9100")],
        ),
    ];
    for (name, q) in &queries {
        eprintln!("index bench: {name} selects {} series", index.select(q).len());
    }

    let mut g = c.benchmark_group("index");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (name, q) in &queries {
        g.bench_function(*name, |b| b.iter(|| black_box(index.select(black_box(q)))));
    }
    let mut i = 0usize;
    g.bench_function("get/existing", |b| {
        b.iter(|| {
            i = (i + 1) % sample.len();
            black_box(index.get(&sample[i]))
        })
    });
    let refs: Vec<SeriesRef> = index.select(&queries[0].1);
    g.bench_function("label_values/instance_all", |b| {
        b.iter(|| black_box(index.label_values("instance", None)))
    });
    g.bench_function("label_names/over_select_result", |b| {
        b.iter(|| black_box(index.label_names(Some(&refs))))
    });
    g.bench_function("cardinality/top10", |b| b.iter(|| black_box(index.cardinality(10))));
    let mut j = 0usize;
    g.bench_function("get_or_create/existing", |b| {
        b.iter(|| {
            j = (j + 1) % sample.len();
            black_box(index.get_or_create(&sample[j]))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
