//! `POST /api/v1/write` (remote write 1.0 through the zero-copy decoder and the series-ref cache, 2.0 through
//! prost) and `POST /api/v1/read` (remote read, sampled response).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prost::Message;
use strata_storage::{LabelMatcher, MatchOp, SeriesReader, WriteSeries};

use super::AppState;
use super::error::ApiError;
use crate::remote::proto;
use crate::remote::write::{self as rw, DecodeError, Protocol};

impl From<DecodeError> for ApiError {
    fn from(e: DecodeError) -> Self {
        let status = match &e {
            DecodeError::UnsupportedContentType(_) | DecodeError::UnsupportedEncoding(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            DecodeError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            DecodeError::Snappy { .. } | DecodeError::Protobuf { .. } | DecodeError::Malformed { .. } => {
                StatusCode::BAD_REQUEST
            }
        };
        ApiError::bad_data(e.to_string()).with_status(status)
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: header::HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Waits for one of the ingestion slots (a retryable 503 after `insert_wait`).
async fn insert_slot(st: &AppState) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
    tokio::time::timeout(st.limits.insert_wait, st.insert_slots.acquire())
        .await
        .map_err(|_| ApiError::unavailable("too many concurrent insert requests; retry later"))?
        .map_err(|_| ApiError::unavailable("server is shutting down"))
}

/// Appends decoded series to storage under the ingestion concurrency limit. Returns the number of samples
/// stored and the messages of rejected series.
pub async fn ingest(st: &Arc<AppState>, series: Vec<WriteSeries>) -> Result<(u64, Vec<String>), ApiError> {
    let storage = st.storage()?;
    let _permit = insert_slot(st).await?;
    let received: u64 = series.iter().map(|s| s.samples.len() as u64).sum();
    st.metrics.samples_received.fetch_add(received, Ordering::Relaxed);
    let report = tokio::task::spawn_blocking(move || {
        let r = storage.append(&series);
        r.map(|rep| {
            let msgs: Vec<String> = rep
                .rejected
                .iter()
                .map(|rj| match series.get(rj.index) {
                    Some(s) => format!("{}: {}", s.labels, rj.error),
                    None => rj.error.to_string(),
                })
                .collect();
            (rep.samples_appended, msgs)
        })
    })
    .await
    .map_err(|e| ApiError::internal(format!("append task failed: {e}")))?
    // A storage failure here (disk full, WAL I/O) is retryable: answer 5xx so the sender resends.
    .map_err(|e| ApiError::internal(format!("append failed: {e}")))?;
    st.metrics
        .series_rejected
        .fetch_add(report.1.len() as u64, Ordering::Relaxed);
    Ok(report)
}

/// Most rejection messages quoted in one 400 answer.
const MAX_REJECTIONS_REPORTED: usize = 10;

/// Builds the 400 answer for partially rejected input (the good series have landed).
pub fn rejection_error(mut invalid: Vec<String>) -> ApiError {
    let n = invalid.len();
    invalid.truncate(MAX_REJECTIONS_REPORTED);
    let more = if n > MAX_REJECTIONS_REPORTED {
        format!(" (and {} more)", n - MAX_REJECTIONS_REPORTED)
    } else {
        String::new()
    };
    ApiError::bad_data(format!(
        "{n} series rejected, the rest were stored: {}{more}",
        invalid.join("; ")
    ))
}

/// Remote write 1.0, the hot path: under an ingestion slot, one blocking task decompresses into reused
/// buffers, decodes without copying labels and appends through the series-ref cache
/// ([`strata_storage::Storage::append_keyed`]). Returns the messages of rejected series.
async fn remote_write_v1(st: &Arc<AppState>, body: Bytes) -> Result<Vec<String>, ApiError> {
    let storage = st.storage()?;
    let _permit = insert_slot(st).await?;
    let state = Arc::clone(st);
    tokio::task::spawn_blocking(move || {
        rw::with_v1_batch(&body, state.limits.max_decompressed_bytes, |batch, keyed, metadata| {
            state.metadata.record(metadata);
            let m = &state.metrics;
            m.histograms_dropped.fetch_add(batch.histograms, Ordering::Relaxed);
            m.exemplars_dropped.fetch_add(batch.exemplars, Ordering::Relaxed);
            if keyed.is_empty() {
                return Ok(Vec::new());
            }
            m.samples_received.fetch_add(batch.sample_count(), Ordering::Relaxed);
            // A storage failure here (disk full, WAL I/O) is retryable: answer 5xx so the sender resends.
            let report = storage
                .append_keyed(keyed)
                .map_err(|e| ApiError::internal(format!("append failed: {e}")))?;
            m.series_rejected
                .fetch_add(report.rejected.len() as u64, Ordering::Relaxed);
            Ok(report
                .rejected
                .iter()
                .map(|rj| match keyed.get(rj.index) {
                    Some(k) => format!("{}: {}", k.to_labels(), rj.error),
                    None => rj.error.to_string(),
                })
                .collect())
        })?
    })
    .await
    .map_err(|e| ApiError::internal(format!("append task failed: {e}")))?
}

/// `POST /api/v1/write`.
pub async fn remote_write(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let protocol = rw::negotiate(header_str(&headers, header::CONTENT_TYPE))?;
    rw::check_encoding(header_str(&headers, header::CONTENT_ENCODING))?;
    if protocol == Protocol::V1 {
        let invalid = remote_write_v1(&st, body).await?;
        if !invalid.is_empty() {
            return Err(rejection_error(invalid));
        }
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let raw = rw::decompress(&body, st.limits.max_decompressed_bytes)?;
    let decoded = rw::decode(protocol, &raw)?;
    st.metadata.record(decoded.metadata);
    st.metrics
        .histograms_dropped
        .fetch_add(decoded.histograms, Ordering::Relaxed);
    st.metrics
        .exemplars_dropped
        .fetch_add(decoded.exemplars, Ordering::Relaxed);
    let mut invalid = decoded.invalid;
    let (written, rejected) = if decoded.series.is_empty() {
        (0, Vec::new())
    } else {
        ingest(&st, decoded.series).await?
    };
    invalid.extend(rejected);
    if !invalid.is_empty() {
        return Err(rejection_error(invalid));
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if protocol == Protocol::V2 {
        let h = resp.headers_mut();
        h.insert("X-Prometheus-Remote-Write-Samples-Written", HeaderValue::from(written));
        h.insert("X-Prometheus-Remote-Write-Histograms-Written", HeaderValue::from(0u64));
        h.insert("X-Prometheus-Remote-Write-Exemplars-Written", HeaderValue::from(0u64));
    }
    Ok(resp)
}

fn matcher_from_proto(m: &proto::LabelMatcher) -> Result<LabelMatcher, ApiError> {
    let op = match m.r#type {
        0 => MatchOp::Equal,
        1 => MatchOp::NotEqual,
        2 => MatchOp::RegexMatch,
        3 => MatchOp::RegexNoMatch,
        t => {
            return Err(ApiError::bad_data(format!(
                "invalid matcher type {t} for label {:?}",
                m.name
            )));
        }
    };
    Ok(LabelMatcher::new(m.name.clone(), op, m.value.clone())?)
}

/// `POST /api/v1/read`: answers every query with sampled series (response type SAMPLES).
pub async fn remote_read(State(st): State<Arc<AppState>>, body: Bytes) -> Result<Response, ApiError> {
    let raw = rw::decompress(&body, st.limits.max_decompressed_bytes)?;
    let req = proto::ReadRequest::decode(raw.as_slice()).map_err(|e| {
        ApiError::bad_data(format!(
            "protobuf decode of {}-byte read request failed: {e}",
            raw.len()
        ))
    })?;
    let storage = st.storage()?;
    let queries: Vec<(Vec<LabelMatcher>, i64, i64)> = req
        .queries
        .iter()
        .map(|q| {
            let ms = q
                .matchers
                .iter()
                .map(matcher_from_proto)
                .collect::<Result<Vec<_>, _>>()?;
            Ok((ms, q.start_timestamp_ms, q.end_timestamp_ms))
        })
        .collect::<Result<_, ApiError>>()?;
    let resp = tokio::task::spawn_blocking(move || -> Result<proto::ReadResponse, ApiError> {
        let mut results = Vec::with_capacity(queries.len());
        for (ms, start, end) in queries {
            let data = storage.select(&ms, start, end)?;
            let timeseries = data
                .into_iter()
                .map(|s| proto::TimeSeries {
                    labels: s
                        .labels
                        .iter()
                        .map(|l| proto::Label {
                            name: l.name.clone(),
                            value: l.value.clone(),
                        })
                        .collect(),
                    samples: s
                        .timestamps
                        .iter()
                        .zip(&s.values)
                        .map(|(t, v)| proto::Sample {
                            value: *v,
                            timestamp: *t,
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect();
            results.push(proto::QueryResult { timeseries });
        }
        Ok(proto::ReadResponse { results })
    })
    .await
    .map_err(|e| ApiError::internal(format!("read task failed: {e}")))??;
    let encoded = snap::raw::Encoder::new()
        .compress_vec(&resp.encode_to_vec())
        .map_err(|e| ApiError::internal(format!("snappy encode failed: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/x-protobuf")),
            (header::CONTENT_ENCODING, HeaderValue::from_static("snappy")),
        ],
        encoded,
    )
        .into_response())
}
