//! Restart safety through the real binary: data written before a SIGTERM and before a `kill -9` is all
//! there after a restart, and SIGTERM exits 0.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{Server, now_ms, series, write_request};
use serde_json::json;

fn write_batch(s: &Server, name: &str, end: i64, n: i64) {
    let samples: Vec<(i64, f64)> = (0..n).map(|i| (end - (n - 1 - i) * 15_000, i as f64)).collect();
    let (code, body) = s.remote_write(&write_request(vec![series(
        &[("__name__", name), ("job", "t")],
        &samples,
    )]));
    assert_eq!(code, 204, "{body}");
}

fn count_over(s: &Server, name: &str, end: i64) -> serde_json::Value {
    let (code, v) = s.get_json(&format!(
        "/api/v1/query?query=count_over_time({name}[1h])&time={}",
        end / 1000
    ));
    assert_eq!(code, 200, "{v}");
    v["data"]["result"][0]["value"][1].clone()
}

#[test]
fn sigterm_flushes_and_kill9_loses_nothing_acknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let end = (now_ms() / 1000) * 1000;

    let s = Server::start_in(&dir, &[]);
    write_batch(&s, "before_sigterm", end, 200);
    assert_eq!(s.terminate(), Some(0), "SIGTERM must exit 0");

    let s = Server::start_in(&dir, &[]);
    assert_eq!(count_over(&s, "before_sigterm", end), json!("200"));
    write_batch(&s, "before_kill", end, 150);
    s.kill9();

    let s = Server::start_in(&dir, &[]);
    assert_eq!(count_over(&s, "before_sigterm", end), json!("200"));
    assert_eq!(count_over(&s, "before_kill", end), json!("150"));
    let (_, v) = s.get_json(&format!("/api/v1/query?query=before_kill&time={}", end / 1000));
    assert_eq!(v["data"]["result"][0]["value"][1], "149");
}

#[test]
fn unusable_data_dir_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a directory"), "{err}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["serve", "--retention.raw", "7x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid retention"));

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--data-dir",
        "--retention.raw",
        "--retention.5m",
        "--retention.1h",
        "--config",
        "--wal.fsync",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

/// The value of an unlabelled sample line of `/metrics`.
fn metric(s: &Server, name: &str) -> f64 {
    let body = common::client().get(s.url("/metrics")).send().unwrap().text().unwrap();
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
}

/// One live-style request: every series once, with one sample at `t`. Series 2 sends its labels unsorted.
fn live_round(s: &Server, t: i64, v: f64) {
    let req = write_request(vec![
        series(&[("__name__", "live"), ("instance", "a"), ("job", "t")], &[(t, v)]),
        series(&[("__name__", "live"), ("instance", "b"), ("job", "t")], &[(t, v)]),
        series(&[("job", "t"), ("instance", "c"), ("__name__", "live")], &[(t, v)]),
    ]);
    let (code, body) = s.remote_write(&req);
    assert_eq!(code, 204, "{body}");
}

fn counts(s: &Server, end: i64) -> Vec<(String, String)> {
    let (code, v) = s.get_json(&format!(
        "/api/v1/query?query=count_over_time(live[1h])&time={}",
        end / 1000
    ));
    assert_eq!(code, 200, "{v}");
    let mut out: Vec<(String, String)> = v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let inst = r["metric"]["instance"].as_str().unwrap().to_string();
            (inst, r["value"][1].as_str().unwrap().to_string())
        })
        .collect();
    out.sort();
    out
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn live_series_are_rewritten_after_delete_and_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let t0 = (now_ms() / 1000) * 1000 - 600_000;
    let at = |k: i64| t0 + k * 15_000;

    let s = Server::start_in(&dir, &[]);
    // The same series in request after request: created once, every sample stored.
    for k in 0..4 {
        live_round(&s, at(k), k as f64);
    }
    assert_eq!(metric(&s, "strata_storage_series_created_total"), 3.0);
    assert_eq!(counts(&s, at(3)), pairs(&[("a", "4"), ("b", "4"), ("c", "4")]));
    // A bad series next to known good ones: the good ones land, the answer is 400.
    let (code, body) = s.remote_write(&write_request(vec![
        series(
            &[("__name__", "live"), ("instance", "a"), ("job", "t")],
            &[(at(4), 4.0)],
        ),
        series(&[("__name__", "live"), ("job", "t"), ("job", "u")], &[(at(4), 4.0)]),
    ]));
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("duplicate label name"), "{body}");
    assert_eq!(counts(&s, at(4)), pairs(&[("a", "5"), ("b", "4"), ("c", "4")]));
    // Delete b, write it again: a new series with only the new sample.
    let (code, _) = s.post_form(
        "/api/v1/admin/tsdb/delete_series",
        &[("match[]", "live{instance=\"b\"}")],
    );
    assert_eq!(code, 204);
    assert_eq!(counts(&s, at(4)), pairs(&[("a", "5"), ("c", "4")]));
    live_round(&s, at(5), 5.0);
    live_round(&s, at(6), 6.0);
    assert_eq!(metric(&s, "strata_storage_series_created_total"), 4.0);
    assert_eq!(counts(&s, at(6)), pairs(&[("a", "7"), ("b", "2"), ("c", "6")]));
    assert_eq!(s.terminate(), Some(0));

    // After a clean restart the same series are found, not created again.
    let s = Server::start_in(&dir, &[]);
    live_round(&s, at(7), 7.0);
    live_round(&s, at(8), 8.0);
    assert_eq!(metric(&s, "strata_storage_series_created_total"), 0.0);
    assert_eq!(metric(&s, "strata_storage_head_series"), 3.0);
    assert_eq!(counts(&s, at(8)), pairs(&[("a", "9"), ("b", "4"), ("c", "8")]));
    s.kill9();

    // And after a crash (WAL replay).
    let s = Server::start_in(&dir, &[]);
    live_round(&s, at(9), 9.0);
    assert_eq!(metric(&s, "strata_storage_series_created_total"), 0.0);
    assert_eq!(counts(&s, at(9)), pairs(&[("a", "10"), ("b", "5"), ("c", "9")]));
    let (_, v) = s.get_json(&format!("/api/v1/query?query=live&time={}", at(9) / 1000));
    assert_eq!(v["data"]["result"][0]["value"][1], "9");
}
