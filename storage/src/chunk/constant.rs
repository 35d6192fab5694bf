//! The `Constant` value encoding (`docs/format/chunks.md`, "Constant"): one value for the whole chunk,
//! plus exceptions (typically a staleness marker at the end of a constant series).

use super::bits::{ByteReader, corrupt, put_varint};
use super::decimal::{self, MAX_SCALE};
use super::exceptions::{self, Exception};
use crate::Result;

/// Tag of a compact value stored as raw bits.
const RAW_TAG: u8 = 0xff;

/// Appends a value compactly: a decimal scale and the scaled integer if it round-trips, else raw bits.
fn put_compact(out: &mut Vec<u8>, v: f64) {
    match decimal::min_scale(v).and_then(|s| Some((s, decimal::scaled(v, s)?))) {
        Some((scale, m)) => {
            out.push(scale);
            put_varint(out, m);
        }
        None => {
            out.push(RAW_TAG);
            out.extend_from_slice(&v.to_bits().to_le_bytes());
        }
    }
}

/// Reads a value written by [`put_compact`].
fn read_compact(r: &mut ByteReader<'_>) -> Result<f64> {
    match r.u8()? {
        RAW_TAG => Ok(f64::from_bits(r.u64_le()?)),
        scale if scale <= MAX_SCALE => Ok(decimal::unscale(r.varint()?, scale)),
        tag => Err(corrupt(format!("constant value tag {tag}"))),
    }
}

/// At most this many differing samples are stored as exceptions; beyond that another encoding wins anyway
/// (each exception costs 9+ bytes).
const MAX_EXCEPTIONS: usize = 16;

/// Encodes `vs` as `Constant` if at most [`MAX_EXCEPTIONS`] samples differ from the most common of the
/// first and last value, returning the number of exceptions; returns `None` (writing nothing) otherwise.
pub(crate) fn encode(vs: &[f64], out: &mut Vec<u8>) -> Option<usize> {
    let (Some(first), Some(last)) = (vs.first(), vs.last()) else {
        return None;
    };
    let count_of = |bits: u64| vs.iter().filter(|v| v.to_bits() == bits).count();
    let base = if first.to_bits() == last.to_bits() || count_of(first.to_bits()) >= count_of(last.to_bits()) {
        first.to_bits()
    } else {
        last.to_bits()
    };
    let list: Vec<Exception> = vs
        .iter()
        .enumerate()
        .filter(|(_, v)| v.to_bits() != base)
        .map(|(i, v)| (i, v.to_bits()))
        .take(MAX_EXCEPTIONS + 1)
        .collect();
    if list.len() > MAX_EXCEPTIONS {
        return None;
    }
    exceptions::encode(&list, out);
    put_compact(out, f64::from_bits(base));
    Some(list.len())
}

/// Decodes a `Constant` section of `count` values.
pub(crate) fn decode(r: &mut ByteReader<'_>, count: usize, vs: &mut Vec<f64>) -> Result<()> {
    let list = exceptions::decode(r, count)?;
    let base = read_compact(r)?;
    exceptions::merge(count, &list, || Ok(base), vs)
}
