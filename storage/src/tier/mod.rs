//! Downsampled tiers: per-window aggregates of a series and the block format they are stored in.
//! Format: `docs/format/tiers.md`.
//!
//! A window `[start, start + resolution)` of a series keeps what PromQL needs to answer from the tier: the
//! number of samples, their sum, min, max, the last value, and the counter increase since the previous
//! sample (resets counted as Prometheus' `increase` counts them). The window's points are placed at the
//! timestamp of its last raw sample. Staleness markers are not samples here.

use crate::chunk::{
    ByteReader, chunk_from_sections, chunk_sections, decode_chunk, encode_chunk, put_uvarint, put_varint,
};
use crate::error::{Error, Result};
use crate::read::{Aggregate, is_stale_nan};

/// Version byte leading every tier block written. Version 2 blocks (fixed-width header and part lengths,
/// whole chunks as columns) are still read.
pub const BLOCK_VERSION: u8 = 3;
/// The previous block version.
const BLOCK_VERSION_2: u8 = 2;

/// The aggregates of one window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowAgg {
    /// Timestamp of the window's last sample (ms).
    pub t: i64,
    /// Number of samples.
    pub count: f64,
    /// Sum of the values.
    pub sum: f64,
    /// Smallest value (NaN only when every value is NaN).
    pub min: f64,
    /// Largest value (NaN only when every value is NaN).
    pub max: f64,
    /// The last value.
    pub last: f64,
    /// The value before the window: the series' previous sample, or the window's first sample when none.
    pub base: f64,
    /// Counter reset adjustment: the sum of the values just before each drop in `(base, last]`.
    pub adj: f64,
}

impl WindowAgg {
    /// Counter increase from `base` to the window's last sample, a drop counted as a reset to zero (as
    /// Prometheus' `increase` counts it): `last - base + adj`.
    pub fn inc(&self) -> f64 {
        (self.last - self.base) + self.adj
    }

    /// The value this window contributes for `agg`.
    pub fn value(&self, agg: Aggregate) -> f64 {
        match agg {
            Aggregate::Last | Aggregate::Counter => self.last,
            Aggregate::Min => self.min,
            Aggregate::Max => self.max,
            Aggregate::Sum => self.sum,
            Aggregate::Count => self.count,
        }
    }
}

fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b < a { b } else { a }
}

fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b > a { b } else { a }
}

/// Aggregates sorted raw samples into windows of `resolution` ms. `prev` is the value of the series' last
/// sample before `ts[0]`, when known. Staleness markers are skipped. Windows without samples are absent.
pub fn aggregate_raw(ts: &[i64], vs: &[f64], resolution: i64, mut prev: Option<f64>) -> Vec<WindowAgg> {
    let mut out: Vec<WindowAgg> = Vec::new();
    let mut cur_start = i64::MIN;
    for (&t, &v) in ts.iter().zip(vs) {
        if is_stale_nan(v) {
            continue;
        }
        let start = crate::db::partition::align_down(t, resolution);
        let drop = match prev {
            Some(p) if v < p => p,
            _ => 0.0,
        };
        let base = prev.unwrap_or(v);
        prev = Some(v);
        match out.last_mut() {
            Some(w) if start == cur_start => {
                w.t = t;
                w.count += 1.0;
                w.sum += v;
                w.min = nan_min(w.min, v);
                w.max = nan_max(w.max, v);
                w.last = v;
                w.adj += drop;
            }
            _ => {
                cur_start = start;
                out.push(WindowAgg {
                    t,
                    count: 1.0,
                    sum: v,
                    min: v,
                    max: v,
                    last: v,
                    base,
                    adj: drop,
                });
            }
        }
    }
    out
}

