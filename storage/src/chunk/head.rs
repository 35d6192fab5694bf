//! The head's append-only chunk (`docs/format/chunks.md`, "Head chunk"): one bit stream of delta-of-delta
//! timestamps in fixed buckets and values either XOR-coded (Gorilla) or, when the first value is a short
//! decimal, as delta-of-delta of the scaled integer with escapes. A few ns per append; never persisted as
//! such (sealing re-encodes).

use super::bits::{BitReader, BitWriter};
use super::decimal;
use super::xor::{XorDecoder, XorEncoder};
use super::{MAX_SAMPLES, encode_chunk};
use crate::{Error, Result};

/// Payload widths of the timestamp delta-of-delta buckets after the prefixes `10`, `110`, `1110`,
/// `11110`, `111110`. Sized for 15 s scrapes with millisecond jitter: ±5 ms jitter (delta-of-delta within
/// ±20) costs 7–11 bits, ±50 ms costs 11–16 bits, and a first interval of up to 2.3 h (the first
/// delta-of-delta is the first interval) fits the 29-bit bucket.
const TS_BUCKETS: [u32; 5] = [5, 8, 12, 24, 64];

/// Payload widths of the decimal value buckets after the prefixes `10`, `110`, `1110`, `11110`; `11111`
/// is the escape. A 0.01-resolution counter whose increment varies by up to ±0.32 costs 8 bits.
const VALUE_BUCKETS: [u32; 4] = [6, 13, 24, 64];

/// Largest scale the head's decimal mode uses; values needing more go through escapes, and a first value
/// needing more selects XOR (17-digit "decimals" of noisy floats are cheaper XOR-coded).
const HEAD_MAX_SCALE: u8 = 9;

/// Writes `v` in the first bucket of `widths` it fits (the last width must be 64): `0` for zero, else
/// `i+1` ones, a zero and `widths[i]` bits of two's complement.
#[inline]
fn write_bucketed<const N: usize>(w: &mut BitWriter, v: i64, widths: &[u32; N]) {
    if v == 0 {
        w.write_bit(false);
        return;
    }
    for (i, &n) in widths.iter().enumerate() {
        let fits = n == 64 || {
            let half = 1i64 << (n - 1);
            (-half..half).contains(&v)
        };
        if fits {
            let ones = i as u32 + 1;
            let prefix = ((1u64 << ones) - 1) << 1;
            if ones + 1 + n <= 64 {
                let payload = (v as u64) & ((1u64 << n) - 1);
                w.write_bits((prefix << n) | payload, ones + 1 + n);
            } else {
                w.write_bits(prefix, ones + 1);
                w.write_bits(v as u64, n);
            }
            return;
        }
    }
}

/// Reads a value written by [`write_bucketed`]; `None` for the escape prefix (`N+1` ones).
#[inline]
fn read_bucketed<const N: usize>(r: &mut BitReader<'_>, widths: &[u32; N]) -> Result<Option<i64>> {
    let ones = r.read_unary(N as u32 + 1)?;
    if ones == 0 {
        return Ok(Some(0));
    }
    let Some(&n) = widths.get(ones as usize - 1) else {
        return Ok(None);
    };
    let v = r.read_bits(n)?;
    let shift = 64 - n;
    Ok(Some(((v << shift) as i64) >> shift))
}

/// Writes the escape prefix of a bucketed code (`N+1` ones).
#[inline]
fn write_escape<const N: usize>(w: &mut BitWriter, _widths: &[u32; N]) {
    w.write_bits((1u64 << (N + 1)) - 1, N as u32 + 1);
}

/// Value coder state of a head chunk.
#[derive(Debug, Clone, Copy)]
enum Values {
    /// Gorilla XOR.
    Xor(XorEncoder),
    /// Scaled decimals: delta-of-delta of `m = v × 10^scale` in [`VALUE_BUCKETS`].
    Decimal {
        scale: u8,
        last_m: i64,
        last_dm: i64,
        /// Raw bits of the last value (escapes included).
        last_bits: u64,
    },
}

/// Streaming appender used by the in-memory head: cheap per-sample append, compact in memory
/// (delta-of-delta timestamps; XOR values, or scaled-decimal delta-of-delta when the first value is a short
/// decimal), ~1–2 bytes per sample on typical data.
#[derive(Debug, Clone, Default)]
pub struct HeadChunk {
    w: BitWriter,
    count: usize,
    first_t: i64,
    last_t: i64,
    last_delta: i64,
    /// `None` until the first sample.
    values: Option<Values>,
}

