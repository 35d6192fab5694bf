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
