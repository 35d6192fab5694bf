//! Robustness: arbitrary, truncated and flipped bytes give errors, never panics (the proptest twin of the
//! cargo-fuzz target in `storage/fuzz/`).

use super::super::{FORMAT_VERSION, chunk_meta, decode_chunk, encode_chunk};
use crate::Error;
use proptest::prelude::*;

/// Replaces the last four bytes with the CRC32C of the rest, so that mutations reach the decoder proper.
fn fix_crc(bytes: &mut [u8]) {
    if bytes.len() >= 4 {
        let (body, crc) = bytes.split_at_mut(bytes.len() - 4);
        crc.copy_from_slice(&crc32c::crc32c(body).to_le_bytes());
    }
}

/// Runs both entry points; on success the output must be consistent with the header.
fn check(bytes: &[u8]) {
    let meta = chunk_meta(bytes);
    let (mut ts, mut vs) = (vec![42], vec![4.2]);
    match decode_chunk(bytes, &mut ts, &mut vs) {
        Ok(()) => {
            let meta = meta.unwrap();
            assert_eq!(ts.len(), meta.count + 1);
            assert_eq!(vs.len(), meta.count + 1);
            assert_eq!(ts[1], meta.min_t);
            assert_eq!(ts[meta.count], meta.max_t);
            assert!(ts[1..].windows(2).all(|w| w[0] < w[1]));
        }
        Err(_) => {
            // Outputs are restored on error.
            assert_eq!(ts, vec![42]);
            assert_eq!(vs.len(), 1);
        }
    }
}

/// A few valid chunks of different encodings to mutate.
fn samples() -> Vec<Vec<u8>> {
    let ts: Vec<i64> = (0..120)
        .map(|i| 1_763_700_000_000 + i * 15_000 + (i * 37) % 9 - 4)
        .collect();
    let regular: Vec<i64> = (0..120).map(|i| i * 60_000).collect();
    let counter: Vec<f64> = (0..120)
        .map(|i| (100_000 + i * 1_437 + (i * i) % 13) as f64 / 100.0)
        .collect();
    let noisy: Vec<f64> = (0..120).map(|i| (i as f64 * 0.37).sin() * 3.3).collect();
    let mut with_stale = vec![1.0; 120];
    with_stale[119] = f64::from_bits(0x7ff0_0000_0000_0002);
    [
        encode_chunk(&ts, &counter),
        encode_chunk(&ts, &noisy),
        encode_chunk(&regular, &with_stale),
        encode_chunk(&ts[..1], &[f64::NAN]),
        encode_chunk(&regular, &counter),
    ]
    .into_iter()
    .map(|c| c.unwrap())
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn arbitrary_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..400),
                                   fix in any::<bool>(), version in any::<bool>()) {
        if version && !bytes.is_empty() {
            bytes[0] = FORMAT_VERSION;
        }
        if fix {
            fix_crc(&mut bytes);
        }
        check(&bytes);
    }

    #[test]
    fn mutated_chunks_never_panic(which in 0usize..5, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
                                  cut in proptest::option::of(any::<usize>()), fix in any::<bool>()) {
        let mut bytes = samples().swap_remove(which);
        for (pos, b) in edits {
            let len = bytes.len();
            bytes[pos % len] = b;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut % (bytes.len() + 1));
        }
        if fix {
            fix_crc(&mut bytes);
        }
        check(&bytes);
    }
}

#[test]
fn every_truncation_and_bit_flip_is_detected() {
    for chunk in samples() {
        for len in 0..chunk.len() {
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            assert!(
                decode_chunk(&chunk[..len], &mut ts, &mut vs).is_err(),
                "truncated to {len}"
            );
            assert!(chunk_meta(&chunk[..len]).is_err());
        }
        for bit in 0..chunk.len() * 8 {
            let mut bad = chunk.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            let err = decode_chunk(&bad, &mut ts, &mut vs).unwrap_err();
            assert!(matches!(err, Error::ChecksumMismatch { .. }), "bit {bit}: {err}");
            assert!(ts.is_empty() && vs.is_empty());
        }
    }
}

#[test]
fn unknown_version_and_encodings() {
    let chunk = samples().swap_remove(0);
    let mut bad = chunk.clone();
    bad[0] = 2;
    fix_crc(&mut bad);
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    assert!(matches!(
        decode_chunk(&bad, &mut ts, &mut vs),
        Err(Error::InvalidVersion { version: 2, .. })
    ));
    assert!(matches!(
        chunk_meta(&bad),
        Err(Error::InvalidVersion { version: 2, .. })
    ));
    for enc in [0x0f_u8, 0x30, 0xf0] {
        let mut bad = chunk.clone();
        bad[1] = enc;
        fix_crc(&mut bad);
        assert!(
            matches!(chunk_meta(&bad), Err(Error::Corrupt { .. })),
            "encoding {enc:#x}"
        );
    }
    // Trailing garbage inside a valid checksum.
    let mut bad = chunk[..chunk.len() - 4].to_vec();
    bad.extend_from_slice(&[0, 0, 0, 0, 0]);
    fix_crc(&mut bad);
    assert!(matches!(
        decode_chunk(&bad, &mut ts, &mut vs),
        Err(Error::Corrupt { .. })
    ));
}
