//! Export and import endpoints (VictoriaMetrics-compatible): `/api/v1/export`, `/api/v1/export/csv`,
//! `/api/v1/import`, `/api/v1/import/csv`, `/api/v1/import/prometheus`, and the Influx line protocol
//! on `/write` and `/api/v2/write`. Formats: `docs/formats.md`.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::error::ApiError;
use super::params::Params;
use super::write::ingest;
use super::{AppState, request_params};
use crate::export::{self, ExportFormat, csv::CsvFormat};
use crate::ingest::{self, Decoded, ImportFormat, LineError, csv::Columns, influx};

/// Most bad lines quoted in one 400 answer.
const MAX_LINES_REPORTED: usize = 10;

/// The routes of this module, merged into [`super::router`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/export", get(export_json).post(export_json))
        .route("/api/v1/export/csv", get(export_csv).post(export_csv))
        .route("/api/v1/export/parquet", get(export_parquet).post(export_parquet))
        .route("/api/v1/import", post(import_json))
        .route("/api/v1/import/csv", post(import_csv))
        .route("/api/v1/import/prometheus", post(import_prometheus))
        .route("/opentelemetry/v1/metrics", post(otlp_metrics))
        .route("/write", post(influx_write))
        .route("/api/v2/write", post(influx_write))
}

async fn export_json(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = request_params(q.as_deref(), &headers, &body);
    export(st, &p, ExportFormat::JsonLines).await
}

async fn export_csv(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = request_params(q.as_deref(), &headers, &body);
    let format = CsvFormat::parse(p.get("format").unwrap_or("")).map_err(ApiError::bad_data)?;
    export(st, &p, ExportFormat::Csv(format)).await
}

async fn export_parquet(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = request_params(q.as_deref(), &headers, &body);
    export(st, &p, ExportFormat::Parquet).await
}

/// Lists the matching series, then streams them (see [`crate::export`]).
async fn export(st: Arc<AppState>, p: &Params, format: ExportFormat) -> Result<Response, ApiError> {
    let storage = st.storage()?;
    let sets = p.match_sets()?;
    if sets.is_empty() {
        return Err(ApiError::bad_data(
            "missing `match[]` parameter, e.g. match[]={__name__!=\"\"}",
        ));
    }
    let (start, end) = p.range_or_all()?;
    let reader = storage.clone();
    let series = tokio::task::spawn_blocking(move || export::list_series(&*reader, &sets, start, end))
        .await
        .map_err(|e| ApiError::internal(format!("export task failed: {e}")))??;
    let content_type = format.content_type();
    let stream = export::spawn(storage, series, start, end, format);
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        Body::from_stream(stream),
    )
        .into_response())
}

async fn import_json(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    import(
        st,
        Params::parse(q.as_deref(), None),
        &headers,
        body,
        ImportFormat::JsonLines,
    )
    .await
}

async fn import_csv(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref(), None);
    let desc = p.get("format").ok_or_else(|| {
        ApiError::bad_data("missing `format` parameter, e.g. format=1:label:__name__,2:metric:value,3:time:unix_ms")
    })?;
    let cols = Columns::parse(desc).map_err(|e| ApiError::bad_data(format!("invalid parameter \"format\": {e}")))?;
    import(st, p, &headers, body, ImportFormat::Csv(cols)).await
}

async fn import_prometheus(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    import(
        st,
        Params::parse(q.as_deref(), None),
        &headers,
        body,
        ImportFormat::Prometheus,
    )
    .await
}

async fn influx_write(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref(), None);
    let precision = match p.get("precision") {
        None => influx::Precision::Nanos,
        Some(s) => influx::Precision::parse(s).ok_or_else(|| {
            ApiError::bad_data(format!(
                "invalid parameter \"precision\": {s:?}; want ns, us, ms, s, m or h"
            ))
        })?,
    };
    let opts = influx::Options {
        db: p.get("db").map(str::to_string),
        precision,
    };
    import(st, p, &headers, body, ImportFormat::Influx(opts)).await
}

