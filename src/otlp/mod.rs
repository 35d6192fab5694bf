//! OTLP/HTTP metrics ingestion (`POST /opentelemetry/v1/metrics`, protobuf): converts an
//! `ExportMetricsServiceRequest` into series, the way Prometheus 3 and VictoriaMetrics name them.
//!
//! Mapping (documented in `docs/formats.md`, "OpenTelemetry"):
//! - metric and label names: every character outside `[a-zA-Z0-9_:]` becomes `_` (a leading digit gets a
//!   `key_` prefix for labels, `_` for metrics);
//! - labels: the data point's attributes, then the resource's attributes (a point attribute wins), with
//!   `service.namespace`/`service.name` as `job` (`namespace/name`, or `name`) and `service.instance.id`
//!   as `instance`, and `otel_scope_name` / `otel_scope_version` of the instrumentation scope;
//! - gauge → `name`; monotonic sum → `name_total` (unless it already ends so); non-monotonic sum →
//!   `name`; histogram → `name_bucket{le}` (cumulative, `+Inf` = count), `name_sum`, `name_count`;
//!   summary → `name{quantile}`, `name_sum`, `name_count`; delta temporality is stored as sent;
//! - exponential histograms are not stored (counted as rejected points);
//! - timestamps: `time_unix_nano` in milliseconds (0: the time of the request); a point flagged "no
//!   recorded value" becomes a staleness marker.

pub mod proto;

use std::collections::HashMap;

use strata_storage::{Labels, METRIC_NAME, STALE_NAN_BITS, Sample, WriteSeries};

use crate::metadata::MetricMetadata;
use proto::{any_value, metric, number_data_point};

/// The series, metadata and rejections of one request.
#[derive(Debug, Default)]
pub struct Converted {
    /// Samples grouped by series.
    pub series: Vec<WriteSeries>,
    /// Metric family metadata (type, help, unit).
    pub metadata: Vec<(String, MetricMetadata)>,
    /// Data points that were not stored, with the reasons (one per kind).
    pub rejected_points: i64,
    /// Why points were rejected.
    pub reasons: Vec<String>,
}

/// Replaces every character outside `[a-zA-Z0-9_:]` (and `:` in label names) by `_`.
pub fn sanitize(name: &str, label: bool) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || (c == ':' && !label) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, if label { "key_" } else { "_" });
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// The text of an attribute value: strings as is, numbers and booleans as Go formats them, arrays and
/// maps as JSON.
fn value_text(v: Option<&proto::AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BytesValue(b)) => b.iter().map(|x| format!("{x:02x}")).collect(),
        Some(other) => json_of(other).to_string(),
    }
}

fn json_of(v: &any_value::Value) -> serde_json::Value {
    match v {
        any_value::Value::StringValue(s) => serde_json::Value::from(s.as_str()),
        any_value::Value::BoolValue(b) => serde_json::Value::from(*b),
        any_value::Value::IntValue(i) => serde_json::Value::from(*i),
        any_value::Value::DoubleValue(d) => serde_json::Value::from(*d),
        any_value::Value::BytesValue(b) => {
            serde_json::Value::from(b.iter().map(|x| format!("{x:02x}")).collect::<String>())
        }
        any_value::Value::ArrayValue(a) => a
            .values
            .iter()
            .map(|x| x.value.as_ref().map_or(serde_json::Value::Null, json_of))
            .collect(),
        any_value::Value::KvlistValue(kv) => serde_json::Value::Object(
            kv.values
                .iter()
                .map(|k| {
                    (
                        k.key.clone(),
                        k.value
                            .as_ref()
                            .and_then(|v| v.value.as_ref())
                            .map_or(serde_json::Value::Null, json_of),
                    )
                })
                .collect(),
        ),
    }
}

/// Appends `attrs` as labels, not overriding labels already set.
fn add_attrs(pairs: &mut Vec<(String, String)>, attrs: &[proto::KeyValue]) {
    for kv in attrs {
        let name = sanitize(&kv.key, true);
        if !pairs.iter().any(|(n, _)| *n == name) {
            pairs.push((name, value_text(kv.value.as_ref())));
        }
    }
}

