//! Decoding remote-write requests (1.0 and 2.0) into storage batches.
//!
//! Content negotiation follows the remote-write 2.0 specification: the `proto` parameter of
//! `Content-Type: application/x-protobuf` selects the message (`prometheus.WriteRequest`, the default, or
//! `io.prometheus.write.v2.Request`); anything else is answered 415. The body must be snappy block-compressed.
//!
//! 1.0 bodies take the zero-copy decoder of `v1.rs` ([`with_v1_batch`]); [`decode`] (prost) serves 2.0 and
//! is the reference the zero-copy decoder is tested against.

use prost::Message;
use strata_storage::{KeyedSeries, Labels, Sample, WriteSeries};

use super::{proto, v1};
use crate::metadata::MetricMetadata;

/// Which remote-write message a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `prometheus.WriteRequest`.
    V1,
    /// `io.prometheus.write.v2.Request`.
    V2,
}

/// Why a remote-write body could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The content type names a message we do not speak (HTTP 415).
    #[error(
        "unsupported content type {0:?}: expected application/x-protobuf with proto=prometheus.WriteRequest or io.prometheus.write.v2.Request"
    )]
    UnsupportedContentType(String),
    /// The content encoding is not snappy (HTTP 415).
    #[error("unsupported content encoding {0:?}: remote write bodies must be snappy-compressed")]
    UnsupportedEncoding(String),
    /// The decompressed body would exceed the configured limit (HTTP 413).
    #[error("decompressed request body of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Decompressed size announced by the snappy header.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// Bad snappy data (HTTP 400).
    #[error("snappy decode of {len}-byte body failed: {source}")]
    Snappy {
        /// Compressed length.
        len: usize,
        /// Decoder error.
        source: snap::Error,
    },
    /// Bad protobuf (HTTP 400).
    #[error("protobuf decode of {len}-byte message failed: {source}")]
    Protobuf {
        /// Decompressed length.
        len: usize,
        /// Decoder error.
        source: prost::DecodeError,
    },
    /// Bad protobuf, found by the zero-copy 1.0 decoder (HTTP 400).
    #[error("protobuf decode of {len}-byte message failed: {source}")]
    Malformed {
        /// Decompressed length.
        len: usize,
        /// Decoder error.
        source: v1::Malformed,
    },
}

/// Picks the protocol from the `Content-Type` header value (absent means 1.0).
pub fn negotiate(content_type: Option<&str>) -> Result<Protocol, DecodeError> {
    let Some(ct) = content_type else {
        return Ok(Protocol::V1);
    };
    let mut parts = ct.split(';').map(str::trim);
    let media = parts.next().unwrap_or("").to_ascii_lowercase();
    if media != "application/x-protobuf" {
        return Err(DecodeError::UnsupportedContentType(ct.to_string()));
    }
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            if k.trim().eq_ignore_ascii_case("proto") {
                return match v.trim().trim_matches('"') {
                    "prometheus.WriteRequest" => Ok(Protocol::V1),
                    "io.prometheus.write.v2.Request" => Ok(Protocol::V2),
                    _ => Err(DecodeError::UnsupportedContentType(ct.to_string())),
                };
            }
        }
    }
    Ok(Protocol::V1)
}

/// Checks the `Content-Encoding` header (absent is accepted as snappy, as Prometheus does).
pub fn check_encoding(content_encoding: Option<&str>) -> Result<(), DecodeError> {
    match content_encoding {
        None => Ok(()),
        Some(e) if e.trim().eq_ignore_ascii_case("snappy") => Ok(()),
        Some(e) => Err(DecodeError::UnsupportedEncoding(e.to_string())),
    }
}

/// Decompresses a snappy block body, refusing bodies that would inflate past `limit` bytes.
pub fn decompress(body: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let n = decompress_into(body, limit, &mut out)?.len();
    out.truncate(n);
    Ok(out)
}

