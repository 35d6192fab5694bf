//! Opening a data directory: RocksDB, the series index rebuilt from the `series` column family, per-series
//! time ranges from the chunk keys, then WAL replay.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};
use rocksdb::{IteratorMode, WriteBatch};

use super::{Counters, DB_DIR, MAX_CHUNK_SPAN_MS, Storage, StorageOptions, WAL_DIR, now_ms};
use crate::chunk::{MAX_SAMPLES, chunk_meta, decode_chunk};
use crate::db::keys::{ChunkKey, TIER_RAW, decode_series_key, group_of, series_key};
use crate::db::partition::Partitions;
use crate::db::{self, CF_META, CF_SERIES, Db, META_NEXT_REF_KEY, decode_series_value, encode_series_value};
use crate::error::{Error, Result};
use crate::head::{Head, HeadSeries};
use crate::index::{Index, SeriesRef};
use crate::wal::record::Record;
use crate::wal::{self, Wal, reader};

impl Storage {
    /// Opens or creates the data directory (RocksDB under `<dir>/db`, the WAL under `<dir>/wal`) and replays
    /// the WAL. Torn or corrupt WAL records, corrupt series entries and corrupt chunks are detected by their
    /// checksums, logged with `tracing::warn!` and skipped: the storage opens with what is intact.
    pub fn open(mut opts: StorageOptions) -> Result<Storage> {
        opts.chunk_max_samples = opts.chunk_max_samples.clamp(1, MAX_SAMPLES);
        opts.chunk_max_span_ms = opts.chunk_max_span_ms.clamp(1, MAX_CHUNK_SPAN_MS);
        opts.head_idle_seal_ms = opts.head_idle_seal_ms.max(0);
        let db_dir = opts.data_dir.join(DB_DIR);
        let wal_dir = opts.data_dir.join(WAL_DIR);
        for d in [&db_dir, &wal_dir] {
            std::fs::create_dir_all(d).map_err(|e| Error::Io {
                path: d.clone(),
                source: e,
            })?;
        }
        let (db, cf_names, version) = db::open(&db_dir)?;
        let partitions = Partitions::from_names(cf_names.iter().map(String::as_str));
        let tiers = super::downsample::TierState::load(&db)?;
        let mut index = Index::new();
        let head = Head::new();
        let mut next_ref = load_series(&db, &mut index, &head)?;
        if version == 2 {
            let moved = migrate_chunk_keys(&db, &partitions, &head)?;
            db::set_format_version(&db, 3)?;
            tracing::info!(
                chunks = moved,
                "chunk keys moved to layout version 3 (metric group first)"
            );
        }
        let (next_seq, corrupt) = scan_chunks(&db, &partitions, &head)?;
        if let Some(v) = db.get_cf(&db::cf(&db, CF_META)?, META_NEXT_REF_KEY)? {
            let b: [u8; 8] = v.as_slice().try_into().map_err(|_| Error::Corrupt {
                what: "meta next_series_ref",
                reason: format!("length {}", v.len()),
            })?;
            next_ref = next_ref.max(u64::from_be_bytes(b));
        }
        let segments = wal::list_segments(&wal_dir)?;
        let first_seg = segments.last().map_or(1, |(n, _)| n + 1);
        let wal = Wal::create(&wal_dir, first_seg, opts.wal_fsync)?;
        let db_sync = super::durable::DbSync::new(opts.wal_fsync);
        let storage = Storage {
            opts,
            db,
            partitions,
            tiers,
            wal,
            db_sync,
            head,
            index: RwLock::new(index),
            ref_cache: RwLock::new(super::ref_cache::RefCache::default()),
            append_lock: Mutex::new(()),
            next_ref: AtomicU64::new(next_ref.max(1)),
            next_seq: AtomicU64::new(next_seq),
            seal_epoch: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            counters: Counters {
                corrupt_chunks: AtomicU64::new(corrupt),
                ..Counters::default()
            },
        };
        storage.replay(&segments)?;
        let all: Vec<u64> = storage
            .head
            .shards()
            .iter()
            .flat_map(|s| s.read().keys().copied().collect::<Vec<_>>())
            .collect();
        storage.remove_empty_series(all.into_iter())?;
        // Recomputes what a crash left dirty and sets the tiers' watermarks. Its snapshot of the dirty marks
        // replaces layout 3's per-series keys, which completes the upgrade to layout 4.
        storage.downsample()?;
        if version < db::DB_FORMAT_VERSION {
            db::set_format_version(&storage.db, db::DB_FORMAT_VERSION)?;
        }
        Ok(storage)
    }

