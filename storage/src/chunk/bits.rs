//! Bit and byte primitives of the chunk format (`docs/format/chunks.md`, "Conventions"): an MSB-first bit
//! writer/reader, LEB128 varints, zig-zag mapping and the Rice code shared by the encodings.

use crate::{Error, Result};

/// Builds the error every truncated or malformed input gives.
pub(crate) fn corrupt(reason: impl Into<String>) -> Error {
    Error::Corrupt {
        what: "chunk",
        reason: reason.into(),
    }
}

/// Zig-zag maps a signed integer to an unsigned one (0, -1, 1, -2 ... → 0, 1, 2, 3 ...).
#[inline]
pub(crate) fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

/// Inverse of [`zigzag`].
#[inline]
pub(crate) fn unzigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` as a zig-zag signed varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, zigzag(v));
}

/// Widest value range [`median`] counts instead of selecting.
const COUNTED_SPAN: usize = 256;

/// The element of rank `len / 2` of `xs` (what `select_nth_unstable(len / 2)` leaves there), 0 when
/// empty; `xs` may be reordered. Runs whose values lie within [`COUNTED_SPAN`] of each other, which is
/// what timestamp intervals and grid residuals under millisecond jitter and most counter increments
/// are, are counted into a histogram: two passes without the data-dependent branches of a selection
/// (about 40 % faster on 120 jittered intervals; on wide runs the extra pass makes it about 40 % slower,
/// which is why decimal differences, often wide, are selected directly).
pub(crate) fn median(xs: &mut [i64]) -> i64 {
    let mid = xs.len() / 2;
    let Some(&first) = xs.first() else {
        return 0;
    };
    let (mut lo, mut hi) = (first, first);
    for &x in xs.iter() {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    // `hi >= lo`, so the wrapping difference is the exact span.
    if (hi.wrapping_sub(lo) as u64) < COUNTED_SPAN as u64 {
        let mut counts = [0u32; COUNTED_SPAN];
        for &x in xs.iter() {
            if let Some(c) = counts.get_mut(x.wrapping_sub(lo) as u64 as usize) {
                *c += 1;
            }
        }
        let mut seen = 0usize;
        for (i, &c) in counts.iter().enumerate() {
            seen += c as usize;
            if seen > mid {
                return lo.wrapping_add(i as i64);
            }
        }
    }
    *xs.select_nth_unstable(mid).1
}

/// A cursor over byte-aligned input (header fields, section parameters).
#[derive(Debug, Clone)]
pub(crate) struct ByteReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> ByteReader<'a> {
    /// Starts reading at the beginning of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// Bytes consumed so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The unread rest of the input.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    /// Skips `n` bytes (after a bit stream consumed them).
    pub(crate) fn advance(&mut self, n: usize) -> Result<()> {
        if n > self.data.len() - self.pos {
            return Err(corrupt("section runs past the end"));
        }
        self.pos += n;
        Ok(())
    }

    /// Reads one byte.
    pub(crate) fn u8(&mut self) -> Result<u8> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or_else(|| corrupt("truncated: expected a byte"))?;
        self.pos += 1;
        Ok(b)
    }

    /// Reads a little-endian `u64`.
    pub(crate) fn u64_le(&mut self) -> Result<u64> {
        let bytes: [u8; 8] = self
            .data
            .get(self.pos..self.pos + 8)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| corrupt("truncated: expected 8 bytes"))?;
        self.pos += 8;
        Ok(u64::from_le_bytes(bytes))
    }

    /// Reads an unsigned LEB128 varint of at most 10 bytes that fits a `u64`.
    pub(crate) fn uvarint(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for i in 0..10u32 {
            let b = self.u8()?;
            let low = u64::from(b & 0x7f);
            if i == 9 && b > 1 {
                return Err(corrupt("varint overflows u64"));
            }
            v |= low << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt("varint longer than 10 bytes"))
    }

    /// Reads a zig-zag signed varint.
    pub(crate) fn varint(&mut self) -> Result<i64> {
        self.uvarint().map(unzigzag)
    }
}

/// Appends bits most-significant first. Pending bits live in a 64-bit accumulator and are flushed to the
/// byte buffer eight bytes at a time, which keeps `write_bits` branch-light for the head's hot path.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitWriter {
    buf: Vec<u8>,
    /// Pending bits, right-aligned; only the low `nbits` bits are meaningful.
    acc: u64,
    /// Number of pending bits, `0..64`.
    nbits: u32,
}

impl BitWriter {
    /// An empty writer.
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Total bits written.
    pub(crate) fn bit_len(&self) -> usize {
        self.buf.len() * 8 + self.nbits as usize
    }

    /// Heap bytes held by the writer.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Writes the low `n` bits of `v` (`n <= 64`; higher bits of `v` are ignored).
    #[inline]
    pub(crate) fn write_bits(&mut self, v: u64, n: u32) {
        debug_assert!(n <= 64, "write_bits of {n} bits");
        if n == 0 {
            return;
        }
        let v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
        let free = 64 - self.nbits;
        if n < free {
            self.acc = (self.acc << n) | v;
            self.nbits += n;
        } else {
            // Fill the accumulator to 64 bits, flush it, keep the remaining low `rest` bits of v.
            let rest = n - free;
            let hi = if free == 64 { 0 } else { self.acc << free };
            let word = hi | (v >> rest);
            self.buf.extend_from_slice(&word.to_be_bytes());
            self.acc = if rest == 0 { 0 } else { v & ((1u64 << rest) - 1) };
            self.nbits = rest;
        }
    }

    /// Writes one bit.
    #[inline]
    pub(crate) fn write_bit(&mut self, bit: bool) {
        self.write_bits(u64::from(bit), 1);
    }

    /// The pending (not yet flushed) bits, left-aligned, and how many there are.
    pub(crate) fn tail(&self) -> (u64, u32) {
        if self.nbits == 0 {
            (0, 0)
        } else {
            (self.acc << (64 - self.nbits), self.nbits)
        }
    }

    /// The flushed whole bytes (without the pending tail).
    pub(crate) fn flushed(&self) -> &[u8] {
        &self.buf
    }

    /// A writer that appends to the bytes already in `buf` (taken, e.g., with `std::mem::take` from the
    /// output buffer and given back by [`BitWriter::finish`]), so that sealing writes its bit streams in
    /// place instead of into a fresh buffer that is then copied. [`BitWriter::bit_len`] counts `buf`'s
    /// bytes too.
    pub(crate) fn resume(buf: Vec<u8>) -> Self {
        Self { buf, acc: 0, nbits: 0 }
    }

    /// Pads with zero bits to a byte boundary and returns the buffer (with whatever it held before).
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let (word, nbits) = self.tail();
        let nbytes = nbits.div_ceil(8) as usize;
        self.buf
            .extend_from_slice(word.to_be_bytes().get(..nbytes).unwrap_or_default());
        self.buf
    }

    /// Pads with zero bits to a byte boundary and appends everything to `out`.
    #[cfg(test)]
    pub(crate) fn finish_into(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.buf);
        let (word, nbits) = self.tail();
        let nbytes = nbits.div_ceil(8) as usize;
        out.extend_from_slice(word.to_be_bytes().get(..nbytes).unwrap_or_default());
    }
}

/// Reads bits most-significant first from a byte slice, optionally followed by a partial tail word
/// (the pending bits of a [`BitWriter`] that has not been finished, as the head chunk needs).
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Buffered bits, left-aligned.
    acc: u64,
    /// Number of buffered bits, `0..=64`.
    avail: u32,
    /// Bits after `data`, left-aligned.
    tail: u64,
    tail_bits: u32,
}

impl<'a> BitReader<'a> {
    /// Reads `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self::with_tail(data, 0, 0)
    }

    /// Reads `data`, then the `tail_bits` left-aligned bits of `tail`.
    pub(crate) fn with_tail(data: &'a [u8], tail: u64, tail_bits: u32) -> Self {
        Self {
            data,
            pos: 0,
            acc: 0,
            avail: 0,
            tail,
            tail_bits,
        }
    }

    /// Tops the buffer up to at least 57 bits when input remains.
    #[inline]
    fn refill(&mut self) {
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let word = u64::from_be_bytes(word);
            let take = (63 - self.avail) / 8; // whole bytes that fit
            let keep = self.avail + take * 8; // 1..=63
            self.acc = (self.acc | (word >> self.avail)) & !(u64::MAX >> keep);
            self.avail = keep;
            self.pos += take as usize;
            return;
        }
        while self.avail <= 56 {
            if let Some(&b) = self.data.get(self.pos) {
                self.acc |= u64::from(b) << (56 - self.avail);
                self.avail += 8;
                self.pos += 1;
            } else if self.tail_bits > 0 {
                let take = self.tail_bits.min(64 - self.avail);
                self.acc |= self.tail >> self.avail;
                self.avail += take;
                // Keep only the bits taken, drop them from the tail.
                self.acc &= if self.avail == 64 {
                    u64::MAX
                } else {
                    !(u64::MAX >> self.avail)
                };
                self.tail = if take == 64 { 0 } else { self.tail << take };
                self.tail_bits -= take;
            } else {
                break;
            }
        }
    }

    /// Reads `n <= 56` bits.
    #[inline]
    fn read_small(&mut self, n: u32) -> Result<u64> {
        if self.avail < n {
            self.refill();
            if self.avail < n {
                return Err(corrupt("truncated bit stream"));
            }
        }
        let v = self.acc >> (64 - n);
        self.acc <<= n;
        self.avail -= n;
        Ok(v)
    }

    /// Reads `n <= 64` bits as the low bits of the result.
    #[inline]
    pub(crate) fn read_bits(&mut self, n: u32) -> Result<u64> {
        match n {
            0 => Ok(0),
            1..=56 => self.read_small(n),
            57..=64 => {
                let hi = self.read_small(n - 32)?;
                let lo = self.read_small(32)?;
                Ok((hi << 32) | lo)
            }
            _ => Err(corrupt(format!("bit field of {n} bits"))),
        }
    }

    /// Reads one truncated binary code with short length `k <= 55`: the next `k` bits if they are below
    /// `u`, else `k + 1` bits minus `u`.
    #[inline]
    pub(crate) fn read_truncated(&mut self, k: u32, u: u64) -> Result<u64> {
        debug_assert!(k <= 55);
        if k == 0 {
            return Ok(0); // a single possible value (u == 1)
        }
        if self.avail <= k {
            self.refill();
        }
        if self.avail > k {
            let w = self.acc >> (63 - k); // the next k + 1 bits
            let x = w >> 1;
            let (v, n) = if x < u { (x, k) } else { (w - u, k + 1) };
            self.acc <<= n;
            self.avail -= n;
            return Ok(v);
        }
        // Near the end of the input: the long form may not be buffered, the short one may.
        let x = self.read_small(k)?;
        if x < u {
            Ok(x)
        } else {
            Ok(((x << 1) | self.read_small(1)?) - u)
        }
    }

    /// Reads one bit.
    #[inline]
    pub(crate) fn read_bit(&mut self) -> Result<bool> {
        self.read_small(1).map(|b| b == 1)
    }

    /// Counts leading one bits up to `max`, consuming them and the terminating zero (if fewer than `max`).
    #[inline]
    pub(crate) fn read_unary(&mut self, max: u32) -> Result<u32> {
        if self.avail < max + 1 {
            self.refill();
        }
        let ones = (!self.acc).leading_zeros().min(max);
        if ones < max {
            if ones < self.avail {
                // Ones followed by a zero, all buffered.
                self.acc <<= ones + 1;
                self.avail -= ones + 1;
                return Ok(ones);
            }
        } else if max <= self.avail {
            self.acc = if max == 64 { 0 } else { self.acc << max };
            self.avail -= max;
            return Ok(max);
        }
        // Slow path near the end of the input: bit by bit.
        let mut q = 0;
        while q < max && self.read_bit()? {
            q += 1;
        }
        Ok(q)
    }

    /// Ends the stream: the rest of the current byte must be zero padding. Returns the number of whole
    /// bytes consumed from `data`.
    pub(crate) fn finish(self) -> Result<usize> {
        let pad = self.avail % 8;
        if pad > 0 && (self.acc >> (64 - pad)) != 0 {
            return Err(corrupt("non-zero padding bits"));
        }
        Ok(self.pos - (self.avail / 8) as usize)
    }
}

