//! WAL record payloads and the varint helpers they use. Format: `docs/format/wal.md`.
//!
//! ```text
//! record := len:u32le | crc32c:u32le | type:u8 | payload        (crc covers type + payload)
//! Series    (1): count:uvarint { ref:uvarint labels }
//! Samples   (2): nseries:uvarint { ref:uvarint n:uvarint { dt:zigzag-varint v:u64le } }   (dt: from the previous sample in the record)
//! Tombstone (3): count:uvarint { ref:uvarint mint:zigzag-varint maxt:zigzag-varint }
//! labels    := n:uvarint { name_len:uvarint name value_len:uvarint value }
//! ```

use crate::error::{Error, Result};
use crate::labels::{Label, Labels};

/// Record type byte of a series-creation record.
pub const REC_SERIES: u8 = 1;
/// Record type byte of a samples record.
pub const REC_SAMPLES: u8 = 2;
/// Record type byte of a deletion (tombstone) record.
pub const REC_TOMBSTONE: u8 = 3;

/// Bytes of the record frame before the payload: length, crc32c, type.
pub const FRAME_HEADER: usize = 9;

/// A record is never larger than this (1 GiB); a larger length field means a corrupt frame.
pub const MAX_RECORD_BYTES: usize = 1 << 30;

/// One decoded WAL record.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// New series: each ref with its labels. Always precedes the first samples of the series.
    Series(Vec<(u64, Labels)>),
    /// Samples, grouped by series ref.
    Samples(Vec<(u64, Vec<(i64, f64)>)>),
    /// Deleted ranges `[mint, maxt]` per series ref.
    Tombstones(Vec<(u64, i64, i64)>),
}

/// Appends an unsigned LEB128 varint.
pub fn put_uvarint(buf: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        buf.push((x as u8) | 0x80);
        x >>= 7;
    }
    buf.push(x as u8);
}

/// Appends a zigzag-encoded signed varint.
pub fn put_varint(buf: &mut Vec<u8>, x: i64) {
    put_uvarint(buf, ((x << 1) ^ (x >> 63)) as u64);
}

/// Appends a length-prefixed string.
pub fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_uvarint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

/// Appends a label set (`n` then name/value pairs).
pub fn put_labels(buf: &mut Vec<u8>, labels: &Labels) {
    put_uvarint(buf, labels.len() as u64);
    for l in labels {
        put_str(buf, &l.name);
        put_str(buf, &l.value);
    }
}

/// A bounds-checked reader over a byte slice.
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Cursor<'a> {
    /// Reads `buf`; `what` names the structure in errors.
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Cursor { buf, pos: 0, what }
    }

    fn corrupt(&self, reason: &str) -> Error {
        Error::Corrupt {
            what: self.what,
            reason: format!("{reason} at byte {} of {}", self.pos, self.buf.len()),
        }
    }

    /// True when every byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Reads an unsigned varint.
    pub fn uvarint(&mut self) -> Result<u64> {
        let mut x: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = *self.buf.get(self.pos).ok_or_else(|| self.corrupt("truncated varint"))?;
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err(self.corrupt("varint overflows 64 bits"));
            }
            x |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(x);
            }
            shift += 7;
            if shift > 63 {
                return Err(self.corrupt("varint longer than 10 bytes"));
            }
        }
    }

    /// Reads a zigzag signed varint.
    pub fn varint(&mut self) -> Result<i64> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// Reads a little-endian u64.
    pub fn u64le(&mut self) -> Result<u64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// Reads `n` raw bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.corrupt("length overflow"))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.corrupt("truncated field"))?;
        self.pos = end;
        Ok(s)
    }

    /// Reads a count that must fit in the remaining bytes (each element takes at least `min_elem` bytes).
    pub fn count(&mut self, min_elem: usize) -> Result<usize> {
        let n = self.uvarint()?;
        let left = self.buf.len().saturating_sub(self.pos) as u64;
        if n.saturating_mul(min_elem as u64) > left {
            return Err(self.corrupt("element count exceeds the remaining bytes"));
        }
        Ok(n as usize)
    }

    /// Reads a length-prefixed UTF-8 string.
    pub fn string(&mut self) -> Result<String> {
        let n = self.count(1)?;
        let b = self.bytes(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| self.corrupt("label is not utf-8"))
    }

    /// Reads a label set written by [`put_labels`]; checks it is sorted and free of empty values.
    pub fn labels(&mut self) -> Result<Labels> {
        let n = self.count(2)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.string()?;
            let value = self.string()?;
            v.push(Label { name, value });
        }
        if v.windows(2)
            .any(|w| w.first().map(|a| &a.name) > w.get(1).map(|b| &b.name))
            || v.iter().any(|l| l.value.is_empty())
        {
            return Err(self.corrupt("label set not sorted or has an empty value"));
        }
        Ok(Labels::from_sorted(v))
    }
}

impl Record {
    /// The record type byte.
    pub fn kind(&self) -> u8 {
        match self {
            Record::Series(_) => REC_SERIES,
            Record::Samples(_) => REC_SAMPLES,
            Record::Tombstones(_) => REC_TOMBSTONE,
        }
    }
}