    /// Replays WAL segments in order. A torn or corrupt record ends its segment (logged); the next segment is
    /// still read. Samples of series whose creation record was lost are skipped (logged).
    fn replay(&self, segments: &[(u64, std::path::PathBuf)]) -> Result<()> {
        let now = now_ms();
        // A series record for labels already indexed under another ref (the old series was deleted and
        // re-created) maps the WAL ref onto the indexed one.
        let mut alias: HashMap<u64, u64> = HashMap::new();
        let mut unknown = 0u64;
        for (seg, path) in segments {
            let seg = *seg;
            let out = reader::replay_segment(path, |rec| match rec {
                Record::Series(list) => self.replay_series(list, &mut alias),
                Record::Samples(groups) => {
                    for (r, samples) in groups {
                        let r = alias.get(&r).copied().unwrap_or(r);
                        if !self.index.read().contains(SeriesRef(r)) {
                            unknown += samples.len() as u64;
                            continue;
                        }
                        self.apply_samples(r, samples.into_iter(), seg, now, false)?;
                    }
                    Ok(())
                }
                Record::Tombstones(stones) => {
                    let mut wb = WriteBatch::default();
                    for (r, mint, maxt) in stones {
                        let r = alias.get(&r).copied().unwrap_or(r);
                        let mut shard = self.head.shard(r).write();
                        if let Some(s) = shard.get_mut(&r) {
                            self.delete_sealed(r, s, mint, maxt, &mut wb)?;
                            s.drop_range(mint, maxt)?;
                        }
                    }
                    self.db.write(wb)?;
                    Ok(())
                }
            })?;
            if let Some(e) = &out.corruption {
                tracing::warn!(
                    segment = %path.display(),
                    intact_bytes = out.good_bytes,
                    file_bytes = out.file_bytes,
                    records = out.records,
                    error = %e,
                    "wal segment is torn or corrupt: skipping the rest of it"
                );
            }
        }
        if unknown > 0 {
            tracing::warn!(
                samples = unknown,
                "wal replay: skipped samples of series whose creation record was lost"
            );
        }
        Ok(())
    }

    fn replay_series(&self, list: Vec<(u64, crate::labels::Labels)>, alias: &mut HashMap<u64, u64>) -> Result<()> {
        let cf = self.cf(CF_SERIES)?;
        let mut wb = WriteBatch::default();
        let mut idx = self.index.write();
        for (r, labels) in list {
            self.next_ref.fetch_max(r.saturating_add(1), Ordering::Relaxed);
            match idx.get(&labels) {
                Some(existing) if existing.0 == r => {}
                Some(existing) => {
                    let empty = self
                        .head
                        .shard(existing.0)
                        .read()
                        .get(&existing.0)
                        .is_none_or(|s| !s.has_data());
                    if empty {
                        idx.remove(existing);
                        self.head.shard(existing.0).write().remove(&existing.0);
                        wb.delete_cf(&cf, series_key(existing.0));
                    } else {
                        alias.insert(r, existing.0);
                        continue;
                    }
                    insert_series(&mut idx, &self.head, r, labels, &cf, &mut wb);
                }
                None => insert_series(&mut idx, &self.head, r, labels, &cf, &mut wb),
            }
        }
        drop(idx);
        self.db.write(wb)?;
        Ok(())
    }
}

fn insert_series(
    idx: &mut Index,
    head: &Head,
    r: u64,
    labels: crate::labels::Labels,
    cf: &std::sync::Arc<rocksdb::BoundColumnFamily<'_>>,
    wb: &mut WriteBatch,
) {
    let value = encode_series_value(&labels);
    let group = group_of(&labels);
    match idx.try_insert(SeriesRef(r), labels) {
        Ok(()) => {
            head.shard(r).write().entry(r).or_insert_with(|| HeadSeries::new(group));
            wb.put_cf(cf, series_key(r), value);
        }
        Err(e) => tracing::warn!(series = r, error = %e, "wal replay: skipping series record"),
    }
}

/// Rebuilds the index from the `series` column family; returns one above the largest ref.
fn load_series(db: &Db, index: &mut Index, head: &Head) -> Result<u64> {
    let mut next = 1u64;
    for item in db.iterator_cf(&db::cf(db, CF_SERIES)?, IteratorMode::Start) {
        let (k, v) = item?;
        let r = match decode_series_key(&k) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "skipping malformed series entry");
                continue;
            }
        };
        next = next.max(r.saturating_add(1));
        let inserted = decode_series_value(&v).and_then(|l| {
            let group = group_of(&l);
            index.try_insert(SeriesRef(r), l).map(|()| group)
        });
        match inserted {
            Ok(group) => {
                head.shard(r).write().insert(r, HeadSeries::new(group));
            }
            Err(e) => tracing::warn!(series = r, error = %e, "skipping corrupt series entry"),
        }
    }
    Ok(next)
}

