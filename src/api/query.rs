//! Query endpoints: `/api/v1/query`, `query_range`, `series`, `labels`, `label/{name}/values`, `metadata`,
//! `query_exemplars`, `format_query`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use strata_query::QueryOptions;
use strata_storage::{LabelMatcher, SeriesReader};

use super::error::ApiError;
use super::json;
use super::params::{Params, parse_duration};
use super::{AppState, blocking, request_params};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The success response of a query. Large results take milliseconds to encode: off the async workers, like
/// the evaluation.
async fn encoded(res: strata_query::QueryResult) -> Result<Response, ApiError> {
    let body = blocking("encode", move || {
        Ok(json::query_body(&res.value, &res.warnings, &res.infos))
    })
    .await?;
    Ok(json_response(body))
}

/// A JSON response with the right content type.
pub fn json_response(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response()
}

fn success(data: &serde_json::Value, warnings: &[String]) -> Response {
    let mut out = String::from("{\"status\":\"success\",\"data\":");
    out.push_str(&data.to_string());
    json::write_annotations(&mut out, warnings, &[]);
    out.push('}');
    json_response(out)
}

fn query_options(p: &Params) -> Result<QueryOptions, ApiError> {
    let lookback = p.duration("lookback_delta")?;
    if lookback.is_some_and(|l| l < 0) {
        return Err(ApiError::bad_data(
            "invalid parameter \"lookback_delta\": lookback delta must not be negative",
        ));
    }
    let timeout = p.duration("timeout")?;
    if timeout.is_some_and(|t| t <= 0) {
        return Err(ApiError::bad_data(
            "invalid parameter \"timeout\": timeout must be positive",
        ));
    }
    Ok(QueryOptions {
        lookback_delta_ms: lookback.filter(|l| *l > 0),
        timeout: timeout.map(|t| Duration::from_millis(t as u64)),
        cancel: None,
        resolution: p.resolution()?,
    })
}

/// `GET|POST /api/v1/query`.
pub async fn instant(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = request_params(q.as_deref(), &headers, &body);
    let storage = st.storage()?;
    let t = p.time("time")?.unwrap_or_else(now_ms);
    let opts = query_options(&p)?;
    let query = p.get("query").unwrap_or("").to_string();
    let engine = st.engine();
    let start = Instant::now();
    let res = blocking("query", move || {
        Ok(engine.instant_query(storage.as_ref(), &query, t, &opts)?)
    })
    .await;
    st.metrics.observe_query("instant", start.elapsed().as_secs_f64());
    let res = res?;
    encoded(res).await
}

