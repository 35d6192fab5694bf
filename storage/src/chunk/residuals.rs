//! Residual blocks (`docs/format/chunks.md`, "Residual block"): a run of zig-zagged integer residuals in
//! whichever of four forms is smallest for this run: Rice-coded, Rice-coded behind a zero flag (for runs
//! where most residuals are zero but the others are large), bounded (truncated binary in `[0, max]`, the
//! right code for uniform jitter and all-zero runs), or a sparse list of the non-zero ones. Shared by the
//! coded timestamp encodings and the decimal value encodings.

use super::bits::{
    BitReader, BitWriter, ByteReader, RICE_MAX_Q, corrupt, put_uvarint, rice_cost, rice_read, rice_write,
};
use crate::Result;

/// Mode bytes: Rice with parameter `k` is `RICE + k`, zero-flagged Rice is `ZERO_FLAG + k` (`k <= 63`).
const RICE: u8 = 0;
const ZERO_FLAG: u8 = 64;
/// Truncated binary in `[0, max]`.
const BOUNDED: u8 = 128;
/// Sparse list of non-zero residuals.
const SPARSE: u8 = 129;

/// Length of `v` as a uvarint.
pub(crate) fn uvarint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros()).div_ceil(7) as usize
}

/// Truncated binary code for `[0, max]`: `(k, u)` where values below `u` take `k` bits, the others `k+1`.
#[inline]
fn truncated_binary(max: u64) -> (u32, u128) {
    let n = u128::from(max) + 1;
    let k = 127 - n.leading_zeros(); // floor(log2 n), 0..=64
    let u = (1u128 << (k + 1)) - n;
    (k, u)
}

/// One form of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// Rice with this parameter.
    Rice(u32),
    /// Zero flag, then Rice with this parameter.
    ZeroFlag(u32),
    /// Truncated binary in `[0, max]`.
    Bounded(u64),
    /// Sparse list.
    Sparse,
}

/// The form a block is written in and its exact size in bytes, from [`plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The smallest form.
    pub(crate) form: Form,
    /// Its size in bytes, mode byte included.
    pub(crate) len: usize,
}

/// Bits of the Rice code with parameter `k` over the coded values: every `z` (`zero_flag` false), or
/// `z - 1` of the non-zero ones (`zero_flag` true; `count` of them). `max_w` is the largest coded value.
/// When no quotient reaches the escape, the cost is `Σ (w >> k) + count × (1 + k)`: a shift and an add
/// per value instead of the full [`rice_cost`].
fn rice_bits(zs: &[u64], zero_flag: bool, count: u64, max_w: u64, k: u32) -> u64 {
    if max_w >> k < u64::from(RICE_MAX_Q) {
        // Each quotient is below 24 and there are at most 2^32 values: no overflow.
        let unary: u64 = if zero_flag {
            zs.iter().map(|&z| z.saturating_sub(1) >> k).sum()
        } else {
            zs.iter().map(|&z| z >> k).sum()
        };
        unary + count * (1 + u64::from(k))
    } else if zero_flag {
        zs.iter().filter(|&&z| z != 0).map(|&z| rice_cost(z - 1, k)).sum()
    } else {
        zs.iter().map(|&z| rice_cost(z, k)).sum()
    }
}

/// The Rice parameter minimising [`rice_bits`] and that size in bits, searched as the format's encoder
/// always has: `log2(mean) - 3 ..= log2(mean) + 2` (clamped to `0..=63`; for geometric data the optimum
/// is near `log2(mean)`), then `0`; the first smallest wins. `sum` is the sum of the coded values.
///
/// The ascending scan stops early when no later parameter can be strictly smaller: every coded value
/// costs at least `1 + k` bits, and without escapes the cost is convex in `k` (going from `k` to `k + 1`
/// saves `Σ ceil((w >> k) / 2)`, which shrinks as `k` grows, and costs `count`), so once a step does not
/// improve, none after it does.
fn best_k(zs: &[u64], zero_flag: bool, count: u64, sum: u128, max_w: u64) -> (u32, u64) {
    let mean = if count == 0 {
        0
    } else {
        (sum / u128::from(count)) as u64
    };
    let centre = 64 - mean.leading_zeros();
    let lo = centre.saturating_sub(3);
    let hi = (centre + 2).min(63);
    let convex = max_w >> lo < u64::from(RICE_MAX_Q);
    let mut best = (0, u64::MAX);
    for k in lo..=hi {
        if count.saturating_mul(1 + u64::from(k)) >= best.1 {
            break;
        }
        let cost = rice_bits(zs, zero_flag, count, max_w, k);
        if cost < best.1 {
            best = (k, cost);
        } else if convex {
            break;
        }
    }
    // Then 0, unless the range started there (a repeat would only tie; ties keep the earlier one).
    if lo > 0 && count < best.1 {
        let cost = rice_bits(zs, zero_flag, count, max_w, 0);
        if cost < best.1 {
            best = (0, cost);
        }
    }
    best
}

