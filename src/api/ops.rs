//! Status, admin and operations endpoints.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ErrorType};
use super::query::json_response;
use super::{AppState, blocking, request_params};

fn success(data: serde_json::Value) -> Response {
    json_response(serde_json::json!({"status": "success", "data": data}).to_string())
}

/// `GET /api/v1/status/buildinfo`: a semver `version` and no `features` field (Grafana reads `features` as
/// "this is Mimir").
pub async fn buildinfo() -> Response {
    success(serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "revision": option_env!("STRATA_GIT_REVISION").unwrap_or("unknown"),
        "branch": "",
        "buildUser": "",
        "buildDate": "",
        "goVersion": "",
    }))
}

/// `GET /api/v1/status/flags`.
pub async fn flags(State(st): State<Arc<AppState>>) -> Response {
    success(serde_json::json!(*st.flags.read()))
}

/// `GET /api/v1/status/runtimeinfo`.
pub async fn runtimeinfo(State(st): State<Arc<AppState>>) -> Response {
    let start = st
        .started
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let storage_retention = st.flags.read().get("retention.raw").cloned().unwrap_or_default();
    success(serde_json::json!({
        "startTime": crate::api::params::format_rfc3339(start as i64 * 1000),
        "CWD": std::env::current_dir().map(|p| p.display().to_string()).unwrap_or_default(),
        "reloadConfigSuccess": true,
        "lastConfigTime": crate::api::params::format_rfc3339(start as i64 * 1000),
        "corruptionCount": 0,
        "goroutineCount": 0,
        "GOMAXPROCS": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "GOGC": "",
        "GODEBUG": "",
        "storageRetention": storage_retention,
    }))
}

/// `GET /api/v1/status/tsdb`: head statistics and cardinality, as Prometheus answers.
pub async fn tsdb_status(State(st): State<Arc<AppState>>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let p = super::params::Params::parse(q.as_deref(), None);
    let limit = p.limit("limit")?.unwrap_or(10);
    let storage = st.storage()?;
    let s = blocking("status", move || Ok(storage.status(limit))).await?;
    let list = |v: &[(String, u64)]| -> serde_json::Value {
        v.iter()
            .map(|(n, c)| serde_json::json!({"name": n, "value": c}))
            .collect()
    };
    let c = &s.cardinality;
    Ok(success(serde_json::json!({
        "headStats": {
            "numSeries": s.num_series,
            "numLabelPairs": s.num_label_pairs,
            "chunkCount": s.chunk_count,
            "minTime": s.min_time,
            "maxTime": s.max_time,
        },
        "seriesCountByMetricName": list(&c.series_count_by_metric_name),
        "labelValueCountByLabelName": list(&c.label_value_count_by_label_name),
        "memoryInBytesByLabelName": list(&c.memory_in_bytes_by_label_name),
        "seriesCountByLabelValuePair": list(&c.series_count_by_label_value_pair),
        // Strata's own: what each resolution tier holds on disk (not part of Prometheus' answer).
        "tiers": s.tiers.iter().map(tier_json).collect::<Vec<_>>(),
    })))
}

/// One entry of the `tiers` list of `/api/v1/status/tsdb`.
fn tier_json(t: &strata_storage::TierStatus) -> serde_json::Value {
    let bound = |v: i64| (v != i64::MIN && v != i64::MAX).then_some(v);
    serde_json::json!({
        "name": t.name,
        "partitions": t.partitions,
        "numSeries": t.series,
        "chunkCount": t.chunks,
        "numSamples": t.samples,
        "bytes": t.bytes,
        "minTime": t.min_time,
        "maxTime": t.max_time,
        "retention": t.retention_ms.map_or_else(|| "forever".to_string(), crate::config::format_duration),
        "droppedBefore": bound(t.horizon),
        "completeUntil": bound(t.complete_to),
    })
}

/// `POST|PUT /api/v1/admin/tsdb/delete_series`.
pub async fn delete_series(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = request_params(q.as_deref(), &headers, &body);
    let sets = p.match_sets()?;
    if sets.is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let (start, end) = p.range_or_all()?;
    let storage = st.storage()?;
    blocking("delete", move || {
        for m in &sets {
            storage.delete_series(m, start, end)?;
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /internal/force_flush`: seals the head into RocksDB now.
pub async fn force_flush(State(st): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let storage = st.storage()?;
    blocking("flush", move || Ok(storage.flush()?)).await?;
    Ok((StatusCode::OK, "flushed\n").into_response())
}

/// `POST /-/reload`: re-reads the configuration file; a bad file is a 500 naming the problem, and the
/// running configuration stays in force.
pub async fn reload(State(st): State<Arc<AppState>>) -> Response {
    match st.reload() {
        Ok(()) => (StatusCode::OK, "configuration reloaded\n").into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e:#}\n"),
        )
            .into_response(),
    }
}

/// `GET /-/healthy`.
pub async fn healthy() -> Response {
    (StatusCode::OK, "Strata is Healthy.\n").into_response()
}

/// `GET /-/ready`: 503 until WAL replay has finished.
pub async fn ready(State(st): State<Arc<AppState>>) -> Response {
    if st.storage.get().is_some() {
        (StatusCode::OK, "Strata is Ready.\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n").into_response()
    }
}

/// `GET /metrics`.
pub async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    let extra: Vec<(&str, &str, &str, f64)> = match st.storage.get() {
        None => Vec::new(),
        Some(s) => {
            let m = s.metrics();
            vec![
                (
                    "strata_storage_samples_appended_total",
                    "counter",
                    "Samples appended to the head.",
                    m.samples_appended as f64,
                ),
                (
                    "strata_storage_samples_out_of_order_total",
                    "counter",
                    "Samples older than their series' newest sample.",
                    m.samples_out_of_order as f64,
                ),
                (
                    "strata_storage_series_created_total",
                    "counter",
                    "Series created.",
                    m.series_created as f64,
                ),
                (
                    "strata_storage_head_series",
                    "gauge",
                    "Series with an open head chunk.",
                    m.head_series as f64,
                ),
                (
                    "strata_storage_head_chunks",
                    "gauge",
                    "Open head chunks.",
                    m.head_chunks as f64,
                ),
                (
                    "strata_storage_head_bytes",
                    "gauge",
                    "Heap bytes held by the head.",
                    m.head_bytes as f64,
                ),
                (
                    "strata_storage_chunks_sealed_total",
                    "counter",
                    "Chunks sealed into RocksDB.",
                    m.chunks_sealed as f64,
                ),
                (
                    "strata_storage_corrupt_chunks_total",
                    "counter",
                    "Corrupt chunks and tier blocks found (at open, by reads, by the downsampler) and skipped.",
                    m.corrupt_chunks as f64,
                ),
                (
                    "strata_storage_wal_bytes_written_total",
                    "counter",
                    "Bytes written to the write-ahead log.",
                    m.wal_bytes_written as f64,
                ),
                (
                    "strata_storage_wal_fsyncs_total",
                    "counter",
                    "fsync calls on the write-ahead logs (Strata's, and RocksDB's for chunks sealed straight from bulk writes).",
                    m.wal_fsyncs as f64,
                ),
                (
                    "strata_storage_disk_bytes",
                    "gauge",
                    "Bytes on disk under the data directory.",
                    m.disk_bytes as f64,
                ),
            ]
        }
    };
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        st.metrics.render(&extra),
    )
        .into_response()
}

/// Unknown paths: 404 in the API's error format.
pub async fn not_found() -> Response {
    ApiError {
        kind: ErrorType::NotFound,
        message: "not found".to_string(),
        status: None,
    }
    .into_response()
}
