//! Residual blocks (`docs/format/chunks.md`, "Residual block"): a run of zig-zagged integer residuals in
//! whichever of four forms is smallest for this run: Rice-coded, Rice-coded behind a zero flag (for runs
//! where most residuals are zero but the others are large), bounded (truncated binary in `[0, max]`, the
//! right code for uniform jitter and all-zero runs), or a sparse list of the non-zero ones. Shared by the
//! coded timestamp encodings and the decimal value encodings.

use super::bits::{BitReader, BitWriter, ByteReader, best_rice_k, corrupt, put_uvarint, rice_read, rice_write};
use crate::Result;

/// Mode bytes: Rice with parameter `k` is `RICE + k`, zero-flagged Rice is `ZERO_FLAG + k` (`k <= 63`).
const RICE: u8 = 0;
const ZERO_FLAG: u8 = 64;
/// Truncated binary in `[0, max]`.
const BOUNDED: u8 = 128;
/// Sparse list of non-zero residuals.
const SPARSE: u8 = 129;

/// Length of `v` as a uvarint.
fn uvarint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros()).div_ceil(7) as usize
}

/// Exact size of the sparse form of `zs`.
fn sparse_len(zs: &[u64]) -> usize {
    let mut len = 1;
    let mut nz = 0u64;
    let mut gap = 0u64;
    for &z in zs {
        if z == 0 {
            gap += 1;
        } else {
            len += uvarint_len(gap) + uvarint_len(z);
            nz += 1;
            gap = 0;
        }
    }
    len + uvarint_len(nz)
}

/// Truncated binary code for `[0, max]`: `(k, u)` where values below `u` take `k` bits, the others `k+1`.
#[inline]
fn truncated_binary(max: u64) -> (u32, u128) {
    let n = u128::from(max) + 1;
    let k = 127 - n.leading_zeros(); // floor(log2 n), 0..=64
    let u = (1u128 << (k + 1)) - n;
    (k, u)
}

/// Bits of the bounded form of `zs` (all `<= max`).
fn bounded_bits(zs: &[u64], max: u64) -> u64 {
    let (k, u) = truncated_binary(max);
    zs.iter().map(|&z| u64::from(k) + u64::from(u128::from(z) >= u)).sum()
}

/// One form of a block, with its exact size in bytes.
#[derive(Debug, Clone, Copy)]
enum Form {
    Rice(u32),
    ZeroFlag(u32),
    Bounded(u64),
    Sparse,
}

/// The smallest form of a block and its size.
fn plan(zs: &[u64]) -> (Form, usize) {
    let (k, bits) = best_rice_k(zs);
    let mut best = (Form::Rice(k), 1 + bits.div_ceil(8) as usize);
    let mut consider = |form: Form, len: usize| {
        if len < best.1 {
            best = (form, len);
        }
    };
    let nonzero: Vec<u64> = zs.iter().filter(|&&z| z != 0).map(|&z| z - 1).collect();
    if nonzero.len() < zs.len() {
        let (k, bits) = best_rice_k(&nonzero);
        let total = bits + zs.len() as u64;
        consider(Form::ZeroFlag(k), 1 + total.div_ceil(8) as usize);
    }
    let max = zs.iter().copied().max().unwrap_or(0);
    let bits = bounded_bits(zs, max);
    consider(Form::Bounded(max), 1 + uvarint_len(max) + bits.div_ceil(8) as usize);
    consider(Form::Sparse, sparse_len(zs));
    best
}

/// Exact encoded size of `zs` as a residual block.
pub(crate) fn encoded_len(zs: &[u64]) -> usize {
    plan(zs).1
}