/// What one cheap pass over a run tells about its forms.
#[derive(Debug, Clone, Copy)]
struct Stats {
    n: u64,
    /// Sum of all values.
    sum: u128,
    /// Sum of `z - 1` over the non-zero values.
    nz_sum: u128,
    /// Number of non-zero values.
    nnz: u64,
    max: u64,
    /// `Σ (bit length of z + 1)`: no Rice parameter codes `z` in fewer bits (`k >= L` costs `1 + k`;
    /// `k < L` costs at least `2^(L-1-k) + 1 + k >= L + 1`; the escape `30 + L`).
    rice_floor_bits: u64,
    /// The same floor for the zero-flagged form: one flag bit per value, plus at least
    /// `bitlen(z - 1) + 1` bits per non-zero `z` (never below `rice_floor_bits`).
    zero_flag_floor_bits: u64,
}

impl Stats {
    /// The first pass.
    fn of(zs: &[u64]) -> Self {
        let (mut sum, mut nz_sum, mut nnz, mut max) = (0u128, 0u128, 0u64, 0u64);
        let (mut rice_floor_bits, mut zero_flag_floor_bits) = (0u64, zs.len() as u64);
        for &z in zs {
            sum += u128::from(z);
            max = max.max(z);
            rice_floor_bits += u64::from(65 - z.leading_zeros());
            if z != 0 {
                nz_sum += u128::from(z - 1);
                nnz += 1;
                zero_flag_floor_bits += u64::from(65 - (z - 1).leading_zeros());
            }
        }
        Self {
            n: zs.len() as u64,
            sum,
            nz_sum,
            nnz,
            max,
            rice_floor_bits,
            zero_flag_floor_bits,
        }
    }

    /// The sparse form's size is at least this: its count, then two bytes per non-zero value.
    fn sparse_floor(&self) -> usize {
        1 + uvarint_len(self.nnz) + 2 * self.nnz as usize
    }

    /// No form of the block is smaller than this many bytes.
    fn lower_bound(&self) -> usize {
        let rice = 1 + self.rice_floor_bits.div_ceil(8) as usize;
        let (tb_k, _) = truncated_binary(self.max);
        let bounded = 1 + uvarint_len(self.max) + (self.n * u64::from(tb_k)).div_ceil(8) as usize;
        rice.min(bounded).min(self.sparse_floor())
    }
}

/// Exact size of the sparse form of `zs`.
fn sparse_len(zs: &[u64]) -> usize {
    let (mut len, mut nnz, mut gap) = (1usize, 0u64, 0u64);
    for &z in zs {
        if z == 0 {
            gap += 1;
        } else {
            len += uvarint_len(gap) + uvarint_len(z);
            nnz += 1;
            gap = 0;
        }
    }
    len + uvarint_len(nnz)
}

/// The smallest form of a block and its exact size: a cheap first pass gathers sums, the maximum and
/// lower bounds of each form's size; then the bounded form is sized exactly, and the sparse form and
/// the Rice parameters of both Rice forms only where their lower bound says they could still win. Ties
/// go to the earlier form in the order Rice, zero-flagged Rice, bounded, sparse (and to the earlier Rice
/// parameter), as the exhaustive search in `tests` does.
pub(crate) fn plan(zs: &[u64]) -> Plan {
    finish(zs, &Stats::of(zs))
}

/// [`plan`] of `zs` if its size is below `limit` bytes, else `None`; when the first pass's lower bound
/// already reaches `limit`, the costly second pass is skipped.
pub(crate) fn plan_below(zs: &[u64], limit: usize) -> Option<Plan> {
    let stats = Stats::of(zs);
    if stats.lower_bound() >= limit {
        return None;
    }
    let plan = finish(zs, &stats);
    (plan.len < limit).then_some(plan)
}

