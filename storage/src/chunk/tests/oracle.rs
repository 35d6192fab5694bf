//! The exhaustive chooser as a test oracle: the encoder as it was before sealing sized candidates instead
//! of writing them. It trial-encodes `Xor`, `Constant` and both decimal orders at every candidate scale
//! into fresh buffers and keeps the first smallest, and sizes both coded timestamp encodings by writing
//! their residual blocks, each planned by the per-form search `residuals::plan_exhaustive`. The fast
//! encoder must produce exactly its bytes (so never a bigger chunk). `timing.rs` times both.

use super::super::bits::{put_uvarint, put_varint, zigzag};
use super::super::{Encoding, chunk_meta};
use super::super::{FORMAT_VERSION, TsEncoding, constant, decimal, encode_chunk, residuals, ts, xor};
use super::roundtrip::series;
use super::workload::node_exporter;
use proptest::prelude::*;

/// The value section, by trial-encoding every candidate.
fn encode_values(vs: &[f64], out: &mut Vec<u8>) -> Encoding {
    let mut buf = Vec::new();
    let constant = constant::encode(vs, &mut buf);
    let xor_of_constant = 8 + vs.len().saturating_sub(1).div_ceil(8);
    if constant == Some(0) && buf.len() <= xor_of_constant {
        out.extend_from_slice(&buf);
        return Encoding::Constant;
    }
    let mut best = (Encoding::Xor, Vec::new());
    xor::encode(vs, &mut best.1);
    let mut consider = |encoding: Encoding, bytes: Vec<u8>| {
        if bytes.len() < best.1.len() {
            best = (encoding, bytes);
        }
    };
    if constant.is_some() {
        consider(Encoding::Constant, buf);
    }
    // Minimal scales by trying every scale with the exact check alone (no near-integer filter).
    let scales: Vec<Option<u8>> = vs
        .iter()
        .map(|&v| (0..=decimal::MAX_SCALE).find(|&s| decimal::scaled(v, s).is_some()))
        .collect();
    let mut candidates = Vec::new();
    decimal::candidate_scales(scales.iter().copied(), &mut candidates);
    for scale in candidates {
        for (encoding, order) in [
            (Encoding::DecimalDelta, decimal::Order::Delta),
            (Encoding::DecimalDoubleDelta, decimal::Order::DoubleDelta),
        ] {
            let mut buf = Vec::new();
            decimal::encode(vs, &scales, scale, order, &mut buf);
            consider(encoding, buf);
        }
    }
    out.extend_from_slice(&best.1);
    best.0
}

/// The timestamp section, by writing both coded encodings.
fn encode_ts(t: &[i64], out: &mut Vec<u8>) -> TsEncoding {
    let (Some(&min_t), Some(&max_t)) = (t.first(), t.last()) else {
        return TsEncoding::Regular;
    };
    if ts::is_regular(t) {
        return TsEncoding::Regular;
    }
    let base = ts::base_step(min_t, max_t, t.len());
    let mut deltas: Vec<i64> = ts::intervals(t).collect();
    let mid = deltas.len() / 2;
    let dod_step = if deltas.is_empty() {
        0
    } else {
        *deltas.select_nth_unstable(mid).1
    };
    let mut dod_residuals = Vec::new();
    ts::dod_residuals(t, dod_step, &mut dod_residuals);
    let mut dod = Vec::new();
    put_varint(&mut dod, dod_step.wrapping_sub(base));
    residuals::encode_exhaustive(&dod_residuals, &mut dod);

    let step = ts::grid_step(t, dod_step);
    let mut kept: Vec<i64> = ts::grid_residuals(t, step, 0)
        .filter(|&r| !ts::reanchors(r, step))
        .collect();
    let mid = kept.len() / 2;
    let offset = if kept.is_empty() {
        0
    } else {
        *kept.select_nth_unstable(mid).1
    };
    let grid_residuals: Vec<u64> = ts::grid_residuals(t, step, offset).map(zigzag).collect();
    let mut grid = Vec::new();
    put_varint(&mut grid, step.wrapping_sub(base));
    put_varint(&mut grid, offset);
    residuals::encode_exhaustive(&grid_residuals, &mut grid);
    if grid.len() < dod.len() {
        out.extend_from_slice(&grid);
        TsEncoding::Grid
    } else {
        out.extend_from_slice(&dod);
        TsEncoding::DeltaOfDelta
    }
}