/// Combines sorted finer windows into windows of `resolution` ms (e.g. 5 m windows into 1 h windows).
pub fn aggregate_windows(fine: &[WindowAgg], resolution: i64) -> Vec<WindowAgg> {
    let mut out: Vec<WindowAgg> = Vec::new();
    let mut cur_start = i64::MIN;
    for f in fine {
        let start = crate::db::partition::align_down(f.t, resolution);
        match out.last_mut() {
            Some(w) if start == cur_start => {
                w.t = f.t;
                w.count += f.count;
                w.sum += f.sum;
                w.min = nan_min(w.min, f.min);
                w.max = nan_max(w.max, f.max);
                w.last = f.last;
                w.adj += f.adj;
            }
            _ => {
                cur_start = start;
                out.push(*f);
            }
        }
    }
    out
}

/// Rebuilds counter values for consecutive windows: the last window keeps its real last value and each
/// earlier one is the next one's value minus the next one's increase, so the series has no resets and
/// its increases are those the raw data had.
pub fn rebuild_counter(windows: &[WindowAgg]) -> Vec<f64> {
    let mut out = vec![0.0; windows.len()];
    let mut next: Option<(f64, f64)> = None;
    for (slot, w) in out.iter_mut().zip(windows).rev() {
        let v = match next {
            Some((next_v, next_inc)) => next_v - next_inc,
            None => w.last,
        };
        *slot = v;
        next = Some((v, w.inc()));
    }
    out
}

/// Which columns a reader needs (the timestamp and `last` are always decoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns(u8);

impl Columns {
    /// Every column.
    pub const ALL: Columns = Columns(0b11111);
    /// Only `t` and `last`.
    pub const NONE: Columns = Columns(0);
    const COUNT: u8 = 1;
    const SUM: u8 = 2;
    const MIN: u8 = 4;
    const MAX: u8 = 8;
    const ADJ: u8 = 16;

