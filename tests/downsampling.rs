//! End-to-end: downsampled tiers and retention through the real binary. Two servers get the same four days
//! of data; one keeps raw samples forever, the other one day. After a flush, the second has dropped its old
//! raw partitions and answers hourly range queries from its 5 m tier; the answers agree within 1 %.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

mod common;

use std::collections::HashMap;

use common::{Server, enc, now_ms};

const H: i64 = 3_600_000;
const DAY: i64 = 24 * H;

/// JSON lines (VictoriaMetrics' import format) for four days of 15 s samples ending at `end`, never on a
/// whole hour: counters with resets, gauges, a constant.
fn workload(end: i64) -> String {
    let start = end - 4 * DAY;
    let n = 4 * DAY / 15_000;
    let mut out = String::new();
    for inst in 0..2 {
        let ts: Vec<i64> = (0..n)
            .map(|k| start + k * 15_000 + 1 + (k * 7919 + inst * 13) % 900)
            .collect();
        let counter: Vec<f64> = (0..n)
            .map(|k| {
                let k = (k + inst * 3000) as f64;
                ((k % 10_000.0) * 2.5 + (k * 0.37).sin().abs() * 3.0).floor()
            })
            .collect();
        let gauge: Vec<f64> = (0..n)
            .map(|k| 50.0 + 40.0 * ((k + inst * 77) as f64 / 500.0).sin() + (k % 13) as f64)
            .collect();
        let constant = vec![7.0; n as usize];
        for (name, vs) in [("req_total", counter), ("temp", gauge), ("up", constant)] {
            // One line per day keeps bodies moderate.
            for (tc, vc) in ts.chunks(5760).zip(vs.chunks(5760)) {
                let line = serde_json::json!({
                    "metric": {"__name__": name, "job": "node", "instance": format!("host-{inst}")},
                    "values": vc,
                    "timestamps": tc,
                });
                out.push_str(&line.to_string());
                out.push('\n');
            }
        }
    }
    out
}

fn tiers(s: &Server) -> HashMap<String, serde_json::Value> {
    let (code, v) = s.get_json("/api/v1/status/tsdb");
    assert_eq!(code, 200, "{v}");
    v["data"]["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_string(), t.clone()))
        .collect()
}

/// `(labels, step → value)` of a range query.
fn range(s: &Server, q: &str, start: i64, end: i64, res: &str) -> HashMap<String, HashMap<i64, f64>> {
    let path = format!(
        "/api/v1/query_range?query={}&start={}&end={}&step=3600{res}",
        enc(q),
        start / 1000,
        end / 1000
    );
    let (code, v) = s.get_json(&path);
    assert_eq!(code, 200, "{q}: {v}");
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let pts = r["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_f64().unwrap() as i64,
                        p[1].as_str().unwrap().parse::<f64>().unwrap(),
                    )
                })
                .collect();
            (r["metric"].to_string(), pts)
        })
        .collect()
}

#[test]
fn one_day_of_raw_answers_like_raw_forever() {
    // A block boundary of the 5 m tier (6 h) at least one block before now: the flush downsamples it all.
    let end = (now_ms() / (6 * H) - 1) * 6 * H;
    let a = Server::start(&["--retention.raw", "forever"]);
    let b = Server::start(&["--retention.raw", "1d"]);
    let body = workload(end);
    for s in [&a, &b] {
        let (code, text) = s.post_raw("/api/v1/import", body.clone().into_bytes(), &[]);
        assert!(code == 204 || code == 200, "{code} {text}");
        s.force_flush();
    }

    // B dropped its raw partitions older than a day (their disk space with them) after downsampling them.
    let (ta, tb) = (tiers(&a), tiers(&b));
    assert!(ta["raw"]["partitions"].as_u64().unwrap() >= 4, "{ta:?}");
    assert!(tb["raw"]["partitions"].as_u64().unwrap() <= 2, "{tb:?}");
    assert!(
        tb["raw"]["bytes"].as_u64().unwrap() * 2 < ta["raw"]["bytes"].as_u64().unwrap(),
        "{ta:?} {tb:?}"
    );
    assert!(tb["raw"]["droppedBefore"].as_i64().unwrap() > end - 2 * DAY, "{tb:?}");
    assert_eq!(tb["raw"]["retention"], "1d");
    for t in ["5m", "1h"] {
        assert_eq!(tb[t]["numSeries"], 6, "{tb:?}");
        assert_eq!(tb[t]["retention"], if t == "5m" { "4w2d" } else { "1y" });
    }
    assert_eq!(
        tb["5m"]["numSamples"],
        6 * 4 * 24 * 12,
        "one window per 5 minutes and series"
    );

    let (start, stop) = (end - 4 * DAY + 2 * H, end);
    let queries = [
        "avg_over_time(temp[1h])",
        "max_over_time(temp[1h])",
        "min_over_time(temp[1h])",
        "count_over_time(temp[1h])",
        "sum_over_time(up[1h])",
        "rate(req_total[1h])",
        "increase(req_total[1h])",
        "sum by (job) (rate(req_total[1h]))",
    ];
    for q in queries {
        let want = range(&a, q, start, stop, "&max_source_resolution=raw");
        for res in ["", "&max_source_resolution=auto", "&max_source_resolution=raw"] {
            let got = range(&b, q, start, stop, res);
            assert_eq!(got.len(), want.len(), "{q}{res}");
            for (labels, w) in &want {
                let g = &got[labels];
                let common = w.keys().filter(|t| g.contains_key(t)).count();
                assert!(
                    common + 1 >= w.len() && w.len() >= 90,
                    "{q}{res} {labels}: {} of {}",
                    common,
                    w.len()
                );
                for (t, wv) in w {
                    let Some(gv) = g.get(t) else { continue };
                    let tol = 0.01 * wv.abs().max(1e-9);
                    assert!((gv - wv).abs() <= tol, "{q}{res} {labels} at {t}: {gv} vs raw {wv}");
                }
            }
        }
    }
    // The raw answer of A is exact raw data; A answers from its tiers too when asked.
    let five = range(
        &a,
        "count_over_time(temp[1h])",
        start,
        stop,
        "&max_source_resolution=5m",
    );
    let raw = range(
        &a,
        "count_over_time(temp[1h])",
        start,
        stop,
        "&max_source_resolution=raw",
    );
    assert_eq!(five.len(), raw.len());
    let (code, v) = b.get_json("/api/v1/query?query=up&max_source_resolution=2h");
    assert_eq!(code, 400, "{v}");
    assert_eq!(v["errorType"], "bad_data");
}