/// Rewrites every chunk key of layout version 2 (tier, series, ...) as a version 3 key, which puts the
/// series' metric group before the series (`head` knows each series' group; chunks of unknown series, which
/// reads ignore, get group 0). Returns the number of keys moved. A crash part-way is harmless: the layout
/// version stays 2 until the caller records 3, and the next open moves what is left (version 3 keys are
/// longer, so they are told apart and skipped).
fn migrate_chunk_keys(db: &Db, partitions: &Partitions, head: &Head) -> Result<u64> {
    /// Puts and deletes per write.
    const BATCH_OPS: usize = 8192;
    let mut moved = 0u64;
    for p in partitions.all() {
        let cf = db::cf_named(db, &p.name)?;
        let mut wb = WriteBatch::default();
        // The iterator reads a snapshot taken when it was created: the keys put below are not met again.
        for item in db.iterator_cf(&cf, IteratorMode::Start) {
            let (k, v) = item?;
            let Ok(mut key) = ChunkKey::decode_v2(&k) else { continue };
            key.group = head.shard(key.series).read().get(&key.series).map_or(0, |s| s.group);
            wb.put_cf(&cf, key.encode(), &v);
            wb.delete_cf(&cf, &k);
            moved += 1;
            if wb.len() >= BATCH_OPS {
                db.write(std::mem::take(&mut wb))?;
            }
        }
        db.write(wb)?;
    }
    Ok(moved)
}

/// The last raw chunk seen of one series in a partition scan.
#[derive(Default)]
struct LastChunk {
    series: Option<u64>,
    bytes: Vec<u8>,
    ts: Vec<i64>,
    vs: Vec<f64>,
}

impl LastChunk {
    /// Sets the series' newest value (`HeadSeries::max_v`) from the chunk when the chunk ends at the
    /// series' newest timestamp found so far, so that instant selectors answer from memory after a restart
    /// as before it; then forgets the chunk. A chunk that does not decode is left to the reads to report.
    fn note_newest(&mut self, head: &Head) {
        let Some(r) = self.series.take() else { return };
        let mut shard = head.shard(r).write();
        let Some(s) = shard.get_mut(&r) else { return };
        if chunk_meta(&self.bytes).map(|m| m.max_t).ok() != Some(s.max_t) {
            return;
        }
        self.ts.clear();
        self.vs.clear();
        if decode_chunk(&self.bytes, &mut self.ts, &mut self.vs).is_ok() && self.ts.last() == Some(&s.max_t) {
            s.max_v = self.vs.last().copied();
        }
    }
}

/// Reads every chunk and block once: counts them per series into the head's series state and restores each
/// series' newest in-order timestamp, the value there, and its data time range. Returns the next seal
/// sequence number and the number of corrupt entries found.
fn scan_chunks(db: &Db, partitions: &Partitions, head: &Head) -> Result<(u64, u64)> {
    let mut next_seq = 1u64;
    let mut orphans = 0u64;
    let mut corrupt = 0u64;
    // The last raw chunk of the series being scanned in the current partition: keys sort by series, then
    // `max_t`, then seal sequence, so it holds the series' newest sample in the partition, as last written.
    let mut last = LastChunk::default();
    for p in partitions.all() {
        let cf = db::cf_named(db, &p.name)?;
        for item in db.iterator_cf(&cf, IteratorMode::Start) {
            let (k, v) = item?;
            let Ok(key) = ChunkKey::decode(&k) else {
                corrupt += 1;
                continue;
            };
            if key.tier != p.tier {
                corrupt += 1;
                continue;
            }
            if key.tier == TIER_RAW {
                if last.series != Some(key.series) {
                    last.note_newest(head);
                }
                last.series = Some(key.series);
                last.bytes.clear();
                last.bytes.extend_from_slice(&v);
            }
            let mut shard = head.shard(key.series).write();
            let Some(s) = shard.get_mut(&key.series).filter(|s| s.group == key.group) else {
                orphans += 1;
                continue;
            };
            let range = if key.tier == TIER_RAW {
                next_seq = next_seq.max(key.seq.saturating_add(1));
                chunk_meta(&v).map(|m| (m.min_t, m.max_t))
            } else {
                crate::tier::block_range(&v)
            };
            let (min_t, max_t) = match range {
                Ok(r) => r,
                Err(e) => {
                    corrupt += 1;
                    tracing::warn!(series = key.series, partition = %p.name, chunk_max_t = key.max_t, error = %e, "corrupt chunk found at open");
                    (key.max_t.saturating_sub(MAX_CHUNK_SPAN_MS), key.max_t)
                }
            };
            s.sealed_chunks = s.sealed_chunks.saturating_add(1);
            if key.tier == TIER_RAW {
                s.max_t = s.max_t.max(max_t);
            }
            s.note_time(min_t);
            s.note_time(max_t);
        }
        last.note_newest(head);
    }
    if orphans > 0 {
        tracing::warn!(chunks = orphans, "chunks of unknown series ignored");
    }
    if corrupt > 0 {
        tracing::warn!(chunks = corrupt, "corrupt chunks found at open; reads skip them");
    }
    Ok((next_seq, corrupt))
}
