//! The storage engine: [`Storage`] ties the WAL, the head, the series index and RocksDB together.
//!
//! Write path (`append.rs`): validate → look up / create series refs → whole chunks of bulk writes sealed
//! straight into RocksDB → one WAL write (series records before the other samples) → head (in-order chunk
//! or out-of-order buffer) → commit per [`FsyncPolicy`] (group commit; RocksDB's WAL for the direct chunks,
//! `durable.rs`).
//! Full chunks are sealed into RocksDB inline; `maintain` (`seal.rs`) seals idle data and deletes WAL segments
//! whose data is all sealed. Reads (`read.rs`) merge sealed chunks, head chunk and out-of-order buffer.
//! Formats: `docs/format/wal.md`, `docs/format/rocksdb.md`, `docs/format/refs.md`.

mod append;
mod delete;
mod downsample;
mod durable;
mod marks;
mod open;
mod read;
mod ref_cache;
mod retention;
mod seal;
mod status;
mod tiered;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};

use crate::db::Db;
use crate::db::partition::Partitions;
use crate::error::{Error, Result};
use crate::head::Head;
use crate::index::{Cardinality, Index};
use crate::labels::Labels;
use crate::read::Sample;
pub use crate::wal::FsyncPolicy;
use crate::wal::Wal;

/// Name of the RocksDB directory inside the data directory.
pub const DB_DIR: &str = "db";
/// Name of the WAL directory inside the data directory.
pub const WAL_DIR: &str = "wal";

/// Upper bound on the time span (max_t − min_t) of any sealed chunk: reads stop scanning a series once chunk
/// keys pass `maxt + MAX_CHUNK_SPAN_MS`. One day; `chunk_max_span_ms` is clamped to it.
pub const MAX_CHUNK_SPAN_MS: i64 = 24 * 3600 * 1000;

/// Options of [`Storage::open`].
#[derive(Debug, Clone)]
pub struct StorageOptions {
    /// The data directory: RocksDB under `<dir>/db`, the WAL under `<dir>/wal`.
    pub data_dir: PathBuf,
    /// When the WAL is fsynced (default [`FsyncPolicy::Always`]).
    pub wal_fsync: FsyncPolicy,
    /// A head chunk is sealed once it holds this many samples (default 120, at most 65535).
    pub chunk_max_samples: usize,
    /// A head chunk is sealed before a sample would make it span more than this (ms, default 2 h, at most
    /// [`MAX_CHUNK_SPAN_MS`]).
    pub chunk_max_span_ms: i64,
    /// `maintain` seals head data of series that received no write for this long (ms, default 30 min).
    pub head_idle_seal_ms: i64,
    /// How long each tier (raw, 5 m, 1 h) keeps data, in ms; `None` keeps it forever (the default here;
    /// the server applies 7 d / 30 d / 1 y). Retention drops whole time partitions, so data lives up to one
    /// partition span longer; raw data is dropped only once it has been downsampled.
    pub retention_ms: [Option<i64>; 3],
}

impl StorageOptions {
    /// Defaults for the data directory `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        StorageOptions {
            data_dir: data_dir.into(),
            wal_fsync: FsyncPolicy::Always,
            chunk_max_samples: 120,
            chunk_max_span_ms: 2 * 3600 * 1000,
            head_idle_seal_ms: 30 * 60 * 1000,
            retention_ms: [None; 3],
        }
    }
}

/// One series of a write batch.
#[derive(Debug, Clone)]
pub struct WriteSeries {
    /// The series' labels, `__name__` included.
    pub labels: Labels,
    /// Its samples, in any order.
    pub samples: Vec<Sample>,
}

/// One series of a [`Storage::append_keyed`] batch: labels borrowed from the request as they arrived, and a
/// key the caller derives from them.
#[derive(Debug, Clone, Copy)]
pub struct KeyedSeries<'a> {
    /// Any 64-bit function of the series' labels as they arrived, equal whenever the labels arrive in the
    /// same form (e.g. a hash of their wire bytes). Equal keys need not mean equal series: the engine
    /// checks every cache hit against the index.
    pub key: u64,
    /// `(name, value)` pairs in any order; pairs with an empty value are dropped, as by
    /// [`Labels::from_pairs`]. Only a series whose pairs are sorted by name can be served from the cache.
    pub labels: &'a [(&'a str, &'a str)],
    /// Its samples, in any order.
    pub samples: &'a [Sample],
}

impl KeyedSeries<'_> {
    /// The series' label set, as [`Storage::append`] would receive it.
    pub fn to_labels(&self) -> Labels {
        Labels::from_pairs(self.labels.iter().copied())
    }
}

/// A series of a batch that was not written.
#[derive(Debug)]
pub struct SeriesRejection {
    /// Position of the series in the batch.
    pub index: usize,
    /// Why it was rejected.
    pub error: Error,
}

/// What [`Storage::append`] did.
#[derive(Debug, Default)]
pub struct AppendReport {
    /// Samples written (of the series that were accepted).
    pub samples_appended: u64,
    /// Series that were rejected, with reasons; the others were written.
    pub rejected: Vec<SeriesRejection>,
}

