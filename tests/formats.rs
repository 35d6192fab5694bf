//! End-to-end: export and import through the HTTP API and the command line. Export → import into a
//! fresh server → export again must give identical data (JSON lines, CSV); every import format stores
//! the good lines of a body and answers 400 naming the bad line; CSV exports read back in Python.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

mod common;

use std::process::Command;
use std::time::Instant;

use common::{Server, client, enc, now_ms, series, write_request};

const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;
const ALL: &str = "{__name__=~\".+\"}";

/// GET of a path; returns status and body text.
fn get(s: &Server, path_and_query: &str) -> (u16, String) {
    let r = client().get(s.url(path_and_query)).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn export_json(s: &Server, selector: &str) -> String {
    let (code, body) = get(s, &format!("/api/v1/export?match[]={}", enc(selector)));
    assert_eq!(code, 200, "{body}");
    body
}

fn export_csv(s: &Server, selector: &str, format: &str) -> String {
    let (code, body) = get(
        s,
        &format!("/api/v1/export/csv?match[]={}&format={}", enc(selector), enc(format)),
    );
    assert_eq!(code, 200, "{body}");
    body
}

/// Series with awkward values and labels: staleness marker, NaN, ±Inf, -0, tiny and huge numbers,
/// label values with quotes, commas, backslashes, newlines and non-ASCII text.
fn load(s: &Server, end: i64) -> usize {
    let specials = [
        1.0,
        0.1,
        -0.0,
        1e300,
        5e-324,
        f64::from_bits(STALE_NAN),
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -3.25,
    ];
    let mut ts = Vec::new();
    let mut n = 0;
    for (i, inst) in ["a:9100", "b,\"quoted\"", "multi\nline\\back", "ünïcode"]
        .iter()
        .enumerate()
    {
        let samples: Vec<(i64, f64)> = (0..50)
            .map(|k| {
                (
                    end - (49 - k) * 15_000,
                    if i == 0 {
                        specials[k as usize % specials.len()]
                    } else {
                        (k * i as i64) as f64 * 0.5
                    },
                )
            })
            .collect();
        n += samples.len();
        ts.push(series(
            &[("__name__", "node_metric"), ("job", "node"), ("instance", inst)],
            &samples,
        ));
    }
    let plain: Vec<(i64, f64)> = (0..30).map(|k| (end - (29 - k) * 60_000, k as f64)).collect();
    n += plain.len();
    ts.push(series(&[("__name__", "plain")], &plain));
    let (code, body) = s.remote_write(&write_request(ts));
    assert_eq!(code, 204, "{body}");
    n
}

fn post(s: &Server, path: &str, body: &str) -> (u16, String) {
    s.post_raw(path, body.as_bytes().to_vec(), &[("Content-Type", "text/plain")])
}

fn error_of(body: &str) -> (String, String) {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    assert_eq!(v["status"], "error", "{body}");
    (
        v["errorType"].as_str().unwrap().to_string(),
        v["error"].as_str().unwrap().to_string(),
    )
}

#[test]
fn json_lines_round_trip_is_exact() {
    let a = Server::start(&[]);
    let end = (now_ms() / 1000) * 1000;
    let n = load(&a, end);
    let first = export_json(&a, ALL);
    assert_eq!(first.lines().count(), 5, "{first}");
    // Values come out exactly: check the special values of the first series as written.
    let line = first.lines().find(|l| l.contains("a:9100")).unwrap();
    assert!(
        line.starts_with(r#"{"metric":{"__name__":"node_metric","instance":"a:9100","job":"node"},"values":[1,0.1,"#),
        "{line}"
    );
    assert!(line.contains(r#",5e-324,"#) || line.contains(",0.000"), "{line}");
    assert!(line.contains(r#"null,"NaN","Infinity","-Infinity",-3.25"#), "{line}");
    let total: usize = first
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["timestamps"]
                .as_array()
                .unwrap()
                .len()
        })
        .sum();
    assert_eq!(total, n);

    let b = Server::start(&[]);
    let (code, body) = post(&b, "/api/v1/import", &first);
    assert_eq!(code, 204, "{body}");
    let second = export_json(&b, ALL);
    assert_eq!(first, second);

    // The staleness marker survives bit-exact: at its timestamp the series is absent from an instant
    // query, while at the next sample (an ordinary NaN) it is present with value NaN.
    let instant = |t: i64| {
        let (code, v) = b.get_json(&format!(
            "/api/v1/query?query={}&time={}",
            enc("node_metric{instance=\"a:9100\"}"),
            t / 1000
        ));
        assert_eq!(code, 200, "{v}");
        v["data"]["result"].as_array().unwrap().clone()
    };
    assert!(instant(end - 4 * 15_000).is_empty());
    assert_eq!(instant(end - 3 * 15_000)[0]["value"][1], "NaN");

    // Export with a time range and a second selector.
    let (code, body) = get(
        &b,
        &format!(
            "/api/v1/export?match[]=plain&match[]={}&start={}&end={}",
            enc("node_metric{job=\"none\"}"),
            (end - 5 * 60_000) / 1000,
            end / 1000
        ),
    );
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
    assert_eq!(v["timestamps"].as_array().unwrap().len(), 6);

    // POST with a form body works too, and errors are Prometheus-style.
    let (code, v) = b.post_form("/api/v1/export", &[("match[]", "plain")]);
    assert_eq!(code, 200, "{v}");
    let (code, body) = get(&b, "/api/v1/export");
    assert_eq!(code, 400);
    assert_eq!(error_of(&body).0, "bad_data");
    let (code, body) = get(&b, &format!("/api/v1/export?match[]={}", enc("up{")));
    assert_eq!(code, 400, "{body}");
}

#[test]
fn csv_round_trip_and_python_reads_it() {
    let a = Server::start(&[]);
    let end = (now_ms() / 1000) * 1000;
    let n = load(&a, end);
    let fmt = "__name__,__value__,__timestamp__:unix_ms,job,instance";
    let first = export_csv(&a, ALL, fmt);
    let mut lines = first.lines();
    assert_eq!(lines.next(), Some(fmt));
    assert!(first.contains("\"b,\"\"quoted\"\"\""), "{first}");

    let b = Server::start(&[]);
    let desc = "1:label:__name__,2:metric:value,3:time:unix_ms,4:label:job,5:label:instance";
    let (code, body) = post(&b, &format!("/api/v1/import/csv?format={}", enc(desc)), &first);
    assert_eq!(code, 204, "{body}");
    let second = export_csv(&b, ALL, fmt);
    assert_eq!(first, second);

    // Other timestamp formats.
    let other = export_csv(
        &a,
        "plain",
        "__timestamp__:rfc3339,__value__,__timestamp__:unix_s,__timestamp__:custom:2006-01-02 15:04",
    );
    let row = other.lines().nth(1).unwrap();
    let cells: Vec<&str> = row.split(',').collect();
    let first_t = end - 29 * 60_000;
    assert_eq!(cells.len(), 4, "{row}");
    assert_eq!(strata::api::params::parse_rfc3339(cells[0]), Some(first_t), "{row}");
    assert_eq!(cells[1], "0");
    assert_eq!(cells[2], (first_t / 1000).to_string());
    assert_eq!(cells[3].len(), "2006-01-02 15:04".len(), "{row}");
    assert_eq!(&cells[0][..16], cells[3].replace(' ', "T"), "{row}");
    let (code, body) = get(&a, "/api/v1/export/csv?match[]=plain");
    assert_eq!(code, 400, "{body}");
    assert!(error_of(&body).1.contains("format"));

    // Independent CSV readers (Python's csv module and pandas; scripts/setup.sh installs pandas) see every
    // sample.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.csv");
    std::fs::write(&path, &first).unwrap();
    let script = r#"
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1], newline='')))
vals = [float(r['__value__']) for r in rows]
insts = sorted(set(r['instance'] for r in rows))
print(len(rows), sum(v for v in vals if math.isfinite(v)), repr(insts))
import pandas
df = pandas.read_csv(sys.argv[1], keep_default_na=False, na_values=['NaN'])
print("pandas:", len(df), sorted(df['instance'].unique()) == insts)
"#;
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{text}{}", String::from_utf8_lossy(&o.stderr));
    let mut it = text.lines();
    let first_line = it.next().unwrap();
    assert!(first_line.starts_with(&format!("{n} ")), "{text}");
    assert!(
        first_line.contains("multi\\nline\\\\back") && first_line.contains("b,\"quoted\""),
        "{text}"
    );
    assert_eq!(it.next().unwrap_or(""), format!("pandas: {n} True"), "{text}");
}

