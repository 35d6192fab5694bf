//! Self-metrics and TSDB status.

use std::sync::atomic::Ordering;

use super::{Storage, StorageMetrics, TsdbStatus};
use crate::db::{CF_META, CF_RAW, CF_SERIES};

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
        let c = &self.counters;
        StorageMetrics {
            samples_appended: c.samples_appended.load(Ordering::Relaxed),
            samples_out_of_order: c.samples_out_of_order.load(Ordering::Relaxed),
            series_created: c.series_created.load(Ordering::Relaxed),
            head_series,
            head_chunks,
            chunks_sealed: c.chunks_sealed.load(Ordering::Relaxed),
            wal_bytes_written: self.wal.bytes_written(),
            wal_fsyncs: self.wal.fsyncs(),
            disk_bytes: self.sst_bytes() + self.wal.disk_bytes(),
            head_bytes,
        }
    }

    /// Bytes of RocksDB's live SST files, all column families.
    fn sst_bytes(&self) -> u64 {
        [CF_META, CF_SERIES, CF_RAW]
            .into_iter()
            .filter_map(|n| self.cf(n).ok())
            .filter_map(|cf| {
                self.db
                    .property_int_value_cf(cf, "rocksdb.live-sst-files-size")
                    .ok()
                    .flatten()
            })
            .sum()
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
        }
    }
}