/// The rest of [`plan`] after the first pass.
fn finish(zs: &[u64], st: &Stats) -> Plan {
    let n = st.n;
    let (tb_k, tb_u) = truncated_binary(st.max);
    // Values from `u` on take the long code; `u <= max + 1`, so it only exceeds `u64` when nothing does.
    let long_codes = u64::try_from(tb_u).map_or(0, |u| zs.iter().filter(|&&z| z >= u).count() as u64);
    let bounded = Plan {
        form: Form::Bounded(st.max),
        len: 1 + uvarint_len(st.max) + (n * u64::from(tb_k) + long_codes).div_ceil(8) as usize,
    };
    // Sparse comes last: it needs to be strictly smaller than bounded to win.
    let sparse = (st.sparse_floor() < bounded.len).then(|| Plan {
        form: Form::Sparse,
        len: sparse_len(zs),
    });
    // The Rice forms come first: each wins if it is at most the later forms' sizes.
    let later = sparse.map_or(bounded.len, |s| s.len.min(bounded.len));
    let rice = (1 + st.rice_floor_bits.div_ceil(8) as usize <= later).then(|| {
        let (k, bits) = best_k(zs, false, n, st.sum, st.max);
        Plan {
            form: Form::Rice(k),
            len: 1 + bits.div_ceil(8) as usize,
        }
    });
    // The zero-flagged form only competes when some residual is zero; it codes `z - 1` of the others,
    // and must be strictly smaller than Rice.
    let zero_flag_floor = 1 + st.zero_flag_floor_bits.div_ceil(8) as usize;
    let zero_flag =
        (st.nnz < n && zero_flag_floor <= later && rice.is_none_or(|r| zero_flag_floor < r.len)).then(|| {
            let (k, bits) = best_k(zs, true, st.nnz, st.nz_sum, st.max.saturating_sub(1));
            Plan {
                form: Form::ZeroFlag(k),
                len: 1 + (bits + n).div_ceil(8) as usize,
            }
        });
    let mut best = bounded;
    for plan in [rice, zero_flag, Some(bounded), sparse].into_iter().flatten().rev() {
        // Backwards with `<=`: the earliest of the smallest wins.
        if plan.len <= best.len {
            best = plan;
        }
    }
    best
}

/// Exact encoded size of `zs` as a residual block.
#[cfg(test)]
pub(crate) fn encoded_len(zs: &[u64]) -> usize {
    plan(zs).len
}

/// Appends `zs` as a residual block in its smallest form.
#[cfg(test)]
pub(crate) fn encode(zs: &[u64], out: &mut Vec<u8>) {
    encode_planned(zs, plan(zs).form, out);
}

/// The search as it was before [`plan`]: every form and Rice parameter costed in its own pass. The test
/// oracle of [`plan`] and of the chunk chooser.
#[cfg(test)]
pub(crate) fn plan_exhaustive(zs: &[u64]) -> Plan {
    let (k, bits) = super::bits::best_rice_k(zs);
    let mut best = Plan {
        form: Form::Rice(k),
        len: 1 + bits.div_ceil(8) as usize,
    };
    let mut consider = |form: Form, len: usize| {
        if len < best.len {
            best = Plan { form, len };
        }
    };
    let nonzero: Vec<u64> = zs.iter().filter(|&&z| z != 0).map(|&z| z - 1).collect();
    if nonzero.len() < zs.len() {
        let (k, bits) = super::bits::best_rice_k(&nonzero);
        consider(Form::ZeroFlag(k), 1 + (bits + zs.len() as u64).div_ceil(8) as usize);
    }
    let max = zs.iter().copied().max().unwrap_or(0);
    let (k, u) = truncated_binary(max);
    let bits: u64 = zs.iter().map(|&z| u64::from(k) + u64::from(u128::from(z) >= u)).sum();
    consider(Form::Bounded(max), 1 + uvarint_len(max) + bits.div_ceil(8) as usize);
    consider(Form::Sparse, sparse_len(zs));
    best
}

/// Appends `zs` as a residual block in the form [`plan_exhaustive`] picks (the same as [`encode`]'s).
#[cfg(test)]
pub(crate) fn encode_exhaustive(zs: &[u64], out: &mut Vec<u8>) {
    encode_planned(zs, plan_exhaustive(zs).form, out);
}