#[test]
fn parquet_export_reads_in_pyarrow_and_duckdb() {
    let a = Server::start(&[]);
    let end = (now_ms() / 1000) * 1000;
    let n = load(&a, end);
    // What the JSON export holds is what the Parquet file must hold.
    let json = strata::ingest::jsonl::decode(&export_json(&a, ALL));
    assert_eq!(json.samples(), n as u64);
    let finite: f64 = json
        .series
        .iter()
        .flat_map(|s| s.samples.iter().map(|x| x.v))
        .filter(|v| v.is_finite())
        .sum();
    let r = client()
        .get(a.url(&format!("/api/v1/export/parquet?match[]={}", enc(ALL))))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/vnd.apache.parquet");
    let bytes = r.bytes().unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.parquet");
    std::fs::write(&path, &bytes).unwrap();
    let script = r#"
import math, struct, sys
import pyarrow.parquet as pq, duckdb
t = pq.read_table(sys.argv[1])
vals = t.column('value').to_pylist()
stale = sum(1 for v in vals if struct.pack('<d', v) == struct.pack('<Q', 0x7ff0000000000002))
insts = sorted(x for x in set(t.column('instance').to_pylist()) if x is not None)
print(t.num_rows, repr(sum(v for v in vals if math.isfinite(v))), stale, len(insts))
print(str(t.schema.field('metric').type), str(t.schema.field('timestamp').type))
con = duckdb.connect()
row = con.execute("select count(*), count(distinct metric), max(epoch_ms(timestamp)) from read_parquet(?)", [sys.argv[1]]).fetchone()
print(row[0], row[1], row[2])
"#;
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{text}{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<&str> = text.lines().collect();
    let first: Vec<&str> = lines[0].split(' ').collect();
    assert_eq!(first[0], n.to_string(), "pyarrow rows: {text}");
    let got: f64 = first[1].parse().unwrap();
    assert!((got - finite).abs() <= 1e-9 * finite.abs(), "{got} vs {finite}");
    assert_eq!(
        first[2], "5",
        "stale markers kept bit-exact (5 in the specials cycle): {text}"
    );
    assert_eq!(first[3], "4", "{text}");
    assert_eq!(
        lines[1],
        "dictionary<values=string, indices=int32, ordered=0> timestamp[ms, tz=UTC]"
    );
    assert_eq!(lines[2], format!("{n} 2 {end}"), "duckdb: {text}");
}

#[test]
fn cli_export_then_import() {
    let a = Server::start(&[]);
    let end = (now_ms() / 1000) * 1000;
    load(&a, end);
    let b = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_strata");
    for (format, extra) in [
        ("jsonl", vec![]),
        (
            "csv",
            vec!["--csv-format", "__name__,__value__,__timestamp__:unix_ms,job,instance"],
        ),
    ] {
        let file = dir.path().join(format!("out.{format}"));
        let st = Command::new(bin)
            .args(["export", "--url", &a.url(""), "--match", ALL, "--format", format, "-o"])
            .arg(&file)
            .args(&extra)
            .status()
            .unwrap();
        assert!(st.success());
        let text = std::fs::read_to_string(&file).unwrap();
        if format == "jsonl" {
            assert_eq!(text, export_json(&a, ALL));
        } else {
            assert_eq!(
                text,
                export_csv(&a, ALL, "__name__,__value__,__timestamp__:unix_ms,job,instance")
            );
        }
    }
    // Import the JSON lines with small batches, so several requests are made.
    let st = Command::new(bin)
        .args([
            "import",
            "--url",
            &b.url(""),
            "--format",
            "jsonl",
            "--batch-bytes",
            "500",
        ])
        .arg(dir.path().join("out.jsonl"))
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(export_json(&a, ALL), export_json(&b, ALL));
    // And the CSV into a third server.
    let c = Server::start(&[]);
    let st = Command::new(bin)
        .args([
            "import",
            "--url",
            &c.url(""),
            "--format",
            "csv",
            "--batch-bytes",
            "300",
            "--csv-format",
        ])
        .arg("1:label:__name__,2:metric:value,3:time:unix_ms,4:label:job,5:label:instance")
        .arg(dir.path().join("out.csv"))
        .status()
        .unwrap();
    assert!(st.success());
    let fmt = "__name__,__value__,__timestamp__:unix_ms,job,instance";
    assert_eq!(export_csv(&a, ALL, fmt), export_csv(&c, ALL, fmt));
    // A bad line makes the command fail, after storing the rest.
    let bad = dir.path().join("bad.prom");
    std::fs::write(&bad, format!("cli_ok 1 {end}\ncli_bad{{ 2\n")).unwrap();
    let st = Command::new(bin)
        .args(["import", "--url", &c.url(""), "--format", "prometheus"])
        .arg(&bad)
        .status()
        .unwrap();
    assert!(!st.success());
    assert!(export_json(&c, "cli_ok").contains(&format!("[{end}]")));
}

/// Posts a body whose line 3 is bad; expects 400 naming line 3 and the good lines stored.
fn bad_line_case(s: &Server, path: &str, body: &str, check: &str, want_samples: usize) {
    let (code, resp) = post(s, path, body);
    assert_eq!(code, 400, "{path}: {resp}");
    let (etype, msg) = error_of(&resp);
    assert_eq!(etype, "bad_data");
    assert!(msg.starts_with("line 3: "), "{path}: {msg}");
    let exported = export_json(s, check);
    let got: usize = exported
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["values"]
                .as_array()
                .unwrap()
                .len()
        })
        .sum();
    assert_eq!(got, want_samples, "{path}: {exported}");
}