/// Escape threshold of the Rice code: a quotient of this many ones switches to an explicit-length field.
pub(crate) const RICE_MAX_Q: u32 = 24;

/// Bits the Rice code with parameter `k` spends on `z`.
#[inline]
pub(crate) fn rice_cost(z: u64, k: u32) -> u64 {
    let q = z >> k;
    if q < u64::from(RICE_MAX_Q) {
        q + 1 + u64::from(k)
    } else {
        u64::from(RICE_MAX_Q) + 6 + u64::from(64 - z.leading_zeros())
    }
}

/// Writes `z` in the Rice code with parameter `k` (`docs/format/chunks.md`, "Rice code").
#[inline]
pub(crate) fn rice_write(w: &mut BitWriter, z: u64, k: u32) {
    let q = z >> k;
    if q < u64::from(RICE_MAX_Q) {
        // q ones then a zero (q <= 23), then the low k bits: one field when it fits in 64 bits.
        let q = q as u32;
        let unary = ((1u64 << q) - 1) << 1;
        if q + 1 + k <= 64 {
            // Then `k <= 63`: both shifts are in range.
            w.write_bits((unary << k) | (z & ((1u64 << k) - 1)), q + 1 + k);
        } else {
            w.write_bits(unary, q + 1);
            w.write_bits(z, k);
        }
    } else {
        let len = 64 - z.leading_zeros(); // >= 1 because z >= 24 << k
        w.write_bits((1u64 << RICE_MAX_Q) - 1, RICE_MAX_Q);
        w.write_bits(u64::from(len - 1), 6);
        w.write_bits(z, len);
    }
}

