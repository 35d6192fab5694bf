#![allow(clippy::unwrap_used)]
use super::*;
use crate::read::STALE_NAN_BITS;

const M5: i64 = 300_000;

#[test]
fn raw_windows_count_sum_min_max_last_and_reset_aware_increase() {
    // A counter 10, 20, 30 | 5 (reset), 15 | stale marker | 25, sampled every 100 s.
    let ts = [0, 100_000, 200_000, 300_000, 400_000, 500_000, 600_000];
    let vs = [10.0, 20.0, 30.0, 5.0, 15.0, f64::from_bits(STALE_NAN_BITS), 25.0];
    let w = aggregate_raw(&ts, &vs, M5, None);
    assert_eq!(w.len(), 3);
    assert_eq!(
        (w[0].t, w[0].count, w[0].sum, w[0].min, w[0].max, w[0].last, w[0].inc()),
        (200_000, 3.0, 60.0, 10.0, 30.0, 30.0, 20.0)
    );
    assert_eq!(
        (w[1].t, w[1].count, w[1].last, w[1].inc()),
        (400_000, 2.0, 15.0, 15.0),
        "reset: 5 counts from zero"
    );
    assert_eq!(
        (w[2].t, w[2].count, w[2].inc()),
        (600_000, 1.0, 10.0),
        "the marker is skipped"
    );
    // With a known previous value, the first window's increase starts from it.
    assert_eq!(aggregate_raw(&ts[..1], &vs[..1], M5, Some(4.0))[0].inc(), 6.0);
}

#[test]
fn coarser_windows_combine_finer_ones() {
    let ts: Vec<i64> = (0..48).map(|i| i * 15_000 * 20).collect(); // every 5 minutes for 4 h
    let vs: Vec<f64> = (0..48).map(|i| f64::from(i % 7)).collect();
    let fine = aggregate_raw(&ts, &vs, M5, None);
    let hour = aggregate_windows(&fine, 12 * M5);
    let direct = aggregate_raw(&ts, &vs, 12 * M5, None);
    assert_eq!(hour, direct);
}

#[test]
fn rebuilt_counter_keeps_increases_and_ends_at_the_real_value() {
    let ts = [0, 300_000, 600_000, 900_000];
    let vs = [100.0, 110.0, 3.0, 13.0];
    let w = aggregate_raw(&ts, &vs, M5, None);
    let c = rebuild_counter(&w);
    assert_eq!(c, vec![-10.0, 0.0, 3.0, 13.0]);
}

#[test]
fn blocks_round_trip_bit_exact_and_detect_corruption() {
    let mut windows = Vec::new();
    let mut prev = 3.5;
    for i in 0..72i64 {
        let last = if i == 5 { f64::NAN } else { i as f64 * 0.01 };
        windows.push(WindowAgg {
            t: i * M5 + 299_987 + i % 3,
            count: 20.0,
            sum: 1234.5 + i as f64,
            min: -0.0,
            max: if i % 2 == 0 { last } else { f64::INFINITY },
            last,
            base: prev,
            adj: if i == 9 { 1e-300 } else { 0.0 },
        });
        prev = last;
    }
    let bytes = encode_block(&windows).unwrap();
    let mut back = Vec::new();
    decode_block(&bytes, &mut back).unwrap();
    assert_eq!(back.len(), windows.len());
    for (a, b) in back.iter().zip(&windows) {
        for (x, y) in [
            (a.count, b.count),
            (a.sum, b.sum),
            (a.min, b.min),
            (a.max, b.max),
            (a.last, b.last),
            (a.base, b.base),
            (a.adj, b.adj),
            (a.inc(), b.inc()),
        ] {
            assert_eq!(x.to_bits(), y.to_bits());
        }
        assert_eq!(a.t, b.t);
    }
    // Selective decoding: only what a counter needs.
    let mut some = Vec::new();
    decode_block_columns(&bytes, Columns::for_aggregate(Aggregate::Counter), &mut some).unwrap();
    assert!(
        some.iter()
            .zip(&back)
            .all(|(a, b)| a.inc().to_bits() == b.inc().to_bits() && a.sum.is_nan())
    );
    assert_eq!(block_range(&bytes).unwrap(), (windows[0].t, windows[71].t));
    for i in [0, 1, 5, bytes.len() / 2, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[i] ^= 0x10;
        assert!(decode_block(&bad, &mut Vec::new()).is_err(), "flip at {i}");
    }
    for len in [0, 3, 10, bytes.len() - 1] {
        assert!(decode_block(&bytes[..len], &mut Vec::new()).is_err());
    }
}

