//! Strata's storage engine: Gorilla-family chunks, a persistent series index, a head with a write-ahead
//! log, and RocksDB column families per tier. See `docs/format/` for every on-disk structure.

// tsz-compress' derive macros (compared against the chunk codec in a test) name `::alloc`.
#[cfg(test)]
extern crate alloc;

pub mod chunk;
pub mod db;
pub mod engine;
pub mod error;
pub mod head;
pub mod index;
pub mod labels;
pub mod matcher;
pub mod mem;
pub mod read;
pub mod tier;
pub mod wal;

pub use engine::{
    AppendReport, FsyncPolicy, KeyedSeries, SeriesRejection, Storage, StorageMetrics, StorageOptions, TierStatus,
    TsdbStatus, WriteSeries,
};
pub use error::{Error, Result};
pub use labels::{Label, Labels, METRIC_NAME};
pub use matcher::{LabelMatcher, MatchOp};
pub use mem::MemStore;
pub use read::{
    Aggregate, Resolution, STALE_NAN_BITS, Sample, SelectHints, Selection, SeriesData, SeriesReader, has_stale_nan,
    is_stale_nan,
};
