//! End-to-end: remote write into the real binary, every query endpoint out, and the error cases, each
//! answered with Prometheus' status and body while the server stays healthy.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{Server, client, now_ms, series, write_request};
use serde_json::json;

/// Loads `up`-like and counter series: 3 instances × 40 samples at 15 s, ending at `end`.
fn load(s: &Server, end: i64) {
    let mut ts = Vec::new();
    for inst in ["a:9100", "b:9100", "c:9100"] {
        let samples: Vec<(i64, f64)> = (0..40).map(|i| (end - (39 - i) * 15_000, 1.0)).collect();
        ts.push(series(
            &[("__name__", "up"), ("job", "node"), ("instance", inst)],
            &samples,
        ));
        let counter: Vec<(i64, f64)> = (0..40).map(|i| (end - (39 - i) * 15_000, (i * 15) as f64)).collect();
        ts.push(series(
            &[("__name__", "requests_total"), ("job", "node"), ("instance", inst)],
            &counter,
        ));
    }
    let (code, body) = s.remote_write(&write_request(ts));
    assert_eq!(code, 204, "remote write failed: {body}");
}

fn err_type(v: &serde_json::Value) -> &str {
    v["errorType"].as_str().unwrap_or("")
}

#[test]
fn remote_write_then_every_query_endpoint() {
    let s = Server::start(&[]);
    let end = (now_ms() / 1000) * 1000;
    load(&s, end);
    let t = format!("{}", end as f64 / 1000.0);

    // Instant query.
    let (code, v) = s.get_json(&format!("/api/v1/query?query=sum(up)&time={t}"));
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["data"]["resultType"], "vector");
    assert_eq!(v["data"]["result"][0]["value"][1], "3");

    // Same via form POST, with rate over the counter (1 per second).
    let (code, v) = s.post_form(
        "/api/v1/query",
        &[("query", "sum by (job) (rate(requests_total[2m]))"), ("time", &t)],
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["data"]["result"][0]["metric"], json!({"job": "node"}));
    let rate: f64 = v["data"]["result"][0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!((rate - 3.0).abs() < 1e-9, "rate {rate}");

    // Range query: one point per step, timestamps as float seconds.
    let start = format!("{}", (end - 300_000) as f64 / 1000.0);
    let (code, v) = s.get_json(&format!(
        "/api/v1/query_range?query=up{{instance=\"a:9100\"}}&start={start}&end={t}&step=60"
    ));
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["data"]["resultType"], "matrix");
    let values = v["data"]["result"][0]["values"].as_array().unwrap();
    assert_eq!(values.len(), 6);
    assert_eq!(values[0][1], "1");

    // Scalar and string results.
    let (_, v) = s.get_json("/api/v1/query?query=1%2B1&time=100.5");
    assert_eq!(v["data"], json!({"resultType": "scalar", "result": [100.5, "2"]}));
    let (_, v) = s.get_json("/api/v1/query?query=%22hi%22&time=100");
    assert_eq!(v["data"], json!({"resultType": "string", "result": [100, "hi"]}));

    // Empty results are [] not null.
    let (_, v) = s.get_json(&format!("/api/v1/query?query=nonexistent&time={t}"));
    assert_eq!(v["data"]["result"], json!([]));

    // Series, labels, label values.
    let (code, v) = s.get_json("/api/v1/series?match[]=up&match[]=requests_total{instance=\"a:9100\"}");
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 4);
    let (_, v) = s.get_json("/api/v1/labels");
    assert_eq!(v["data"], json!(["__name__", "instance", "job"]));
    let (_, v) = s.get_json("/api/v1/labels?match[]=up&limit=2");
    assert_eq!(v["data"], json!(["__name__", "instance"]));
    assert_eq!(v["warnings"], json!(["results truncated due to limit"]));
    let (_, v) = s.get_json("/api/v1/label/instance/values");
    assert_eq!(v["data"], json!(["a:9100", "b:9100", "c:9100"]));
    let (_, v) = s.get_json("/api/v1/label/__name__/values?match[]={job=\"node\"}");
    assert_eq!(v["data"], json!(["requests_total", "up"]));

    // Exemplars: empty list, never null. format_query prints canonically.
    let (code, v) = s.get_json("/api/v1/query_exemplars?query=up");
    assert_eq!((code, v["data"].clone()), (200, json!([])));
    let (code, v) = s.get_json("/api/v1/format_query?query=sum(rate(foo%5B1m%5D))by(job)");
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["data"], "sum by (job) (rate(foo[1m]))");

    // Status endpoints.
    let (_, v) = s.get_json("/api/v1/status/buildinfo");
    assert!(v["data"]["version"].as_str().unwrap().split('.').count() == 3);
    assert!(v["data"].get("features").is_none());
    let (_, v) = s.get_json("/api/v1/status/flags");
    assert_eq!(
        v["data"]["retention.raw"], "1w",
        "durations print as Prometheus prints them"
    );
    let (_, v) = s.get_json("/api/v1/status/tsdb");
    assert_eq!(v["data"]["headStats"]["numSeries"], 6);
    assert_eq!(v["data"]["seriesCountByMetricName"][0]["value"], 3);

    // Self metrics count the requests made.
    let text = client().get(s.url("/metrics")).send().unwrap().text().unwrap();
    assert!(
        text.contains("strata_http_requests_total{handler=\"/api/v1/query\",code=\"200\"}"),
        "{text}"
    );
    assert!(text.contains("strata_storage_samples_appended_total 240"), "{text}");
}

