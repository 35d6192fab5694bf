//! A reproducible node_exporter-like workload for measuring chunk compactness: 15 s scrapes with
//! millisecond jitter, 120-sample chunks, and a mix of series kinds. Self-contained (no `crate::` paths) so
//! that `storage/benches/chunk.rs` can include it with `#[path]`.

#![allow(dead_code)]

/// Samples per chunk, as the head seals them (30 min of 15 s scrapes).
pub const CHUNK_SAMPLES: usize = 120;
/// Scrape interval, ms.
pub const SCRAPE_MS: i64 = 15_000;

/// SplitMix64: a tiny deterministic generator, so the workload is identical on every run and machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a fixed seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in `[lo, hi]`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo + 1) as u64;
        lo + (self.next_u64() % span) as i64
    }

    /// Roughly normal (sum of uniforms), mean 0, standard deviation 1.
    pub fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }
}

/// The kinds of series in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Never changes (sizes, boot time, info metrics, `up`): ~40 % of node_exporter's series.
    Constant,
    /// Monotonic counter at 0.01 resolution (`node_cpu_seconds_total`-like).
    Counter,
    /// Slowly varying gauge: integer bytes, 2-decimal load averages, 1-decimal temperatures.
    Gauge,
    /// Arbitrary floats (ratios, computed values): incompressible mantissas.
    NoisyFloat,
}

impl Kind {
    /// All kinds, in report order.
    pub const ALL: [Kind; 4] = [Kind::Constant, Kind::Counter, Kind::Gauge, Kind::NoisyFloat];

    /// Short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Constant => "constant",
            Kind::Counter => "counter 0.01",
            Kind::Gauge => "slow gauge",
            Kind::NoisyFloat => "noisy float",
        }
    }
}

/// One chunk's worth of one series.
#[derive(Debug, Clone)]
pub struct Series {
    /// What kind of series this is.
    pub kind: Kind,
    /// Strictly increasing timestamps, ms.
    pub ts: Vec<i64>,
    /// Values.
    pub vs: Vec<f64>,
}

/// Scrape timestamps: a 15 s grid with independent uniform jitter in `±jitter_ms`, and with probability
/// `miss` per scrape a missed scrape (a 30 s gap).
pub fn timestamps(rng: &mut Rng, n: usize, jitter_ms: i64, miss: f64) -> Vec<i64> {
    let start = 1_763_700_000_000 + rng.range(0, SCRAPE_MS - 1);
    let mut out = Vec::with_capacity(n);
    let mut slot = 0i64;
    while out.len() < n {
        if !out.is_empty() && rng.unit() < miss {
            slot += 1;
        }
        let j = if jitter_ms > 0 {
            rng.range(-jitter_ms, jitter_ms)
        } else {
            0
        };
        out.push(start + slot * SCRAPE_MS + j);
        slot += 1;
    }
    out
}

/// Values of one series of `kind`.
pub fn values(rng: &mut Rng, kind: Kind, n: usize) -> Vec<f64> {
    match kind {
        Kind::Constant => {
            let v = match rng.range(0, 4) {
                0 => 0.0,
                1 => 1.0,
                2 => rng.range(1, 64) as f64,                        // cpu count, ...
                3 => (rng.range(1, 4096) * 1_048_576) as f64,        // filesystem size
                _ => rng.range(1_700_000_000, 1_763_000_000) as f64, // boot time
            };
            vec![v; n]
        }
        Kind::Counter => {
            // Seconds-counter in hundredths: rate in [0.001, 1] s/s, 5 % noise on each increment, and
            // a slowly drifting rate.
            let mut cents: i64 = rng.range(0, 50_000_000);
            let mut rate = 10f64.powf(-3.0 * rng.unit());
            (0..n)
                .map(|_| {
                    rate = (rate * (1.0 + 0.01 * rng.normal())).clamp(0.0005, 1.0);
                    let inc = rate * 1500.0 * (1.0 + 0.05 * rng.normal());
                    cents += inc.max(0.0).round() as i64;
                    cents as f64 / 100.0
                })
                .collect()
        }
        Kind::Gauge => match rng.range(0, 2) {
            0 => {
                // Memory bytes: page multiples, changing at about half the scrapes.
                let mut pages = rng.range(100_000, 4_000_000);
                (0..n)
                    .map(|_| {
                        if rng.unit() < 0.5 {
                            pages += rng.range(-200, 200);
                        }
                        (pages * 4096) as f64
                    })
                    .collect()
            }
            1 => {
                // Load average, 2 decimals, random walk.
                let mut hundredths = rng.range(0, 400);
                (0..n)
                    .map(|_| {
                        hundredths = (hundredths + rng.range(-5, 5)).max(0);
                        hundredths as f64 / 100.0
                    })
                    .collect()
            }
            _ => {
                // Temperature, 1 decimal, mostly steady.
                let mut tenths = rng.range(300, 700);
                (0..n)
                    .map(|_| {
                        if rng.unit() < 0.2 {
                            tenths += rng.range(-10, 10);
                        }
                        tenths as f64 / 10.0
                    })
                    .collect()
            }
        },
        Kind::NoisyFloat => {
            let base = rng.unit();
            (0..n).map(|_| (base + 0.01 * rng.normal()) * 3.7).collect()
        }
    }
}

/// The series mix: 40 % constant, 25 % counters, 25 % slow gauges, 10 % noisy floats; every chunk has
/// `CHUNK_SAMPLES` samples with `±jitter_ms` timestamp jitter, 1 in 1000 scrapes missed, and 1 % of the
/// chunks end in a staleness marker.
pub fn node_exporter(seed: u64, series: usize, jitter_ms: i64) -> Vec<Series> {
    let mut rng = Rng::new(seed);
    (0..series)
        .map(|i| {
            let kind = match i % 20 {
                0..=7 => Kind::Constant,
                8..=12 => Kind::Counter,
                13..=17 => Kind::Gauge,
                _ => Kind::NoisyFloat,
            };
            let ts = timestamps(&mut rng, CHUNK_SAMPLES, jitter_ms, 0.001);
            let mut vs = values(&mut rng, kind, CHUNK_SAMPLES);
            if rng.unit() < 0.01
                && let Some(last) = vs.last_mut()
            {
                *last = f64::from_bits(0x7ff0_0000_0000_0002);
            }
            Series { kind, ts, vs }
        })
        .collect()
}
