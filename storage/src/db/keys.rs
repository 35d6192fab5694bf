//! Key layouts of the RocksDB column families. Format: `docs/format/rocksdb.md`.
//!
//! ```text
//! chunk key (29 bytes):
//! ┌──────────┬────────────────┬──────────────────┬───────────────────────────┬──────────────┐
//! │ tier <u8>│ group <u32>    │ series ref <u64> │ max_t <i64, sign flipped> │ seq <u64>    │
//! └──────────┴────────────────┴──────────────────┴───────────────────────────┴──────────────┘
//! all big-endian: keys sort by tier, then metric group, then series, then chunk max_t, then write order.
//! ```
//!
//! The group is a fixed hash of the series' metric name ([`metric_group`]), so the chunks of one metric's
//! series lie side by side: a query over one metric reads neighbouring blocks instead of one block per
//! series scattered among every other metric's.

use crate::error::{Error, Result};

/// Tier byte of raw (full-resolution) chunks.
pub const TIER_RAW: u8 = 0;

/// Length of a chunk key in bytes.
pub const CHUNK_KEY_LEN: usize = 29;

/// Length of a chunk key of layout version 2 (no group), read only to migrate it.
pub const CHUNK_KEY_LEN_V2: usize = 25;

/// Length of the prefix (tier, group, series) shared by all chunks of a series in a tier.
pub const SERIES_PREFIX_LEN: usize = 13;

/// The metric group of a series whose metric name is `name` (the empty string when it has none): 32-bit
/// FNV-1a of the name's bytes. Part of the on-disk format: it must never change.
pub fn metric_group(name: &str) -> u32 {
    name.bytes()
        .fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// The metric group of a series with labels `labels`.
pub fn group_of(labels: &crate::labels::Labels) -> u32 {
    metric_group(labels.metric_name().unwrap_or(""))
}

/// A decoded chunk key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChunkKey {
    /// Resolution tier ([`TIER_RAW`], later 5 m and 1 h).
    pub tier: u8,
    /// The series' metric group ([`metric_group`] of its name).
    pub group: u32,
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

/// The big-endian u64 at `at` in `b` (0 where `b` is too short).
fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(src) = b.get(at..at + 8) {
        w.copy_from_slice(src);
    }
    u64::from_be_bytes(w)
}

impl ChunkKey {
    /// Encodes the key.
    pub fn encode(&self) -> [u8; CHUNK_KEY_LEN] {
        let mut k = [0u8; CHUNK_KEY_LEN];
        k[..SERIES_PREFIX_LEN].copy_from_slice(&Self::series_prefix(self.tier, self.group, self.series));
        k[13..21].copy_from_slice(&order_i64(self.max_t).to_be_bytes());
        k[21..29].copy_from_slice(&self.seq.to_be_bytes());
        k
    }

    /// Decodes a key, checking its length.
    pub fn decode(k: &[u8]) -> Result<ChunkKey> {
        let arr: &[u8; CHUNK_KEY_LEN] = k.try_into().map_err(|_| Error::Corrupt {
            what: "chunk key",
            reason: format!("length {} (want {CHUNK_KEY_LEN})", k.len()),
        })?;
        let mut group = [0u8; 4];
        group.copy_from_slice(&arr[1..5]);
        Ok(ChunkKey {
            tier: arr[0],
            group: u32::from_be_bytes(group),
            series: u64_at(arr, 5),
            max_t: unorder_i64(u64_at(arr, 13)),
            seq: u64_at(arr, 21),
        })
    }

    /// Decodes a key of layout version 2 (tier, series, max_t, seq: no group), which has group 0 here.
    pub fn decode_v2(k: &[u8]) -> Result<ChunkKey> {
        let arr: &[u8; CHUNK_KEY_LEN_V2] = k.try_into().map_err(|_| Error::Corrupt {
            what: "version 2 chunk key",
            reason: format!("length {} (want {CHUNK_KEY_LEN_V2})", k.len()),
        })?;
        Ok(ChunkKey {
            tier: arr[0],
            group: 0,
            series: u64_at(arr, 1),
            max_t: unorder_i64(u64_at(arr, 9)),
            seq: u64_at(arr, 17),
        })
    }