#[test]
fn each_import_format_stores_good_lines_and_reports_the_bad_one() {
    let s = Server::start(&[]);
    let t = (now_ms() / 1000) * 1000 - 60_000;
    bad_line_case(
        &s,
        "/api/v1/import",
        &format!(
            "{{\"metric\":{{\"__name__\":\"j_ok\",\"a\":\"1\"}},\"values\":[1,2],\"timestamps\":[{t},{}]}}\n\n{{\"metric\":{{\"__name__\":\"j_bad\"}},\"values\":[1],\"timestamps\":[]}}\n{{\"metric\":{{\"__name__\":\"j_ok\",\"a\":\"2\"}},\"values\":[3],\"timestamps\":[{t}]}}\n",
            t + 1000
        ),
        "j_ok",
        3,
    );
    bad_line_case(
        &s,
        &format!(
            "/api/v1/import/csv?format={}",
            enc("1:label:host,2:metric:c_ok,3:time:unix_ms")
        ),
        &format!("h1,1.5,{t}\nh2,2.5,{t}\nh3,oops,{t}\nh4,4.5,{t}\n"),
        "c_ok",
        3,
    );
    bad_line_case(
        &s,
        "/api/v1/import/prometheus",
        &format!(
            "# HELP p_ok A test gauge.\n# TYPE p_ok gauge\np_ok{{x=\"2\" 2\np_ok{{x=\"1\"}} 1 {t}\np_ok{{x=\"3\"}} 3\n"
        ),
        "p_ok",
        2,
    );
    let (code, v) = s.get_json("/api/v1/metadata?metric=p_ok");
    assert_eq!(code, 200);
    assert_eq!(v["data"]["p_ok"][0]["type"], "gauge", "{v}");
    assert_eq!(v["data"]["p_ok"][0]["help"], "A test gauge.", "{v}");
    bad_line_case(
        &s,
        "/write?db=mydb&precision=ms",
        &format!("cpu,host=a usage=1,idle=2i {t}\ncpu,host=b usage=3 {t}\ncpu,host=c usage= {t}\nmem free=5u\n"),
        "{__name__=~\"cpu_.*|mem_free\",db=\"mydb\"}",
        4,
    );
    bad_line_case(
        &s,
        "/api/v2/write?precision=s",
        &format!(
            "v2m,host=a f=1 {}\n# comment\nv2m,host=a f=\"unterminated {}\n",
            t / 1000,
            t / 1000
        ),
        "v2m_f",
        1,
    );
    // Influx timestamps in nanoseconds by default.
    let (code, body) = post(&s, "/write", &format!("nsm value=7 {}\n", i128::from(t) * 1_000_000));
    assert_eq!(code, 204, "{body}");
    assert!(export_json(&s, "nsm_value").contains(&format!("[{t}]")));
    // Bad parameters.
    let (code, body) = post(&s, "/api/v1/import/csv?format=1:label:x", "a\n");
    assert_eq!(code, 400, "{body}");
    let (code, body) = post(&s, "/write?precision=fortnight", "m v=1\n");
    assert_eq!(code, 400, "{body}");
    let (code, body) = s.post_raw("/api/v1/import", vec![b'{', 0xff, b'\n'], &[]);
    assert_eq!(code, 400, "{body}");
}

