//! Arbitrary bytes into the chunk decoder: it must return (`Ok` or a typed error), never panic or hang.
//! Each input is tried as is and with a valid checksum appended over it, so mutations reach the decoder
//! proper instead of stopping at the CRC check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_storage::chunk::{chunk_meta, decode_chunk};

fn check(bytes: &[u8]) {
    let meta = chunk_meta(bytes);
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    if decode_chunk(bytes, &mut ts, &mut vs).is_ok() {
        let meta = meta.expect("decode succeeded, so the header is valid");
        assert_eq!(ts.len(), meta.count);
        assert_eq!(vs.len(), meta.count);
        assert_eq!(ts.first(), Some(&meta.min_t));
        assert_eq!(ts.last(), Some(&meta.max_t));
        assert!(ts.windows(2).all(|w| w[0] < w[1]));
    } else {
        assert!(ts.is_empty() && vs.is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut fixed = data.to_vec();
    fixed.extend_from_slice(&crc32c::crc32c(data).to_le_bytes());
    check(&fixed);
});
