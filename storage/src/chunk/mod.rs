//! Chunk codec: the sealed on-disk chunk format and the in-memory head chunk.
//!
//! The format is specified in `docs/format/chunks.md`; read it first. In short:
//!
//! ```text
//! version <u8> | encoding <u8: ts id << 4 | value id> | count <uvarint> | min_t <varint>
//!   | max_t - min_t <uvarint> | timestamp section | value section | crc32c <u32 LE>
//! ```
//!
//! Timestamps are `Regular` (nothing stored), `DeltaOfDelta` or `Grid` (residual blocks: Rice, zero-flagged
//! Rice, bounded or sparse, whichever is smallest); values are
//! `Xor` (Gorilla), `Constant`, or scaled decimal integers (`DecimalDelta`, `DecimalDoubleDelta`) with
//! exceptions for NaN/±Inf/-0.0. [`encode_chunk`] sizes every applicable encoding exactly and writes
//! only the smallest (`ts.rs`, `values.rs`). Every `f64` round-trips bit-exact.
//!
//! [`HeadChunk`] is the head's cheap append-only form (delta-of-delta timestamps in fixed buckets; XOR or
//! scaled-decimal values), re-encoded by [`HeadChunk::seal`].

mod bits;
mod constant;
mod decimal;
mod exceptions;
mod head;
mod residuals;
mod ts;
mod values;
mod xor;

#[cfg(test)]
mod tests;

pub use head::HeadChunk;

use std::cell::RefCell;

use crate::{Error, Result};
use bits::corrupt;
pub(crate) use bits::{ByteReader, put_uvarint, put_varint};

/// The sealed chunk format version this build writes and reads (first byte of every chunk).
pub const FORMAT_VERSION: u8 = FormatVersion::V1 as u8;

/// Most samples one chunk may hold.
pub const MAX_SAMPLES: usize = u16::MAX as usize;

/// Bytes of the trailing checksum.
const CRC_LEN: usize = 4;

/// Smallest possible chunk: version, encoding, count, min_t, span (one byte each) and the checksum.
const MIN_CHUNK_LEN: usize = 5 + CRC_LEN;

/// Versions of the sealed chunk format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FormatVersion {
    /// Version 1, `docs/format/chunks.md`.
    V1 = 1,
}

/// Value encodings of a sealed chunk (low nibble of the encoding byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Encoding {
    /// Gorilla XOR of consecutive values' bits; represents anything.
    Xor = 0,
    /// One value for all samples, plus exceptions.
    Constant = 1,
    /// Scaled decimal integers, first differences, Rice-coded, plus exceptions.
    DecimalDelta = 2,
    /// Scaled decimal integers, second differences, Rice-coded, plus exceptions.
    DecimalDoubleDelta = 3,
}

impl Encoding {
    /// The id stored in the low nibble of the encoding byte.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// The encoding with this id, if any.
    pub fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::Xor,
            1 => Self::Constant,
            2 => Self::DecimalDelta,
            3 => Self::DecimalDoubleDelta,
            _ => return None,
        })
    }
}

/// Timestamp encodings of a sealed chunk (high nibble of the encoding byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TsEncoding {
    /// All intervals equal; nothing stored besides the header.
    Regular = 0,
    /// Gorilla delta-of-delta residuals, Rice-coded.
    DeltaOfDelta = 1,
    /// Residuals against a fixed-step grid that re-anchors on gaps, Rice-coded.
    Grid = 2,
}

impl TsEncoding {
    /// The id stored in the high nibble of the encoding byte.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// The encoding with this id, if any.
    pub fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::Regular,
            1 => Self::DeltaOfDelta,
            2 => Self::Grid,
            _ => return None,
        })
    }
}

/// What the header of a sealed chunk says, read without decoding samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkMeta {
    /// Number of samples, `1..=MAX_SAMPLES`.
    pub count: usize,
    /// First (smallest) timestamp, ms.
    pub min_t: i64,
    /// Last (largest) timestamp, ms; `min_t <= max_t` (equal only for one sample).
    pub max_t: i64,
    /// How the values are encoded.
    pub encoding: Encoding,
    /// How the timestamps are encoded.
    pub ts_encoding: TsEncoding,
}

