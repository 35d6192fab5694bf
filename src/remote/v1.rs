//! Zero-copy decoder of `prometheus.WriteRequest` (remote write 1.0), the hot path of `POST /api/v1/write`.
//!
//! It walks the decompressed body once, VictoriaMetrics-style, and yields per `TimeSeries` the labels as
//! `&str` slices of the body (UTF-8 checked), the samples, and a 64-bit key of the series' label bytes for
//! the storage's series-ref cache ([`strata_storage::Storage::append_keyed`]). Histograms and exemplars are
//! checked and counted, metadata is copied out. Nothing is allocated per label.
//!
//! It accepts and rejects exactly what prost's decoding of [`proto::WriteRequest`](super::proto::WriteRequest)
//! does (field numbers in `proto.rs`): wire types of known fields are checked, unknown fields (groups too)
//! are skipped, a repeated scalar keeps its last value, varints longer than 10 bytes or overflowing 64 bits
//! and nesting deeper than prost's recursion limit are errors. The tests compare both decoders.

use std::ops::Range;

use strata_storage::{KeyedSeries, Sample};

use super::proto;
use crate::metadata::MetricMetadata;

/// Nesting budget, as prost's `RECURSION_LIMIT`: each message or group level spends one.
const RECURSION_LIMIT: u32 = 100;

const WIRE_VARINT: u8 = 0;
const WIRE_FIXED64: u8 = 1;
const WIRE_LEN: u8 = 2;
const WIRE_START_GROUP: u8 = 3;
const WIRE_END_GROUP: u8 = 4;
const WIRE_FIXED32: u8 = 5;

/// Why a body is not a valid `prometheus.WriteRequest`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {offset}")]
pub struct Malformed {
    /// What is wrong.
    pub what: &'static str,
    /// Offset in the body where it was found.
    pub offset: usize,
}

/// One `TimeSeries` with samples: where its labels and samples are in [`V1Batch`], and its cache key.
#[derive(Debug, Clone)]
pub struct SeriesSpan {
    /// Hash of the bytes of the series' label fields as they arrived (see [`KeyedSeries::key`]).
    pub key: u64,
    /// Its labels in [`V1Batch::labels`].
    pub labels: Range<usize>,
    /// Its samples in [`V1Batch::samples`].
    pub samples: Range<usize>,
}

/// A decoded `prometheus.WriteRequest` whose label strings borrow the body. Series without samples are
/// left out (their labels and content are still checked), as the owned decoder does.
#[derive(Debug, Default)]
pub struct V1Batch<'a> {
    /// `(name, value)` pairs of every series, back to back; each series' pairs sorted by name (then value).
    pub labels: Vec<(&'a str, &'a str)>,
    /// Samples of every series, back to back.
    pub samples: Vec<Sample>,
    /// The series.
    pub series: Vec<SeriesSpan>,
    /// Metric metadata carried by the request.
    pub metadata: Vec<(String, MetricMetadata)>,
    /// Native histogram samples received (not stored yet).
    pub histograms: u64,
    /// Exemplars received (not stored).
    pub exemplars: u64,
}

impl<'a> V1Batch<'a> {
    /// Decodes `body`, replacing what the batch held but keeping its vectors' capacity.
    pub fn decode(&mut self, body: &'a [u8]) -> Result<(), Malformed> {
        self.labels.clear();
        self.samples.clear();
        self.series.clear();
        self.metadata.clear();
        self.histograms = 0;
        self.exemplars = 0;
        let mut r = Reader::new(body, 0);
        let depth = RECURSION_LIMIT;
        while let Some((field, wire)) = r.key()? {
            match field {
                1 => {
                    let (sub, base) = r.message(wire, depth)?;
                    self.time_series(Reader::new(sub, base), depth - 1)?;
                }
                3 => {
                    let (sub, base) = r.message(wire, depth)?;
                    let m = metadata(Reader::new(sub, base), depth - 1)?;
                    self.metadata.push(m);
                }
                _ => r.skip(field, wire, depth)?,
            }
        }
        Ok(())
    }

    /// The series as storage input, borrowing this batch.
    pub fn keyed(&self) -> impl Iterator<Item = KeyedSeries<'_>> + '_ {
        self.series.iter().map(|s| KeyedSeries {
            key: s.key,
            labels: self.labels.get(s.labels.clone()).unwrap_or_default(),
            samples: self.samples.get(s.samples.clone()).unwrap_or_default(),
        })
    }