impl HeadChunk {
    /// An empty chunk.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a sample; requires `t` greater than the last timestamp (the caller guarantees it; otherwise
    /// `Error::Internal`). A chunk holds at most [`MAX_SAMPLES`] samples (`Error::LimitExceeded` beyond).
    #[inline]
    pub fn append(&mut self, t: i64, v: f64) -> Result<()> {
        let Some(values) = self.values.as_mut() else {
            self.start(t, v);
            return Ok(());
        };
        if t <= self.last_t {
            return Err(Error::Internal(format!(
                "head chunk append: timestamp {t} not after the last one {}",
                self.last_t
            )));
        }
        if self.count >= MAX_SAMPLES {
            return Err(Error::LimitExceeded(format!(
                "head chunk holds at most {MAX_SAMPLES} samples"
            )));
        }
        let delta = t.wrapping_sub(self.last_t);
        write_bucketed(&mut self.w, delta.wrapping_sub(self.last_delta), &TS_BUCKETS);
        match values {
            Values::Xor(xor) => xor.push(&mut self.w, v.to_bits()),
            Values::Decimal {
                scale,
                last_m,
                last_dm,
                last_bits,
            } => {
                *last_bits = v.to_bits();
                if let Some(m) = decimal::scaled(v, *scale) {
                    let dm = m.wrapping_sub(*last_m);
                    write_bucketed(&mut self.w, dm.wrapping_sub(*last_dm), &VALUE_BUCKETS);
                    *last_m = m;
                    *last_dm = dm;
                } else {
                    write_escape(&mut self.w, &VALUE_BUCKETS);
                    match rescale(v, *scale) {
                        Some((s, m)) => {
                            // '1', new scale, m: continue at the larger scale.
                            self.w.write_bits((1 << 5) | u64::from(s), 6);
                            self.w.write_bits(m as u64, 64);
                            (*scale, *last_m, *last_dm) = (s, m, 0);
                        }
                        None => {
                            // '0', raw bits; the decimal state is unchanged.
                            self.w.write_bit(false);
                            self.w.write_bits(v.to_bits(), 64);
                        }
                    }
                }
            }
        }
        self.last_t = t;
        self.last_delta = delta;
        self.count += 1;
        Ok(())
    }