    /// The first possible key of a series in a tier whose chunk `max_t` is at least `max_t`.
    pub fn lower_bound(tier: u8, group: u32, series: u64, max_t: i64) -> [u8; CHUNK_KEY_LEN] {
        ChunkKey {
            tier,
            group,
            series,
            max_t,
            seq: 0,
        }
        .encode()
    }

    /// The prefix (tier, group, series) shared by all chunks of a series in a tier.
    pub fn series_prefix(tier: u8, group: u32, series: u64) -> [u8; SERIES_PREFIX_LEN] {
        let mut p = [0u8; SERIES_PREFIX_LEN];
        p[0] = tier;
        p[1..5].copy_from_slice(&group.to_be_bytes());
        p[5..].copy_from_slice(&series.to_be_bytes());
        p
    }

    /// The exclusive end of a series' key range in a tier: the smallest byte string above every key with the
    /// series' prefix (the prefix incremented as a big-endian number; all 0xff, which no tier byte reaches,
    /// gives one byte past it).
    pub fn series_end(tier: u8, group: u32, series: u64) -> Vec<u8> {
        let mut end = Self::series_prefix(tier, group, series).to_vec();
        while let Some(last) = end.pop() {
            if last < u8::MAX {
                end.push(last + 1);
                return end;
            }
        }
        vec![u8::MAX; SERIES_PREFIX_LEN + 1]
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

    fn key(tier: u8, group: u32, series: u64, max_t: i64, seq: u64) -> ChunkKey {
        ChunkKey {
            tier,
            group,
            series,
            max_t,
            seq,
        }
    }

    #[test]
    fn chunk_keys_sort_like_fields() {
        let keys = [
            key(0, 0, 7, 0, 0),
            key(0, 1, 1, i64::MIN, 5),
            key(0, 1, 1, -5, 1),
            key(0, 1, 1, 0, 9),
            key(0, 1, 1, 0, 10),
            key(0, 1, 1, i64::MAX, 0),
            key(0, 1, 2, i64::MIN, 0),
            key(0, 2, 0, i64::MIN, 0),
            key(0, u32::MAX, u64::MAX, i64::MAX, u64::MAX),
            key(1, 0, 0, 0, 0),
        ];
        for w in keys.windows(2) {
            assert!(w[0].encode() < w[1].encode(), "{:?} {:?}", w[0], w[1]);
        }
        for k in keys {
            assert_eq!(ChunkKey::decode(&k.encode()).unwrap(), k);
            let end = ChunkKey::series_end(k.tier, k.group, k.series);
            let last = key(k.tier, k.group, k.series, i64::MAX, u64::MAX).encode();
            assert!(end.as_slice() > &last[..], "{k:?}");
            assert!(
                end.as_slice() <= &ChunkKey::series_prefix(k.tier, k.group, k.series.wrapping_add(1))[..]
                    || k.series == u64::MAX
            );
        }
        assert!(ChunkKey::decode(&[0; 5]).is_err());
        assert!(ChunkKey::decode(&[0; CHUNK_KEY_LEN_V2]).is_err());
        // The end of the last series of a group is the first key of the next group.
        assert_eq!(
            ChunkKey::series_end(0, 1, u64::MAX),
            ChunkKey::series_prefix(0, 2, 0)[..5].to_vec()
        );
    }

    #[test]
    fn version_2_keys_decode_without_a_group() {
        let mut old = [0u8; CHUNK_KEY_LEN_V2];
        old[0] = 1;
        old[1..9].copy_from_slice(&42u64.to_be_bytes());
        old[9..17].copy_from_slice(&order_i64(-3).to_be_bytes());
        old[17..25].copy_from_slice(&9u64.to_be_bytes());
        assert_eq!(ChunkKey::decode_v2(&old).unwrap(), key(1, 0, 42, -3, 9));
        assert!(ChunkKey::decode_v2(&key(0, 0, 1, 1, 1).encode()).is_err());
    }

    /// The group is part of the format: these values must never change.
    #[test]
    fn metric_groups_are_fixed() {
        assert_eq!(metric_group(""), 0x811c_9dc5);
        assert_eq!(metric_group("a"), 0xe40c_292c);
        assert_eq!(metric_group("node_cpu_seconds_total"), 0xf8a5_d967);
        assert_ne!(metric_group("node_load1"), metric_group("node_load5"));
    }
}
