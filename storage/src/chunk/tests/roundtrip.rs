//! Property tests: decode(encode(x)) returns exactly x (compared by bits), for sealed and head chunks.

use super::super::{HeadChunk, MAX_SAMPLES, chunk_meta, decode_chunk, encode_chunk, encode_chunk_into};
use crate::Error;
use proptest::prelude::*;

/// The staleness marker.
const STALE: u64 = 0x7ff0_0000_0000_0002;

/// Special values that must survive bit-exact.
fn special() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::from_bits(STALE)),
        Just(f64::NAN),
        any::<u64>().prop_map(|p| f64::from_bits(0x7ff0_0000_0000_0000 | (p & 0x000f_ffff_ffff_ffff) | 1)),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(0.0),
        Just(f64::MAX),
        Just(f64::MIN),
        Just(f64::MIN_POSITIVE),
        (1u64..1 << 52).prop_map(f64::from_bits), // subnormals
        Just(f64::EPSILON),
    ]
}

/// A single value: decimal, integer, arbitrary bits or special.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => (any::<i32>(), 0u32..6).prop_map(|(m, k)| f64::from(m) / 10f64.powi(k as i32)),
        2 => any::<i64>().prop_map(|m| m as f64),
        2 => any::<u64>().prop_map(f64::from_bits),
        2 => special(),
        1 => -1e6f64..1e6,
    ]
}

/// A value column: independent values, a constant run with specials, or a 0.01-resolution counter.
fn values(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        proptest::collection::vec(value(), n),
        (value(), proptest::collection::vec((0..n.max(1), special()), 0..4)).prop_map(move |(c, exc)| {
            let mut vs = vec![c; n];
            for (i, v) in exc {
                if let Some(slot) = vs.get_mut(i) {
                    *slot = v;
                }
            }
            vs
        }),
        (
            0i64..1_000_000_000,
            proptest::collection::vec(0i64..5000, n),
            proptest::option::of(0..n.max(1))
        )
            .prop_map(|(start, incs, stale)| {
                let mut c = start;
                let mut vs: Vec<f64> = incs
                    .iter()
                    .map(|i| {
                        c += i;
                        c as f64 / 100.0
                    })
                    .collect();
                if let Some(slot) = stale.and_then(|i| vs.get_mut(i)) {
                    *slot = f64::from_bits(STALE);
                }
                vs
            }),
    ]
}

/// Strictly increasing timestamps: scrape-like, tiny, huge or arbitrary intervals, from any start.
fn timestamps(n: usize) -> impl Strategy<Value = Vec<i64>> {
    let interval = prop_oneof![
        4 => (-60i64..=60).prop_map(|j| (15_000 + j) as u64),
        2 => Just(15_000u64),
        1 => 1u64..4,
        1 => 1u64..u64::MAX / 70_000,
        1 => any::<u64>().prop_map(|d| d.max(1)),
    ];
    (
        prop_oneof![
            any::<i64>(),
            Just(i64::MIN),
            -1_000_000i64..1_000_000,
            Just(1_763_700_000_000i64)
        ],
        proptest::collection::vec(interval, n.saturating_sub(1)),
    )
        .prop_map(|(start, intervals)| {
            let mut ts = vec![start];
            let mut t = start;
            for d in intervals {
                match t.checked_add_unsigned(d) {
                    Some(next) => {
                        ts.push(next);
                        t = next;
                    }
                    None => break,
                }
            }
            ts
        })
}

/// A series of 1..=max samples.
pub(super) fn series(max: usize) -> impl Strategy<Value = (Vec<i64>, Vec<f64>)> {
    (1..=max)
        .prop_flat_map(|n| (timestamps(n), values(n)))
        .prop_map(|(ts, mut vs)| {
            vs.truncate(ts.len());
            (ts, vs)
        })
}