/// A snapshot of the engine's counters and gauges.
#[derive(Debug, Clone, Default)]
pub struct StorageMetrics {
    /// Samples appended since start (WAL replay not included).
    pub samples_appended: u64,
    /// Of those, samples at or before their series' newest in-order timestamp.
    pub samples_out_of_order: u64,
    /// Series created since start.
    pub series_created: u64,
    /// Series currently known (= index size).
    pub head_series: u64,
    /// Non-empty head chunks and out-of-order buffers.
    pub head_chunks: u64,
    /// Chunks written to RocksDB since start.
    pub chunks_sealed: u64,
    /// Corrupt chunks and tier blocks found since start (at open, by reads and by the downsampler), which
    /// were skipped.
    pub corrupt_chunks: u64,
    /// WAL bytes written since start.
    pub wal_bytes_written: u64,
    /// WAL fsyncs since start: Strata's WAL, and RocksDB's WAL for chunks sealed straight from bulk writes.
    pub wal_fsyncs: u64,
    /// Bytes on disk: RocksDB live SST files plus WAL segments.
    pub disk_bytes: u64,
    /// Approximate memory of the head: series state, chunks, out-of-order buffers, the series index and the
    /// series-ref cache.
    pub head_bytes: u64,
}

/// What `/api/v1/status/tsdb` reports.
#[derive(Debug, Clone)]
pub struct TsdbStatus {
    /// Series in the index.
    pub num_series: u64,
    /// Distinct label pairs.
    pub num_label_pairs: u64,
    /// Sealed chunks plus non-empty head chunks and out-of-order buffers.
    pub chunk_count: u64,
    /// Smallest sample timestamp (approximate, see `docs/format/rocksdb.md`); 0 when empty.
    pub min_time: i64,
    /// Largest sample timestamp; 0 when empty.
    pub max_time: i64,
    /// Cardinality statistics from the index, top `limit` entries per list.
    pub cardinality: Cardinality,
    /// Per tier (raw, 5m, 1h): what is stored on disk.
    pub tiers: Vec<TierStatus>,
}

/// What one tier holds on disk (sealed data; the head is not included).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TierStatus {
    /// `raw`, `5m` or `1h`.
    pub name: &'static str,
    /// Time partitions (column families).
    pub partitions: u64,
    /// Distinct series with data in the tier.
    pub series: u64,
    /// Chunks (raw) or blocks of windows (5m, 1h).
    pub chunks: u64,
    /// Raw samples, or windows of the tier.
    pub samples: u64,
    /// Bytes of the tier's SST files and memtables.
    pub bytes: u64,
    /// Oldest and newest timestamp held (0 when empty).
    pub min_time: i64,
    /// Newest timestamp held.
    pub max_time: i64,
    /// Retention in ms (`None`: forever).
    pub retention_ms: Option<i64>,
    /// Data before this time was dropped by retention (`i64::MIN` when nothing was).
    pub horizon: i64,
    /// The tier holds every window that ends before this time (`i64::MAX` for raw).
    pub complete_to: i64,
}

#[derive(Default)]
struct Counters {
    samples_appended: AtomicU64,
    samples_out_of_order: AtomicU64,
    series_created: AtomicU64,
    chunks_sealed: AtomicU64,
    corrupt_chunks: AtomicU64,
}

/// The storage engine. `Send + Sync`: share it in an `Arc` and call it from many threads.
pub struct Storage {
    opts: StorageOptions,
    db: Db,
    /// Time partitions of every tier (column families).
    partitions: Partitions,
    /// Downsampling state: dirty ranges, watermarks, retention horizons.
    tiers: downsample::TierState,
    wal: Wal,
    /// Durability of the chunks that bulk writes seal straight into RocksDB, bypassing `wal`.
    db_sync: durable::DbSync,
    head: Head,
    index: RwLock<Index>,
    /// Wire-label key → ref, for [`Storage::append_keyed`]; every hit is checked against `index`.
    ref_cache: RwLock<ref_cache::RefCache>,
    /// Serialises WAL writes with head updates (so replay order equals apply order), deletes and WAL truncation.
    append_lock: Mutex<()>,
    /// The next series ref to hand out.
    next_ref: AtomicU64,
    /// The next chunk seal sequence number.
    next_seq: AtomicU64,
    /// Bumped after every write of sealed chunks ([`HeadSeries::sealed_epoch`]); readers compare it with the
    /// epoch their RocksDB iterators were opened at.
    seal_epoch: AtomicU64,
    closed: AtomicBool,
    counters: Counters,
}

impl Storage {
    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    fn cf(&self, name: &'static str) -> Result<std::sync::Arc<rocksdb::BoundColumnFamily<'_>>> {
        crate::db::cf(&self.db, name)
    }

    /// Flushes and closes: seals the head, flushes RocksDB, empties the WAL. Later writes fail with
    /// [`Error::Closed`]; reads keep working.
    pub fn close(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Ok(());
        }
        self.flush()?;
        self.closed.store(true, Ordering::Release);
        Ok(())
    }
}

/// Wall-clock milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