/// 72 five-minute windows of a counter with a 0.01 resolution, 20 jittered samples per window.
fn counter_windows() -> Vec<WindowAgg> {
    let ts: Vec<i64> = (0..72 * 20).map(|k| k * 15_000 + (k * 7) % 5).collect();
    let vs: Vec<f64> = (0..72 * 20)
        .map(|k| (k * 137 % 1000 + k * 1000) as f64 / 100.0)
        .collect();
    aggregate_raw(&ts, &vs, M5, None)
}

#[test]
fn counter_blocks_cost_little_beyond_their_last_values() {
    // max = last and no resets, so max and adj are constant columns once XORed with last / as zeros.
    let w = counter_windows();
    let block = encode_block(&w).unwrap();
    let lasts: Vec<f64> = w.iter().map(|w| w.last).collect();
    let wts: Vec<i64> = w.iter().map(|w| w.t).collect();
    let last_only = crate::chunk::encode_chunk(&wts, &lasts).unwrap().len();
    assert!(
        block.len() < last_only + 72 * 12,
        "block {} B vs (t, last) alone {} B",
        block.len(),
        last_only
    );
}

/// The version 2 layout (fixed-width header and part lengths, whole chunks as columns), as blocks written
/// before version 3 hold it.
fn encode_block_v2(windows: &[WindowAgg]) -> Vec<u8> {
    let mut out = vec![2u8];
    out.extend_from_slice(&(windows.len() as u16).to_le_bytes());
    out.extend_from_slice(&windows[0].t.to_le_bytes());
    out.extend_from_slice(&windows[windows.len() - 1].t.to_le_bytes());
    out.extend_from_slice(&windows[0].base.to_bits().to_le_bytes());
    let mut part = |flags: u8, chunk: Vec<u8>| {
        out.push(flags);
        out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
        out.extend_from_slice(&chunk);
    };
    let ts: Vec<i64> = windows.iter().map(|w| w.t).collect();
    let lasts: Vec<f64> = windows.iter().map(|w| w.last).collect();
    part(0, crate::chunk::encode_chunk(&ts, &lasts).unwrap());
    let idx: Vec<i64> = (0..windows.len() as i64).collect();
    for (field, _, _) in COLUMNS {
        let col: Vec<f64> = windows.iter().map(field).collect();
        part(0, crate::chunk::encode_chunk(&idx, &col).unwrap());
    }
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Version 2 blocks still read back exactly; version 3 writes the same windows in fewer bytes, most of all
/// for the short blocks of recent data.
#[test]
fn version_2_blocks_still_read_and_version_3_is_smaller() {
    let all = counter_windows();
    for n in [1, 2, 24, 72] {
        let w = &all[..n];
        let (v2, v3) = (encode_block_v2(w), encode_block(w).unwrap());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        decode_block(&v2, &mut a).unwrap();
        decode_block(&v3, &mut b).unwrap();
        let bits = |ws: &[WindowAgg]| -> Vec<[u64; 8]> {
            ws.iter()
                .map(|w| {
                    [
                        w.t as u64,
                        w.count.to_bits(),
                        w.sum.to_bits(),
                        w.min.to_bits(),
                        w.max.to_bits(),
                        w.last.to_bits(),
                        w.base.to_bits(),
                        w.adj.to_bits(),
                    ]
                })
                .collect()
        };
        assert_eq!(bits(&a), bits(w), "v2, {n} windows");
        assert_eq!(bits(&b), bits(w), "v3, {n} windows");
        assert_eq!(block_range(&v2).unwrap(), block_range(&v3).unwrap());
        assert!(
            v3.len() + 60 < v2.len(),
            "{n} windows: v3 {} B, v2 {} B",
            v3.len(),
            v2.len()
        );
    }
}