    /// Number of samples in the batch.
    pub fn sample_count(&self) -> u64 {
        self.samples.len() as u64
    }

    fn time_series(&mut self, mut r: Reader<'a>, depth: u32) -> Result<(), Malformed> {
        let labels_start = self.labels.len();
        let samples_start = self.samples.len();
        let mut key = KEY_SEED;
        while let Some((field, wire)) = r.key()? {
            match field {
                1 => {
                    if wire == WIRE_LEN
                        && let Some(end) = self.plain_label_run(r.buf, r.pos, &mut key)
                    {
                        r.pos = end;
                        continue;
                    }
                    let field_start = r.pos;
                    let (sub, base) = r.message(wire, depth)?;
                    let pair = match plain_label(sub) {
                        Some(p) => p,
                        None => label(Reader::new(sub, base), depth - 1)?,
                    };
                    self.labels.push(pair);
                    key = fold(key, r.buf.get(field_start..r.pos).unwrap_or_default());
                }
                2 => {
                    if wire == WIRE_LEN
                        && let Some(end) = self.plain_sample_run(r.buf, r.pos)
                    {
                        r.pos = end;
                        continue;
                    }
                    let (sub, base) = r.message(wire, depth)?;
                    let s = match plain_sample(sub) {
                        Some(s) => s,
                        None => sample(Reader::new(sub, base), depth - 1)?,
                    };
                    self.samples.push(s);
                }
                3 => {
                    let (sub, base) = r.message(wire, depth)?;
                    exemplar(Reader::new(sub, base), depth - 1)?;
                    self.exemplars += 1;
                }
                4 => {
                    let (sub, base) = r.message(wire, depth)?;
                    histogram(Reader::new(sub, base), depth - 1)?;
                    self.histograms += 1;
                }
                _ => r.skip(field, wire, depth)?,
            }
        }
        if self.samples.len() == samples_start {
            self.labels.truncate(labels_start);
            return Ok(());
        }
        // Storage serves a series from its ref cache only when the labels come sorted by name. Prometheus
        // sends them sorted; other senders get them sorted here, as `Labels::from_pairs` would (the key
        // stays that of the bytes as sent).
        if let Some(pairs) = self.labels.get_mut(labels_start..)
            && !pairs.is_sorted_by(|a, b| a.0 < b.0)
        {
            pairs.sort_unstable();
        }
        self.series.push(SeriesSpan {
            key: finish(key),
            labels: labels_start..self.labels.len(),
            samples: samples_start..self.samples.len(),
        });
        Ok(())
    }
}

/// Longest run of label fields [`V1Batch::plain_label_run`] reads at once (a run ends early at any other
/// field; the next label field starts another run).
const MAX_RUN: usize = 32;

impl<'a> V1Batch<'a> {
    /// Reads consecutive label fields in the form of [`plain_label`], starting just after the first one's
    /// tag at `start`, with one UTF-8 check for the whole run; pushes the labels, folds each field (without
    /// its tag, as the field-by-field path does) into `key` and returns the position after the run. `None`,
    /// with nothing pushed, when the first field is not in that form or the run is not UTF-8: the caller
    /// then decodes field by field (and reports bad UTF-8 as such).
    fn plain_label_run(&mut self, buf: &'a [u8], start: usize, key: &mut u64) -> Option<usize> {
        // Per field: where its length byte is, and the lengths of name and value.
        let mut fields = [(0usize, 0usize, 0usize); MAX_RUN];
        let mut n = 0;
        let mut p = start;
        while let Some(slot) = fields.get_mut(n) {
            if n > 0 && buf.get(p) != Some(&0x0a) {
                break;
            }
            let body = if n == 0 { p } else { p + 1 };
            let Some((n1, n2, end)) = plain_field(buf, body) else {
                break;
            };
            *slot = (body, n1, n2);
            n += 1;
            p = end;
        }
        if n == 0 {
            return None;
        }
        // Tags and lengths are ASCII: the run is UTF-8 exactly when all its strings are.
        let run = std::str::from_utf8(buf.get(start..p)?).ok()?;
        let before = self.labels.len();
        let mut k = *key;
        for &(body, n1, n2) in fields.get(..n)? {
            let o = body - start;
            let pair = run.get(o + 3..o + 3 + n1).zip(run.get(o + 5 + n1..o + 5 + n1 + n2));
            let Some(pair) = pair else {
                debug_assert!(false, "label run boundaries inside a character");
                self.labels.truncate(before);
                return None;
            };
            self.labels.push(pair);
            k = fold(k, buf.get(body..body + 5 + n1 + n2).unwrap_or_default());
        }
        *key = k;
        Some(p)
    }
}

