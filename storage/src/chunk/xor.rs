//! The Gorilla / Prometheus XOR value code (`docs/format/chunks.md`, "Xor"). Used by the head chunk for every
//! sample and by sealed chunks as the encoding that represents anything.

use super::bits::{BitReader, BitWriter, corrupt};
use crate::Result;

/// "No window yet" marker for `leading`.
const NO_WINDOW: u8 = u8::MAX;

/// Streaming XOR encoder state (the previous value and the current leading/trailing window).
#[derive(Debug, Clone, Copy)]
pub(crate) struct XorEncoder {
    prev: u64,
    leading: u8,
    trailing: u8,
}

impl XorEncoder {
    /// Starts a stream: writes the first value's 64 raw bits.
    pub(crate) fn start(w: &mut BitWriter, first: u64) -> Self {
        w.write_bits(first, 64);
        Self {
            prev: first,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }

    /// The last value pushed, as raw bits.
    pub(crate) fn last(&self) -> u64 {
        self.prev
    }

    /// Appends the next value.
    #[inline]
    pub(crate) fn push(&mut self, w: &mut BitWriter, bits: u64) {
        let x = bits ^ self.prev;
        self.prev = bits;
        if x == 0 {
            w.write_bit(false);
            return;
        }
        let lead = (x.leading_zeros() as u8).min(31);
        let trail = x.trailing_zeros() as u8;
        if self.leading != NO_WINDOW && lead >= self.leading && trail >= self.trailing {
            // '10' + the bits inside the previous window.
            let sig = 64 - u32::from(self.leading) - u32::from(self.trailing);
            w.write_bits(0b10, 2);
            w.write_bits(x >> self.trailing, sig);
        } else {
            let sig = 64 - u32::from(lead) - u32::from(trail);
            // '11' + 5 bits leading + 6 bits significant count (64 as 0), in one 13-bit field.
            let header = (0b11u64 << 11) | (u64::from(lead) << 6) | u64::from(sig & 63);
            w.write_bits(header, 13);
            w.write_bits(x >> trail, sig);
            self.leading = lead;
            self.trailing = trail;
        }
    }
}

/// Streaming XOR decoder state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct XorDecoder {
    prev: u64,
    leading: u8,
    trailing: u8,
}

impl XorDecoder {
    /// A decoder whose first value (already read) is `first`.
    pub(crate) fn with_first(first: u64) -> Self {
        Self {
            prev: first,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }

    /// Reads the first value.
    pub(crate) fn start(r: &mut BitReader<'_>) -> Result<(Self, u64)> {
        let first = r.read_bits(64)?;
        Ok((
            Self {
                prev: first,
                leading: NO_WINDOW,
                trailing: 0,
            },
            first,
        ))
    }

    /// Reads the next value's raw bits.
    #[inline]
    pub(crate) fn next(&mut self, r: &mut BitReader<'_>) -> Result<u64> {
        if !r.read_bit()? {
            return Ok(self.prev);
        }
        let sig = if !r.read_bit()? {
            if self.leading == NO_WINDOW {
                return Err(corrupt("xor window reused before it was set"));
            }
            64 - u32::from(self.leading) - u32::from(self.trailing)
        } else {
            let header = r.read_bits(11)?;
            let lead = (header >> 6) as u32;
            let sig = match (header & 63) as u32 {
                0 => 64,
                s => s,
            };
            if lead + sig > 64 {
                return Err(corrupt(format!(
                    "xor window of {lead} leading + {sig} significant bits exceeds 64"
                )));
            }
            self.leading = lead as u8;
            self.trailing = (64 - lead - sig) as u8;
            sig
        };
        let v = r.read_bits(sig)?;
        self.prev ^= v << self.trailing;
        Ok(self.prev)
    }
}

/// Encodes a whole value column as a sealed `Xor` section.
pub(crate) fn encode(vs: &[f64], out: &mut Vec<u8>) {
    let mut w = BitWriter::resume(std::mem::take(out));
    let mut it = vs.iter();
    if let Some(first) = it.next() {
        let mut enc = XorEncoder::start(&mut w, first.to_bits());
        for v in it {
            enc.push(&mut w, v.to_bits());
        }
    }
    *out = w.finish();
}

/// Exact size of the sealed `Xor` section of `vs`, counted without writing it (the bits
/// [`XorEncoder::push`] would write, padded to a byte).
pub(crate) fn encoded_len(vs: &[f64]) -> usize {
    let mut it = vs.iter();
    let Some(first) = it.next() else {
        return 0;
    };
    let mut bits = 64u64;
    let (mut prev, mut leading, mut trailing) = (first.to_bits(), NO_WINDOW, 0u8);
    for v in it {
        let x = v.to_bits() ^ prev;
        prev = v.to_bits();
        if x == 0 {
            bits += 1;
            continue;
        }
        let lead = (x.leading_zeros() as u8).min(31);
        let trail = x.trailing_zeros() as u8;
        if leading != NO_WINDOW && lead >= leading && trail >= trailing {
            bits += 2 + 64 - u64::from(leading) - u64::from(trailing);
        } else {
            bits += 13 + 64 - u64::from(lead) - u64::from(trail);
            (leading, trailing) = (lead, trail);
        }
    }
    bits.div_ceil(8) as usize
}

/// Decodes a sealed `Xor` section of `count` values; returns the bytes consumed.
pub(crate) fn decode(data: &[u8], count: usize, vs: &mut Vec<f64>) -> Result<usize> {
    let mut r = BitReader::new(data);
    if count > 0 {
        let (mut dec, first) = XorDecoder::start(&mut r)?;
        vs.push(f64::from_bits(first));
        for _ in 1..count {
            vs.push(f64::from_bits(dec.next(&mut r)?));
        }
    }
    r.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn encoded_len_is_exact(vs in proptest::collection::vec(prop_oneof![
            4 => (0i64..50).prop_map(|m| m as f64 / 4.0),
            2 => any::<u64>().prop_map(f64::from_bits),
            1 => Just(f64::NAN),
        ], 0..200)) {
            let mut out = Vec::new();
            encode(&vs, &mut out);
            prop_assert_eq!(encoded_len(&vs), out.len());
        }
    }
}