/// Throughput of import and export through the HTTP API (run with `--ignored --nocapture`); the
/// figures are recorded in docs/performance.md.
#[test]
#[ignore = "measurement; run by hand"]
fn throughput() {
    let series = 1000;
    let per_series = 1000;
    let s = Server::start(&["--max-request-bytes", "268435456"]);
    let end = (now_ms() / 1000) * 1000;
    let mut body = String::new();
    for i in 0..series {
        let ts: Vec<String> = (0..per_series)
            .map(|k| (end - (per_series - 1 - k) * 15_000).to_string())
            .collect();
        let vs: Vec<String> = (0..per_series)
            .map(|k| format!("{}", (k * (i + 1)) as f64 * 0.25))
            .collect();
        body.push_str(&format!(
            "{{\"metric\":{{\"__name__\":\"bench_metric\",\"instance\":\"host-{i}:9100\",\"job\":\"node\"}},\"values\":[{}],\"timestamps\":[{}]}}\n",
            vs.join(","),
            ts.join(",")
        ));
    }
    let total = (series * per_series) as f64;
    let t0 = Instant::now();
    let (code, resp) = post(&s, "/api/v1/import", &body);
    assert_eq!(code, 204, "{resp}");
    let import_s = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let out = export_json(&s, "bench_metric");
    let export_s = t0.elapsed().as_secs_f64();
    assert_eq!(out.lines().count(), series as usize);
    let t0 = Instant::now();
    let csv = export_csv(
        &s,
        "bench_metric",
        "__name__,__value__,__timestamp__:unix_ms,instance,job",
    );
    let csv_s = t0.elapsed().as_secs_f64();
    assert_eq!(csv.lines().count(), series as usize * per_series as usize + 1);
    let b = Server::start(&["--max-request-bytes", "268435456"]);
    let t0 = Instant::now();
    let (code, resp) = post(
        &b,
        &format!(
            "/api/v1/import/csv?format={}",
            enc("1:label:__name__,2:metric:v,3:time:unix_ms,4:label:instance,5:label:job")
        ),
        &csv,
    );
    assert_eq!(code, 204, "{resp}");
    let csv_import_s = t0.elapsed().as_secs_f64();
    println!(
        "samples: {total}, JSON body {} MB, CSV body {} MB",
        body.len() >> 20,
        csv.len() >> 20
    );
    println!("import JSON lines: {:.0} samples/s ({import_s:.2}s)", total / import_s);
    println!("export JSON lines: {:.0} samples/s ({export_s:.2}s)", total / export_s);
    println!("export CSV: {:.0} samples/s ({csv_s:.2}s)", total / csv_s);
    println!("import CSV: {:.0} samples/s ({csv_import_s:.2}s)", total / csv_import_s);
}