    /// The columns an aggregate needs.
    pub fn for_aggregate(agg: Aggregate) -> Columns {
        Columns(match agg {
            Aggregate::Last => 0,
            Aggregate::Count => Self::COUNT,
            Aggregate::Sum => Self::SUM,
            Aggregate::Min => Self::MIN,
            Aggregate::Max => Self::MAX,
            Aggregate::Counter => Self::ADJ,
        })
    }

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// The value columns after `(t, last)`, in block order: field, mask bit, and whether the column may be
/// stored XORed with `last` (cheaper when it often equals it, as a counter's max does).
const COLUMNS: [(fn(&WindowAgg) -> f64, u8, bool); 5] = [
    (|w| w.count, Columns::COUNT, false),
    (|w| w.sum, Columns::SUM, false),
    (|w| w.min, Columns::MIN, true),
    (|w| w.max, Columns::MAX, true),
    (|w| w.adj, Columns::ADJ, false),
];

/// Column flag: the stored values are the bits of the value XOR the bits of `last`.
const FLAG_XOR_LAST: u8 = 1;

/// Appends a version 3 part: flags, length, then a column chunk without its header ([`chunk_sections`]).
fn put_part(out: &mut Vec<u8>, flags: u8, chunk: &[u8]) -> Result<()> {
    let part = chunk_sections(chunk)?;
    out.push(flags);
    put_uvarint(out, part.len() as u64);
    out.extend_from_slice(&part);
    Ok(())
}

fn xor_bits(a: f64, b: f64) -> f64 {
    f64::from_bits(a.to_bits() ^ b.to_bits())
}

/// Encodes windows (sorted by `t`, unique, at most 65535) into a tier block. The first window's `base`
/// is kept; every later window's `base` is its predecessor's `last` (as the downsampler computes it).
pub fn encode_block(windows: &[WindowAgg]) -> Result<Vec<u8>> {
    let n = u16::try_from(windows.len()).map_err(|_| Error::Internal("tier block: too many windows".into()))?;
    let (Some(first), Some(last)) = (windows.first(), windows.last()) else {
        return Err(Error::Internal("tier block: no windows".into()));
    };
    let mut out = Vec::with_capacity(64 + windows.len() * 8);
    out.push(BLOCK_VERSION);
    put_uvarint(&mut out, u64::from(n));
    put_varint(&mut out, first.t);
    put_uvarint(&mut out, last.t.wrapping_sub(first.t) as u64);
    out.extend_from_slice(&first.base.to_bits().to_le_bytes());
    let ts: Vec<i64> = windows.iter().map(|w| w.t).collect();
    let lasts: Vec<f64> = windows.iter().map(|w| w.last).collect();
    put_part(&mut out, 0, &encode_chunk(&ts, &lasts)?)?;
    // The other columns ride on a synthetic 0, 1, 2, ... time column, which encodes to nothing.
    let idx: Vec<i64> = (0..i64::from(n)).collect();
    for (field, _, may_xor) in COLUMNS {
        let col: Vec<f64> = windows.iter().map(field).collect();
        let plain = encode_chunk(&idx, &col)?;
        if may_xor {
            let x: Vec<f64> = col.iter().zip(&lasts).map(|(&v, &l)| xor_bits(v, l)).collect();
            let xored = encode_chunk(&idx, &x)?;
            if xored.len() < plain.len() {
                put_part(&mut out, FLAG_XOR_LAST, &xored)?;
                continue;
            }
        }
        put_part(&mut out, 0, &plain)?;
    }
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

fn corrupt(reason: impl Into<String>) -> Error {
    Error::Corrupt {
        what: "tier block",
        reason: reason.into(),
    }
}

/// A block's header: its version, window count, first and last window timestamps, the first window's
/// `base`, and the parts after it.
struct Header<'a> {
    version: u8,
    n: usize,
    first_t: i64,
    last_t: i64,
    first_base: f64,
    parts: &'a [u8],
}

/// Version 2 header bytes: version, n, first t, last t, base (fixed width).
const HEADER_V2_LEN: usize = 1 + 2 + 8 + 8 + 8;

fn header(body: &[u8]) -> Result<Header<'_>> {
    let short = || corrupt("short header");
    let mut r = ByteReader::new(body);
    let version = r.u8().map_err(|_| short())?;
    if version == BLOCK_VERSION_2 {
        let u64_at = |at: usize| {
            body.get(at..at + 8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_le_bytes)
                .ok_or_else(short)
        };
        let n = body
            .get(1..3)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(u16::from_le_bytes)
            .ok_or_else(short)?;
        return Ok(Header {
            version,
            n: usize::from(n),
            first_t: u64_at(3)? as i64,
            last_t: u64_at(11)? as i64,
            first_base: f64::from_bits(u64_at(19)?),
            parts: body.get(HEADER_V2_LEN..).ok_or_else(short)?,
        });
    }
    let n = r.uvarint().map_err(|_| short())?;
    let first_t = r.varint().map_err(|_| short())?;
    let span = r.uvarint().map_err(|_| short())?;
    let first_base = f64::from_bits(r.u64_le().map_err(|_| short())?);
    let n = u16::try_from(n).map_err(|_| corrupt(format!("{n} windows")))?;
    Ok(Header {
        version,
        n: usize::from(n),
        first_t,
        last_t: first_t.wrapping_add(span as i64),
        first_base,
        parts: r.rest(),
    })
}

/// The first and last window timestamps of a block, read from its header (checksum verified).
pub fn block_range(bytes: &[u8]) -> Result<(i64, i64)> {
    let h = header(checked_body(bytes)?)?;
    Ok((h.first_t, h.last_t))
}

fn checked_body(bytes: &[u8]) -> Result<&[u8]> {
    let split = bytes
        .len()
        .checked_sub(4)
        .ok_or_else(|| corrupt("shorter than its checksum"))?;
    let (body, crc) = bytes.split_at(split);
    let want = u32::from_le_bytes(<[u8; 4]>::try_from(crc).map_err(|_| corrupt("checksum"))?);
    let got = crc32c::crc32c(body);
    if got != want {
        return Err(Error::ChecksumMismatch {
            what: "tier block",
            expected: want,
            got,
        });
    }
    match body.first() {
        Some(&BLOCK_VERSION | &BLOCK_VERSION_2) => Ok(body),
        Some(&v) => Err(Error::InvalidVersion {
            what: "tier block",
            version: v,
        }),
        None => Err(corrupt("empty")),
    }
}

