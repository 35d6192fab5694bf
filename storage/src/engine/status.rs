//! Self-metrics and TSDB status.

use std::sync::atomic::Ordering;

use super::{Storage, StorageMetrics, TierStatus, TsdbStatus};
use crate::chunk::chunk_meta;
use crate::db::keys::{ChunkKey, TIER_RAW};
use crate::db::partition::TIERS;
use crate::db::{CF_META, CF_SERIES};
use crate::tier::{Columns, decode_block_columns};

impl Storage {
    /// A snapshot of the engine's counters and gauges (walks the head once for the gauges).
    pub fn metrics(&self) -> StorageMetrics {
        let mut head_chunks = 0u64;
        let mut head_bytes = 0u64;
        for shard in self.head.shards() {
            let shard = shard.read();
            // Hash-table slots beyond the entries are memory too.
            head_bytes += (shard.capacity().saturating_sub(shard.len()) * 16) as u64;
            for s in shard.values() {
                head_chunks += u64::from(!s.chunk.is_empty()) + u64::from(!s.ooo.is_empty());
                head_bytes += s.byte_size() as u64;
            }
        }
        let index = self.index.read();
        head_bytes += index.heap_bytes() as u64;
        let head_series = index.len() as u64;
        drop(index);
        head_bytes += self.ref_cache.read().heap_bytes() as u64;
        let c = &self.counters;
        StorageMetrics {
            samples_appended: c.samples_appended.load(Ordering::Relaxed),
            samples_out_of_order: c.samples_out_of_order.load(Ordering::Relaxed),
            series_created: c.series_created.load(Ordering::Relaxed),
            head_series,
            head_chunks,
            chunks_sealed: c.chunks_sealed.load(Ordering::Relaxed),
            corrupt_chunks: c.corrupt_chunks.load(Ordering::Relaxed),
            wal_bytes_written: self.wal.bytes_written(),
            wal_fsyncs: self.wal.fsyncs() + self.db_sync.fsyncs(),
            disk_bytes: self.sst_bytes() + self.wal.disk_bytes(),
            head_bytes,
        }
    }

    /// Bytes of RocksDB's live SST files, all column families.
    fn sst_bytes(&self) -> u64 {
        let mut names: Vec<String> = vec![CF_META.to_string(), CF_SERIES.to_string()];
        names.extend(self.partitions.all().into_iter().map(|p| p.name));
        names
            .iter()
            .filter_map(|n| self.db.cf_handle(n))
            .filter_map(|cf| {
                self.db
                    .property_int_value_cf(&cf, "rocksdb.live-sst-files-size")
                    .ok()
                    .flatten()
            })
            .sum()
    }

    /// What each tier holds on disk. Reads every chunk and block header (not their samples): meant for the
    /// status page, not for hot paths.
    pub fn tier_status(&self) -> Vec<TierStatus> {
        let mut out: Vec<TierStatus> = TIERS
            .iter()
            .map(|t| TierStatus {
                name: t.name,
                min_time: i64::MAX,
                max_time: i64::MIN,
                retention_ms: self.opts.retention_ms.get(usize::from(t.id)).copied().flatten(),
                horizon: self.tiers.horizon[usize::from(t.id)].load(Ordering::Relaxed),
                complete_to: self.tiers.complete_to[usize::from(t.id)].load(Ordering::Relaxed),
                ..Default::default()
            })
            .collect();
        let mut series: Vec<std::collections::HashSet<u64>> = vec![Default::default(); TIERS.len()];
        for p in self.partitions.all() {
            let (Some(st), Some(seen)) = (out.get_mut(usize::from(p.tier)), series.get_mut(usize::from(p.tier))) else {
                continue;
            };
            let Some(cf) = self.db.cf_handle(&p.name) else { continue };
            st.partitions += 1;
            for prop in ["rocksdb.live-sst-files-size", "rocksdb.cur-size-all-mem-tables"] {
                st.bytes += self.db.property_int_value_cf(&cf, prop).ok().flatten().unwrap_or(0);
            }
            for item in self.db.iterator_cf(&cf, rocksdb::IteratorMode::Start) {
                let Ok((k, v)) = item else { break };
                let Ok(key) = ChunkKey::decode(&k) else { continue };
                let counted = if p.tier == TIER_RAW {
                    chunk_meta(&v).map(|m| (m.count as u64, m.min_t, m.max_t)).ok()
                } else {
                    let mut ws = Vec::new();
                    decode_block_columns(&v, Columns::NONE, &mut ws)
                        .ok()
                        .and_then(|()| Some((ws.len() as u64, ws.first()?.t, ws.last()?.t)))
                };
                let Some((n, lo, hi)) = counted else { continue };
                seen.insert(key.series);
                st.chunks += 1;
                st.samples += n;
                st.min_time = st.min_time.min(lo);
                st.max_time = st.max_time.max(hi);
            }
        }
        for (st, seen) in out.iter_mut().zip(&series) {
            st.series = seen.len() as u64;
            if st.min_time > st.max_time {
                (st.min_time, st.max_time) = (0, 0);
            }
        }
        out
    }

    /// Series counts, chunk count, time range and cardinality statistics (top `limit` per list).
    pub fn status(&self, limit: usize) -> TsdbStatus {
        let mut chunk_count = 0u64;
        let (mut min_time, mut max_time) = (i64::MAX, i64::MIN);
        for shard in self.head.shards() {
            for s in shard.read().values() {
                chunk_count +=
                    u64::from(s.sealed_chunks) + u64::from(!s.chunk.is_empty()) + u64::from(!s.ooo.is_empty());
                if s.min_data_t <= s.max_data_t {
                    min_time = min_time.min(s.min_data_t);
                    max_time = max_time.max(s.max_data_t);
                }
            }
        }
        if min_time > max_time {
            (min_time, max_time) = (0, 0);
        }
        let cardinality = self.index.read().cardinality(limit);
        TsdbStatus {
            num_series: cardinality.num_series,
            num_label_pairs: cardinality.num_label_pairs,
            chunk_count,
            min_time,
            max_time,
            cardinality,
            tiers: self.tier_status(),
        }
    }
}