/// A whole chunk, chosen exhaustively (the sealing encoder as it was).
pub(super) fn encode_chunk_exhaustive(t: &[i64], vs: &[f64]) -> Vec<u8> {
    let mut out = vec![FORMAT_VERSION, 0];
    put_uvarint(&mut out, t.len() as u64);
    put_varint(&mut out, t[0]);
    put_uvarint(&mut out, t[t.len() - 1].wrapping_sub(t[0]) as u64);
    let ts_encoding = encode_ts(t, &mut out);
    let encoding = encode_values(vs, &mut out);
    out[1] = (ts_encoding.id() << 4) | encoding.id();
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

#[test]
fn fast_chooser_matches_exhaustive_on_the_workload() {
    let mut chunks = 0;
    for (seed, jitter) in [(0x5eed, 0), (0x5eed, 2), (0x5eed, 5), (7, 20), (11, 50)] {
        for s in node_exporter(seed, 2000, jitter) {
            let fast = encode_chunk(&s.ts, &s.vs).unwrap();
            let exhaustive = encode_chunk_exhaustive(&s.ts, &s.vs);
            assert!(
                fast.len() <= exhaustive.len(),
                "{:?} ±{jitter} ms: bigger chunk",
                s.kind
            );
            assert_eq!(
                fast,
                exhaustive,
                "{:?} ±{jitter} ms: fast {:?}, exhaustive {:?}",
                s.kind,
                chunk_meta(&fast).map(|m| (m.ts_encoding, m.encoding)),
                chunk_meta(&exhaustive).map(|m| (m.ts_encoding, m.encoding))
            );
            chunks += 1;
        }
    }
    assert_eq!(chunks, 10_000);
}

#[test]
fn fast_chooser_matches_exhaustive_on_edge_columns() {
    let stale = f64::from_bits(0x7ff0_0000_0000_0002);
    let t: Vec<i64> = (0..120).map(|i| 1_000 + i * 15_000 + (i * 7 % 5)).collect();
    let columns: Vec<Vec<f64>> = vec![
        vec![stale; 120],
        (0..120).map(|i| if i % 2 == 0 { f64::NAN } else { 0.5 }).collect(),
        (0..120).map(|i| f64::from(i) * 0.1).collect(),
        (0..120).map(|i| 1e300 * f64::from(i)).collect(),
        (0..120).map(|i| f64::from(i % 3) * 4096.0 + 1e15).collect(),
        (0..120).map(|i| 0.1 + 0.2 * f64::from(i)).collect(),
        (0..120).map(|i| if i < 60 { -0.0 } else { 1.25 }).collect(),
        (0..120).map(|i| 9.2e18 - f64::from(i) * 1e15).collect(),
    ];
    for vs in columns {
        assert_eq!(
            encode_chunk(&t, &vs).unwrap(),
            encode_chunk_exhaustive(&t, &vs),
            "{vs:?}"
        );
    }
}

/// Columns of small decimals at mixed scales, where several candidate scales and both orders come close
/// (and tie), so that the chooser's candidate order and tie-breaking are exercised.
fn mixed_scales() -> impl Strategy<Value = Vec<f64>> {
    (
        0i32..4,
        proptest::collection::vec(
            (-3i64..4, prop_oneof![8 => Just(0i32), 1 => 1i32..4, 1 => Just(-1i32)]),
            1..40,
        ),
    )
        .prop_map(|(base, steps)| {
            let mut m = 0i64;
            steps
                .iter()
                .map(|&(step, extra)| {
                    m += step;
                    if extra < 0 {
                        f64::NAN
                    } else {
                        (m * 10i64.pow(extra as u32) + i64::from(extra)) as f64 / 10f64.powi(base + extra)
                    }
                })
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn fast_chooser_matches_exhaustive((t, vs) in series(300)) {
        prop_assert_eq!(encode_chunk(&t, &vs).unwrap(), encode_chunk_exhaustive(&t, &vs));
    }

    #[test]
    fn fast_chooser_matches_exhaustive_on_mixed_scales(vs in mixed_scales()) {
        let t: Vec<i64> = (0..vs.len() as i64).map(|i| i * 15_000).collect();
        prop_assert_eq!(encode_chunk(&t, &vs).unwrap(), encode_chunk_exhaustive(&t, &vs));
    }
}
