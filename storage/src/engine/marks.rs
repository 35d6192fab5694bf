//! The dirty marks of the downsampled tiers: which time ranges of which series the next pass must
//! recompute, and how they are persisted (`docs/format/rocksdb.md`, "Meta keys").
//!
//! A write that dirties series puts one record of their ranges (a bulk request's, a seal's), in the same
//! batch as its data, not one key per series: a key per series was as many memtable inserts as chunks.
//! The pass that recomputes ranges replaces every record by a snapshot of what is left.

use rocksdb::WriteBatch;

use super::Storage;
use crate::db::partition::{TIER_1H, TIER_5M};
use crate::db::{CF_META, Db};
use crate::error::{Error, Result};
use crate::index::hash::FxMap;

/// Meta key prefix of layout 3's dirty ranges, one key per series: `dirty/` + tier byte + series ref (BE) →
/// `min_t, max_t` (i64 BE). Read at open; the first pass's snapshot deletes them.
const DIRTY_PREFIX: &[u8] = b"dirty/";
/// The first key after every [`DIRTY_PREFIX`] key.
const DIRTY_PREFIX_END: &[u8] = b"dirty0";
/// Meta key prefix of a mark record: `dirty-log/` + sequence number (u64 BE) → tier byte, then
/// `ref u64, min_t i64, max_t i64` (BE) per series.
const MARK_PREFIX: &[u8] = b"dirty-log/";
/// Bytes of one series' mark in a record.
const MARK_LEN: usize = 24;
/// Most series in one record of a snapshot.
const SNAPSHOT_RECORD_SERIES: usize = 4096;

/// Dirty ranges per series, for the 5 m (index 0) and 1 h (index 1) tiers, and the state of their log.
#[derive(Debug, Default)]
pub(super) struct Dirty {
    pub(super) maps: [FxMap<u64, (i64, i64)>; 2],
    /// Sequence number of the next record.
    pub(super) next_seq: u64,
    /// Series ranges put in records since the last snapshot (or read from records at open).
    pub(super) logged: usize,
    /// Whether layout 3's per-series keys were read at open and are still there.
    pub(super) legacy: bool,
}

impl Dirty {
    /// Reads the persisted marks: layout 3's per-series keys and the records.
    pub(super) fn load(db: &Db, meta: &std::sync::Arc<rocksdb::BoundColumnFamily<'_>>) -> Result<Dirty> {
        let mut dirty = Dirty::default();
        for item in db.prefix_iterator_cf(meta, DIRTY_PREFIX) {
            let (k, v) = item?;
            if !k.starts_with(DIRTY_PREFIX) {
                break;
            }
            let rest = k.get(DIRTY_PREFIX.len()..).unwrap_or_default();
            let parsed = rest.split_first().and_then(|(&t, r)| {
                let r = u64::from_be_bytes(r.try_into().ok()?);
                Some((t, r, two_i64(&v)?))
            });
            match parsed {
                Some((t, r, (lo, hi))) if t == TIER_5M || t == TIER_1H => dirty.merge(t, r, lo, hi)?,
                _ => tracing::warn!("skipping a malformed dirty-range entry"),
            }
            dirty.legacy = true;
        }
        for item in db.prefix_iterator_cf(meta, MARK_PREFIX) {
            let (k, v) = item?;
            if !k.starts_with(MARK_PREFIX) {
                break;
            }
            let seq = k
                .get(MARK_PREFIX.len()..)
                .and_then(|s| Some(u64::from_be_bytes(s.try_into().ok()?)));
            if let Some(seq) = seq {
                dirty.next_seq = dirty.next_seq.max(seq.saturating_add(1));
            }
            match parse_mark_record(&v) {
                Some((t, ranges)) if seq.is_some() && (t == TIER_5M || t == TIER_1H) => {
                    dirty.logged += ranges.len();
                    for (r, lo, hi) in ranges {
                        dirty.merge(t, r, lo, hi)?;
                    }
                }
                _ => tracing::warn!("skipping a malformed dirty-mark record"),
            }
        }
        Ok(dirty)
    }

    /// Merges `(lo, hi)` into series `r`'s range in tier `tier_id`.
    pub(super) fn merge(&mut self, tier_id: u8, r: u64, lo: i64, hi: i64) -> Result<()> {
        let map = self
            .maps
            .get_mut(usize::from(tier_id).wrapping_sub(1))
            .ok_or_else(|| Error::Internal(format!("no dirty map for tier {tier_id}")))?;
        let e = map.entry(r).or_insert((lo, hi));
        e.0 = e.0.min(lo);
        e.1 = e.1.max(hi);
        Ok(())
    }
}