#[test]
fn bad_requests_get_prometheus_errors_and_the_server_survives() {
    let s = Server::start(&["--max-request-bytes", "100000"]);
    let end = (now_ms() / 1000) * 1000;
    load(&s, end);

    // Bad snappy, bad protobuf, unsupported protocol, oversized body.
    let (code, body) = s.post_raw("/api/v1/write", b"not snappy at all".to_vec(), &[]);
    assert_eq!(code, 400, "{body}");
    let garbage = snap::raw::Encoder::new()
        .compress_vec(b"\x0a\xff\xff\xff\xff\x0f")
        .unwrap();
    let (code, body) = s.post_raw("/api/v1/write", garbage, &[]);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("protobuf"), "{body}");
    let (code, _) = s.post_raw(
        "/api/v1/write",
        vec![],
        &[("Content-Type", "application/x-protobuf;proto=foo.Bar")],
    );
    assert_eq!(code, 415);
    let (code, _) = s.post_raw("/api/v1/write", vec![0u8; 200_000], &[]);
    assert_eq!(code, 413);

    // One bad series (duplicate label name) among good ones: 400 naming it, the good one lands.
    let req = write_request(vec![
        series(&[("__name__", "good"), ("x", "1")], &[(end, 7.0)]),
        series(&[("__name__", "bad"), ("x", "1"), ("x", "2")], &[(end, 1.0)]),
    ]);
    let (code, body) = s.remote_write(&req);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("bad"), "{body}");
    let (_, v) = s.get_json(&format!("/api/v1/query?query=good&time={}", end / 1000));
    assert_eq!(v["data"]["result"][0]["value"][1], "7");

    // Bad PromQL, bad times, bad step, too many points.
    let (code, v) = s.get_json("/api/v1/query?query=sum(");
    assert_eq!((code, err_type(&v)), (400, "bad_data"), "{v}");
    assert!(
        v["error"].as_str().unwrap().starts_with("invalid parameter \"query\""),
        "{v}"
    );
    let (code, v) = s.get_json("/api/v1/query?query=up&time=yesterday");
    assert_eq!((code, err_type(&v)), (400, "bad_data"));
    assert_eq!(
        v["error"],
        "invalid parameter \"time\": cannot parse \"yesterday\" to a valid timestamp"
    );
    let (code, v) = s.get_json("/api/v1/query_range?query=up&start=10&end=5&step=1");
    assert_eq!((code, err_type(&v)), (400, "bad_data"));
    let (code, v) = s.get_json("/api/v1/query_range?query=up&start=0&end=100&step=0");
    assert_eq!((code, err_type(&v)), (400, "bad_data"));
    let (code, v) = s.get_json("/api/v1/query_range?query=up&start=0&end=100000&step=1");
    assert_eq!((code, err_type(&v)), (400, "bad_data"));
    assert!(v["error"].as_str().unwrap().contains("11,000 points"));
    let (code, v) = s.get_json("/api/v1/series");
    assert_eq!((code, err_type(&v)), (400, "bad_data"));
    let (code, v) = s.get_json("/api/v1/series?match[]=up{");
    assert_eq!((code, err_type(&v)), (400, "bad_data"));

    // Execution errors are 422.
    let (code, v) = s.get_json(&format!(
        "/api/v1/query?query=up%20%2B%20on()%20group_left%20requests_total&time={}",
        end / 1000
    ));
    assert_eq!((code, err_type(&v)), (422, "execution"), "{v}");

    // Wrong method is 405; unknown path 404.
    let r = client().delete(s.url("/api/v1/query")).send().unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let r = client().get(s.url("/api/v1/write")).send().unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let (code, _) = s.get_json("/api/v1/nope");
    assert_eq!(code, 404);

    // Still healthy and still answering.
    let r = client().get(s.url("/-/healthy")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (code, v) = s.get_json(&format!("/api/v1/query?query=count(up)&time={}", end / 1000));
    assert_eq!((code, v["data"]["result"][0]["value"][1].clone()), (200, json!("3")));
}