/// Appends `zs` as a residual block in `form` (which [`plan`] chose for exactly these `zs`). Bit streams
/// are written straight into `out`.
pub(crate) fn encode_planned(zs: &[u64], form: Form, out: &mut Vec<u8>) {
    match form {
        Form::Rice(k) => {
            out.push(RICE + k as u8);
            let mut w = BitWriter::resume(std::mem::take(out));
            for &z in zs {
                rice_write(&mut w, z, k);
            }
            *out = w.finish();
        }
        Form::ZeroFlag(k) => {
            out.push(ZERO_FLAG + k as u8);
            let mut w = BitWriter::resume(std::mem::take(out));
            for &z in zs {
                w.write_bit(z != 0);
                if z != 0 {
                    rice_write(&mut w, z - 1, k);
                }
            }
            *out = w.finish();
        }
        Form::Bounded(max) => {
            out.push(BOUNDED);
            put_uvarint(out, max);
            let (k, u) = truncated_binary(max);
            let mut w = BitWriter::resume(std::mem::take(out));
            if max < 1 << 63 {
                // Then `k + 1 <= 64` and `z + u < 2^64`: one field per value, its length chosen without a
                // branch (uniform jitter puts values on both sides of `u` at random).
                let u = u as u64;
                for &z in zs {
                    let long = z >= u;
                    w.write_bits(z.wrapping_add(u * u64::from(long)), k + u32::from(long));
                }
            } else {
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
            *out = w.finish();
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
        }
    }
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

    /// Fills `out` with the next `out.len()` residuals: [`ResidualReader::next`] with the form resolved
    /// once per call instead of once per value.
    pub(crate) fn read_into(&mut self, out: &mut [u64]) -> Result<()> {
        match self {
            Self::Rice { bits, k } => {
                let k = *k;
                for o in out.iter_mut() {
                    *o = rice_read(bits, k)?;
                }
            }
            Self::ZeroFlag { bits, k } => {
                let k = *k;
                for o in out.iter_mut() {
                    *o = if bits.read_bit()? {
                        rice_read(bits, k)?.wrapping_add(1)
                    } else {
                        0
                    };
                }
            }
            Self::Bounded { bits, k, u, max, .. } if *k <= 55 => {
                // u <= 2^(k+1) fits; every code read is at most `u + 2^k - 1 <= 2^(k+1)`.
                let (k, u, max) = (*k, *u as u64, *max);
                let mut over = 0u64;
                for o in out.iter_mut() {
                    let z = bits.read_truncated(k, u)?;
                    over |= u64::from(z > max);
                    *o = z;
                }
                if over != 0 {
                    return Err(corrupt(format!("bounded residual above {max}")));
                }
            }
            _ => {
                for o in out.iter_mut() {
                    *o = self.next()?;
                }
            }
        }
        Ok(())
    }

    /// Reads the next `n` residuals in blocks of [`ResidualReader::read_into`] and hands each to `f`, in order.
    #[inline]
    pub(crate) fn for_each(&mut self, n: usize, mut f: impl FnMut(u64)) -> Result<()> {
        let mut buf = [0u64; 64];
        let mut left = n;
        while left > 0 {
            let block = buf.get_mut(..left.min(64)).unwrap_or_default();
            self.read_into(block)?;
            block.iter().for_each(|&z| f(z));
            left -= block.len();
        }
        Ok(())
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
        fn fused_plan_matches_exhaustive(zs in proptest::collection::vec(
            prop_oneof![6 => Just(0u64), 2 => 0u64..20, 2 => 0u64..5000, 1 => any::<u64>().prop_map(|z| z >> (z % 64))],
            0..300)) {
            let exact = plan_exhaustive(&zs);
            prop_assert_eq!(plan(&zs), exact);
            prop_assert!(Stats::of(&zs).lower_bound() <= exact.len);
            for limit in [0, 1, exact.len, exact.len + 1, usize::MAX] {
                prop_assert_eq!(plan_below(&zs, limit), (exact.len < limit).then_some(exact));
            }
        }

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

    proptest! {
        /// Every form (not only the smallest), read back in blocks of random sizes, ends exactly where the
        /// block does: the batch reader's fast paths agree with the writer near the end of the input too.
        #[test]
        fn every_form_reads_back_in_blocks(
            zs in proptest::collection::vec(
                prop_oneof![4 => Just(0u64), 3 => 0u64..40, 2 => 0u64..70_000, 1 => any::<u64>().prop_map(|z| z >> (z % 64))],
                0..200),
            k in 0u32..20,
            splits in proptest::collection::vec(1usize..70, 1..8),
        ) {
            let max = zs.iter().copied().max().unwrap_or(0);
            for form in [Form::Rice(k), Form::ZeroFlag(k), Form::Bounded(max), Form::Sparse] {
                let mut out = vec![9];
                encode_planned(&zs, form, &mut out);
                out.push(0xaa);
                let mut r = ByteReader::new(&out);
                r.u8().unwrap();
                let mut rr = ResidualReader::new(&r).unwrap();
                let mut got = Vec::new();
                let mut split = splits.iter().cycle();
                while got.len() < zs.len() {
                    let n = (*split.next().unwrap()).min(zs.len() - got.len());
                    let mut block = vec![0u64; n];
                    rr.read_into(&mut block).unwrap();
                    got.extend_from_slice(&block);
                }
                prop_assert_eq!(&got, &zs, "form {:?}", form);
                rr.finish(&mut r).unwrap();
                prop_assert_eq!(r.rest(), &[0xaa][..], "form {:?}", form);
            }
        }
    }

    #[test]
    fn plan_handles_the_largest_residuals() {
        for zs in [vec![u64::MAX; 3], vec![0, u64::MAX, 1, 0], vec![u64::MAX - 1, 24, 0]] {
            assert_eq!(plan(&zs), plan_exhaustive(&zs));
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