/// Asserts two columns are identical, values by bits.
fn assert_same(ts: &[i64], vs: &[f64], got_ts: &[i64], got_vs: &[f64]) {
    assert_eq!(got_ts, ts);
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(got_vs), bits(vs));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn sealed_round_trip((ts, vs) in series(300)) {
        let bytes = encode_chunk(&ts, &vs).unwrap();
        let meta = chunk_meta(&bytes).unwrap();
        prop_assert_eq!(meta.count, ts.len());
        prop_assert_eq!(Some(&meta.min_t), ts.first());
        prop_assert_eq!(Some(&meta.max_t), ts.last());
        let (mut got_ts, mut got_vs) = (Vec::new(), Vec::new());
        decode_chunk(&bytes, &mut got_ts, &mut got_vs).unwrap();
        assert_same(&ts, &vs, &got_ts, &got_vs);
        // Never larger than plain XOR values plus the header and the biggest timestamp section.
        prop_assert!(bytes.len() <= 64 + ts.len() * 24, "{} bytes for {} samples", bytes.len(), ts.len());
    }

    #[test]
    fn head_round_trip_and_seal((ts, vs) in series(300)) {
        let mut head = HeadChunk::new();
        for (&t, &v) in ts.iter().zip(&vs) {
            head.append(t, v).unwrap();
        }
        prop_assert_eq!(head.len(), ts.len());
        prop_assert_eq!(head.first_t(), ts.first().copied());
        prop_assert_eq!(head.last_t(), ts.last().copied());
        prop_assert_eq!(head.last_v().map(f64::to_bits), vs.last().map(|v| v.to_bits()));
        let (mut got_ts, mut got_vs) = (vec![7], vec![7.5]);
        head.decode_into(&mut got_ts, &mut got_vs).unwrap();
        assert_same(&ts, &vs, &got_ts[1..], &got_vs[1..]);
        prop_assert_eq!(head.seal().unwrap(), encode_chunk(&ts, &vs).unwrap());
    }

    #[test]
    fn encode_appends_after_prefix_and_decode_appends((ts, vs) in series(50),
                                                      prefix in proptest::collection::vec(any::<u8>(), 0..20)) {
        let alone = encode_chunk(&ts, &vs).unwrap();
        let mut out = prefix.clone();
        encode_chunk_into(&ts, &vs, &mut out).unwrap();
        prop_assert_eq!(&out[..prefix.len()], &prefix[..]);
        prop_assert_eq!(&out[prefix.len()..], &alone[..]);
        let (mut got_ts, mut got_vs) = (vec![1, 2], vec![0.5]);
        decode_chunk(&alone, &mut got_ts, &mut got_vs).unwrap();
        assert_same(&ts, &vs, &got_ts[2..], &got_vs[1..]);
        prop_assert_eq!(&got_ts[..2], &[1, 2]);
    }
}

#[test]
fn extreme_timestamps_and_max_samples() {
    // The full i64 range in one interval.
    let ts = [i64::MIN, i64::MAX];
    let vs = [f64::from_bits(STALE), -0.0];
    let bytes = encode_chunk(&ts, &vs).unwrap();
    let (mut got_ts, mut got_vs) = (Vec::new(), Vec::new());
    decode_chunk(&bytes, &mut got_ts, &mut got_vs).unwrap();
    assert_same(&ts, &vs, &got_ts, &got_vs);

    // Three samples with intervals that wrap as i64 differences.
    let ts = [i64::MIN, 0, i64::MAX];
    let vs = [1.0, 2.0, 3.0];
    let bytes = encode_chunk(&ts, &vs).unwrap();
    let (mut got_ts, mut got_vs) = (Vec::new(), Vec::new());
    decode_chunk(&bytes, &mut got_ts, &mut got_vs).unwrap();
    assert_same(&ts, &vs, &got_ts, &got_vs);

    // The largest chunk, irregular timestamps, a counter.
    let ts: Vec<i64> = (0..MAX_SAMPLES as i64).map(|i| i * 15_000 + (i * 7919) % 11).collect();
    let vs: Vec<f64> = (0..MAX_SAMPLES).map(|i| (i * i) as f64 / 100.0).collect();
    let bytes = encode_chunk(&ts, &vs).unwrap();
    let (mut got_ts, mut got_vs) = (Vec::new(), Vec::new());
    decode_chunk(&bytes, &mut got_ts, &mut got_vs).unwrap();
    assert_same(&ts, &vs, &got_ts, &got_vs);
}

#[test]
fn encode_rejects_bad_input() {
    assert!(matches!(encode_chunk(&[], &[]), Err(Error::Internal(_))));
    assert!(matches!(encode_chunk(&[1, 2], &[1.0]), Err(Error::Internal(_))));
    assert!(matches!(encode_chunk(&[2, 2], &[1.0, 1.0]), Err(Error::Internal(_))));
    assert!(matches!(encode_chunk(&[3, 2], &[1.0, 1.0]), Err(Error::Internal(_))));
    let ts: Vec<i64> = (0..=MAX_SAMPLES as i64).collect();
    let vs = vec![0.0; ts.len()];
    assert!(matches!(encode_chunk(&ts, &vs), Err(Error::Internal(_))));
    let mut head = HeadChunk::new();
    for (&t, &v) in ts.iter().zip(&vs) {
        if t < MAX_SAMPLES as i64 {
            head.append(t, v).unwrap();
        } else {
            assert!(matches!(head.append(t, v), Err(Error::LimitExceeded(_))));
        }
    }
}
