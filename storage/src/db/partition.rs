//! Time partitions: every tier's chunks live in column families that each cover one aligned time span, so
//! that retention drops whole column families (their SST files are deleted at once, nothing live is read or
//! rewritten). Format: `docs/format/rocksdb.md`, "Partitions".
//!
//! A partition's column family is named `<tier>_<start ms>`, e.g. `raw_1763769600000`. A raw chunk never
//! crosses a partition boundary; a tier block (`docs/format/tiers.md`) covers a span that divides the
//! partition span.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rocksdb::BoundColumnFamily;

use super::{Db, partition_options};
use crate::error::Result;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

pub use super::keys::TIER_RAW;
/// Tier id of 5-minute aggregates.
pub const TIER_5M: u8 = 1;
/// Tier id of 1-hour aggregates.
pub const TIER_1H: u8 = 2;

/// A resolution tier and its time layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// Tier id: the first byte of its chunk keys.
    pub id: u8,
    /// Name used in column family names and reports.
    pub name: &'static str,
    /// Width of one aggregation window (0 for raw).
    pub resolution_ms: i64,
    /// Span of one time partition (one column family).
    pub partition_ms: i64,
    /// Span of one stored block of windows (tiers only; divides `partition_ms`).
    pub block_ms: i64,
}

/// The tiers, finest first; indexed by tier id.
pub const TIERS: [Tier; 3] = [
    Tier {
        id: TIER_RAW,
        name: "raw",
        resolution_ms: 0,
        partition_ms: DAY,
        block_ms: 0,
    },
    Tier {
        id: TIER_5M,
        name: "5m",
        resolution_ms: 5 * MINUTE,
        partition_ms: 5 * DAY,
        block_ms: 6 * HOUR,
    },
    Tier {
        id: TIER_1H,
        name: "1h",
        resolution_ms: HOUR,
        partition_ms: 30 * DAY,
        block_ms: 5 * DAY,
    },
];

/// The tier with id `id`.
pub fn tier(id: u8) -> &'static Tier {
    TIERS.get(usize::from(id)).unwrap_or(&TIERS[0])
}

/// Floors `t` to a multiple of `span` (saturating at the ends of the i64 range).
pub fn align_down(t: i64, span: i64) -> i64 {
    if span <= 0 {
        return t;
    }
    t.div_euclid(span).checked_mul(span).unwrap_or(i64::MIN)
}

/// The start of the partition of `tier` holding time `t`.
pub fn partition_start(tier: &Tier, t: i64) -> i64 {
    align_down(t, tier.partition_ms)
}

/// The exclusive end of the partition starting at `start`.
pub fn partition_end(tier: &Tier, start: i64) -> i64 {
    start.saturating_add(tier.partition_ms)
}

/// The column family name of a partition.
pub fn partition_name(tier: &Tier, start: i64) -> String {
    format!("{}_{}", tier.name, start)
}

/// Parses a partition column family name into (tier id, start).
pub fn parse_partition_name(name: &str) -> Option<(u8, i64)> {
    let (tier_name, start) = name.split_once('_')?;
    let tier = TIERS.iter().find(|t| t.name == tier_name)?;
    let start: i64 = start.parse().ok()?;
    (partition_start(tier, start) == start).then_some((tier.id, start))
}

/// A partition: its tier, start and column family name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Tier id.
    pub tier: u8,
    /// Start of its time span (inclusive, ms).
    pub start: i64,
    /// Column family name.
    pub name: String,
}

impl Partition {
    /// Exclusive end of its time span.
    pub fn end(&self) -> i64 {
        partition_end(tier(self.tier), self.start)
    }
}

/// The set of existing partitions. Creation is serialised; lookups take a read lock.
#[derive(Default)]
pub struct Partitions {
    map: RwLock<BTreeMap<(u8, i64), String>>,
    create: Mutex<()>,
}

impl Partitions {
    /// The partitions among the given column family names (others are ignored).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Partitions {
        let map = names
            .into_iter()
            .filter_map(|n| parse_partition_name(n).map(|k| (k, n.to_string())))
            .collect();
        Partitions {
            map: RwLock::new(map),
            create: Mutex::new(()),
        }
    }

    /// The column family of the partition of `tier` holding `t`, created when missing.
    pub fn get_or_create<'a>(&self, db: &'a Db, tier_id: u8, t: i64) -> Result<Arc<BoundColumnFamily<'a>>> {
        let start = partition_start(tier(tier_id), t);
        if let Some(name) = self.map.read().get(&(tier_id, start))
            && let Some(cf) = db.cf_handle(name)
        {
            return Ok(cf);
        }
        let _guard = self.create.lock();
        let name = partition_name(tier(tier_id), start);
        if db.cf_handle(&name).is_none() {
            db.create_cf(&name, &partition_options(tier_id))?;
        }
        self.map.write().insert((tier_id, start), name.clone());
        super::cf_named(db, &name)
    }

    /// Partitions of `tier` whose span meets `[mint, maxt]`, oldest first.
    pub fn overlapping(&self, tier_id: u8, mint: i64, maxt: i64) -> Vec<Partition> {
        let lo = partition_start(tier(tier_id), mint);
        self.map
            .read()
            .range((tier_id, lo)..=(tier_id, maxt))
            .map(|(&(tier, start), name)| Partition {
                tier,
                start,
                name: name.clone(),
            })
            .collect()
    }

    /// Every partition, by tier then start.
    pub fn all(&self) -> Vec<Partition> {
        self.map
            .read()
            .iter()
            .map(|(&(tier, start), name)| Partition {
                tier,
                start,
                name: name.clone(),
            })
            .collect()
    }

    /// Drops the partitions of `tier` that end at or before `cutoff`; returns them.
    pub fn drop_ending_before(&self, db: &Db, tier_id: u8, cutoff: i64) -> Result<Vec<Partition>> {
        let _guard = self.create.lock();
        let doomed: Vec<Partition> = self
            .all()
            .into_iter()
            .filter(|p| p.tier == tier_id && p.end() <= cutoff)
            .collect();
        for p in &doomed {
            self.map.write().remove(&(p.tier, p.start));
            db.drop_cf(&p.name)?;
        }
        Ok(doomed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_round_trip_and_align() {
        let raw = tier(TIER_RAW);
        let start = partition_start(raw, 1_763_800_000_123);
        assert_eq!(start % DAY, 0);
        let name = partition_name(raw, start);
        assert_eq!(parse_partition_name(&name), Some((TIER_RAW, start)));
        assert_eq!(
            parse_partition_name(&partition_name(tier(TIER_1H), -30 * DAY)),
            Some((TIER_1H, -30 * DAY))
        );
        assert_eq!(parse_partition_name("raw_5"), None, "unaligned start");
        assert_eq!(parse_partition_name("series"), None);
        assert_eq!(parse_partition_name("2h_0"), None);
        assert_eq!(partition_start(raw, -1), -DAY);
        assert_eq!(align_down(i64::MIN, DAY), i64::MIN);
        for t in &TIERS[1..] {
            assert_eq!(t.partition_ms % t.block_ms, 0);
            assert_eq!(t.block_ms % t.resolution_ms, 0);
        }
    }
}
