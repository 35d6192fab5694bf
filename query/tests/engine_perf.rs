//! A rough timing of typical dashboard queries over an in-memory store (run with
//! `cargo test --release -p strata-query --test engine_perf -- --ignored --nocapture`).

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Instant;

use strata_query::{Engine, QueryOptions, Value};
use strata_storage::{Labels, MemStore};

#[test]
#[ignore = "timing run, not a correctness test"]
fn dashboard_queries() {
    let series = 1000usize;
    let points = 5760i64; // one day at 15 s
    let mut s = MemStore::new();
    let t0 = Instant::now();
    for i in 0..series {
        let l = Labels::from_pairs([
            ("__name__", "http_requests_total".to_string()),
            ("job", format!("job{}", i % 10)),
            ("instance", format!("i{i}")),
        ]);
        let mut v = 0.0;
        for p in 0..points {
            v += (p % 7) as f64;
            s.add(&l, p * 15_000, v);
        }
    }
    println!("loaded {} samples in {:?}", series as i64 * points, t0.elapsed());
    let e = Engine::default();
    let end = (points - 1) * 15_000;
    for q in [
        "sum by (job) (rate(http_requests_total[5m]))",
        "http_requests_total",
        "avg_over_time(http_requests_total[10m])",
        "topk(5, rate(http_requests_total[5m]))",
        "rate(http_requests_total[5m]) / on(instance) group_left sum by (instance) (rate(http_requests_total[5m]))",
        "max_over_time(rate(http_requests_total[5m])[30m:1m])",
        "histogram_quantile(0.9, sum by (job, le) (label_replace(rate(http_requests_total[5m]), \"le\", \"$1\", \"instance\", \"i(.)\")))",
    ] {
        // Warm up once, then time.
        let _ = e.range_query(&s, q, 0, end, 60_000, &QueryOptions::default()).unwrap();
        let t = Instant::now();
        let r = e.range_query(&s, q, 0, end, 60_000, &QueryOptions::default()).unwrap();
        let pts: usize = match &r.value {
            Value::Matrix(m) => m.iter().map(|x| x.values.len()).sum(),
            _ => 0,
        };
        println!("{:>8.1} ms  {pts:>8} points  {q}", t.elapsed().as_secs_f64() * 1000.0);
    }
}