/// `POST /opentelemetry/v1/metrics`: OTLP/HTTP metrics in protobuf (gzip or not), mapped to series as
/// [`crate::otlp`] describes. Answers 200 with an `ExportMetricsServiceResponse`, whose partial success
/// counts the points that could not be stored (exponential histograms).
async fn otlp_metrics(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    use prost::Message;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-protobuf");
    if !(ct.starts_with("application/x-protobuf") || ct.starts_with("application/protobuf")) {
        return Err(ApiError::bad_data(format!(
            "unsupported Content-Type {ct:?}: OTLP/JSON is not supported, send application/x-protobuf"
        ))
        .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
    let encoding = BodyEncoding::of(&headers)?;
    let limit = st.limits.max_decompressed_bytes;
    let conv = tokio::task::spawn_blocking(move || -> Result<crate::otlp::Converted, ApiError> {
        let body = encoding.decode(body, limit)?;
        let req = crate::otlp::proto::ExportMetricsServiceRequest::decode(&body[..])
            .map_err(|e| ApiError::bad_data(format!("invalid OTLP metrics protobuf: {e}; nothing was stored")))?;
        Ok(crate::otlp::convert(&req, ingest::now_ms()))
    })
    .await
    .map_err(|e| ApiError::internal(format!("decode task failed: {e}")))??;
    st.metadata.record(conv.metadata);
    let (_, rejected) = if conv.series.is_empty() {
        (0, Vec::new())
    } else {
        ingest(&st, conv.series).await?
    };
    if !rejected.is_empty() {
        return Err(import_error(Vec::new(), rejected));
    }
    let partial = (conv.rejected_points > 0).then(|| crate::otlp::proto::ExportMetricsPartialSuccess {
        rejected_data_points: conv.rejected_points,
        error_message: conv.reasons.join("; "),
    });
    let reply = crate::otlp::proto::ExportMetricsServiceResponse {
        partial_success: partial,
    };
    Ok((
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        reply.encode_to_vec(),
    )
        .into_response())
}

/// The `Content-Encoding` of an import body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyEncoding {
    Identity,
    Gzip,
    Deflate,
}

impl BodyEncoding {
    /// Reads the header; anything but gzip, deflate and identity is a 415.
    fn of(headers: &HeaderMap) -> Result<BodyEncoding, ApiError> {
        let Some(enc) = headers.get(header::CONTENT_ENCODING) else {
            return Ok(BodyEncoding::Identity);
        };
        let enc = enc.to_str().unwrap_or("?").trim();
        if enc.is_empty() || enc.eq_ignore_ascii_case("identity") {
            Ok(BodyEncoding::Identity)
        } else if enc.eq_ignore_ascii_case("gzip") || enc.eq_ignore_ascii_case("x-gzip") {
            Ok(BodyEncoding::Gzip)
        } else if enc.eq_ignore_ascii_case("deflate") {
            Ok(BodyEncoding::Deflate)
        } else {
            Err(ApiError::bad_data(format!(
                "unsupported Content-Encoding {enc:?}; send the body as gzip, deflate or uncompressed"
            ))
            .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE))
        }
    }

    /// Decompresses a body, refusing (413) one that inflates beyond `limit` bytes.
    fn decode(self, body: Bytes, limit: usize) -> Result<Bytes, ApiError> {
        use std::io::Read;
        let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
        let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
        let read = match self {
            BodyEncoding::Identity => return Ok(body),
            BodyEncoding::Gzip => flate2::read::MultiGzDecoder::new(&body[..])
                .take(cap)
                .read_to_end(&mut out),
            BodyEncoding::Deflate => flate2::read::ZlibDecoder::new(&body[..])
                .take(cap)
                .read_to_end(&mut out),
        };
        read.map_err(|e| {
            ApiError::bad_data(format!(
                "cannot decompress the body ({self:?}): {e}; nothing was stored"
            ))
        })?;
        if out.len() > limit {
            return Err(ApiError::bad_data(format!(
                "the decompressed body exceeds {limit} bytes; nothing was stored"
            ))
            .with_status(StatusCode::PAYLOAD_TOO_LARGE));
        }
        Ok(Bytes::from(out))
    }
}