#[test]
fn remote_write_v2_and_staleness_markers() {
    use prost::Message;
    use strata::remote::proto;
    let s = Server::start(&[]);
    let end = (now_ms() / 1000) * 1000;
    let stale = f64::from_bits(0x7ff0_0000_0000_0002);
    let req = proto::WriteRequestV2 {
        symbols: vec![
            "".into(),
            "__name__".into(),
            "temp".into(),
            "room".into(),
            "a".into(),
            "Room temperature.".into(),
        ],
        timeseries: vec![proto::TimeSeriesV2 {
            labels_refs: vec![1, 2, 3, 4],
            samples: vec![
                proto::Sample {
                    value: 21.5,
                    timestamp: end - 60_000,
                },
                proto::Sample {
                    value: stale,
                    timestamp: end - 30_000,
                },
            ],
            metadata: Some(proto::MetadataV2 {
                r#type: 2,
                help_ref: 5,
                unit_ref: 0,
            }),
            ..Default::default()
        }],
    };
    let body = snap::raw::Encoder::new().compress_vec(&req.encode_to_vec()).unwrap();
    let r = client()
        .post(s.url("/api/v1/write"))
        .header(
            "Content-Type",
            "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        )
        .header("Content-Encoding", "snappy")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(r.headers()["X-Prometheus-Remote-Write-Samples-Written"], "2");

    // Before the stale marker the value is visible; after it the series is gone.
    let (_, v) = s.get_json(&format!("/api/v1/query?query=temp&time={}", (end - 45_000) / 1000));
    assert_eq!(v["data"]["result"][0]["value"][1], "21.5");
    let (_, v) = s.get_json(&format!("/api/v1/query?query=temp&time={}", end / 1000));
    assert_eq!(v["data"]["result"], json!([]));
    let (_, v) = s.get_json("/api/v1/metadata?metric=temp");
    assert_eq!(
        v["data"],
        json!({"temp": [{"type": "gauge", "help": "Room temperature.", "unit": ""}]})
    );

    // The marker round-trips bit-exact through remote read.
    let rr = proto::ReadRequest {
        queries: vec![proto::Query {
            start_timestamp_ms: end - 120_000,
            end_timestamp_ms: end,
            matchers: vec![proto::LabelMatcher {
                r#type: 0,
                name: "__name__".into(),
                value: "temp".into(),
            }],
        }],
        accepted_response_types: vec![0],
    };
    let body = snap::raw::Encoder::new().compress_vec(&rr.encode_to_vec()).unwrap();
    let r = client().post(s.url("/api/v1/read")).body(body).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let raw = snap::raw::Decoder::new().decompress_vec(&r.bytes().unwrap()).unwrap();
    let resp = proto::ReadResponse::decode(raw.as_slice()).unwrap();
    let samples = &resp.results[0].timeseries[0].samples;
    assert_eq!(samples.len(), 2);
    assert_eq!(samples[1].value.to_bits(), 0x7ff0_0000_0000_0002);
}

#[test]
fn admin_delete_and_force_flush() {
    let s = Server::start(&[]);
    let end = (now_ms() / 1000) * 1000;
    load(&s, end);
    s.force_flush();
    let (_, v) = s.get_json(&format!("/api/v1/query?query=count(up)&time={}", end / 1000));
    assert_eq!(v["data"]["result"][0]["value"][1], "3");
    let (code, _) = s.post_form(
        "/api/v1/admin/tsdb/delete_series",
        &[("match[]", "up{instance=\"a:9100\"}")],
    );
    assert_eq!(code, 204);
    let (_, v) = s.get_json(&format!("/api/v1/query?query=count(up)&time={}", end / 1000));
    assert_eq!(v["data"]["result"][0]["value"][1], "2");
    let (_, v) = s.get_json("/api/v1/label/instance/values?match[]=up");
    assert_eq!(v["data"], json!(["b:9100", "c:9100"]));
}

/// The server re-executes itself with its allocator settings (glibc arenas one per core, mimalloc's lazy
/// commit and short purge delay; peak RSS), keeping its process id, and then serves normally.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn server_sets_its_allocator_environment() {
    let s = Server::start(&[]);
    s.wait_ready(std::time::Duration::from_secs(60));
    let environ = std::fs::read(format!("/proc/{}/environ", s.child.id())).unwrap();
    let get = |name: &str| {
        let prefix = format!("{name}=");
        environ.split(|&b| b == 0).find_map(|v| {
            v.strip_prefix(prefix.as_bytes())
                .map(|x| String::from_utf8_lossy(x).to_string())
        })
    };
    let cores = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(2)
        .to_string();
    for (name, default) in [
        ("MALLOC_ARENA_MAX", cores.as_str()),
        ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
        ("MIMALLOC_PURGE_DELAY", "250"),
    ] {
        // A value the test's own environment sets is inherited unchanged.
        let want = std::env::var(name).unwrap_or_else(|_| default.to_string());
        assert_eq!(get(name).as_deref(), Some(want.as_str()), "{name}");
    }
    let (code, _) = s.get_json("/api/v1/labels");
    assert_eq!(code, 200);
    assert_eq!(s.terminate(), Some(0));
}
