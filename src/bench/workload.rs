//! A reproducible node_exporter-like workload: per host, CPU counters by cpu/mode at 0.01 resolution,
//! disk and network byte counters, filesystem and memory gauges that drift slowly, load averages as noisy
//! two-decimal floats, and about 40 % constant series (sizes, totals, info metrics). 15 s scrapes with
//! millisecond jitter. Everything derives from one seed, so two runs send identical bytes.

/// xorshift64*: small, fast, deterministic; statistical quality is more than enough for load generation.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is remapped, xorshift must not start at 0).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in [lo, hi].
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
}

/// How a series' value evolves from scrape to scrape.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// Never changes.
    Constant,
    /// A counter growing by a random amount in [0, max_step] per scrape, rounded to `resolution`.
    Counter {
        /// Largest increment per scrape.
        max_step: f64,
        /// Value resolution (0.01 for CPU seconds, 1 for bytes).
        resolution: f64,
    },
    /// A gauge drifting by up to ±`max_step` per scrape in multiples of `resolution`.
    Drift {
        /// Largest change per scrape.
        max_step: f64,
        /// Value resolution.
        resolution: f64,
    },
    /// A noisy float with two decimals around its start value.
    Noisy,
}

/// One generated series: its labels, shape and current value.
#[derive(Debug, Clone)]
pub struct GenSeries {
    /// Label pairs, `__name__` first.
    pub labels: Vec<(String, String)>,
    /// Evolution.
    pub shape: Shape,
    /// Current value.
    pub value: f64,
    base: f64,
}

impl GenSeries {
    /// Advances one scrape and returns the new value.
    pub fn step(&mut self, rng: &mut Rng) -> f64 {
        // A fractional resolution divides, as an exporter computes its values (ticks / 100) or as a scraper
        // parses them ("0.82"): the double nearest the decimal. Multiplying (`82.0 * 0.01`) gives
        // 0.8200000000000001, which no exporter emits.
        let round = |v: f64, r: f64| {
            let k = (v / r).round();
            if r < 1.0 { k / (1.0 / r).round() } else { k * r }
        };
        self.value = match self.shape {
            Shape::Constant => self.value,
            Shape::Counter { max_step, resolution } => round(self.value + rng.f64() * max_step, resolution),
            Shape::Drift { max_step, resolution } => {
                round((self.value + (rng.f64() * 2.0 - 1.0) * max_step).max(0.0), resolution)
            }
            Shape::Noisy => round(self.base * (0.5 + rng.f64()), 0.01),
        };
        self.value
    }
}

const MODES: [&str; 8] = ["idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice"];

