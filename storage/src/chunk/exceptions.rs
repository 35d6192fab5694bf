//! The exceptions block of the `Constant` and `Decimal*` value encodings (`docs/format/chunks.md`,
//! "Exceptions"): samples the encoding cannot represent, stored as (index, raw bits).

use super::bits::{ByteReader, corrupt, put_uvarint};
use crate::Result;

/// One sample stored apart: its index in the chunk and its raw `f64` bits.
pub(crate) type Exception = (usize, u64);

/// Appends the exceptions block. `list` must be sorted by strictly increasing index.
pub(crate) fn encode(list: &[Exception], out: &mut Vec<u8>) {
    put_uvarint(out, list.len() as u64);
    let mut next = 0usize; // previous index + 1
    for &(idx, bits) in list {
        debug_assert!(idx >= next, "exceptions not sorted");
        put_uvarint(out, (idx - next) as u64);
        out.extend_from_slice(&bits.to_le_bytes());
        next = idx + 1;
    }
}

/// Reads an exceptions block of a chunk with `count` samples.
pub(crate) fn decode(r: &mut ByteReader<'_>, count: usize) -> Result<Vec<Exception>> {
    let e = r.uvarint()?;
    if e > count as u64 {
        return Err(corrupt(format!("{e} exceptions in a chunk of {count} samples")));
    }
    let mut list = Vec::with_capacity(e as usize);
    let mut next = 0u64;
    for _ in 0..e {
        let gap = r.uvarint()?;
        let idx = next.saturating_add(gap);
        if idx >= count as u64 {
            return Err(corrupt(format!("exception index {idx} beyond {count} samples")));
        }
        list.push((idx as usize, r.u64_le()?));
        next = idx + 1;
    }
    Ok(list)
}

/// Interleaves regular values (from `regular`, in order) with the exceptions into `count` values.
pub(crate) fn merge(
    count: usize,
    list: &[Exception],
    mut regular: impl FnMut() -> Result<f64>,
    vs: &mut Vec<f64>,
) -> Result<()> {
    let mut exc = list.iter().peekable();
    for i in 0..count {
        match exc.peek() {
            Some(&&(idx, bits)) if idx == i => {
                vs.push(f64::from_bits(bits));
                exc.next();
            }
            _ => vs.push(regular()?),
        }
    }
    Ok(())
}