/// The meta key of record `seq`.
fn mark_key(seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(MARK_PREFIX.len() + 8);
    k.extend_from_slice(MARK_PREFIX);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// A mark record: `tier`, then each series' range.
fn mark_record(tier: u8, ranges: impl ExactSizeIterator<Item = (u64, i64, i64)>) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + MARK_LEN * ranges.len());
    v.push(tier);
    for (r, lo, hi) in ranges {
        v.extend_from_slice(&r.to_be_bytes());
        v.extend_from_slice(&lo.to_be_bytes());
        v.extend_from_slice(&hi.to_be_bytes());
    }
    v
}

/// The tier and ranges of a mark record; `None` if it is malformed.
fn parse_mark_record(v: &[u8]) -> Option<(u8, Vec<(u64, i64, i64)>)> {
    let (&tier, rest) = v.split_first()?;
    if rest.len() % MARK_LEN != 0 {
        return None;
    }
    let ranges = rest
        .chunks_exact(MARK_LEN)
        .map(|m| {
            let r = u64::from_be_bytes(m.get(..8)?.try_into().ok()?);
            let (lo, hi) = two_i64(m.get(8..)?)?;
            Some((r, lo, hi))
        })
        .collect::<Option<Vec<_>>>()?;
    Some((tier, ranges))
}

/// Two big-endian `i64`s at the start of `v`.
fn two_i64(v: &[u8]) -> Option<(i64, i64)> {
    let a = i64::from_be_bytes(v.get(..8)?.try_into().ok()?);
    let b = i64::from_be_bytes(v.get(8..16)?.try_into().ok()?);
    Some((a, b))
}

impl Storage {
    /// Writes `wb` after adding to it the merged dirty marks of `ranges` for tier `tier` (5 m or 1 h).
    ///
    /// The marks are merged and the batch is written under the dirty-map lock, so a pass never takes a
    /// range from the maps before the data that dirtied it is written, and a pass's snapshot, written
    /// under the lock too, either holds a mark or comes before its record.
    pub(super) fn write_marking_dirty(
        &self,
        mut wb: WriteBatch,
        tier_id: u8,
        ranges: &[(u64, i64, i64)],
    ) -> Result<()> {
        let mut dirty = self.tiers.dirty.lock();
        self.mark_locked(&mut dirty, &mut wb, tier_id, ranges)?;
        self.db.write(wb)?;
        Ok(())
    }

    /// Merges `ranges` into the dirty map of `tier_id` and puts them into `wb` as one mark record.
    pub(super) fn mark_locked(
        &self,
        dirty: &mut Dirty,
        wb: &mut WriteBatch,
        tier_id: u8,
        ranges: &[(u64, i64, i64)],
    ) -> Result<()> {
        if ranges.is_empty() {
            return Ok(());
        }
        for &(r, lo, hi) in ranges {
            dirty.merge(tier_id, r, lo, hi)?;
        }
        wb.put_cf(
            &self.cf(CF_META)?,
            mark_key(dirty.next_seq),
            mark_record(tier_id, ranges.iter().copied()),
        );
        dirty.next_seq += 1;
        dirty.logged += ranges.len();
        Ok(())
    }

