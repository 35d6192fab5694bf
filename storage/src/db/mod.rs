//! The RocksDB side of the engine: column families, options, value encodings.
//! Format: `docs/format/rocksdb.md`.
//!
//! | column family | key | value |
//! |---|---|---|
//! | `default` (meta) | ASCII name | see [`META_FORMAT_KEY`], [`META_NEXT_REF_KEY`] |
//! | `series` | series ref `<u64 BE>` | version `<u8>` + label set |
//! | `chunks_raw` | [`keys::ChunkKey`] (tier 0) | a sealed chunk (`docs/format/chunks.md`) |

pub mod keys;

use std::path::Path;

use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, DB, DBCompressionType, Options};

use crate::error::{Error, Result};
use crate::labels::Labels;
use crate::wal::record::{Cursor, put_labels};

/// Column family of small metadata values (RocksDB's `default`).
pub const CF_META: &str = "default";
/// Column family mapping series ref → label set.
pub const CF_SERIES: &str = "series";
/// Column family of raw-tier sealed chunks.
pub const CF_RAW: &str = "chunks_raw";

/// Meta key holding the layout version byte ([`DB_FORMAT_VERSION`]).
pub const META_FORMAT_KEY: &[u8] = b"format_version";
/// Meta key holding a lower bound `<u64 BE>` for the next series ref (written when series are deleted, so a
/// deleted series' ref is never handed out again).
pub const META_NEXT_REF_KEY: &[u8] = b"next_series_ref";

/// Version of the RocksDB layout described in `docs/format/rocksdb.md`.
pub const DB_FORMAT_VERSION: u8 = 1;
/// Version byte leading every `series` value.
pub const SERIES_VALUE_VERSION: u8 = 1;

fn cf_options(chunks: bool) -> Options {
    let mut o = Options::default();
    // LZ4 is cheap enough for the hot upper levels; ZSTD squeezes the cold bottom level, where most bytes sit.
    o.set_compression_type(DBCompressionType::Lz4);
    o.set_bottommost_compression_type(DBCompressionType::Zstd);
    if chunks {
        // Chunks arrive in bursts when the head seals; 32 MiB memtables keep L0 files few.
        o.set_write_buffer_size(32 << 20);
    }
    o
}

/// Opens (creating if needed) the RocksDB database at `path` with Strata's column families and checks the
/// layout version.
pub fn open(path: &Path) -> Result<DB> {
    let mut opts = cf_options(false);
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    opts.set_max_background_jobs(2);
    opts.set_keep_log_file_num(4);
    let cfs = vec![
        ColumnFamilyDescriptor::new(CF_META, cf_options(false)),
        ColumnFamilyDescriptor::new(CF_SERIES, cf_options(false)),
        ColumnFamilyDescriptor::new(CF_RAW, cf_options(true)),
    ];
    let db = DB::open_cf_descriptors(&opts, path, cfs)?;
    let meta = cf(&db, CF_META)?;
    match db.get_cf(meta, META_FORMAT_KEY)? {
        Some(v) => {
            let ver = v.first().copied().unwrap_or(0);
            if ver != DB_FORMAT_VERSION || v.len() != 1 {
                return Err(Error::InvalidVersion {
                    what: "rocksdb layout",
                    version: ver,
                });
            }
        }
        None => db.put_cf(meta, META_FORMAT_KEY, [DB_FORMAT_VERSION])?,
    }
    Ok(db)
}

/// Looks up a column family handle.
pub fn cf<'a>(db: &'a DB, name: &'static str) -> Result<&'a ColumnFamily> {
    db.cf_handle(name)
        .ok_or_else(|| Error::Internal(format!("column family {name} missing")))
}

/// Encodes a `series` value.
pub fn encode_series_value(labels: &Labels) -> Vec<u8> {
    let mut v = Vec::with_capacity(64);
    v.push(SERIES_VALUE_VERSION);
    put_labels(&mut v, labels);
    v
}

/// Decodes a `series` value.
pub fn decode_series_value(bytes: &[u8]) -> Result<Labels> {
    let (ver, rest) = bytes.split_first().ok_or_else(|| Error::Corrupt {
        what: "series entry",
        reason: "empty value".to_string(),
    })?;
    if *ver != SERIES_VALUE_VERSION {
        return Err(Error::InvalidVersion {
            what: "series entry",
            version: *ver,
        });
    }
    let mut c = Cursor::new(rest, "series entry");
    let l = c.labels()?;
    if !c.is_empty() {
        return Err(Error::Corrupt {
            what: "series entry",
            reason: "trailing bytes".to_string(),
        });
    }
    Ok(l)
}