/// Appends `zs` as a residual block in its smallest form.
pub(crate) fn encode(zs: &[u64], out: &mut Vec<u8>) {
    let mut w = BitWriter::new();
    match plan(zs).0 {
        Form::Rice(k) => {
            out.push(RICE + k as u8);
            for &z in zs {
                rice_write(&mut w, z, k);
            }
        }
        Form::ZeroFlag(k) => {
            out.push(ZERO_FLAG + k as u8);
            for &z in zs {
                w.write_bit(z != 0);
                if z != 0 {
                    rice_write(&mut w, z - 1, k);
                }
            }
        }
        Form::Bounded(max) => {
            out.push(BOUNDED);
            put_uvarint(out, max);
            let (k, u) = truncated_binary(max);
            for &z in zs {
                let z = u128::from(z);
                if z < u {
                    w.write_bits(z as u64, k);
                } else {
                    // k+1 bits of z + u (k+1 <= 65: split off the top bit).
                    let code = z + u;
                    w.write_bits((code >> k) as u64, 1);
                    w.write_bits(code as u64, k);
                }
            }
        }
        Form::Sparse => {
            out.push(SPARSE);
            put_uvarint(out, zs.iter().filter(|&&z| z != 0).count() as u64);
            let mut gap = 0u64;
            for &z in zs {
                if z == 0 {
                    gap += 1;
                } else {
                    put_uvarint(out, gap);
                    put_uvarint(out, z);
                    gap = 0;
                }
            }
            return;
        }
    }
    w.finish_into(out);
}

/// Reads a residual block value by value; the caller asks for exactly as many values as were written.
pub(crate) enum ResidualReader<'a> {
    /// Rice-coded bit stream.
    Rice {
        /// The bit stream.
        bits: BitReader<'a>,
        /// Rice parameter.
        k: u32,
    },
    /// Zero flag, then Rice-coded `z - 1`.
    ZeroFlag {
        /// The bit stream.
        bits: BitReader<'a>,
        /// Rice parameter.
        k: u32,
    },
    /// Truncated binary.
    Bounded {
        /// The bit stream.
        bits: BitReader<'a>,
        /// Bytes of the block before the bit stream.
        skip: usize,
        /// Short code length.
        k: u32,
        /// Values below `u` use `k` bits.
        u: u128,
        /// Largest value.
        max: u64,
    },
    /// Sparse list of non-zero residuals.
    Sparse {
        /// The list's bytes.
        bytes: ByteReader<'a>,
        /// Entries not yet read.
        nz_left: u64,
        /// Zeros to return before `pending`.
        zeros_left: u64,
        /// The next non-zero residual, once its entry is read.
        pending: Option<u64>,
    },
}

impl<'a> ResidualReader<'a> {
    /// Starts reading the block at the position of `r` (which [`ResidualReader::finish`] advances).
    pub(crate) fn new(r: &ByteReader<'a>) -> Result<Self> {
        let mut bytes = ByteReader::new(r.rest());
        let mode = bytes.u8()?;
        match mode {
            RICE..ZERO_FLAG => {
                return Ok(Self::Rice {
                    bits: BitReader::new(bytes.rest()),
                    k: u32::from(mode - RICE),
                });
            }
            ZERO_FLAG..BOUNDED => {
                return Ok(Self::ZeroFlag {
                    bits: BitReader::new(bytes.rest()),
                    k: u32::from(mode - ZERO_FLAG),
                });
            }
            BOUNDED => {
                let max = bytes.uvarint()?;
                let (k, u) = truncated_binary(max);
                return Ok(Self::Bounded {
                    bits: BitReader::new(bytes.rest()),
                    skip: bytes.pos(),
                    k,
                    u,
                    max,
                });
            }
            SPARSE => {}
            _ => return Err(corrupt(format!("unknown residual block mode {mode}"))),
        }
        let nz_left = bytes.uvarint()?;
        let mut reader = Self::Sparse {
            bytes,
            nz_left,
            zeros_left: 0,
            pending: None,
        };
        reader.load_entry()?;
        Ok(reader)
    }