/// Checks the inputs of [`encode_chunk`].
fn validate_input(ts: &[i64], vs: &[f64]) -> Result<()> {
    if ts.len() != vs.len() {
        return Err(Error::Internal(format!(
            "encode chunk: {} timestamps but {} values",
            ts.len(),
            vs.len()
        )));
    }
    if ts.is_empty() || ts.len() > MAX_SAMPLES {
        return Err(Error::Internal(format!(
            "encode chunk: {} samples, expected 1..={MAX_SAMPLES}",
            ts.len()
        )));
    }
    if let Some(i) = ts.windows(2).position(|w| w.first() >= w.last()) {
        return Err(Error::Internal(format!(
            "encode chunk: timestamps not strictly increasing at index {}",
            i + 1
        )));
    }
    Ok(())
}

/// Sealing buffers of one thread, reused from chunk to chunk (sealing runs on the ingest threads, so a
/// buffer per thread needs no locking).
#[derive(Debug, Default)]
struct Scratch {
    ts: ts::Scratch,
    values: values::Scratch,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Encodes a whole chunk (`ts` strictly increasing, same length as `vs`, `1..=MAX_SAMPLES` samples) into
/// the sealed format, choosing the smallest timestamp and value encodings by measured size.
pub fn encode_chunk(ts: &[i64], vs: &[f64]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_chunk_into(ts, vs, &mut out)?;
    Ok(out)
}

/// Like [`encode_chunk`], appending the chunk to `out` (bytes already in `out` are left unchanged).
pub fn encode_chunk_into(ts: &[i64], vs: &[f64], out: &mut Vec<u8>) -> Result<()> {
    validate_input(ts, vs)?;
    let (Some(&min_t), Some(&max_t)) = (ts.first(), ts.last()) else {
        return Err(Error::Internal("encode chunk: no samples".into()));
    };
    let start = out.len();
    out.push(FORMAT_VERSION);
    let encoding_at = out.len();
    out.push(0);
    put_uvarint(out, ts.len() as u64);
    put_varint(out, min_t);
    put_uvarint(out, max_t.wrapping_sub(min_t) as u64);
    let (ts_encoding, encoding) = SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut sc) => {
            let sc = &mut *sc;
            let encodings = (ts::encode(ts, &mut sc.ts, out), values::encode(vs, &mut sc.values, out));
            sc.ts.trim();
            sc.values.trim();
            encodings
        }
        // Not reachable (encoding does not re-enter itself), but fresh buffers are always correct.
        Err(_) => {
            let mut sc = Scratch::default();
            (ts::encode(ts, &mut sc.ts, out), values::encode(vs, &mut sc.values, out))
        }
    });
    if let Some(b) = out.get_mut(encoding_at) {
        *b = (ts_encoding.id() << 4) | encoding.id();
    }
    let crc = crc32c::crc32c(out.get(start..).unwrap_or_default());
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// Verifies the checksum and version and parses the header; returns the metadata and a reader positioned
/// at the timestamp section, limited to the body (without the checksum).
fn parse(bytes: &[u8]) -> Result<(ChunkMeta, ByteReader<'_>)> {
    if bytes.len() < MIN_CHUNK_LEN {
        return Err(corrupt(format!(
            "{} bytes, a chunk has at least {MIN_CHUNK_LEN}",
            bytes.len()
        )));
    }
    let (body, crc) = bytes.split_at(bytes.len() - CRC_LEN);
    let mut crc_bytes = [0u8; CRC_LEN];
    crc_bytes.copy_from_slice(crc);
    let expected = u32::from_le_bytes(crc_bytes);
    let got = crc32c::crc32c(body);
    if got != expected {
        return Err(Error::ChecksumMismatch {
            what: "chunk",
            got,
            expected,
        });
    }
    let mut r = ByteReader::new(body);
    let version = r.u8()?;
    if version != FORMAT_VERSION {
        return Err(Error::InvalidVersion { what: "chunk", version });
    }
    let enc = r.u8()?;
    let ts_encoding =
        TsEncoding::from_id(enc >> 4).ok_or_else(|| corrupt(format!("unknown timestamp encoding {}", enc >> 4)))?;
    let encoding =
        Encoding::from_id(enc & 0x0f).ok_or_else(|| corrupt(format!("unknown value encoding {}", enc & 0x0f)))?;
    let count = r.uvarint()?;
    if count == 0 || count > MAX_SAMPLES as u64 {
        return Err(corrupt(format!("sample count {count}, expected 1..={MAX_SAMPLES}")));
    }
    let count = count as usize;
    let min_t = r.varint()?;
    let span = r.uvarint()?;
    if (span == 0) != (count == 1) {
        return Err(corrupt(format!("time span {span} with {count} samples")));
    }
    let max_t = i64::try_from(i128::from(min_t) + i128::from(span))
        .map_err(|_| corrupt(format!("max_t = {min_t} + {span} overflows i64")))?;
    Ok((
        ChunkMeta {
            count,
            min_t,
            max_t,
            encoding,
            ts_encoding,
        },
        r,
    ))
}