/// `GET|POST /api/v1/query_range`.
pub async fn range(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = request_params(q.as_deref(), &headers, &body);
    let storage = st.storage()?;
    let need_time = |name: &str| -> Result<i64, ApiError> {
        p.time(name)?.ok_or_else(|| {
            ApiError::bad_data(format!(
                "invalid parameter {name:?}: cannot parse \"\" to a valid timestamp"
            ))
        })
    };
    let start = need_time("start")?;
    let end = need_time("end")?;
    if end < start {
        return Err(ApiError::bad_data(
            "invalid parameter \"end\": end timestamp must not be before start time",
        ));
    }
    let step = match p.get("step") {
        None => {
            return Err(ApiError::bad_data(
                "invalid parameter \"step\": cannot parse \"\" to a valid duration",
            ));
        }
        Some(s) => parse_duration(s).ok_or_else(|| {
            ApiError::bad_data(format!(
                "invalid parameter \"step\": cannot parse {s:?} to a valid duration"
            ))
        })?,
    };
    if step <= 0 {
        return Err(ApiError::bad_data(
            "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if (end - start) / step > st.limits.max_points_per_series {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    let opts = query_options(&p)?;
    let query = p.get("query").unwrap_or("").to_string();
    let engine = st.engine();
    let t0 = Instant::now();
    let res = blocking("query", move || {
        Ok(engine.range_query(storage.as_ref(), &query, start, end, step, &opts)?)
    })
    .await;
    st.metrics.observe_query("range", t0.elapsed().as_secs_f64());
    let res = res?;
    encoded(res).await
}

fn truncate<T>(v: &mut Vec<T>, limit: Option<usize>, warnings: &mut Vec<String>) {
    if let Some(l) = limit {
        if v.len() > l {
            v.truncate(l);
            warnings.push("results truncated due to limit".to_string());
        }
    }
}

/// `GET|POST /api/v1/series`.
pub async fn series(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = request_params(q.as_deref(), &headers, &body);
    let storage = st.storage()?;
    let sets = p.match_sets()?;
    if sets.is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let (start, end) = p.range_or_all()?;
    let limit = p.limit("limit")?;
    let body = blocking("query", move || {
        let mut all = Vec::new();
        for m in &sets {
            all.extend(storage.series(m, start, end)?);
        }
        // One selection comes sorted and distinct from storage; several are merged.
        if sets.len() > 1 {
            all.sort();
            all.dedup();
        }
        let mut warnings = Vec::new();
        truncate(&mut all, limit, &mut warnings);
        Ok(json::series_body(&all, &warnings))
    })
    .await?;
    Ok(json_response(body))
}

fn union_of(
    storage: &dyn SeriesReader,
    sets: &[Vec<LabelMatcher>],
    f: impl Fn(&dyn SeriesReader, &[LabelMatcher]) -> strata_storage::Result<Vec<String>>,
) -> Result<Vec<String>, ApiError> {
    if sets.is_empty() {
        return Ok(f(storage, &[])?);
    }
    let mut all = Vec::new();
    for m in sets {
        all.extend(f(storage, m)?);
    }
    all.sort();
    all.dedup();
    Ok(all)
}

/// `GET|POST /api/v1/labels`.
pub async fn labels(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = request_params(q.as_deref(), &headers, &body);
    let storage = st.storage()?;
    let sets = p.match_sets()?;
    let (start, end) = p.range_or_all()?;
    let limit = p.limit("limit")?;
    let mut names = blocking("query", move || {
        union_of(storage.as_ref(), &sets, |s, m| s.label_names(m, start, end))
    })
    .await?;
    let mut warnings = Vec::new();
    truncate(&mut names, limit, &mut warnings);
    Ok(success(&serde_json::json!(names), &warnings))
}

/// `GET /api/v1/label/{name}/values`.
pub async fn label_values(
    State(st): State<Arc<AppState>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = request_params(q.as_deref(), &headers, &body);
    let storage = st.storage()?;
    // Prometheus 3 accepts UTF-8 label names here, escaped as `U__` + underscores-encoded code points.
    let name = unescape_label_name(&name).ok_or_else(|| ApiError::bad_data(format!("invalid label name: {name:?}")))?;
    let sets = p.match_sets()?;
    let (start, end) = p.range_or_all()?;
    let limit = p.limit("limit")?;
    let mut values = blocking("query", move || {
        union_of(storage.as_ref(), &sets, |s, m| s.label_values(&name, m, start, end))
    })
    .await?;
    let mut warnings = Vec::new();
    truncate(&mut values, limit, &mut warnings);
    Ok(success(&serde_json::json!(values), &warnings))
}

/// Decodes Prometheus' `U__` label-name escaping (`U__a_2e_b` is `a.b`); plain names pass through.
fn unescape_label_name(name: &str) -> Option<String> {
    let Some(rest) = name.strip_prefix("U__") else {
        return Some(name.to_string());
    };
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
            continue;
        }
        let hex: String = chars.by_ref().take_while(|c| *c != '_').collect();
        if hex.is_empty() {
            out.push('_');
            continue;
        }
        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
    }
    Some(out)
}

/// `GET /api/v1/metadata`.
pub async fn metadata(State(st): State<Arc<AppState>>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref(), None);
    let limit = p.limit("limit")?;
    let per = p.limit("limit_per_metric")?;
    let entries = st.metadata.query(p.get("metric"), limit, per);
    let mut data = serde_json::Map::new();
    for (name, list) in entries {
        let arr: Vec<serde_json::Value> = list
            .into_iter()
            .map(|m| serde_json::json!({"type": m.kind, "help": m.help, "unit": m.unit}))
            .collect();
        data.insert(name, serde_json::Value::Array(arr));
    }
    Ok(success(&serde_json::Value::Object(data), &[]))
}

/// `GET|POST /api/v1/query_exemplars`: exemplars are not stored, so the answer is an empty list, after
/// validating the parameters as Prometheus does.
pub async fn exemplars(
    State(_st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = request_params(q.as_deref(), &headers, &body);
    p.range_or_all()?;
    let query = p.get("query").unwrap_or("");
    strata_query::parser::parse(query).map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
    Ok(success(&serde_json::json!([]), &[]))
}

/// `GET|POST /api/v1/format_query`.
pub async fn format_query(RawQuery(q): RawQuery, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let p = request_params(q.as_deref(), &headers, &body);
    let query = p.get("query").unwrap_or("");
    let expr = strata_query::parser::parse(query)
        .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
    Ok(success(&serde_json::json!(expr.pretty()), &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_options_carry_max_source_resolution() {
        let opts = |q: &str| query_options(&Params::parse(Some(q), None));
        let got = opts("query=up&max_source_resolution=5m").map(|o| o.resolution);
        assert_eq!(got.ok(), Some(strata_storage::Resolution::FiveMinutes));
        let got = opts("query=up").map(|o| o.resolution);
        assert_eq!(got.ok(), Some(strata_storage::Resolution::Auto));
        let err = opts("query=up&max_source_resolution=10m")
            .err()
            .map(|e| (e.status_code(), e.message));
        assert_eq!(
            err,
            Some((
                axum::http::StatusCode::BAD_REQUEST,
                "invalid parameter \"max_source_resolution\": cannot parse \"10m\": must be one of raw, 5m, 1h, auto"
                    .to_string()
            ))
        );
    }

    #[test]
    fn utf8_label_names_unescape() {
        assert_eq!(unescape_label_name("job").as_deref(), Some("job"));
        assert_eq!(unescape_label_name("U__a_2e_b").as_deref(), Some("a.b"));
        assert_eq!(unescape_label_name("U__a__b").as_deref(), Some("a_b"));
    }
}