/// Like [`decompress`], into `buf` (grown as needed, never shrunk, not zeroed again when reused); returns
/// the decompressed bytes, a prefix of `buf`.
pub fn decompress_into<'b>(body: &[u8], limit: usize, buf: &'b mut Vec<u8>) -> Result<&'b [u8], DecodeError> {
    let snappy = |source| DecodeError::Snappy {
        len: body.len(),
        source,
    };
    let size = snap::raw::decompress_len(body).map_err(snappy)?;
    if size > limit {
        return Err(DecodeError::TooLarge { size, limit });
    }
    if buf.len() < size {
        buf.resize(size, 0);
    }
    let dst = buf.get_mut(..size).unwrap_or_default();
    let n = snap::raw::Decoder::new().decompress(body, dst).map_err(snappy)?;
    Ok(buf.get(..n).unwrap_or_default())
}

/// A thread's reusable buffers for [`with_v1_batch`]; the borrowed vectors are kept empty, with `'static`
/// in place of the lifetime of the body they point into while in use.
#[derive(Default)]
struct Scratch {
    raw: Vec<u8>,
    labels: Vec<(&'static str, &'static str)>,
    samples: Vec<Sample>,
    series: Vec<v1::SeriesSpan>,
    keyed: Vec<KeyedSeries<'static>>,
}

/// Buffers above this many bytes are freed after the request instead of kept for the next one, so that one
/// huge request does not pin its memory in every thread that served one.
const MAX_KEPT_BYTES: usize = 4 << 20;

thread_local! {
    static SCRATCH: std::cell::Cell<Scratch> = std::cell::Cell::new(Scratch::default());
}

/// Moves an emptied vector's allocation to another element type of the same size and alignment (here: the
/// same type with another lifetime). The closure never runs; std collects in place, reusing the memory.
fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

/// Keeps `v` for reuse unless it grew past [`MAX_KEPT_BYTES`].
fn keep<T>(v: Vec<T>) -> Vec<T> {
    if v.capacity().saturating_mul(std::mem::size_of::<T>()) > MAX_KEPT_BYTES {
        Vec::new()
    } else {
        v
    }
}

/// Decompresses a remote-write 1.0 body and decodes it with the zero-copy decoder into this thread's
/// reused buffers, then calls `f` with the batch, its series as storage input (see
/// [`Storage::append_keyed`](strata_storage::Storage::append_keyed)) and its metadata (moved out of the batch).
pub fn with_v1_batch<R>(
    body: &[u8],
    limit: usize,
    f: impl FnOnce(&v1::V1Batch<'_>, &[KeyedSeries<'_>], Vec<(String, MetricMetadata)>) -> R,
) -> Result<R, DecodeError> {
    let mut s = SCRATCH.take();
    let result = decode_v1_into(body, limit, &mut s, f);
    SCRATCH.set(Scratch {
        raw: keep(s.raw),
        labels: keep(s.labels),
        samples: keep(s.samples),
        series: keep(s.series),
        keyed: keep(s.keyed),
    });
    result
}

fn decode_v1_into<R>(
    body: &[u8],
    limit: usize,
    s: &mut Scratch,
    f: impl FnOnce(&v1::V1Batch<'_>, &[KeyedSeries<'_>], Vec<(String, MetricMetadata)>) -> R,
) -> Result<R, DecodeError> {
    let mut raw = std::mem::take(&mut s.raw);
    let mut batch = v1::V1Batch {
        labels: recycle(std::mem::take(&mut s.labels)),
        samples: std::mem::take(&mut s.samples),
        series: std::mem::take(&mut s.series),
        ..v1::V1Batch::default()
    };
    let mut keyed: Vec<KeyedSeries<'_>> = recycle(std::mem::take(&mut s.keyed));
    let result = match decompress_into(body, limit, &mut raw) {
        Ok(buf) => match batch.decode(buf) {
            Ok(()) => {
                let metadata = std::mem::take(&mut batch.metadata);
                keyed.extend(batch.keyed());
                Ok(f(&batch, &keyed, metadata))
            }
            Err(source) => Err(DecodeError::Malformed { len: buf.len(), source }),
        },
        Err(e) => Err(e),
    };
    s.keyed = recycle(keyed);
    s.labels = recycle(batch.labels);
    s.samples = batch.samples;
    s.samples.clear();
    s.series = batch.series;
    s.series.clear();
    s.raw = raw;
    result
}

