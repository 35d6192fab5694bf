//! Strata's own metrics, rendered in the Prometheus text format (0.0.4) at `GET /metrics`.
//! HTTP requests by handler and code, request and query latency histograms, ingest counters; the storage
//! engine's counters are read from `Storage::metrics()` at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// Latency buckets in seconds, as Prometheus' own HTTP histograms use.
const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// A histogram with fixed latency buckets.
#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, v: f64) {
        for (i, b) in LATENCY_BUCKETS.iter().enumerate() {
            if v <= *b {
                if let Some(c) = self.counts.get_mut(i) {
                    *c += 1;
                }
            }
        }
        self.count += 1;
        self.sum += v;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (b, c) in LATENCY_BUCKETS.iter().zip(self.counts.iter()) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {c}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// The server's metrics.
#[derive(Debug, Default)]
pub struct ServerMetrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    request_latency: Mutex<BTreeMap<String, Histogram>>,
    query_latency: Mutex<BTreeMap<&'static str, Histogram>>,
    /// Samples received through any ingestion path.
    pub samples_received: AtomicU64,
    /// Series rejected by validation.
    pub series_rejected: AtomicU64,
    /// Native histogram samples received and dropped (not stored yet).
    pub histograms_dropped: AtomicU64,
    /// Exemplars received and dropped.
    pub exemplars_dropped: AtomicU64,
}

impl ServerMetrics {
    /// Records one HTTP request.
    pub fn observe_request(&self, handler: &str, code: u16, seconds: f64) {
        *self.requests.lock().entry((handler.to_string(), code)).or_default() += 1;
        self.request_latency
            .lock()
            .entry(handler.to_string())
            .or_default()
            .observe(seconds);
    }

    /// Records one query's evaluation time (`kind` is `instant` or `range`).
    pub fn observe_query(&self, kind: &'static str, seconds: f64) {
        self.query_latency.lock().entry(kind).or_default().observe(seconds);
    }

    /// Renders every metric, followed by `extra` (the storage engine's metrics).
    pub fn render(&self, extra: &[(&str, &str, &str, f64)]) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP strata_http_requests_total HTTP requests by handler and status code.\n");
        out.push_str("# TYPE strata_http_requests_total counter\n");
        for ((h, c), n) in self.requests.lock().iter() {
            let _ = writeln!(out, "strata_http_requests_total{{handler=\"{h}\",code=\"{c}\"}} {n}");
        }
        out.push_str("# HELP strata_http_request_duration_seconds HTTP request latency by handler.\n");
        out.push_str("# TYPE strata_http_request_duration_seconds histogram\n");
        for (h, hist) in self.request_latency.lock().iter() {
            hist.render(
                &mut out,
                "strata_http_request_duration_seconds",
                &format!("handler=\"{h}\""),
            );
        }
        out.push_str("# HELP strata_query_duration_seconds PromQL evaluation time by query kind.\n");
        out.push_str("# TYPE strata_query_duration_seconds histogram\n");
        for (k, hist) in self.query_latency.lock().iter() {
            hist.render(&mut out, "strata_query_duration_seconds", &format!("kind=\"{k}\""));
        }
        let counters = [
            (
                "strata_samples_received_total",
                "Samples received through any ingestion path.",
                &self.samples_received,
            ),
            (
                "strata_series_rejected_total",
                "Series rejected by validation.",
                &self.series_rejected,
            ),
            (
                "strata_histograms_dropped_total",
                "Native histogram samples received but not stored.",
                &self.histograms_dropped,
            ),
            (
                "strata_exemplars_dropped_total",
                "Exemplars received but not stored.",
                &self.exemplars_dropped,
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        for (name, kind, help, v) in extra {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        }
        out
    }
}