/// Decodes a body, stores the good series, and answers 204, or 400 listing the bad lines.
async fn import(
    st: Arc<AppState>,
    p: Params,
    headers: &HeaderMap,
    body: Bytes,
    format: ImportFormat,
) -> Result<Response, ApiError> {
    let encoding = BodyEncoding::of(headers)?;
    let limit = st.limits.max_decompressed_bytes;
    let now = p.time("timestamp")?.unwrap_or_else(ingest::now_ms);
    let extra = extra_labels(&p)?;
    let decoded: Decoded = tokio::task::spawn_blocking(move || -> Result<Decoded, ApiError> {
        let body = encoding.decode(body, limit)?;
        let text = std::str::from_utf8(&body).map_err(|e| {
            let line = body
                .get(..e.valid_up_to())
                .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
                + 1;
            ApiError::bad_data(format!("line {line}: invalid UTF-8; nothing was stored"))
        })?;
        let mut d = ingest::decode(&format, text, now);
        if !extra.is_empty() {
            for s in &mut d.series {
                for (k, v) in &extra {
                    s.labels.set(k, v);
                }
            }
        }
        Ok(d)
    })
    .await
    .map_err(|e| ApiError::internal(format!("decode task failed: {e}")))??;
    st.metadata.record(decoded.metadata);
    let (_, rejected) = if decoded.series.is_empty() {
        (0, Vec::new())
    } else {
        ingest(&st, decoded.series).await?
    };
    if decoded.errors.is_empty() && rejected.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Err(import_error(decoded.errors, rejected))
}

/// `extra_label=name=value` parameters, added to every imported series (as VictoriaMetrics does).
fn extra_labels(p: &Params) -> Result<Vec<(String, String)>, ApiError> {
    p.all("extra_label")
        .into_iter()
        .map(|kv| {
            kv.split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| {
                    ApiError::bad_data(format!("invalid parameter \"extra_label\": {kv:?}; want name=value"))
                })
        })
        .collect()
}

/// The 400 answer for a partially imported body: the bad lines (first ones quoted), then the series the
/// storage refused. Everything else has been stored.
pub fn import_error(lines: Vec<LineError>, rejected: Vec<String>) -> ApiError {
    let mut parts: Vec<String> = lines.iter().take(MAX_LINES_REPORTED).map(ToString::to_string).collect();
    if lines.len() > MAX_LINES_REPORTED {
        parts.push(format!("and {} more bad lines", lines.len() - MAX_LINES_REPORTED));
    }
    let n_rej = rejected.len();
    parts.extend(
        rejected
            .into_iter()
            .take(MAX_LINES_REPORTED)
            .map(|r| format!("series rejected: {r}")),
    );
    if n_rej > MAX_LINES_REPORTED {
        parts.push(format!("and {} more rejected series", n_rej - MAX_LINES_REPORTED));
    }
    ApiError::bad_data(format!("{}; the other lines were stored", parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_message_lists_lines_first() {
        let e = import_error(
            vec![LineError::new(3, "bad"), LineError::new(7, "worse")],
            vec!["up{}: invalid".into()],
        );
        assert_eq!(
            e.message,
            "line 3: bad; line 7: worse; series rejected: up{}: invalid; the other lines were stored"
        );
        let many: Vec<LineError> = (1..=12).map(|i| LineError::new(i, "x")).collect();
        assert!(import_error(many, vec![]).message.contains("and 2 more bad lines"));
    }
}
