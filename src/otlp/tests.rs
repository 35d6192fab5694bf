#![allow(clippy::unwrap_used)]
use super::proto::*;
use super::*;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
    }
}

fn point(v: f64, attrs: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        time_unix_nano: 1_700_000_000_123_000_000,
        value: Some(number_data_point::Value::AsDouble(v)),
        flags: 0,
    }
}

fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "api"),
                    kv("service.instance.id", "pod-1"),
                    kv("k8s.pod.name", "pod-1"),
                ],
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "meter".into(),
                    version: String::new(),
                }),
                metrics,
            }],
        }],
    }
}

fn find<'a>(c: &'a Converted, text: &str) -> &'a WriteSeries {
    c.series
        .iter()
        .find(|s| s.labels.to_string() == text)
        .unwrap_or_else(|| {
            panic!(
                "{text} not in {:?}",
                c.series.iter().map(|s| s.labels.to_string()).collect::<Vec<_>>()
            )
        })
}

#[test]
fn gauges_and_sums_get_prometheus_names_and_resource_labels() {
    let req = request(vec![
        Metric {
            name: "http.server.active_requests".into(),
            description: "Active".into(),
            unit: "{request}".into(),
            data: Some(metric::Data::Gauge(Gauge {
                data_points: vec![point(3.0, vec![kv("http.method", "GET")])],
            })),
        },
        Metric {
            name: "requests".into(),
            description: String::new(),
            unit: String::new(),
            data: Some(metric::Data::Sum(Sum {
                data_points: vec![NumberDataPoint {
                    value: Some(number_data_point::Value::AsInt(42)),
                    ..point(0.0, vec![kv("k8s.pod.name", "override")])
                }],
                aggregation_temporality: 2,
                is_monotonic: true,
            })),
        },
        Metric {
            name: "queue_size".into(),
            description: String::new(),
            unit: String::new(),
            data: Some(metric::Data::Sum(Sum {
                data_points: vec![NumberDataPoint {
                    flags: FLAG_NO_RECORDED_VALUE,
                    ..point(5.0, vec![])
                }],
                aggregation_temporality: 2,
                is_monotonic: false,
            })),
        },
    ]);
    let c = convert(&req, 0);
    let g = find(
        &c,
        r#"http_server_active_requests{http_method="GET", instance="pod-1", job="api", k8s_pod_name="pod-1", otel_scope_name="meter"}"#,
    );
    assert_eq!(
        g.samples,
        vec![Sample {
            t: 1_700_000_000_123,
            v: 3.0
        }]
    );
    let s = find(
        &c,
        r#"requests_total{instance="pod-1", job="api", k8s_pod_name="override", otel_scope_name="meter"}"#,
    );
    assert_eq!(s.samples[0].v, 42.0);
    let q = find(
        &c,
        r#"queue_size{instance="pod-1", job="api", k8s_pod_name="pod-1", otel_scope_name="meter"}"#,
    );
    assert_eq!(
        q.samples[0].v.to_bits(),
        STALE_NAN_BITS,
        "no recorded value: a staleness marker"
    );
    let kinds: Vec<(&str, &str)> = c.metadata.iter().map(|(n, m)| (n.as_str(), m.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            ("http_server_active_requests", "gauge"),
            ("requests_total", "counter"),
            ("queue_size", "gauge")
        ]
    );
}

#[test]
fn histograms_become_cumulative_buckets_and_summaries_quantiles() {
    let req = request(vec![
        Metric {
            name: "latency".into(),
            description: String::new(),
            unit: "s".into(),
            data: Some(metric::Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    attributes: vec![],
                    time_unix_nano: 2_000_000,
                    count: 10,
                    sum: Some(4.5),
                    bucket_counts: vec![2, 3, 5],
                    explicit_bounds: vec![0.1, 1.0],
                    flags: 0,
                }],
                aggregation_temporality: 2,
            })),
        },
        Metric {
            name: "rpc".into(),
            description: String::new(),
            unit: String::new(),
            data: Some(metric::Data::Summary(Summary {
                data_points: vec![SummaryDataPoint {
                    attributes: vec![],
                    time_unix_nano: 2_000_000,
                    count: 7,
                    sum: 1.5,
                    quantile_values: vec![ValueAtQuantile {
                        quantile: 0.5,
                        value: 0.2,
                    }],
                    flags: 0,
                }],
            })),
        },
        Metric {
            name: "exp".into(),
            description: String::new(),
            unit: String::new(),
            data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![ExponentialHistogramDataPoint { time_unix_nano: 1 }],
            })),
        },
    ]);
    let c = convert(&req, 0);
    let common = r#"instance="pod-1", job="api", k8s_pod_name="pod-1", otel_scope_name="meter""#;
    for (le, want) in [("0.1", 2.0), ("1", 5.0), ("+Inf", 10.0)] {
        let text = format!(
            r#"latency_bucket{{instance="pod-1", job="api", k8s_pod_name="pod-1", le="{le}", otel_scope_name="meter"}}"#
        );
        let s = find(&c, &text);
        assert_eq!(s.samples, vec![Sample { t: 2, v: want }], "le={le}");
    }
    assert_eq!(find(&c, &format!("latency_sum{{{common}}}")).samples[0].v, 4.5);
    assert_eq!(find(&c, &format!("latency_count{{{common}}}")).samples[0].v, 10.0);
    assert_eq!(
        find(&c, &format!(r#"rpc{{{common}, quantile="0.5"}}"#)).samples[0].v,
        0.2
    );
    assert_eq!(find(&c, &format!("rpc_count{{{common}}}")).samples[0].v, 7.0);
    assert_eq!(c.rejected_points, 1);
    assert_eq!(c.series.len(), 8, "3 buckets, sum, count; a quantile, sum, count");
}

#[test]
fn names_are_sanitized() {
    assert_eq!(sanitize("http.server.duration", false), "http_server_duration");
    assert_eq!(sanitize("a:b", false), "a:b");
    assert_eq!(sanitize("a:b", true), "a_b");
    assert_eq!(sanitize("2xx", true), "key_2xx");
    assert_eq!(sanitize("2xx", false), "_2xx");
    assert_eq!(sanitize("", true), "_");
}