    /// The first sample: raw timestamp and value, then the value mode.
    fn start(&mut self, t: i64, v: f64) {
        self.w.write_bits(t as u64, 64);
        let decimal = decimal::min_scale(v)
            .filter(|&s| s <= HEAD_MAX_SCALE)
            .and_then(|s| Some((s, decimal::scaled(v, s)?)));
        self.values = Some(match decimal {
            Some((scale, m)) => {
                self.w.write_bits(v.to_bits(), 64);
                self.w.write_bits((1 << 5) | u64::from(scale), 6);
                Values::Decimal {
                    scale,
                    last_m: m,
                    last_dm: 0,
                    last_bits: v.to_bits(),
                }
            }
            None => {
                let xor = XorEncoder::start(&mut self.w, v.to_bits());
                self.w.write_bit(false);
                Values::Xor(xor)
            }
        });
        self.first_t = t;
        self.last_t = t;
        self.last_delta = 0;
        self.count = 1;
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no sample was appended yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The first timestamp, if any.
    pub fn first_t(&self) -> Option<i64> {
        self.values.map(|_| self.first_t)
    }

    /// The last timestamp, if any.
    pub fn last_t(&self) -> Option<i64> {
        self.values.map(|_| self.last_t)
    }

    /// The last value, if any.
    pub fn last_v(&self) -> Option<f64> {
        self.values.map(|v| match v {
            Values::Xor(x) => f64::from_bits(x.last()),
            Values::Decimal { last_bits, .. } => f64::from_bits(last_bits),
        })
    }

    /// Heap bytes used (for memory accounting).
    pub fn byte_size(&self) -> usize {
        self.w.heap_bytes()
    }

    /// Bits of encoded samples so far (the compactness figure, independent of allocation slack).
    pub fn encoded_bits(&self) -> usize {
        self.w.bit_len()
    }

    /// Decodes all samples, appending to the two output columns.
    pub fn decode_into(&self, ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<()> {
        if self.count == 0 {
            return Ok(());
        }
        let (tail, tail_bits) = self.w.tail();
        let mut r = BitReader::with_tail(self.w.flushed(), tail, tail_bits);
        ts.reserve(self.count);
        vs.reserve(self.count);
        let (ts_len, vs_len) = (ts.len(), vs.len());
        let res = self.decode_stream(&mut r, ts, vs);
        if let Err(e) = res {
            ts.truncate(ts_len);
            vs.truncate(vs_len);
            return Err(Error::Internal(format!("head chunk does not decode: {e}")));
        }
        Ok(())
    }

    /// [`HeadChunk::decode_into`] without the clean-up.
    fn decode_stream(&self, r: &mut BitReader<'_>, ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<()> {
        let mut t = r.read_bits(64)? as i64;
        let first = r.read_bits(64)?;
        ts.push(t);
        vs.push(f64::from_bits(first));
        let decimal_scale = if r.read_bit()? {
            Some(r.read_bits(5)? as u8)
        } else {
            None
        };
        let mut delta = 0i64;
        let mut next_t = |r: &mut BitReader<'_>| -> Result<i64> {
            let dod = read_bucketed(r, &TS_BUCKETS)?.ok_or_else(|| Error::Internal("escape in a timestamp".into()))?;
            delta = delta.wrapping_add(dod);
            t = t.wrapping_add(delta);
            Ok(t)
        };
        match decimal_scale {
            None => {
                let mut dec = XorDecoder::with_first(first);
                for _ in 1..self.count {
                    ts.push(next_t(r)?);
                    vs.push(f64::from_bits(dec.next(r)?));
                }
            }
            Some(mut scale) => {
                let mut m = decimal::scaled(f64::from_bits(first), scale)
                    .ok_or_else(|| Error::Internal("first value not at its scale".into()))?;
                let mut dm = 0i64;
                for _ in 1..self.count {
                    ts.push(next_t(r)?);
                    let v = match read_bucketed(r, &VALUE_BUCKETS)? {
                        Some(ddm) => {
                            dm = dm.wrapping_add(ddm);
                            m = m.wrapping_add(dm);
                            decimal::unscale(m, scale)
                        }
                        None if r.read_bit()? => {
                            scale = r.read_bits(5)? as u8;
                            m = r.read_bits(64)? as i64;
                            dm = 0;
                            decimal::unscale(m, scale)
                        }
                        None => f64::from_bits(r.read_bits(64)?),
                    };
                    vs.push(v);
                }
            }
        }
        Ok(())
    }

    /// Seals the chunk: decodes it and re-encodes it with [`encode_chunk`], which picks the smallest sealed
    /// encoding. Fails with `Error::Internal` on an empty chunk.
    pub fn seal(&self) -> Result<Vec<u8>> {
        let mut ts = Vec::with_capacity(self.count);
        let mut vs = Vec::with_capacity(self.count);
        self.decode_into(&mut ts, &mut vs)?;
        encode_chunk(&ts, &vs)
    }
}

/// A larger scale (up to [`HEAD_MAX_SCALE`]) at which `v` is an exact decimal, and its scaled value.
fn rescale(v: f64, current: u8) -> Option<(u8, i64)> {
    if !v.is_finite() {
        return None;
    }
    (current + 1..=HEAD_MAX_SCALE).find_map(|s| Some((s, decimal::scaled(v, s)?)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn round_trip_bucketed<const N: usize>(widths: &[u32; N]) {
        let mut vals = vec![0i64, 1, -1, i64::MAX, i64::MIN];
        for n in widths.iter().filter(|&&n| n < 64) {
            let half = 1i64 << (n - 1);
            vals.extend([half - 1, half, -half, -half - 1]);
        }
        let mut w = BitWriter::new();
        for &v in &vals {
            write_bucketed(&mut w, v, widths);
        }
        write_escape(&mut w, widths);
        let mut out = Vec::new();
        w.finish_into(&mut out);
        let mut r = BitReader::new(&out);
        for &v in &vals {
            assert_eq!(read_bucketed(&mut r, widths).unwrap(), Some(v));
        }
        assert_eq!(read_bucketed(&mut r, widths).unwrap(), None);
    }

    #[test]
    fn buckets_round_trip_at_edges() {
        round_trip_bucketed(&TS_BUCKETS);
        round_trip_bucketed(&VALUE_BUCKETS);
    }

    #[test]
    fn decimal_mode_escapes_and_rescales() {
        let vals = [
            1234.5,
            1234.56,
            f64::from_bits(0x7ff0_0000_0000_0002),
            1234.57,
            0.1 + 0.2,
            -0.0,
            1234.575,
            f64::INFINITY,
            1e300,
            1234.58,
        ];
        let mut c = HeadChunk::new();
        for (i, &v) in vals.iter().enumerate() {
            c.append(i as i64 * 15_000, v).unwrap();
            assert_eq!(c.last_v().map(f64::to_bits), Some(v.to_bits()));
        }
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        c.decode_into(&mut ts, &mut vs).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&vs), bits(&vals));
        assert_eq!(ts, (0..10).map(|i| i * 15_000).collect::<Vec<_>>());
    }

    #[test]
    fn counter_is_compact_in_decimal_mode() {
        let mut c = HeadChunk::new();
        let mut cents = 12_345_600i64;
        for i in 0..120 {
            cents += 1400 + (i * 37) % 50;
            c.append(i * 15_000, cents as f64 / 100.0).unwrap();
        }
        // 16 bytes for the first sample, then ~1 bit of timestamp and ~9 bits of value.
        assert!(c.encoded_bits() < 16 * 8 + 119 * 12, "{} bits", c.encoded_bits());
    }

    #[test]
    fn rejects_non_increasing_and_reports_state() {
        let mut c = HeadChunk::new();
        assert!(c.is_empty());
        assert_eq!(c.first_t(), None);
        assert_eq!(c.last_v(), None);
        c.append(1000, 1.5).unwrap();
        assert!(matches!(c.append(1000, 2.0), Err(Error::Internal(_))));
        assert!(matches!(c.append(999, 2.0), Err(Error::Internal(_))));
        c.append(16_000, -0.0).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.first_t(), Some(1000));
        assert_eq!(c.last_t(), Some(16_000));
        assert_eq!(c.last_v().map(f64::to_bits), Some((-0.0f64).to_bits()));
        assert!(c.seal().is_ok());
        assert!(c.byte_size() >= c.encoded_bits() / 8);
        assert!(HeadChunk::new().seal().is_err());
    }
}
