//! Key layouts of the RocksDB column families. Format: `docs/format/rocksdb.md`.
//!
//! ```text
//! chunk key (25 bytes):
//! ┌──────────┬──────────────────┬───────────────────────────┬──────────────┐
//! │ tier <u8>│ series ref <u64> │ max_t <i64, sign flipped> │ seq <u64>    │
//! └──────────┴──────────────────┴───────────────────────────┴──────────────┘
//! all big-endian: keys sort by tier, then series, then chunk max_t, then write order.
//! ```

use crate::error::{Error, Result};

/// Tier byte of raw (full-resolution) chunks.
pub const TIER_RAW: u8 = 0;

/// Length of a chunk key in bytes.
pub const CHUNK_KEY_LEN: usize = 25;

/// A decoded chunk key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChunkKey {
    /// Resolution tier ([`TIER_RAW`], later 5 m and 1 h).
    pub tier: u8,
    /// The series' persistent id.
    pub series: u64,
    /// Newest sample timestamp in the chunk (ms).
    pub max_t: i64,
    /// Global seal sequence number: among chunks holding the same timestamp, the higher `seq` was written later.
    pub seq: u64,
}

/// Maps an i64 to a u64 whose big-endian bytes sort like the signed value.
pub fn order_i64(t: i64) -> u64 {
    (t as u64) ^ (1u64 << 63)
}

/// Inverse of [`order_i64`].
pub fn unorder_i64(u: u64) -> i64 {
    (u ^ (1u64 << 63)) as i64
}

impl ChunkKey {
    /// Encodes the key.
    pub fn encode(&self) -> [u8; CHUNK_KEY_LEN] {
        let mut k = [0u8; CHUNK_KEY_LEN];
        k[0] = self.tier;
        k[1..9].copy_from_slice(&self.series.to_be_bytes());
        k[9..17].copy_from_slice(&order_i64(self.max_t).to_be_bytes());
        k[17..25].copy_from_slice(&self.seq.to_be_bytes());
        k
    }

    /// Decodes a key, checking its length.
    pub fn decode(k: &[u8]) -> Result<ChunkKey> {
        let arr: &[u8; CHUNK_KEY_LEN] = k.try_into().map_err(|_| Error::Corrupt {
            what: "chunk key",
            reason: format!("length {} (want {CHUNK_KEY_LEN})", k.len()),
        })?;
        let u = |at: usize| {
            let mut b = [0u8; 8];
            if let Some(src) = arr.get(at..at + 8) {
                b.copy_from_slice(src);
            }
            u64::from_be_bytes(b)
        };
        Ok(ChunkKey {
            tier: arr[0],
            series: u(1),
            max_t: unorder_i64(u(9)),
            seq: u(17),
        })
    }

    /// The first possible key of a series in a tier whose chunk `max_t` is at least `max_t`.
    pub fn lower_bound(tier: u8, series: u64, max_t: i64) -> [u8; CHUNK_KEY_LEN] {
        ChunkKey {
            tier,
            series,
            max_t,
            seq: 0,
        }
        .encode()
    }

    /// The 9-byte prefix (tier, series) shared by all chunks of a series in a tier.
    pub fn series_prefix(tier: u8, series: u64) -> [u8; 9] {
        let mut p = [0u8; 9];
        p[0] = tier;
        p[1..].copy_from_slice(&series.to_be_bytes());
        p
    }

    /// The exclusive end of a series' key range in a tier (the prefix of the next series, or of the next tier).
    pub fn series_end(tier: u8, series: u64) -> Vec<u8> {
        match series.checked_add(1) {
            Some(next) => Self::series_prefix(tier, next).to_vec(),
            None => vec![tier.saturating_add(1)],
        }
    }
}

/// Key of a series in the `series` column family: the ref, big-endian.
pub fn series_key(series: u64) -> [u8; 8] {
    series.to_be_bytes()
}

/// Decodes a `series` column family key.
pub fn decode_series_key(k: &[u8]) -> Result<u64> {
    let arr: [u8; 8] = k.try_into().map_err(|_| Error::Corrupt {
        what: "series key",
        reason: format!("length {} (want 8)", k.len()),
    })?;
    Ok(u64::from_be_bytes(arr))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn chunk_keys_sort_like_fields() {
        let keys = [
            ChunkKey {
                tier: 0,
                series: 1,
                max_t: i64::MIN,
                seq: 5,
            },
            ChunkKey {
                tier: 0,
                series: 1,
                max_t: -5,
                seq: 1,
            },
            ChunkKey {
                tier: 0,
                series: 1,
                max_t: 0,
                seq: 9,
            },
            ChunkKey {
                tier: 0,
                series: 1,
                max_t: 0,
                seq: 10,
            },
            ChunkKey {
                tier: 0,
                series: 1,
                max_t: i64::MAX,
                seq: 0,
            },
            ChunkKey {
                tier: 0,
                series: 2,
                max_t: i64::MIN,
                seq: 0,
            },
            ChunkKey {
                tier: 1,
                series: 0,
                max_t: 0,
                seq: 0,
            },
        ];
        for w in keys.windows(2) {
            assert!(w[0].encode() < w[1].encode(), "{:?} {:?}", w[0], w[1]);
        }
        for k in keys {
            assert_eq!(ChunkKey::decode(&k.encode()).unwrap(), k);
        }
        assert!(ChunkKey::decode(&[0; 5]).is_err());
        assert!(
            ChunkKey::series_end(0, 1).as_slice()
                > &ChunkKey {
                    tier: 0,
                    series: 1,
                    max_t: i64::MAX,
                    seq: u64::MAX
                }
                .encode()[..]
        );
    }
}