impl V1Batch<'_> {
    /// Reads consecutive sample fields in the form of [`plain_sample`], starting just after the first
    /// one's tag at `start`; pushes the samples and returns the position after the run. `None`, with
    /// nothing pushed, when the first field is not in that form: the caller then decodes it field by
    /// field.
    fn plain_sample_run(&mut self, buf: &[u8], start: usize) -> Option<usize> {
        let mut p = start;
        let mut first = true;
        loop {
            let at = if first {
                p
            } else if buf.get(p) == Some(&0x12) {
                p + 1
            } else {
                break;
            };
            let Some((s, end)) = plain_sample_field(buf, at) else {
                break;
            };
            self.samples.push(s);
            first = false;
            p = end;
        }
        (!first).then_some(p)
    }
}

/// A sample field body in the form of [`plain_sample`] at `at` (its one-byte length): the sample and the
/// position after the field.
#[inline]
fn plain_sample_field(buf: &[u8], at: usize) -> Option<(Sample, usize)> {
    let len = usize::from(*buf.get(at)?);
    if len >= 0x80 {
        return None;
    }
    let end = at + 1 + len;
    plain_sample(buf.get(at + 1..end)?).map(|s| (s, end))
}

/// A label field body in the form of [`plain_label`] at `at` (its length byte): the name and value
/// lengths and the position after the field.
fn plain_field(buf: &[u8], at: usize) -> Option<(usize, usize, usize)> {
    let len = usize::from(*buf.get(at)?);
    if len >= 0x80 {
        return None;
    }
    let m = buf.get(at + 1..at + 1 + len)?;
    let ([0x0a, n1], rest) = m.split_first_chunk::<2>()? else {
        return None;
    };
    let n1 = usize::from(*n1);
    let rest = rest.get(n1..)?;
    let ([0x12, n2], value) = rest.split_first_chunk::<2>()? else {
        return None;
    };
    let n2 = usize::from(*n2);
    (n1 < 0x80 && n2 < 0x80 && value.len() == n2).then_some((n1, n2, at + 1 + len))
}

/// A label in the form Prometheus writes it, `0x0a len name 0x12 len value` with both lengths below 128,
/// read with one UTF-8 check; `None` for any other form (or bad UTF-8), which [`label`] then decodes.
fn plain_label(m: &[u8]) -> Option<(&str, &str)> {
    let ([0x0a, n1], rest) = m.split_first_chunk::<2>()? else {
        return None;
    };
    let n1 = usize::from(*n1);
    let (name, rest) = rest.split_at_checked(n1)?;
    let ([0x12, n2], value) = rest.split_first_chunk::<2>()? else {
        return None;
    };
    if n1 >= 0x80 || usize::from(*n2) >= 0x80 || value.len() != usize::from(*n2) {
        return None;
    }
    // The tag and length bytes are ASCII, so the whole message is UTF-8 exactly when both strings are.
    let s = std::str::from_utf8(m).ok()?;
    let name_end = 2 + name.len();
    Some((s.get(2..name_end)?, s.get(name_end + 2..)?))
}

/// A sample in the form Prometheus writes it, `0x09 value:8 0x10 timestamp:varint`; `None` for any other
/// form, which [`sample`] then decodes.
fn plain_sample(m: &[u8]) -> Option<Sample> {
    let ([0x09, b0, b1, b2, b3, b4, b5, b6, b7, 0x10], rest) = m.split_first_chunk::<10>()? else {
        return None;
    };
    Some(Sample {
        t: whole_varint(rest)? as i64,
        v: f64::from_bits(u64::from_le_bytes([*b0, *b1, *b2, *b3, *b4, *b5, *b6, *b7])),
    })
}

/// `v` as exactly one varint of at most 9 bytes (63 bits, so no overflow check); `None` otherwise (longer
/// ones take [`Reader::varint`]). The loop runs once per byte with no branch on the data but the
/// continuation check, which a run of same-sized timestamps predicts.
#[inline]
fn whole_varint(v: &[u8]) -> Option<u64> {
    let (&last, init) = v.split_last()?;
    if last >= 0x80 || init.len() > 8 {
        return None;
    }
    let mut x = u64::from(last);
    for &b in init.iter().rev() {
        if b < 0x80 {
            return None;
        }
        x = (x << 7) | u64::from(b & 0x7f);
    }
    Some(x)
}

