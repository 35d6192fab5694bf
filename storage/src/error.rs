//! The storage crate's error type.

use std::path::PathBuf;

/// Errors of the storage engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A label matcher's regular expression does not compile.
    #[error("invalid regular expression {pattern:?} in matcher: {reason}")]
    InvalidRegex {
        /// The pattern as given.
        pattern: String,
        /// Why it failed.
        reason: String,
    },
    /// A series was rejected by validation (bad label name, duplicate label, ...).
    #[error("invalid series {series}: {reason}")]
    InvalidSeries {
        /// The series, printed in PromQL form.
        series: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Stored bytes do not decode: truncated, flipped, or of an unknown format.
    #[error("corrupt {what}: {reason}")]
    Corrupt {
        /// Which structure (chunk, WAL record, index entry, ...).
        what: &'static str,
        /// What the decoder found.
        reason: String,
    },
    /// A checksum did not match the data it covers.
    #[error("checksum mismatch in {what}: got {got:#010x}, expected {expected:#010x}")]
    ChecksumMismatch {
        /// Which structure.
        what: &'static str,
        /// Checksum computed over the data.
        got: u32,
        /// Checksum stored beside the data.
        expected: u32,
    },
    /// An on-disk structure carries a format version this build cannot read.
    #[error("unsupported {what} format version {version}")]
    InvalidVersion {
        /// Which structure.
        what: &'static str,
        /// The version byte found.
        version: u8,
    },
    /// A query or write exceeded a configured limit.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// Filesystem error.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// RocksDB reported an error.
    #[error("rocksdb: {0}")]
    RocksDb(#[from] rocksdb::Error),
    /// The storage was closed: no more writes are accepted.
    #[error("storage is closed")]
    Closed,
    /// A broken invariant: a bug in Strata.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result alias of the storage crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