/// Groups samples by label set.
#[derive(Default)]
struct Builder {
    slots: HashMap<Labels, usize>,
    series: Vec<WriteSeries>,
}

impl Builder {
    fn push(&mut self, labels: Labels, t: i64, v: f64) {
        let slot = match self.slots.get(&labels) {
            Some(&s) => s,
            None => {
                self.series.push(WriteSeries {
                    labels: labels.clone(),
                    samples: Vec::new(),
                });
                let s = self.series.len() - 1;
                self.slots.insert(labels, s);
                s
            }
        };
        if let Some(ws) = self.series.get_mut(slot) {
            ws.samples.push(Sample { t, v });
        }
    }
}

/// The labels of one sample: metric name, extra (e.g. `le`), point attributes, then the common labels.
fn labels_of(name: &str, extra: &[(&str, String)], attrs: &[proto::KeyValue], common: &[(String, String)]) -> Labels {
    let mut pairs: Vec<(String, String)> = vec![(METRIC_NAME.to_string(), name.to_string())];
    pairs.extend(extra.iter().map(|(k, v)| ((*k).to_string(), v.clone())));
    add_attrs(&mut pairs, attrs);
    for (k, v) in common {
        if !pairs.iter().any(|(n, _)| n == k) {
            pairs.push((k.clone(), v.clone()));
        }
    }
    pairs.retain(|(_, v)| !v.is_empty());
    Labels::from_pairs(pairs)
}

fn ms(t_nanos: u64, now: i64) -> i64 {
    if t_nanos == 0 {
        now
    } else {
        i64::try_from(t_nanos / 1_000_000).unwrap_or(i64::MAX)
    }
}

fn point_value(flags: u32, v: f64) -> f64 {
    if flags & proto::FLAG_NO_RECORDED_VALUE != 0 {
        f64::from_bits(STALE_NAN_BITS)
    } else {
        v
    }
}

/// Formats a bucket bound or quantile as Prometheus does (`+Inf`, shortest float text).
fn float_label(f: f64) -> String {
    if f == f64::INFINITY {
        "+Inf".into()
    } else if f == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        f.to_string()
    }
}