/// A decoded request: series to append, metadata to remember, and what was received but not stored.
#[derive(Debug, Default)]
pub struct Decoded {
    /// Series with their float samples.
    pub series: Vec<WriteSeries>,
    /// Series that are malformed before storage sees them (index into the request, reason).
    pub invalid: Vec<String>,
    /// Metric metadata carried by the request.
    pub metadata: Vec<(String, MetricMetadata)>,
    /// Native histogram samples received (not stored yet).
    pub histograms: u64,
    /// Exemplars received (not stored).
    pub exemplars: u64,
}

/// Decodes an uncompressed protobuf message of the given protocol.
pub fn decode(protocol: Protocol, buf: &[u8]) -> Result<Decoded, DecodeError> {
    let len = buf.len();
    match protocol {
        Protocol::V1 => {
            let req = proto::WriteRequest::decode(buf).map_err(|source| DecodeError::Protobuf { len, source })?;
            Ok(from_v1(req))
        }
        Protocol::V2 => {
            let req = proto::WriteRequestV2::decode(buf).map_err(|source| DecodeError::Protobuf { len, source })?;
            Ok(from_v2(req))
        }
    }
}

fn samples(s: Vec<proto::Sample>) -> Vec<Sample> {
    s.into_iter()
        .map(|x| Sample {
            t: x.timestamp,
            v: x.value,
        })
        .collect()
}