    /// Replaces every persisted mark (records, and layout 3's per-series keys) by records of the dirty
    /// maps as they are, in one batch written under the maps' lock: a mark put meanwhile is either in the
    /// maps (so in the snapshot) or in a later record.
    ///
    /// Unless `always` (a flush, a close), only once the records logged since the last snapshot
    /// outnumber the series still dirty, or nothing is dirty any more, or layout 3's keys are there: a
    /// snapshot rewrites every dirty series, and with a million of them a pass a minute would rewrite 24 MB
    /// a minute. The records in between cover more than the maps after a pass, which at worst redoes
    /// ranges after a crash.
    pub(super) fn snapshot_marks(&self, always: bool) -> Result<()> {
        let meta = self.cf(CF_META)?;
        let mut dirty = self.tiers.dirty.lock();
        let dirty_series: usize = dirty.maps.iter().map(FxMap::len).sum();
        let due = dirty.legacy
            || (dirty.logged > 0 && dirty_series == 0)
            || dirty.logged > dirty_series.max(SNAPSHOT_RECORD_SERIES);
        if !always && !due {
            return Ok(());
        }
        let mut wb = WriteBatch::default();
        wb.delete_range_cf(&meta, mark_key(0), mark_key(dirty.next_seq));
        wb.delete_range_cf(&meta, DIRTY_PREFIX, DIRTY_PREFIX_END);
        let mut seq = dirty.next_seq;
        for (tier_id, map) in [TIER_5M, TIER_1H].into_iter().zip(&dirty.maps) {
            let ranges: Vec<(u64, i64, i64)> = map.iter().map(|(&r, &(lo, hi))| (r, lo, hi)).collect();
            for part in ranges.chunks(SNAPSHOT_RECORD_SERIES) {
                wb.put_cf(&meta, mark_key(seq), mark_record(tier_id, part.iter().copied()));
                seq += 1;
            }
        }
        self.db.write(wb)?;
        dirty.next_seq = seq;
        dirty.logged = 0;
        dirty.legacy = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::now_ms;
    use super::*;
    use crate::{FsyncPolicy, StorageOptions};

    /// The persisted marks, as a fresh load reads them.
    fn loaded(st: &Storage) -> [Vec<(u64, (i64, i64))>; 2] {
        let d = Dirty::load(&st.db, &st.cf(CF_META).unwrap()).unwrap();
        d.maps.map(|m| {
            let mut v: Vec<_> = m.into_iter().collect();
            v.sort_unstable();
            v
        })
    }

    fn in_memory(st: &Storage) -> [Vec<(u64, (i64, i64))>; 2] {
        st.tiers.dirty.lock().maps.clone().map(|m| {
            let mut v: Vec<_> = m.into_iter().collect();
            v.sort_unstable();
            v
        })
    }

    fn options(dir: &std::path::Path) -> StorageOptions {
        let mut o = StorageOptions::new(dir);
        o.wal_fsync = FsyncPolicy::Never;
        o
    }

    /// Puts a mark of series `r` in layout 3's form, a key of its own.
    fn put_legacy(db: &Db, r: u64, lo: i64, hi: i64) {
        let mut key = DIRTY_PREFIX.to_vec();
        key.push(TIER_5M);
        key.extend_from_slice(&r.to_be_bytes());
        let mut range = lo.to_be_bytes().to_vec();
        range.extend_from_slice(&hi.to_be_bytes());
        db.put_cf(&crate::db::cf(db, CF_META).unwrap(), &key, &range).unwrap();
    }

    /// Meta keys under `prefix`.
    fn keys(st: &Storage, prefix: &[u8]) -> usize {
        let meta = st.cf(CF_META).unwrap();
        st.db
            .prefix_iterator_cf(&meta, prefix)
            .map(|i| i.unwrap().0)
            .take_while(|k| k.starts_with(prefix))
            .count()
    }

    /// One record per write, whatever its number of series; a load merges the records as the maps do;
    /// a pass's snapshot replaces them, and layout 3's per-series keys, by what is left.
    #[test]
    fn marks_are_logged_per_write_and_snapshotted_by_a_pass() {
        let dir = tempfile::tempdir().unwrap();
        let st = Storage::open(options(dir.path())).unwrap();
        let before = keys(&st, MARK_PREFIX);
        let now = now_ms();
        // Far in the future: no pass recomputes them, so they stay dirty.
        let later = now + 400 * 24 * 3_600_000;
        let first: Vec<(u64, i64, i64)> = (0..5000).map(|r| (r, later, later + 1000)).collect();
        st.write_marking_dirty(WriteBatch::default(), TIER_5M, &first).unwrap();
        st.write_marking_dirty(
            WriteBatch::default(),
            TIER_5M,
            &[(7, later - 50, later + 10), (9_000, later, later)],
        )
        .unwrap();
        st.write_marking_dirty(WriteBatch::default(), TIER_1H, &[(7, later, later + 1)])
            .unwrap();
        assert_eq!(keys(&st, MARK_PREFIX), before + 3);
        // Layout 3 left a key per series.
        put_legacy(&st.db, 9_001, later, later + 5);
        let mut want = in_memory(&st);
        want[0].push((9_001, (later, later + 5)));
        want[0].sort_unstable();
        assert_eq!(loaded(&st), want);
        assert_eq!(want[0].len(), 5002);
        assert!(want[0].contains(&(7, (later - 50, later + 1000))));

        {
            // What a load does with it.
            let mut d = st.tiers.dirty.lock();
            d.merge(TIER_5M, 9_001, later, later + 5).unwrap();
            d.legacy = true;
        }
        st.downsample().unwrap();
        assert_eq!(keys(&st, DIRTY_PREFIX), 0, "layout 3's keys are gone");
        // The 1 h tier follows the 5 m tier's windows, whatever their time: its range is done. 5002 series
        // of the 5 m tier are left, in records of 4096.
        want[1].clear();
        assert_eq!(keys(&st, MARK_PREFIX), 2);
        assert_eq!(loaded(&st), in_memory(&st));
        assert_eq!(loaded(&st), want);
        // Nothing new: the next pass writes nothing.
        let seq = st.tiers.dirty.lock().next_seq;
        st.downsample().unwrap();
        assert_eq!(st.tiers.dirty.lock().next_seq, seq);
        // A new record is numbered after the snapshot, and survives the next load. A pass leaves it: one
        // record is no reason to rewrite 5 002 series.
        st.write_marking_dirty(WriteBatch::default(), TIER_5M, &[(8, later, later + 2000)])
            .unwrap();
        st.downsample().unwrap();
        assert_eq!(keys(&st, MARK_PREFIX), 3);
        assert_eq!(loaded(&st), in_memory(&st));
    }

    /// Once the records logged since the last snapshot outnumber the dirty series, a pass compacts them.
    #[test]
    fn a_long_log_is_compacted_by_a_pass() {
        let dir = tempfile::tempdir().unwrap();
        let st = Storage::open(options(dir.path())).unwrap();
        let later = now_ms() + 400 * 24 * 3_600_000;
        for k in 0..400 {
            let ranges: Vec<(u64, i64, i64)> = (0..10).map(|r| (r, later - k, later + k)).collect();
            st.write_marking_dirty(WriteBatch::default(), TIER_5M, &ranges).unwrap();
        }
        st.downsample().unwrap();
        assert_eq!(keys(&st, MARK_PREFIX), 400, "4 000 ranges logged: not yet");
        for k in 400..410 {
            let ranges: Vec<(u64, i64, i64)> = (0..10).map(|r| (r, later - k, later + k)).collect();
            st.write_marking_dirty(WriteBatch::default(), TIER_5M, &ranges).unwrap();
        }
        st.downsample().unwrap();
        assert_eq!(keys(&st, MARK_PREFIX), 1, "4 100 ranges for 10 series: one record");
        assert_eq!(loaded(&st), in_memory(&st));
        assert_eq!(in_memory(&st)[0].first(), Some(&(0, (later - 409, later + 409))));
    }

    /// Opening a layout 3 database turns its per-series marks into records and records layout 4.
    #[test]
    fn opening_layout_3_upgrades_its_marks() {
        let dir = tempfile::tempdir().unwrap();
        let later = now_ms() + 400 * 24 * 3_600_000;
        Storage::open(options(dir.path())).unwrap().close().unwrap();
        {
            // As a Strata of layout 3 left it: its key, and the version.
            let (db, _, _) = crate::db::open(&dir.path().join(super::super::DB_DIR)).unwrap();
            put_legacy(&db, 42, later, later + 5);
            crate::db::set_format_version(&db, 3).unwrap();
        }
        let st = Storage::open(options(dir.path())).unwrap();
        assert_eq!(keys(&st, DIRTY_PREFIX), 0);
        assert_eq!(in_memory(&st)[0], vec![(42, (later, later + 5))]);
        assert_eq!(loaded(&st), in_memory(&st));
        let meta = st.cf(CF_META).unwrap();
        let version = st.db.get_cf(&meta, crate::db::META_FORMAT_KEY).unwrap();
        assert_eq!(version, Some(vec![crate::db::DB_FORMAT_VERSION]));
    }

    /// Malformed records are skipped with a warning; the others still load.
    #[test]
    fn malformed_mark_records_are_skipped() {
        assert_eq!(parse_mark_record(&[]), None);
        assert_eq!(parse_mark_record(&[TIER_5M, 1, 2]), None);
        let good = mark_record(TIER_1H, [(3, -1, 5)].into_iter());
        assert_eq!(parse_mark_record(&good), Some((TIER_1H, vec![(3, -1, 5)])));
        let dir = tempfile::tempdir().unwrap();
        let st = Storage::open(options(dir.path())).unwrap();
        let meta = st.cf(CF_META).unwrap();
        let later = now_ms() + 400 * 24 * 3_600_000;
        st.db.put_cf(&meta, mark_key(100), [TIER_5M, 1, 2]).unwrap();
        st.db.put_cf(&meta, mark_key(101), [9u8]).unwrap();
        st.db
            .put_cf(
                &meta,
                mark_key(102),
                mark_record(TIER_5M, [(4, later, later)].into_iter()),
            )
            .unwrap();
        let d = Dirty::load(&st.db, &st.cf(CF_META).unwrap()).unwrap();
        assert_eq!(d.next_seq, 103);
        assert_eq!(d.maps[0].get(&4), Some(&(later, later)));
        assert_eq!(d.maps[0].len() + d.maps[1].len(), 1);
    }
}