/// Decodes every column of a tier block into windows (appended to `out`).
pub fn decode_block(bytes: &[u8], out: &mut Vec<WindowAgg>) -> Result<()> {
    decode_block_columns(bytes, Columns::ALL, out)
}

/// Decodes a tier block, only the columns in `need` besides `t` and `last` (the others read NaN; `base`
/// is always right). Corrupt input gives an error, never a panic, and leaves `out` as it was.
pub fn decode_block_columns(bytes: &[u8], need: Columns, out: &mut Vec<WindowAgg>) -> Result<()> {
    let before = out.len();
    let res = decode_parts(bytes, need, out);
    if res.is_err() {
        out.truncate(before);
    }
    res
}

fn decode_parts(bytes: &[u8], need: Columns, out: &mut Vec<WindowAgg>) -> Result<()> {
    let h = header(checked_body(bytes)?)?;
    let n = h.n;
    let mut rest = h.parts;
    // A part: flags, then the column's bytes (version 2: a u32 LE length and a whole chunk; version 3: a
    // uvarint length and the chunk's sections).
    let mut next_part = || -> Result<(u8, &[u8])> {
        let (&flags, tail) = rest.split_first().ok_or_else(|| corrupt("truncated part"))?;
        let (len, tail) = if h.version == BLOCK_VERSION_2 {
            let len = tail
                .get(..4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_le_bytes)
                .ok_or_else(|| corrupt("truncated part length"))? as usize;
            (len, tail.get(4..).unwrap_or_default())
        } else {
            let mut r = ByteReader::new(tail);
            let len = r.uvarint().map_err(|_| corrupt("truncated part length"))?;
            (usize::try_from(len).unwrap_or(usize::MAX), r.rest())
        };
        let part = tail.get(..len).ok_or_else(|| corrupt("truncated part"))?;
        rest = tail.get(len..).unwrap_or_default();
        Ok((flags, part))
    };
    // Version 3 columns get their chunk header back: the first from the block's time range, the others
    // from the synthetic 0..n-1 time column.
    fn chunk(version: u8, part: &[u8], n: usize, min_t: i64, max_t: i64) -> std::borrow::Cow<'_, [u8]> {
        if version == BLOCK_VERSION_2 {
            std::borrow::Cow::Borrowed(part)
        } else {
            std::borrow::Cow::Owned(chunk_from_sections(part, n, min_t, max_t))
        }
    }
    let (mut ts, mut lasts) = (Vec::with_capacity(n), Vec::with_capacity(n));
    decode_chunk(
        &chunk(h.version, next_part()?.1, n, h.first_t, h.last_t),
        &mut ts,
        &mut lasts,
    )?;
    if ts.len() != n {
        return Err(corrupt("window count differs from the header"));
    }
    let start = out.len();
    let mut prev = h.first_base;
    for (&t, &last) in ts.iter().zip(&lasts) {
        out.push(WindowAgg {
            t,
            count: f64::NAN,
            sum: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
            last,
            base: prev,
            adj: f64::NAN,
        });
        prev = last;
    }
    let mut idx = Vec::with_capacity(n);
    let mut col = Vec::with_capacity(n);
    let last_idx = (n as i64).saturating_sub(1);
    for (i, (_, bit, _)) in COLUMNS.iter().enumerate() {
        let (flags, part) = next_part()?;
        if !need.has(*bit) {
            continue;
        }
        idx.clear();
        col.clear();
        decode_chunk(&chunk(h.version, part, n, 0, last_idx), &mut idx, &mut col)?;
        if col.len() != n {
            return Err(corrupt("column length differs from the window count"));
        }
        let ws = out.get_mut(start..).unwrap_or_default();
        for ((w, &v), &last) in ws.iter_mut().zip(&col).zip(&lasts) {
            let v = if flags & FLAG_XOR_LAST != 0 {
                xor_bits(v, last)
            } else {
                v
            };
            match i {
                0 => w.count = v,
                1 => w.sum = v,
                2 => w.min = v,
                3 => w.max = v,
                _ => w.adj = v,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