/// Converts a request; `now` stands in for missing timestamps.
pub fn convert(req: &proto::ExportMetricsServiceRequest, now: i64) -> Converted {
    let mut b = Builder::default();
    let mut out = Converted::default();
    let mut exp_hist = 0i64;
    for rm in &req.resource_metrics {
        let attrs = rm
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        let attr = |k: &str| {
            attrs
                .iter()
                .find(|kv| kv.key == k)
                .map(|kv| value_text(kv.value.as_ref()))
        };
        let mut resource: Vec<(String, String)> = Vec::new();
        match (attr("service.namespace"), attr("service.name")) {
            (Some(ns), Some(n)) if !ns.is_empty() => resource.push(("job".into(), format!("{ns}/{n}"))),
            (_, Some(n)) => resource.push(("job".into(), n)),
            _ => {}
        }
        if let Some(i) = attr("service.instance.id") {
            resource.push(("instance".into(), i));
        }
        // The service attributes live on as `job` and `instance`; every other one becomes a label.
        let rest: Vec<proto::KeyValue> = attrs
            .iter()
            .filter(|kv| {
                !matches!(
                    kv.key.as_str(),
                    "service.name" | "service.namespace" | "service.instance.id"
                )
            })
            .cloned()
            .collect();
        add_attrs(&mut resource, &rest);
        for sm in &rm.scope_metrics {
            let mut common = resource.clone();
            if let Some(scope) = &sm.scope {
                common.push(("otel_scope_name".into(), scope.name.clone()));
                common.push(("otel_scope_version".into(), scope.version.clone()));
            }
            for m in &sm.metrics {
                let base = sanitize(&m.name, false);
                let meta = |kind: &'static str| MetricMetadata {
                    kind,
                    help: m.description.clone(),
                    unit: m.unit.clone(),
                };
                match &m.data {
                    Some(metric::Data::Gauge(g)) => {
                        out.metadata.push((base.clone(), meta("gauge")));
                        for p in &g.data_points {
                            let v = number(p);
                            b.push(
                                labels_of(&base, &[], &p.attributes, &common),
                                ms(p.time_unix_nano, now),
                                point_value(p.flags, v),
                            );
                        }
                    }
                    Some(metric::Data::Sum(s)) => {
                        let name = if s.is_monotonic && !base.ends_with("_total") {
                            format!("{base}_total")
                        } else {
                            base.clone()
                        };
                        out.metadata
                            .push((name.clone(), meta(if s.is_monotonic { "counter" } else { "gauge" })));
                        for p in &s.data_points {
                            let v = number(p);
                            b.push(
                                labels_of(&name, &[], &p.attributes, &common),
                                ms(p.time_unix_nano, now),
                                point_value(p.flags, v),
                            );
                        }
                    }
                    Some(metric::Data::Histogram(h)) => {
                        out.metadata.push((base.clone(), meta("histogram")));
                        for p in &h.data_points {
                            let t = ms(p.time_unix_nano, now);
                            let mut cumulative = 0u64;
                            for (i, count) in p.bucket_counts.iter().enumerate() {
                                cumulative = cumulative.saturating_add(*count);
                                let le = p.explicit_bounds.get(i).copied().unwrap_or(f64::INFINITY);
                                if le == f64::INFINITY {
                                    break;
                                }
                                let l = labels_of(
                                    &format!("{base}_bucket"),
                                    &[("le", float_label(le))],
                                    &p.attributes,
                                    &common,
                                );
                                b.push(l, t, point_value(p.flags, cumulative as f64));
                            }
                            let inf = labels_of(
                                &format!("{base}_bucket"),
                                &[("le", "+Inf".into())],
                                &p.attributes,
                                &common,
                            );
                            b.push(inf, t, point_value(p.flags, p.count as f64));
                            if let Some(sum) = p.sum {
                                b.push(
                                    labels_of(&format!("{base}_sum"), &[], &p.attributes, &common),
                                    t,
                                    point_value(p.flags, sum),
                                );
                            }
                            b.push(
                                labels_of(&format!("{base}_count"), &[], &p.attributes, &common),
                                t,
                                point_value(p.flags, p.count as f64),
                            );
                        }
                    }
                    Some(metric::Data::Summary(s)) => {
                        out.metadata.push((base.clone(), meta("summary")));
                        for p in &s.data_points {
                            let t = ms(p.time_unix_nano, now);
                            for q in &p.quantile_values {
                                let l =
                                    labels_of(&base, &[("quantile", float_label(q.quantile))], &p.attributes, &common);
                                b.push(l, t, point_value(p.flags, q.value));
                            }
                            b.push(
                                labels_of(&format!("{base}_sum"), &[], &p.attributes, &common),
                                t,
                                point_value(p.flags, p.sum),
                            );
                            b.push(
                                labels_of(&format!("{base}_count"), &[], &p.attributes, &common),
                                t,
                                point_value(p.flags, p.count as f64),
                            );
                        }
                    }
                    Some(metric::Data::ExponentialHistogram(e)) => {
                        exp_hist += i64::try_from(e.data_points.len()).unwrap_or(i64::MAX);
                    }
                    None => {}
                }
            }
        }
    }
    if exp_hist > 0 {
        out.rejected_points += exp_hist;
        out.reasons.push(format!(
            "{exp_hist} exponential histogram points: not supported (send explicit-bucket histograms)"
        ));
    }
    out.series = b.series;
    out
}

fn number(p: &proto::NumberDataPoint) -> f64 {
    match p.value {
        Some(number_data_point::Value::AsDouble(d)) => d,
        Some(number_data_point::Value::AsInt(i)) => i as f64,
        None => 0.0,
    }
}

#[cfg(test)]
mod tests;