/// `prometheus.Label`: name 1, value 2.
fn label(mut r: Reader<'_>, depth: u32) -> Result<(&str, &str), Malformed> {
    let (mut name, mut value) = ("", "");
    while let Some((field, wire)) = r.key()? {
        match field {
            1 => name = r.string(wire)?,
            2 => value = r.string(wire)?,
            _ => r.skip(field, wire, depth)?,
        }
    }
    Ok((name, value))
}

/// `prometheus.Sample`: value 1 (double), timestamp 2 (int64).
fn sample(mut r: Reader<'_>, depth: u32) -> Result<Sample, Malformed> {
    let mut s = Sample { t: 0, v: 0.0 };
    while let Some((field, wire)) = r.key()? {
        match field {
            1 => s.v = f64::from_bits(r.fixed64(wire)?),
            2 => s.t = r.int(wire)? as i64,
            _ => r.skip(field, wire, depth)?,
        }
    }
    Ok(s)
}

/// `prometheus.Exemplar`: labels 1, value 2, timestamp 3; checked, not kept.
fn exemplar(mut r: Reader<'_>, depth: u32) -> Result<(), Malformed> {
    while let Some((field, wire)) = r.key()? {
        match field {
            1 => {
                let (sub, base) = r.message(wire, depth)?;
                label(Reader::new(sub, base), depth - 1)?;
            }
            2 => {
                r.fixed64(wire)?;
            }
            3 => {
                r.int(wire)?;
            }
            _ => r.skip(field, wire, depth)?,
        }
    }
    Ok(())
}

/// `prometheus.Histogram`: only the timestamp (15) is read, as by [`proto::Histogram`].
fn histogram(mut r: Reader<'_>, depth: u32) -> Result<(), Malformed> {
    while let Some((field, wire)) = r.key()? {
        match field {
            15 => {
                r.int(wire)?;
            }
            _ => r.skip(field, wire, depth)?,
        }
    }
    Ok(())
}

/// `prometheus.MetricMetadata`: type 1, metric_family_name 2, help 4, unit 5.
fn metadata(mut r: Reader<'_>, depth: u32) -> Result<(String, MetricMetadata), Malformed> {
    let (mut kind, mut name, mut help, mut unit) = (0i32, "", "", "");
    while let Some((field, wire)) = r.key()? {
        match field {
            1 => kind = r.int(wire)? as i32,
            2 => name = r.string(wire)?,
            4 => help = r.string(wire)?,
            5 => unit = r.string(wire)?,
            _ => r.skip(field, wire, depth)?,
        }
    }
    Ok((
        name.to_string(),
        MetricMetadata {
            kind: proto::metric_type_name(kind),
            help: help.to_string(),
            unit: unit.to_string(),
        },
    ))
}