/// The series of one host (about 200), with labels `instance` and `job="node"`.
fn host_series(host: usize, rng: &mut Rng) -> Vec<GenSeries> {
    let instance = format!("host-{host:05}:9100");
    let mut out = Vec::new();
    let mut add = |name: &str, extra: &[(&str, String)], shape: Shape, value: f64| {
        let mut labels = vec![
            ("__name__".to_string(), name.to_string()),
            ("instance".to_string(), instance.clone()),
            ("job".to_string(), "node".to_string()),
        ];
        labels.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        out.push(GenSeries {
            labels,
            shape,
            value,
            base: value,
        });
    };
    for cpu in 0..8 {
        for mode in MODES {
            let busy = if mode == "idle" { 15.0 } else { 1.5 };
            // steal and nice stay at zero on most machines: constant series.
            let shape = if matches!(mode, "steal" | "nice" | "irq") {
                Shape::Constant
            } else {
                Shape::Counter {
                    max_step: busy,
                    resolution: 0.01,
                }
            };
            add(
                "node_cpu_seconds_total",
                &[("cpu", cpu.to_string()), ("mode", mode.to_string())],
                shape,
                (rng.range(1000, 900_000) as f64) / 100.0,
            );
        }
    }
    for dev in ["sda", "sdb", "nvme0n1", "dm-0"] {
        for m in [
            "node_disk_read_bytes_total",
            "node_disk_written_bytes_total",
            "node_disk_io_time_seconds_total",
            "node_disk_reads_completed_total",
        ] {
            let shape = if dev == "sdb" {
                Shape::Constant
            } else {
                Shape::Counter {
                    max_step: 40_960.0,
                    resolution: 512.0,
                }
            };
            add(m, &[("device", dev.to_string())], shape, rng.range(0, 1 << 40) as f64);
        }
    }
    for dev in ["eth0", "eth1", "lo", "docker0"] {
        for m in [
            "node_network_receive_bytes_total",
            "node_network_transmit_bytes_total",
            "node_network_receive_packets_total",
            "node_network_transmit_packets_total",
            "node_network_receive_errs_total",
            "node_network_receive_drop_total",
        ] {
            let shape = if dev == "eth1" || m.contains("errs") || m.contains("drop") {
                Shape::Constant
            } else {
                Shape::Counter {
                    max_step: 150_000.0,
                    resolution: 1.0,
                }
            };
            add(m, &[("device", dev.to_string())], shape, rng.range(0, 1 << 36) as f64);
        }
    }
    for (mp, dev) in [
        ("/", "/dev/sda1"),
        ("/boot", "/dev/sda2"),
        ("/var", "/dev/sdb1"),
        ("/home", "/dev/nvme0n1p1"),
        ("/run", "tmpfs"),
        ("/tmp", "tmpfs"),
    ] {
        let labels = [
            ("device", dev.to_string()),
            ("fstype", "ext4".to_string()),
            ("mountpoint", mp.to_string()),
        ];
        let size = (rng.range(1 << 18, 1 << 26) * 4096) as f64;
        add("node_filesystem_size_bytes", &labels, Shape::Constant, size);
        add(
            "node_filesystem_avail_bytes",
            &labels,
            Shape::Drift {
                max_step: 40_960.0,
                resolution: 4096.0,
            },
            size / 2.0,
        );
        add(
            "node_filesystem_free_bytes",
            &labels,
            Shape::Drift {
                max_step: 40_960.0,
                resolution: 4096.0,
            },
            size / 2.0,
        );
        add(
            "node_filesystem_files",
            &labels,
            Shape::Constant,
            (rng.range(1 << 16, 1 << 22)) as f64,
        );
        add("node_filesystem_readonly", &labels, Shape::Constant, 0.0);
    }
    for m in [
        "MemTotal",
        "SwapTotal",
        "HugePages_Total",
        "Hugepagesize",
        "VmallocTotal",
        "DirectMap4k",
        "DirectMap2M",
    ] {
        add(
            &format!("node_memory_{m}_bytes"),
            &[],
            Shape::Constant,
            (rng.range(1 << 20, 1 << 24) * 1024) as f64,
        );
    }
    for m in [
        "MemAvailable",
        "MemFree",
        "Cached",
        "Buffers",
        "Active",
        "Inactive",
        "Dirty",
        "Slab",
    ] {
        add(
            &format!("node_memory_{m}_bytes"),
            &[],
            Shape::Drift {
                max_step: 1_048_576.0,
                resolution: 4096.0,
            },
            (rng.range(1 << 18, 1 << 22) * 4096) as f64,
        );
    }
    for m in ["node_load1", "node_load5", "node_load15"] {
        add(m, &[], Shape::Noisy, rng.range(10, 400) as f64 / 100.0);
    }
    add(
        "node_uname_info",
        &[
            ("release", "6.1.0-13-amd64".to_string()),
            ("nodename", format!("host-{host}")),
        ],
        Shape::Constant,
        1.0,
    );
    add(
        "node_boot_time_seconds",
        &[],
        Shape::Constant,
        1_700_000_000.0 + rng.range(0, 1_000_000) as f64,
    );
    add(
        "node_time_seconds",
        &[],
        Shape::Counter {
            max_step: 15.0,
            resolution: 0.001,
        },
        1_763_000_000.0,
    );
    add(
        "node_context_switches_total",
        &[],
        Shape::Counter {
            max_step: 90_000.0,
            resolution: 1.0,
        },
        rng.range(0, 1 << 32) as f64,
    );
    add(
        "node_intr_total",
        &[],
        Shape::Counter {
            max_step: 60_000.0,
            resolution: 1.0,
        },
        rng.range(0, 1 << 32) as f64,
    );
    add(
        "node_procs_running",
        &[],
        Shape::Drift {
            max_step: 2.0,
            resolution: 1.0,
        },
        3.0,
    );
    out
}

/// At least `n` series from as many hosts as needed, truncated to exactly `n`.
pub fn generate(n: usize, seed: u64) -> Vec<GenSeries> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(n);
    let mut host = 0;
    while out.len() < n {
        out.extend(host_series(host, &mut rng));
        host += 1;
    }
    out.truncate(n);
    out
}

/// The share of series that never change (reported with the results).
pub fn constant_share(series: &[GenSeries]) -> f64 {
    let c = series.iter().filter(|s| matches!(s.shape, Shape::Constant)).count();
    c as f64 / series.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_node_like() {
        let a = generate(1000, 7);
        let b = generate(1000, 7);
        assert_eq!(a.len(), 1000);
        assert_eq!(
            a.iter().map(|s| &s.labels).collect::<Vec<_>>(),
            b.iter().map(|s| &s.labels).collect::<Vec<_>>()
        );
        let share = constant_share(&a);
        assert!((0.3..0.5).contains(&share), "constant share {share}");
        let mut rng = Rng::new(1);
        let mut s = a[1].clone();
        let v0 = s.value;
        let v1 = s.step(&mut rng);
        assert!(v1 >= v0, "counters never decrease");
        assert_eq!((v1 * 100.0).round() / 100.0, v1, "0.01 resolution");
        // Every value is the double nearest a decimal of its resolution: it prints with that many places.
        let mut all = a.clone();
        for _ in 0..50 {
            for s in &mut all {
                let v = s.step(&mut rng);
                let places = match s.shape {
                    Shape::Counter { resolution, .. } | Shape::Drift { resolution, .. } => {
                        (-resolution.log10()).round().max(0.0) as usize
                    }
                    Shape::Noisy => 2,
                    Shape::Constant => continue,
                };
                let printed = v.to_string();
                let decimals = printed.split_once('.').map_or(0, |(_, f)| f.len());
                assert!(decimals <= places, "{printed} has more than {places} places");
            }
        }
    }
}