/// Reads one Rice-coded value with parameter `k`.
///
/// The common case (quotient below the escape, whole code buffered) is one refill check, one
/// leading-zero count and two shifts; the rest takes the general path.
#[inline]
pub(crate) fn rice_read(r: &mut BitReader<'_>, k: u32) -> Result<u64> {
    if r.avail < RICE_MAX_Q + 1 + k {
        r.refill();
    }
    // Bits past `avail` are zero in `acc`, so the run of ones counted here never reaches past them.
    let ones = (!r.acc).leading_zeros();
    if ones < RICE_MAX_Q && ones + 1 + k <= r.avail {
        let acc = r.acc << (ones + 1); // ones + 1 <= 24
        let low = acc.checked_shr(64 - k).unwrap_or(0); // k == 0 reads nothing
        r.acc = acc.checked_shl(k).unwrap_or(0);
        r.avail -= ones + 1 + k;
        return Ok((u64::from(ones) << k) | low);
    }
    rice_read_slow(r, k)
}

/// [`rice_read`] near the end of the input or at the escape.
#[cold]
fn rice_read_slow(r: &mut BitReader<'_>, k: u32) -> Result<u64> {
    let q = r.read_unary(RICE_MAX_Q)?;
    if q < RICE_MAX_Q {
        let low = r.read_bits(k)?;
        Ok((u64::from(q) << k) | low)
    } else {
        let len = r.read_bits(6)? as u32 + 1;
        r.read_bits(len)
    }
}

