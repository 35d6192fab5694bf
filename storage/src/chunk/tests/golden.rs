//! Hex golden vectors of format version 1: the encoder must keep producing these bytes, and the decoder
//! must keep reading them (they stand for chunks already on disk).

use super::super::{Encoding, TsEncoding, chunk_meta, decode_chunk, encode_chunk};

/// The staleness marker.
const STALE: f64 = f64::from_bits(0x7ff0_0000_0000_0002);

/// A golden vector: name, timestamps, values, expected encodings, expected hex.
type Vector = (&'static str, Vec<i64>, Vec<f64>, TsEncoding, Encoding, &'static str);

/// The vectors.
fn vectors() -> Vec<Vector> {
    let t0 = 1_763_700_000_000i64;
    let jitter = [0i64, 3, -2, 1, 0, -4, 2, 5, -1, 0];
    let jittered: Vec<i64> = (0..10).map(|i| t0 + i * 15_000 + jitter[i as usize]).collect();
    let regular: Vec<i64> = (0..10).map(|i| t0 + i * 15_000).collect();
    let jittered30: Vec<i64> = (0..30).map(|i| t0 + i * 15_000 + (i * 7) % 5 - 2).collect();
    let with_gap: Vec<i64> = (0..30)
        .map(|i| t0 + i * 15_000 + if i >= 12 { 15_000 } else { 0 })
        .collect();
    vec![
        (
            "single NaN",
            vec![-5],
            vec![f64::NAN],
            TsEncoding::Regular,
            Encoding::Xor,
            "01000109007ff8000000000000ecd194dd",
        ),
        (
            "constant then stale",
            regular.clone(),
            [1.0; 9].into_iter().chain([STALE]).collect(),
            TsEncoding::Regular,
            Encoding::Constant,
            "01010a8094b2cbd466d89e080109020000000000f07f000221606e9a",
        ),
        (
            "counter 0.01 with jitter",
            jittered.clone(),
            vec![
                1234.56, 1249.01, 1263.50, 1277.93, 1292.41, 1306.88, 1321.30, 1335.79, 1350.22, 1364.70,
            ],
            TsEncoding::DeltaOfDelta,
            Encoding::DecimalDelta,
            "01120a8094b2cbd466d89e0802034be0eba2e2000280890f01ce16027168662d0087d1bfdb",
        ),
        (
            "accelerating counter, jittered",
            jittered30.clone(),
            (0..30).map(|i| f64::from(100 * i + 5 * i * i) / 100.0).collect(),
            TsEncoding::Grid,
            Encoding::DecimalDoubleDelta,
            "01231efc93b2cbd466bbc61a0004013194c653194c653194c40002000503f92222222222222222222222222222004ab7e449",
        ),
        (
            "mostly steady gauge, missed scrape",
            with_gap,
            (0..30).map(|i| if i % 7 == 3 { 40.5 } else { 41.0 }).collect(),
            TsEncoding::Grid,
            Encoding::DecimalDelta,
            "01221e8094b2cbd466d0bb1b89080081010bb0ea010001b4060500002c0b02c0b0008fe6604f",
        ),
        (
            "integer gauge",
            regular.clone(),
            vec![
                8192.0, 8192.0, 12288.0, 4096.0, 4096.0, 8192.0, 0.0, 4096.0, 4096.0, 8192.0,
            ],
            TsEncoding::Regular,
            Encoding::DecimalDelta,
            "01020a8094b2cbd466d89e080000808001802000006e6ecc8b4ea371",
        ),
        (
            "noisy floats with specials",
            jittered,
            vec![
                0.1 + 0.2,
                3.3e-310,
                -0.0,
                f64::INFINITY,
                STALE,
                1.0 / 3.0,
                2.0 / 3.0,
                f64::NEG_INFINITY,
                0.5,
                1e300,
            ],
            TsEncoding::DeltaOfDelta,
            Encoding::Xor,
            "01100a8094b2cbd466d89e0802034be0eba2e23fd3333333333334c5f7fa61f18ade4dd8380080003cbf65c15df5bffc000000000000200000000000000029009555555555555e0030000000000000b0055555555555556c0100000000000009075f90f22001d67018ba393c",
        ),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn golden_vectors_v1() {
    for (name, ts, vs, ts_enc, enc, expected) in vectors() {
        let bytes = encode_chunk(&ts, &vs).unwrap();
        println!("{name}: {}", hex(&bytes));
        assert_eq!(hex(&bytes), expected, "{name}: encoder output changed");
        let meta = chunk_meta(&unhex(expected)).unwrap();
        assert_eq!((meta.ts_encoding, meta.encoding), (ts_enc, enc), "{name}");
        let (mut got_ts, mut got_vs) = (Vec::new(), Vec::new());
        decode_chunk(&unhex(expected), &mut got_ts, &mut got_vs).unwrap();
        assert_eq!(got_ts, ts, "{name}");
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got_vs), bits(&vs), "{name}");
    }
}
