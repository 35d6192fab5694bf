//! Model check: bytes → a series (12 bytes per sample: a u32 interval, a u64 value pattern) → encode →
//! decode must give the same series bit for bit, sealed and through the head chunk.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_storage::chunk::{HeadChunk, decode_chunk, encode_chunk};

fuzz_target!(|data: &[u8]| {
    let mut ts = Vec::new();
    let mut vs = Vec::new();
    let mut t: i64 = 1_763_700_000_000;
    for rec in data.chunks_exact(12).take(u16::MAX as usize) {
        let interval = u32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]);
        let raw = u64::from_le_bytes([rec[4], rec[5], rec[6], rec[7], rec[8], rec[9], rec[10], rec[11]]);
        // Low byte selects a shape: short decimals, repeats, or raw bits (NaN payloads included).
        let v = match raw & 3 {
            0 => (raw >> 8) as i32 as f64 / 100.0,
            1 => vs.last().copied().unwrap_or(0.0),
            _ => f64::from_bits(raw),
        };
        t = t.saturating_add(i64::from(interval.max(1)));
        if ts.last() == Some(&t) {
            break;
        }
        ts.push(t);
        vs.push(v);
    }
    if ts.is_empty() {
        return;
    }
    let bytes = encode_chunk(&ts, &vs).expect("valid input encodes");
    let (mut got_ts, mut got_vs) = (Vec::new(), Vec::new());
    decode_chunk(&bytes, &mut got_ts, &mut got_vs).expect("own output decodes");
    assert_eq!(got_ts, ts);
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&got_vs), bits(&vs));

    let mut head = HeadChunk::new();
    for (&t, &v) in ts.iter().zip(&vs) {
        head.append(t, v).expect("increasing timestamps append");
    }
    let (mut got_ts, mut got_vs) = (Vec::new(), Vec::new());
    head.decode_into(&mut got_ts, &mut got_vs).expect("head decodes");
    assert_eq!(got_ts, ts);
    assert_eq!(bits(&got_vs), bits(&vs));
});