/// The Rice parameter minimising the coded size of `zs`, and that size in bits: the search the residual
/// block planner used before it costed all parameters in one pass (kept as its test oracle).
#[cfg(test)]
pub(crate) fn best_rice_k(zs: &[u64]) -> (u32, u64) {
    if zs.is_empty() {
        return (0, 0);
    }
    let sum: u128 = zs.iter().map(|&z| u128::from(z)).sum();
    let mean = (sum / zs.len() as u128) as u64;
    // For geometric data the optimum is near log2(mean); search around it.
    let centre = 64 - mean.leading_zeros();
    let lo = centre.saturating_sub(3);
    let hi = (centre + 2).min(63);
    let mut best = (0, u64::MAX);
    for k in (lo..=hi).chain(std::iter::once(0)) {
        let cost: u64 = zs.iter().map(|&z| rice_cost(z, k)).sum();
        if cost < best.1 {
            best = (k, cost);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zigzag_edges() {
        for n in [0i64, 1, -1, 2, -2, i64::MAX, i64::MIN] {
            assert_eq!(unzigzag(zigzag(n)), n);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }

    #[test]
    fn varint_rejects_overflow_and_overlong() {
        let mut r = ByteReader::new(&[0xff; 11]);
        assert!(r.uvarint().is_err());
        let mut r = ByteReader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]);
        assert!(r.uvarint().is_err());
        let mut out = Vec::new();
        put_uvarint(&mut out, u64::MAX);
        assert_eq!(out.len(), 10);
        assert_eq!(ByteReader::new(&out).uvarint().unwrap(), u64::MAX);
    }

    proptest! {
        #[test]
        fn median_is_the_selected_element(
            base in prop_oneof![Just(0i64), Just(i64::MIN), Just(i64::MAX - 300), any::<i64>()],
            offsets in proptest::collection::vec(prop_oneof![0i64..=255, 0i64..=300, any::<i64>()], 0..300),
        ) {
            // Spans below, at and above the counted limit, and anywhere in the i64 range.
            let xs: Vec<i64> = offsets.iter().map(|&o| base.wrapping_add(o)).collect();
            let mut sorted = xs.clone();
            sorted.sort_unstable();
            let want = sorted.get(xs.len() / 2).copied().unwrap_or(0);
            let mut got = xs.clone();
            prop_assert_eq!(median(&mut got), want);
        }
    }

    #[test]
    fn median_counts_at_the_span_limit() {
        // 255 apart is counted, 256 apart is selected; both give the middle element.
        for (xs, want) in [
            (vec![5, 260, 100], 100),
            (vec![5, 261, 100, 100], 100),
            (vec![i64::MAX, i64::MAX - 255, i64::MAX - 1], i64::MAX - 1),
            (vec![i64::MIN, i64::MAX], i64::MAX),
            (vec![7], 7),
            (vec![], 0),
        ] {
            assert_eq!(median(&mut xs.clone()), want, "{xs:?}");
        }
    }

    proptest! {
        #[test]
        fn bits_round_trip(fields in proptest::collection::vec((any::<u64>(), 0u32..=64), 0..200),
                           unfinished in any::<bool>()) {
            let mut w = BitWriter::new();
            for &(v, n) in &fields {
                w.write_bits(v, n);
            }
            let total = w.bit_len();
            let bytes;
            let mut r = if unfinished {
                let (tail, tail_bits) = w.tail();
                bytes = w.flushed().to_vec();
                BitReader::with_tail(&bytes, tail, tail_bits)
            } else {
                let mut out = Vec::new();
                w.finish_into(&mut out);
                prop_assert_eq!(out.len(), total.div_ceil(8));
                bytes = out;
                BitReader::new(&bytes)
            };
            for &(v, n) in &fields {
                let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
                prop_assert_eq!(r.read_bits(n).unwrap(), v & mask);
            }
            if unfinished {
                prop_assert!(r.read_bit().is_err());
            } else {
                prop_assert_eq!(r.finish().unwrap(), total.div_ceil(8));
            }
        }

        #[test]
        fn rice_round_trip(zs in proptest::collection::vec(any::<u64>().prop_map(|z| z >> (z % 64)), 1..100),
                           k in 0u32..64) {
            let mut w = BitWriter::new();
            let mut cost = 0;
            for &z in &zs {
                rice_write(&mut w, z, k);
                cost += rice_cost(z, k);
            }
            prop_assert_eq!(w.bit_len() as u64, cost);
            let mut out = Vec::new();
            w.finish_into(&mut out);
            let mut r = BitReader::new(&out);
            for &z in &zs {
                prop_assert_eq!(rice_read(&mut r, k).unwrap(), z);
            }
            r.finish().unwrap();
        }

        #[test]
        fn varint_round_trip(v in any::<i64>()) {
            let mut out = vec![7u8];
            put_varint(&mut out, v);
            let mut r = ByteReader::new(&out);
            prop_assert_eq!(r.u8().unwrap(), 7);
            prop_assert_eq!(r.varint().unwrap(), v);
            prop_assert!(r.rest().is_empty());
        }
    }
}
