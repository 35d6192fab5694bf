//! The compactness figure on the node_exporter-like workload (`workload.rs`). Run with
//! `cargo test -p strata-storage --release chunk::tests::compression -- --nocapture` to see the table; the
//! asserts guard against regressions of the figures recorded in `docs/performance.md`.

use super::super::{HeadChunk, chunk_meta, encode_chunk};
use super::workload::{CHUNK_SAMPLES, Kind, node_exporter};
use std::collections::BTreeMap;

/// Per-kind totals.
#[derive(Default)]
struct Totals {
    samples: usize,
    /// Sealed chunk bytes.
    sealed: usize,
    /// Sealed bytes of the same chunks with all values 0: header, timestamps and checksum alone.
    ts_only: usize,
    /// Head chunk bits.
    head_bits: usize,
    /// Chunks per (timestamp, value) encoding.
    encodings: BTreeMap<String, usize>,
}

fn measure(jitter_ms: i64) -> BTreeMap<&'static str, Totals> {
    let mut by_kind: BTreeMap<&'static str, Totals> = BTreeMap::new();
    for s in node_exporter(0x5eed, 2000, jitter_ms) {
        let bytes = encode_chunk(&s.ts, &s.vs).unwrap();
        let meta = chunk_meta(&bytes).unwrap();
        let ts_only = encode_chunk(&s.ts, &vec![0.0; s.ts.len()]).unwrap().len();
        let mut head = HeadChunk::new();
        for (&t, &v) in s.ts.iter().zip(&s.vs) {
            head.append(t, v).unwrap();
        }
        for key in [s.kind.name(), "all"] {
            let t = by_kind.entry(key).or_default();
            t.samples += s.ts.len();
            t.sealed += bytes.len();
            t.ts_only += ts_only;
            t.head_bits += head.encoded_bits();
            *t.encodings
                .entry(format!("{:?}/{:?}", meta.ts_encoding, meta.encoding))
                .or_default() += 1;
        }
    }
    by_kind
}

/// (sealed, of which header + timestamps, head) in bytes per sample.
fn per_sample(t: &Totals) -> (f64, f64, f64) {
    let n = t.samples as f64;
    (t.sealed as f64 / n, t.ts_only as f64 / n, t.head_bits as f64 / 8.0 / n)
}

#[test]
fn node_exporter_bytes_per_sample() {
    println!("node_exporter-like workload: 2000 series x {CHUNK_SAMPLES} samples, 15 s scrapes");
    let mut by_jitter = BTreeMap::new();
    for jitter in [0, 2, 5, 20, 50] {
        let totals = measure(jitter);
        println!("\njitter ±{jitter} ms   sealed B/sample (hdr+ts part)  head B/sample  encodings (ts/value: chunks)");
        for kind in Kind::ALL.iter().map(|k| k.name()).chain(["all"]) {
            let t = &totals[kind];
            let (sealed, ts, head) = per_sample(t);
            println!("  {kind:<14} {sealed:>10.3} ({ts:.3}) {head:>18.3}   {:?}", t.encodings);
        }
        by_jitter.insert(jitter, totals);
    }
    // Regression guards, a few percent above the figures in docs/performance.md.
    let sealed = |j: i64, k: &str| per_sample(&by_jitter[&j][k]).0;
    let head = |j: i64, k: &str| per_sample(&by_jitter[&j][k]).2;
    let limits = [
        (0, "constant", 0.20, 0.45),
        (0, "counter 0.01", 0.75, 1.25),
        (0, "all", 1.12, 1.65),
        (5, "constant", 0.72, 1.18),
        (5, "counter 0.01", 1.27, 1.95),
        (5, "all", 1.65, 2.35),
    ];
    for (jitter, kind, max_sealed, max_head) in limits {
        let (s, h) = (sealed(jitter, kind), head(jitter, kind));
        assert!(
            s <= max_sealed,
            "±{jitter} ms {kind}: sealed {s:.3} B/sample > {max_sealed}"
        );
        assert!(h <= max_head, "±{jitter} ms {kind}: head {h:.3} B/sample > {max_head}");
    }
}

/// A row for tsz-compress: a timestamp and a value as an integer.
mod tsz_row {
    #![allow(missing_docs, clippy::all)]
    use tsz_compress::prelude::*;
    #[derive(Debug, Copy, Clone, CompressV2, DecompressV2)]
    pub struct Row {
        pub ts: i64,
        pub v: i64,
    }
    pub use compress::RowCompressorImpl;
    pub use decompress::RowDecompressorImpl;
}

/// A chunk's values as integers for tsz-compress, which codes integers only: scaled to the smallest decimal
/// scale at which every value round-trips; `None` for a chunk of full-mantissa floats (their bit patterns
/// as integers overflow its delta arithmetic).
fn as_integers(vs: &[f64]) -> Option<Vec<i64>> {
    let scale = vs
        .iter()
        .map(|&v| super::super::decimal::min_scale(v))
        .try_fold(0u8, |acc, s| s.map(|s| acc.max(s)))?;
    vs.iter().map(|&v| super::super::decimal::scaled(v, scale)).collect()
}

/// tsz-compress 1.1.6 (the crate the design card names) against the chunk codec, chunk by chunk on the same
/// workload: bytes per sample for timestamps and integer values together, over the chunks whose values
/// are decimals (all but the noisy floats, which tsz-compress cannot code). Decoding every tsz chunk back
/// checks that the comparison is of lossless encodings.
#[test]
fn tsz_compress_against_the_chunk_codec() {
    use tsz_compress::prelude::{TszCompressV2, TszDecompressV2};
    use tsz_row::{Row, RowCompressorImpl, RowDecompressorImpl};
    println!("tsz-compress 1.1.6 vs the chunk codec, B/sample (timestamps and values, whole chunks)");
    for jitter in [0, 5] {
        let mut by_kind: BTreeMap<&'static str, (usize, usize, usize)> = BTreeMap::new();
        for s in node_exporter(0x5eed, 2000, jitter) {
            let Some(ints) = as_integers(&s.vs) else {
                continue;
            };
            let ours = encode_chunk(&s.ts, &s.vs).unwrap().len();
            let mut c = RowCompressorImpl::new(s.ts.len());
            for (&ts, &v) in s.ts.iter().zip(&ints) {
                c.compress(Row { ts, v });
            }
            let bytes = c.finish();
            let mut d = RowDecompressorImpl::new();
            d.decompress(&bytes).unwrap();
            assert_eq!(d.col_ts(), s.ts, "tsz round trip");
            assert_eq!(d.col_v(), ints, "tsz round trip");
            for key in [s.kind.name(), "all"] {
                let e = by_kind.entry(key).or_default();
                e.0 += s.ts.len();
                e.1 += ours;
                e.2 += bytes.len();
            }
        }
        println!("jitter ±{jitter} ms   chunk codec   tsz-compress");
        for (kind, (n, ours, tsz)) in &by_kind {
            let n = *n as f64;
            println!("  {kind:<14} {:>10.3} {:>12.3}", *ours as f64 / n, *tsz as f64 / n);
        }
        let (_, ours, tsz) = by_kind["all"];
        assert!(ours < tsz, "±{jitter} ms: chunk codec {ours} bytes, tsz-compress {tsz}");
    }
}