/// A chunk without what a container already knows: the encodings byte followed by the timestamp and value
/// sections, without the version, sample count, `min_t`, span and checksum (the tier block format keeps
/// its columns this way; [`chunk_from_sections`] puts them back). The checksum is verified first.
pub fn chunk_sections(bytes: &[u8]) -> Result<Vec<u8>> {
    let (meta, r) = parse(bytes)?;
    let mut out = Vec::with_capacity(1 + r.rest().len());
    out.push((meta.ts_encoding.id() << 4) | meta.encoding.id());
    out.extend_from_slice(r.rest());
    Ok(out)
}

/// The chunk of `count` samples from `min_t` to `max_t` whose encodings byte and sections are `sections`
/// (from [`chunk_sections`]), checksum recomputed; [`decode_chunk`] then validates it as any chunk.
pub fn chunk_from_sections(sections: &[u8], count: usize, min_t: i64, max_t: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(sections.len() + 24);
    out.push(FORMAT_VERSION);
    let (enc, rest) = sections.split_first().map_or((0, &[][..]), |(&e, r)| (e, r));
    out.push(enc);
    put_uvarint(&mut out, count as u64);
    put_varint(&mut out, min_t);
    put_uvarint(&mut out, max_t.wrapping_sub(min_t) as u64);
    out.extend_from_slice(rest);
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Reads only the header: sample count, `min_t`, `max_t` and encodings, without decoding samples. The
/// checksum is verified (errors as for [`decode_chunk`]).
pub fn chunk_meta(bytes: &[u8]) -> Result<ChunkMeta> {
    parse(bytes).map(|(meta, _)| meta)
}

/// Decodes a sealed chunk, appending to the output columns. Corrupt, truncated or unknown-version input
/// gives [`Error::Corrupt`], [`Error::ChecksumMismatch`] or [`Error::InvalidVersion`] (never a panic), and
/// leaves `ts` and `vs` as they were.
pub fn decode_chunk(bytes: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<()> {
    let (ts_len, vs_len) = (ts.len(), vs.len());
    let res = decode_parts(bytes, ts, vs);
    if res.is_err() {
        ts.truncate(ts_len);
        vs.truncate(vs_len);
    }
    res
}

/// [`decode_chunk`] without the clean-up on error.
fn decode_parts(bytes: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<()> {
    let (meta, mut r) = parse(bytes)?;
    let count = meta.count;
    ts.reserve(count);
    vs.reserve(count);
    ts::decode(meta.ts_encoding, &mut r, count, meta.min_t, meta.max_t, ts)?;
    match meta.encoding {
        Encoding::Xor => {
            let used = xor::decode(r.rest(), count, vs)?;
            r.advance(used)?;
        }
        Encoding::Constant => constant::decode(&mut r, count, vs)?,
        Encoding::DecimalDelta => decimal::decode(&mut r, count, decimal::Order::Delta, vs)?,
        Encoding::DecimalDoubleDelta => {
            decimal::decode(&mut r, count, decimal::Order::DoubleDelta, vs)?;
        }
    }
    if !r.rest().is_empty() {
        return Err(corrupt(format!(
            "{} trailing bytes after the value section",
            r.rest().len()
        )));
    }
    Ok(())
}
