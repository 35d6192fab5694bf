//! Downsampled tiers: per-window aggregates of a series and the block format they are stored in.
//! Format: `docs/format/tiers.md`.
//!
//! A window `[start, start + resolution)` of a series keeps what PromQL needs to answer from the tier: the
//! number of samples, their sum, min, max, the last value, and the counter increase since the previous
//! sample (resets counted as Prometheus' `increase` counts them). The window's points are placed at the
//! timestamp of its last raw sample. Staleness markers are not samples here.

use crate::chunk::{decode_chunk, encode_chunk};
use crate::error::{Error, Result};
use crate::read::{Aggregate, is_stale_nan};

/// Version byte leading every tier block.
pub const BLOCK_VERSION: u8 = 1;

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
    /// Counter increase from the sample before the window (when known) to the window's last sample, with
    /// a drop counted as a reset to zero.
    pub inc: f64,
}

impl WindowAgg {
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

/// Counter increase from `prev` to `v`: a drop is a reset, after which the counter counted from zero.
fn counter_step(prev: f64, v: f64) -> f64 {
    if v >= prev { v - prev } else { v }
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
        let inc = prev.map_or(0.0, |p| counter_step(p, v));
        prev = Some(v);
        match out.last_mut() {
            Some(w) if start == cur_start => {
                w.t = t;
                w.count += 1.0;
                w.sum += v;
                w.min = nan_min(w.min, v);
                w.max = nan_max(w.max, v);
                w.last = v;
                w.inc += inc;
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
                    inc,
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
                w.inc += f.inc;
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
        next = Some((v, w.inc));
    }
    out
}

fn put_part(out: &mut Vec<u8>, part: &[u8]) -> Result<()> {
    let len = u32::try_from(part.len()).map_err(|_| Error::Internal("tier block part too large".into()))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(part);
    Ok(())
}

/// Encodes windows (sorted by `t`, unique, at most 65535) into a tier block.
pub fn encode_block(windows: &[WindowAgg]) -> Result<Vec<u8>> {
    let n = u16::try_from(windows.len()).map_err(|_| Error::Internal("tier block: too many windows".into()))?;
    let (Some(first), Some(last)) = (windows.first(), windows.last()) else {
        return Err(Error::Internal("tier block: no windows".into()));
    };
    let mut out = Vec::with_capacity(64 + windows.len() * 8);
    out.push(BLOCK_VERSION);
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&first.t.to_le_bytes());
    out.extend_from_slice(&last.t.to_le_bytes());
    let ts: Vec<i64> = windows.iter().map(|w| w.t).collect();
    let col = |f: fn(&WindowAgg) -> f64| windows.iter().map(f).collect::<Vec<f64>>();
    put_part(&mut out, &encode_chunk(&ts, &col(|w| w.last))?)?;
    // The other columns ride on a synthetic 0, 1, 2, ... time column, which encodes to a few bytes.
    let idx: Vec<i64> = (0..i64::from(n)).collect();
    for f in COLUMNS {
        put_part(&mut out, &encode_chunk(&idx, &col(f))?)?;
    }
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// The columns after `(t, last)`, in block order.
const COLUMNS: [fn(&WindowAgg) -> f64; 5] = [|w| w.count, |w| w.sum, |w| w.min, |w| w.max, |w| w.inc];

fn corrupt(reason: impl Into<String>) -> Error {
    Error::Corrupt {
        what: "tier block",
        reason: reason.into(),
    }
}

/// The first and last window timestamps of a block, read from its header (checksum verified).
pub fn block_range(bytes: &[u8]) -> Result<(i64, i64)> {
    let body = checked_body(bytes)?;
    let get = |at: usize| {
        body.get(at..at + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(i64::from_le_bytes)
            .ok_or_else(|| corrupt("short header"))
    };
    Ok((get(3)?, get(11)?))
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
        Some(&BLOCK_VERSION) => Ok(body),
        Some(&v) => Err(Error::InvalidVersion {
            what: "tier block",
            version: v,
        }),
        None => Err(corrupt("empty")),
    }
}

/// Decodes a tier block into windows (appended to `out`). Corrupt input gives an error, never a panic.
pub fn decode_block(bytes: &[u8], out: &mut Vec<WindowAgg>) -> Result<()> {
    let body = checked_body(bytes)?;
    let n = body
        .get(1..3)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map(u16::from_le_bytes)
        .ok_or_else(|| corrupt("short header"))? as usize;
    let mut rest = body.get(19..).ok_or_else(|| corrupt("short header"))?;
    let mut next_part = || -> Result<&[u8]> {
        let len = rest
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_le_bytes)
            .ok_or_else(|| corrupt("truncated part length"))? as usize;
        let part = rest.get(4..4 + len).ok_or_else(|| corrupt("truncated part"))?;
        rest = rest.get(4 + len..).unwrap_or_default();
        Ok(part)
    };
    let (mut ts, mut last) = (Vec::with_capacity(n), Vec::with_capacity(n));
    decode_chunk(next_part()?, &mut ts, &mut last)?;
    let mut cols: Vec<Vec<f64>> = Vec::with_capacity(COLUMNS.len());
    let mut idx = Vec::with_capacity(n);
    for _ in COLUMNS {
        let mut col = Vec::with_capacity(n);
        idx.clear();
        decode_chunk(next_part()?, &mut idx, &mut col)?;
        cols.push(col);
    }
    if ts.len() != n || cols.iter().any(|c| c.len() != n) {
        return Err(corrupt("column lengths differ from the window count"));
    }
    let at = |c: usize, i: usize| cols.get(c).and_then(|col| col.get(i)).copied().unwrap_or(f64::NAN);
    for (i, (&t, &l)) in ts.iter().zip(&last).enumerate() {
        out.push(WindowAgg {
            t,
            count: at(0, i),
            sum: at(1, i),
            min: at(2, i),
            max: at(3, i),
            last: l,
            inc: at(4, i),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