    /// Sparse mode: reads the next (gap, value) entry if any is left.
    fn load_entry(&mut self) -> Result<()> {
        if let Self::Sparse {
            bytes,
            nz_left,
            zeros_left,
            pending,
        } = self
            && *nz_left > 0
        {
            *zeros_left = bytes.uvarint()?;
            *pending = Some(bytes.uvarint()?);
            *nz_left -= 1;
        }
        Ok(())
    }

    /// The next residual.
    #[inline]
    pub(crate) fn next(&mut self) -> Result<u64> {
        match self {
            Self::Rice { bits, k } => rice_read(bits, *k),
            Self::ZeroFlag { bits, k } => {
                if bits.read_bit()? {
                    Ok(rice_read(bits, *k)?.wrapping_add(1))
                } else {
                    Ok(0)
                }
            }
            Self::Bounded { bits, k, u, max, .. } => {
                let x = u128::from(bits.read_bits(*k)?);
                let z = if x < *u {
                    x
                } else {
                    ((x << 1) | u128::from(bits.read_bits(1)?)) - *u
                };
                if z > u128::from(*max) {
                    return Err(corrupt(format!("bounded residual {z} above {max}")));
                }
                Ok(z as u64)
            }
            Self::Sparse {
                zeros_left, pending, ..
            } => {
                if *zeros_left > 0 {
                    *zeros_left -= 1;
                    return Ok(0);
                }
                match pending.take() {
                    Some(z) => {
                        self.load_entry()?;
                        Ok(z)
                    }
                    None => Ok(0),
                }
            }
        }
    }

    /// Ends the block: checks that everything written was read and advances `r` past it.
    pub(crate) fn finish(self, r: &mut ByteReader<'_>) -> Result<()> {
        match self {
            Self::Rice { bits, .. } | Self::ZeroFlag { bits, .. } => {
                let used = bits.finish()?;
                r.advance(1 + used)
            }
            Self::Bounded { bits, skip, .. } => {
                let used = bits.finish()?;
                r.advance(skip + used)
            }
            Self::Sparse {
                bytes,
                nz_left,
                zeros_left,
                pending,
            } => {
                if nz_left > 0 || zeros_left > 0 || pending.is_some() {
                    return Err(corrupt("sparse residual block longer than its run"));
                }
                r.advance(bytes.pos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn block_round_trip(zs in proptest::collection::vec(
            prop_oneof![6 => Just(0u64), 2 => 0u64..20, 1 => any::<u64>()], 0..300)) {
            let mut out = vec![9];
            encode(&zs, &mut out);
            prop_assert_eq!(out.len() - 1, encoded_len(&zs));
            out.push(0xaa);
            let mut r = ByteReader::new(&out);
            r.u8().unwrap();
            let mut rr = ResidualReader::new(&r).unwrap();
            for &z in &zs {
                prop_assert_eq!(rr.next().unwrap(), z);
            }
            rr.finish(&mut r).unwrap();
            prop_assert_eq!(r.rest(), &[0xaa][..]);
        }
    }

    #[test]
    fn sparse_is_used_for_mostly_zero() {
        let mut zs = vec![0u64; 118];
        zs[40] = 30_000;
        let mut out = Vec::new();
        encode(&zs, &mut out);
        assert_eq!(out, vec![SPARSE, 1, 40, 0xb0, 0xea, 0x01]);
    }

    #[test]
    fn bounded_is_used_for_uniform_and_all_zero() {
        // Uniform in 0..=10: truncated binary, 3 or 4 bits each.
        let zs: Vec<u64> = (0..118).map(|i| (i * 7) % 11).collect();
        let mut out = Vec::new();
        encode(&zs, &mut out);
        assert_eq!(out[..2], [BOUNDED, 10]);
        assert!(out.len() <= 2 + (118 * 36usize).div_ceil(80), "{} bytes", out.len());
        let mut out = Vec::new();
        encode(&[0; 118], &mut out);
        assert_eq!(out, vec![BOUNDED, 0]);
        assert_eq!(encoded_len(&[]), 1);
    }
}