#[test]
fn gzip_and_deflate_import_bodies() {
    use std::io::Write;
    let a = Server::start(&[]);
    let end = (now_ms() / 1000) * 1000;
    let line = |name: &str| {
        format!(
            "{{\"metric\":{{\"__name__\":\"{name}\",\"job\":\"z\"}},\"values\":[1,2,3],\"timestamps\":[{},{},{}]}}\n",
            end - 2000,
            end - 1000,
            end
        )
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(line("gz_metric").as_bytes()).unwrap();
    let (code, body) = a.post_raw("/api/v1/import", gz.finish().unwrap(), &[("Content-Encoding", "gzip")]);
    assert_eq!(code, 204, "{body}");
    let mut zl = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zl.write_all(line("deflate_metric").as_bytes()).unwrap();
    let (code, body) = a.post_raw(
        "/api/v1/import",
        zl.finish().unwrap(),
        &[("Content-Encoding", "deflate")],
    );
    assert_eq!(code, 204, "{body}");
    let d = strata::ingest::jsonl::decode(&export_json(&a, "{job=\"z\"}"));
    assert_eq!((d.series.len(), d.samples()), (2, 6));

    // Not gzip after all: 400, nothing stored; an encoding we do not speak: 415.
    let (code, body) = a.post_raw("/api/v1/import", b"not gzip".to_vec(), &[("Content-Encoding", "gzip")]);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("decompress"), "{body}");
    let (code, body) = a.post_raw(
        "/api/v1/import",
        line("x").into_bytes(),
        &[("Content-Encoding", "zstd")],
    );
    assert_eq!(code, 415, "{body}");
    // A small body that inflates past the limit (256 MiB) is refused with 413, and the server lives on.
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![b'\n'; 1 << 20];
    for _ in 0..300 {
        bomb.write_all(&zeros).unwrap();
    }
    let bomb = bomb.finish().unwrap();
    assert!(bomb.len() < 2 << 20);
    let (code, body) = a.post_raw("/api/v1/import/prometheus", bomb, &[("Content-Encoding", "gzip")]);
    assert_eq!(code, 413, "{body}");
    let (code, _) = a.get_json("/-/healthy");
    assert_eq!(code, 200);
}