/// A cursor over one message's bytes; `base` is the message's offset in the body (for error offsets).
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    fn err(&self, what: &'static str) -> Malformed {
        Malformed {
            what,
            offset: self.base + self.pos,
        }
    }

    /// A base-128 varint of at most 10 bytes whose value fits in 64 bits. One-byte varints (field keys,
    /// label lengths) are read inline.
    #[inline]
    fn varint(&mut self) -> Result<u64, Malformed> {
        if let Some(&b) = self.buf.get(self.pos)
            && b < 0x80
        {
            self.pos += 1;
            return Ok(u64::from(b));
        }
        self.varint_long()
    }

    /// [`Reader::varint`] beyond one byte.
    #[inline(never)]
    fn varint_long(&mut self) -> Result<u64, Malformed> {
        let mut value = 0u64;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.err("truncated varint"));
            };
            self.pos += 1;
            if i == 9 && b >= 0x02 {
                return Err(self.err("varint overflows 64 bits"));
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(self.err("varint longer than 10 bytes"))
    }

    /// The next field's (number, wire type), or `None` at the end of the message.
    #[inline]
    fn key(&mut self) -> Result<Option<(u32, u8)>, Malformed> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let key = u32::try_from(key).map_err(|_| self.err("field key exceeds 32 bits"))?;
        let wire = (key & 7) as u8;
        if wire > WIRE_FIXED32 {
            return Err(self.err("invalid wire type"));
        }
        let field = key >> 3;
        if field == 0 {
            return Err(self.err("invalid field number 0"));
        }
        Ok(Some((field, wire)))
    }

    fn expect(&self, wire: u8, want: u8) -> Result<(), Malformed> {
        if wire == want {
            Ok(())
        } else {
            Err(self.err("wrong wire type for a known field"))
        }
    }

    /// The bytes of a length-delimited field.
    fn bytes(&mut self) -> Result<&'a [u8], Malformed> {
        let len = self.varint()?;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| self.pos.checked_add(l))
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.err("length-delimited field runs past its message"))?;
        let b = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.err("bad field bounds"))?;
        self.pos = end;
        Ok(b)
    }

    /// An embedded message field: its bytes and their offset in the body. Spends one level of `depth`.
    fn message(&mut self, wire: u8, depth: u32) -> Result<(&'a [u8], usize), Malformed> {
        self.expect(wire, WIRE_LEN)?;
        if depth == 0 {
            return Err(self.err("messages nested too deep"));
        }
        let b = self.bytes()?;
        Ok((b, self.base + self.pos - b.len()))
    }

    fn string(&mut self, wire: u8) -> Result<&'a str, Malformed> {
        self.expect(wire, WIRE_LEN)?;
        let b = self.bytes()?;
        std::str::from_utf8(b).map_err(|_| self.err("string is not valid UTF-8"))
    }

    fn fixed64(&mut self, wire: u8) -> Result<u64, Malformed> {
        self.expect(wire, WIRE_FIXED64)?;
        let b = self.take(8)?;
        let mut w = [0u8; 8];
        w.copy_from_slice(b);
        Ok(u64::from_le_bytes(w))
    }

    /// A varint-coded integer field (int32 and int64 truncate it as prost does).
    fn int(&mut self, wire: u8) -> Result<u64, Malformed> {
        self.expect(wire, WIRE_VARINT)?;
        self.varint()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let b = self
            .buf
            .get(self.pos..self.pos.saturating_add(n))
            .ok_or_else(|| self.err("fixed-width field runs past its message"))?;
        self.pos += n;
        Ok(b)
    }

    /// Skips an unknown field, groups included, as prost's `skip_field` does.
    fn skip(&mut self, field: u32, wire: u8, depth: u32) -> Result<(), Malformed> {
        if depth == 0 {
            return Err(self.err("groups nested too deep"));
        }
        match wire {
            WIRE_VARINT => {
                self.varint()?;
            }
            WIRE_FIXED64 => {
                self.take(8)?;
            }
            WIRE_FIXED32 => {
                self.take(4)?;
            }
            WIRE_LEN => {
                self.bytes()?;
            }
            WIRE_START_GROUP => loop {
                let Some((inner, inner_wire)) = self.key()? else {
                    return Err(self.err("unterminated group"));
                };
                if inner_wire == WIRE_END_GROUP {
                    if inner != field {
                        return Err(self.err("end-group tag does not match its group"));
                    }
                    break;
                }
                self.skip(inner, inner_wire, depth - 1)?;
            },
            _ => return Err(self.err("unexpected end-group tag")),
        }
        Ok(())
    }
}

/// Start value of a series key.
const KEY_SEED: u64 = 0x2d35_8dcc_aa6c_78a5;
/// Fx-style multiplier (odd, well-spread bits).
const KEY_MUL: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Folds one label field's bytes into a series key, eight bytes per step. Not a defence against chosen
/// collisions: colliding series are told apart by the storage's index check, at the cost of the slow path.
fn fold(mut h: u64, bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(a)).wrapping_mul(KEY_MUL);
    }
    let rest = words.remainder();
    let mut a = [0u8; 8];
    if let Some(dst) = a.get_mut(..rest.len()) {
        dst.copy_from_slice(rest);
    }
    // The length separates fields and tells a short tail from zero bytes.
    h = (h.rotate_left(5) ^ u64::from_le_bytes(a)).wrapping_mul(KEY_MUL);
    (h.rotate_left(5) ^ bytes.len() as u64).wrapping_mul(KEY_MUL)
}

/// Final avalanche (murmur3's fmix64), so that the upper bits the cache keeps depend on every byte.
fn finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
#[path = "v1_tests.rs"]
mod tests;