/// Encodes a series record payload.
pub fn encode_series<'a>(out: &mut Vec<u8>, series: impl ExactSizeIterator<Item = (u64, &'a Labels)>) {
    put_uvarint(out, series.len() as u64);
    for (r, l) in series {
        put_uvarint(out, r);
        put_labels(out, l);
    }
}

/// Encodes a samples record payload from (ref, samples) groups.
pub fn encode_samples<'a>(out: &mut Vec<u8>, groups: impl ExactSizeIterator<Item = (u64, &'a [crate::read::Sample])>) {
    put_uvarint(out, groups.len() as u64);
    // Deltas run across series: in a scrape-shaped batch every series' first timestamp is close to the
    // previous series' last one.
    let mut prev = 0i64;
    for (r, samples) in groups {
        put_uvarint(out, r);
        put_uvarint(out, samples.len() as u64);
        for s in samples {
            put_varint(out, s.t.wrapping_sub(prev));
            prev = s.t;
            out.extend_from_slice(&s.v.to_bits().to_le_bytes());
        }
    }
}

/// Encodes a tombstone record payload.
pub fn encode_tombstones(out: &mut Vec<u8>, stones: &[(u64, i64, i64)]) {
    put_uvarint(out, stones.len() as u64);
    for &(r, mint, maxt) in stones {
        put_uvarint(out, r);
        put_varint(out, mint);
        put_varint(out, maxt);
    }
}

/// Decodes a record payload of type `kind`.
pub fn decode(kind: u8, payload: &[u8]) -> Result<Record> {
    let mut c = Cursor::new(payload, "wal record");
    let rec = match kind {
        REC_SERIES => {
            let n = c.count(2)?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                let r = c.uvarint()?;
                v.push((r, c.labels()?));
            }
            Record::Series(v)
        }
        REC_SAMPLES => {
            let n = c.count(2)?;
            let mut groups = Vec::with_capacity(n);
            let mut prev = 0i64;
            for _ in 0..n {
                let r = c.uvarint()?;
                let m = c.count(9)?;
                let mut samples = Vec::with_capacity(m);
                for _ in 0..m {
                    let t = prev.wrapping_add(c.varint()?);
                    prev = t;
                    samples.push((t, f64::from_bits(c.u64le()?)));
                }
                groups.push((r, samples));
            }
            Record::Samples(groups)
        }
        REC_TOMBSTONE => {
            let n = c.count(3)?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push((c.uvarint()?, c.varint()?, c.varint()?));
            }
            Record::Tombstones(v)
        }
        other => {
            return Err(Error::Corrupt {
                what: "wal record",
                reason: format!("unknown record type {other}"),
            });
        }
    };
    if !c.is_empty() {
        return Err(Error::Corrupt {
            what: "wal record",
            reason: "trailing bytes after payload".to_string(),
        });
    }
    Ok(rec)
}

/// Frames a payload: appends `len | crc32c | type | payload` to `out`.
pub fn frame(out: &mut Vec<u8>, kind: u8, payload: &[u8]) {
    let len = (payload.len() + 1) as u32;
    let mut crc = crc32c::crc32c(&[kind]);
    crc = crc32c::crc32c_append(crc, payload);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.push(kind);
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::read::Sample;

    #[test]
    fn varints_round_trip() {
        let mut b = Vec::new();
        let vals = [0i64, 1, -1, 63, -64, i64::MAX, i64::MIN, 1_700_000_000_000];
        for v in vals {
            put_varint(&mut b, v);
        }
        put_uvarint(&mut b, u64::MAX);
        let mut c = Cursor::new(&b, "t");
        for v in vals {
            assert_eq!(c.varint().unwrap(), v);
        }
        assert_eq!(c.uvarint().unwrap(), u64::MAX);
        assert!(c.is_empty());
    }

    #[test]
    fn records_round_trip() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "x")]);
        let mut p = Vec::new();
        encode_series(&mut p, [(7u64, &l)].into_iter());
        assert_eq!(decode(REC_SERIES, &p).unwrap(), Record::Series(vec![(7, l)]));

        let s = [
            Sample { t: 5, v: 1.5 },
            Sample {
                t: -3,
                v: f64::from_bits(crate::read::STALE_NAN_BITS),
            },
        ];
        let mut p = Vec::new();
        encode_samples(&mut p, [(9u64, &s[..])].into_iter());
        match decode(REC_SAMPLES, &p).unwrap() {
            Record::Samples(g) => {
                assert_eq!(g.len(), 1);
                assert_eq!(g[0].0, 9);
                assert_eq!(g[0].1[0], (5, 1.5));
                assert_eq!(g[0].1[1].0, -3);
                assert_eq!(g[0].1[1].1.to_bits(), crate::read::STALE_NAN_BITS);
            }
            r => panic!("{r:?}"),
        }
        let mut p = Vec::new();
        encode_tombstones(&mut p, &[(1, i64::MIN, i64::MAX)]);
        assert_eq!(
            decode(REC_TOMBSTONE, &p).unwrap(),
            Record::Tombstones(vec![(1, i64::MIN, i64::MAX)])
        );
        assert!(decode(REC_TOMBSTONE, &p[..p.len() - 1]).is_err());
        assert!(decode(99, &p).is_err());
    }
}