fn from_v1(req: proto::WriteRequest) -> Decoded {
    let mut out = Decoded::default();
    for m in req.metadata {
        out.metadata.push((
            m.metric_family_name,
            MetricMetadata {
                kind: proto::metric_type_name(m.r#type),
                help: m.help,
                unit: m.unit,
            },
        ));
    }
    for ts in req.timeseries {
        out.histograms += ts.histograms.len() as u64;
        out.exemplars += ts.exemplars.len() as u64;
        let labels = Labels::from_pairs(ts.labels.into_iter().map(|l| (l.name, l.value)));
        if ts.samples.is_empty() {
            continue;
        }
        out.series.push(WriteSeries {
            labels,
            samples: samples(ts.samples),
        });
    }
    out
}

fn from_v2(req: proto::WriteRequestV2) -> Decoded {
    let mut out = Decoded::default();
    let sym = |i: u32| req.symbols.get(i as usize).map(String::as_str);
    for (n, ts) in req.timeseries.into_iter().enumerate() {
        out.histograms += ts.histograms.len() as u64;
        out.exemplars += ts.exemplars.len() as u64;
        if ts.labels_refs.len() % 2 != 0 {
            out.invalid.push(format!(
                "series {n}: odd number of label references ({})",
                ts.labels_refs.len()
            ));
            continue;
        }
        let mut pairs = Vec::with_capacity(ts.labels_refs.len() / 2);
        let mut bad = None;
        for kv in ts.labels_refs.chunks_exact(2) {
            let (Some(&k), Some(&v)) = (kv.first(), kv.get(1)) else {
                continue;
            };
            match (sym(k), sym(v)) {
                (Some(k), Some(v)) => pairs.push((k.to_string(), v.to_string())),
                _ => {
                    bad = Some(format!(
                        "series {n}: label reference out of range ({k}, {v}) with {} symbols",
                        req.symbols.len()
                    ));
                    break;
                }
            }
        }
        if let Some(b) = bad {
            out.invalid.push(b);
            continue;
        }
        let labels = Labels::from_pairs(pairs);
        if let (Some(md), Some(name)) = (&ts.metadata, labels.metric_name()) {
            if md.r#type != 0 || md.help_ref != 0 || md.unit_ref != 0 {
                out.metadata.push((
                    name.to_string(),
                    MetricMetadata {
                        kind: proto::metric_type_name(md.r#type),
                        help: sym(md.help_ref).unwrap_or("").to_string(),
                        unit: sym(md.unit_ref).unwrap_or("").to_string(),
                    },
                ));
            }
        }
        if ts.samples.is_empty() {
            continue;
        }
        out.series.push(WriteSeries {
            labels,
            samples: samples(ts.samples),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn negotiation_follows_the_spec() {
        assert_eq!(negotiate(None).unwrap(), Protocol::V1);
        assert_eq!(negotiate(Some("application/x-protobuf")).unwrap(), Protocol::V1);
        assert_eq!(
            negotiate(Some("application/x-protobuf;proto=prometheus.WriteRequest")).unwrap(),
            Protocol::V1
        );
        assert_eq!(
            negotiate(Some("application/x-protobuf; proto=io.prometheus.write.v2.Request")).unwrap(),
            Protocol::V2
        );
        assert!(negotiate(Some("application/x-protobuf;proto=foo.Bar")).is_err());
        assert!(negotiate(Some("application/json")).is_err());
    }

    #[test]
    fn v2_resolves_symbols_and_rejects_bad_refs() {
        let req = proto::WriteRequestV2 {
            symbols: vec![
                "".into(),
                "__name__".into(),
                "up".into(),
                "job".into(),
                "a".into(),
                "help text".into(),
            ],
            timeseries: vec![
                proto::TimeSeriesV2 {
                    labels_refs: vec![1, 2, 3, 4],
                    samples: vec![proto::Sample {
                        value: 1.0,
                        timestamp: 1000,
                    }],
                    metadata: Some(proto::MetadataV2 {
                        r#type: 2,
                        help_ref: 5,
                        unit_ref: 0,
                    }),
                    ..Default::default()
                },
                proto::TimeSeriesV2 {
                    labels_refs: vec![1, 99],
                    ..Default::default()
                },
            ],
        };
        let d = decode(Protocol::V2, &req.encode_to_vec()).unwrap();
        assert_eq!(d.series.len(), 1);
        assert_eq!(d.series[0].labels.get("job"), Some("a"));
        assert_eq!(d.invalid.len(), 1);
        assert_eq!(d.metadata[0].1.kind, "gauge");
        assert_eq!(d.metadata[0].1.help, "help text");
    }

    #[test]
    fn v1_batches_reuse_thread_buffers_and_report_errors() {
        let req = proto::WriteRequest {
            timeseries: vec![proto::TimeSeries {
                labels: vec![
                    proto::Label {
                        name: "job".into(),
                        value: "a".into(),
                    },
                    proto::Label {
                        name: "__name__".into(),
                        value: "up".into(),
                    },
                ],
                samples: vec![proto::Sample {
                    value: 1.0,
                    timestamp: 1000,
                }],
                ..Default::default()
            }],
            metadata: vec![proto::MetricMetadata {
                r#type: 1,
                metric_family_name: "up".into(),
                help: "h".into(),
                unit: String::new(),
            }],
        };
        let raw = req.encode_to_vec();
        let body = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
        for _ in 0..2 {
            let (series, samples, md) = with_v1_batch(&body, 1 << 20, |b, keyed, md| {
                let series: Vec<String> = keyed.iter().map(|k| k.to_labels().to_string()).collect();
                (series, b.sample_count(), md)
            })
            .unwrap();
            assert_eq!(series, [r#"up{job="a"}"#]);
            assert_eq!(samples, 1);
            assert_eq!(md.len(), 1);
            assert_eq!(md[0].1.kind, "counter");
        }
        let kept = SCRATCH.take();
        assert!(kept.raw.len() >= raw.len() && kept.labels.capacity() >= 2 && kept.keyed.capacity() >= 1);
        assert!(kept.labels.is_empty() && kept.samples.is_empty() && kept.keyed.is_empty());
        SCRATCH.set(kept);
        let never = |_: &v1::V1Batch<'_>, _: &[KeyedSeries<'_>], _| unreachable!("decode must fail");
        let bad = snap::raw::Encoder::new().compress_vec(b"\x0a\x05\x0a").unwrap();
        let err = with_v1_batch(&bad, 1 << 20, never).unwrap_err();
        assert!(matches!(err, DecodeError::Malformed { len: 3, .. }), "{err}");
        assert!(
            err.to_string().contains("protobuf decode of 3-byte message failed"),
            "{err}"
        );
        let err = with_v1_batch(&body, 4, never).unwrap_err();
        assert!(matches!(err, DecodeError::TooLarge { limit: 4, .. }), "{err}");
        let err = with_v1_batch(b"\xff\xff\xff\xff\xff\xff", 1 << 20, never).unwrap_err();
        assert!(matches!(err, DecodeError::Snappy { .. }), "{err}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decompress(b"\xff\xff\xff\xff\xff\xff", 1 << 20).is_err());
        assert!(decode(Protocol::V1, b"\x0a\xff\xff\xff").is_err());
    }
}