#[test]
fn otlp_metrics_over_http() {
    use prost::Message;
    use strata::otlp::proto::*;
    let a = Server::start(&[]);
    let t_nanos = u64::try_from(now_ms()).unwrap() * 1_000_000;
    let kv = |k: &str, v: &str| KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
    };
    let req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "checkout"), kv("host.name", "h1")],
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: None,
                metrics: vec![
                    Metric {
                        name: "orders.placed".into(),
                        description: "Orders".into(),
                        unit: String::new(),
                        data: Some(metric::Data::Sum(Sum {
                            data_points: vec![NumberDataPoint {
                                attributes: vec![kv("region", "eu")],
                                time_unix_nano: t_nanos,
                                value: Some(number_data_point::Value::AsInt(17)),
                                flags: 0,
                            }],
                            aggregation_temporality: 2,
                            is_monotonic: true,
                        })),
                    },
                    Metric {
                        name: "exp".into(),
                        description: String::new(),
                        unit: String::new(),
                        data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                            data_points: vec![ExponentialHistogramDataPoint {
                                time_unix_nano: t_nanos,
                            }],
                        })),
                    },
                ],
            }],
        }],
    };
    let body = req.encode_to_vec();
    let r = client()
        .post(a.url("/opentelemetry/v1/metrics"))
        .header("Content-Type", "application/x-protobuf")
        .body(body.clone())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let reply = ExportMetricsServiceResponse::decode(r.bytes().unwrap()).unwrap();
    assert_eq!(
        reply.partial_success.unwrap().rejected_data_points,
        1,
        "the exponential histogram point"
    );
    let (code, v) = a.get_json(&format!(
        "/api/v1/query?query={}",
        enc(r#"orders_placed_total{job="checkout",host_name="h1",region="eu"}"#)
    ));
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["data"]["result"][0]["value"][1], "17", "{v}");
    let (code, v) = a.get_json("/api/v1/metadata?metric=orders_placed_total");
    assert_eq!(code, 200);
    assert_eq!(v["data"]["orders_placed_total"][0]["type"], "counter", "{v}");

    // gzip works as for the other imports; JSON and garbage are refused with Prometheus-style errors.
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&body).unwrap();
    let (code, text) = a.post_raw(
        "/opentelemetry/v1/metrics",
        gz.finish().unwrap(),
        &[("Content-Type", "application/x-protobuf"), ("Content-Encoding", "gzip")],
    );
    assert_eq!(code, 200, "{text}");
    let (code, text) = a.post_raw(
        "/opentelemetry/v1/metrics",
        b"{}".to_vec(),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(code, 415, "{text}");
    let (code, text) = a.post_raw(
        "/opentelemetry/v1/metrics",
        vec![0xff; 9],
        &[("Content-Type", "application/x-protobuf")],
    );
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("OTLP"), "{text}");
}
