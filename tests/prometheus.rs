//! A real client, not only our own: Debian's Prometheus scrapes itself and remote-writes to Strata; after
//! about a minute the same queries give the same answers on both, and `promtool` works against Strata.
//! Needs `prometheus` and `promtool` (installed by scripts/setup.sh); set STRATA_SKIP_PROMETHEUS=1 to skip.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Server, client, free_port};
use serde_json::Value;

struct Prom(std::process::Child);

impl Drop for Prom {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sorted_result(v: &Value) -> Vec<Value> {
    let mut r = v["data"]["result"].as_array().cloned().unwrap_or_default();
    r.sort_by_key(|x| x["metric"].to_string());
    r
}

fn get(base: &str, path: &str) -> Value {
    let r = client().get(format!("{base}{path}")).send().unwrap();
    let status = r.status().as_u16();
    let v: Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    assert_eq!(status, 200, "{base}{path}: {v}");
    v
}

#[test]
fn prometheus_remote_write_and_promtool_agree() {
    if std::env::var("STRATA_SKIP_PROMETHEUS").as_deref() == Ok("1") {
        eprintln!("skipped: STRATA_SKIP_PROMETHEUS=1");
        return;
    }
    assert!(
        Command::new("prometheus")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok(),
        "prometheus is not installed: run scripts/setup.sh (or set STRATA_SKIP_PROMETHEUS=1)"
    );
    let strata = Server::start(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let pport = free_port();
    let cfg = tmp.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 2s\n  evaluation_interval: 2s\n\
             scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{pport}']\n\
             remote_write:\n  - url: http://127.0.0.1:{}/api/v1/write\n    queue_config:\n      batch_send_deadline: 1s\n    metadata_config:\n      send_interval: 5s\n",
            strata.port
        ),
    )
    .unwrap();
    let log = std::fs::File::create(tmp.path().join("prometheus.log")).unwrap();
    let _prom = Prom(
        Command::new("prometheus")
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", tmp.path().join("tsdb").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{pport}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let pbase = format!("http://127.0.0.1:{pport}");
    let sbase = strata.url("");

    std::thread::sleep(Duration::from_secs(65));
    // Evaluate a few seconds in the past so that remote write has delivered everything up to then.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 8;
    let instant = [
        "up",
        "count(count by (__name__) ({job=\"prometheus\"}))",
        "sum by (job) (rate(prometheus_http_requests_total[30s]))",
        "max_over_time(scrape_samples_scraped[40s])",
        "prometheus_tsdb_head_series > bool 0",
    ];
    for q in instant {
        let path = format!(
            "/api/v1/query?query={}&time={now}",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        );
        let (a, b) = (get(&pbase, &path), get(&sbase, &path));
        assert!(!sorted_result(&a).is_empty(), "prometheus has no data for {q}: {a}");
        assert_eq!(sorted_result(&a), sorted_result(&b), "answers differ for {q}");
    }
    let range = [
        "scrape_samples_scraped",
        "rate(prometheus_http_requests_total{handler=\"/metrics\"}[20s])",
    ];
    for q in range {
        let path = format!(
            "/api/v1/query_range?query={}&start={}&end={now}&step=5",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>(),
            now - 20
        );
        let (a, b) = (get(&pbase, &path), get(&sbase, &path));
        assert!(!sorted_result(&a).is_empty(), "prometheus has no data for {q}");
        assert_eq!(sorted_result(&a), sorted_result(&b), "range answers differ for {q}");
    }
    let meta = get(&sbase, "/api/v1/metadata?metric=prometheus_http_requests_total");
    assert_eq!(
        meta["data"]["prometheus_http_requests_total"][0]["type"], "counter",
        "{meta}"
    );

    // promtool against Strata.
    let promtool = |args: &[&str]| {
        let out = Command::new("promtool").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let out = promtool(&["query", "instant", &sbase, "up"]);
    assert!(out.contains("up{"), "{out}");
    let (start, end) = ((now - 30).to_string(), now.to_string());
    let out = promtool(&[
        "query", "range", "--start", &start, "--end", &end, "--step", "10s", &sbase, "up",
    ]);
    assert!(out.contains("up{"), "{out}");
    let out = promtool(&["query", "labels", &sbase, "job"]);
    assert!(out.contains("prometheus"), "{out}");
    let out = promtool(&["query", "series", "--match", "up", &sbase]);
    assert!(out.contains("__name__=\"up\""), "{out}");
}
