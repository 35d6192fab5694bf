//! The RocksDB side of the engine: column families, options, value encodings.
//! Format: `docs/format/rocksdb.md`.
//!
//! | column family | key | value |
//! |---|---|---|
//! | `default` (meta) | ASCII name | see [`META_FORMAT_KEY`], [`META_NEXT_REF_KEY`] |
//! | `series` | series ref `<u64 BE>` | version `<u8>` + label set |
//! | `raw_<start>` | [`keys::ChunkKey`] (tier 0) | a sealed chunk (`docs/format/chunks.md`) |
//! | `5m_<start>`, `1h_<start>` | [`keys::ChunkKey`] (tier 1, 2) | a block of window aggregates (`docs/format/tiers.md`) |
//!
//! Chunk column families are time partitions ([`partition`]): retention drops whole column families.

pub mod keys;
pub mod partition;

use std::sync::Arc;

use std::path::Path;

use rocksdb::{BoundColumnFamily, ColumnFamilyDescriptor, DBCompressionType, Options};

use crate::error::{Error, Result};
use crate::labels::Labels;
use crate::wal::record::{Cursor, put_labels};

/// Column family of small metadata values (RocksDB's `default`).
pub const CF_META: &str = "default";
/// Column family mapping series ref → label set.
pub const CF_SERIES: &str = "series";
/// The RocksDB handle type: multi-threaded column family management, since partitions come and go while
/// the database is in use.
pub type Db = rocksdb::DBWithThreadMode<rocksdb::MultiThreaded>;

/// Meta key holding the layout version byte ([`DB_FORMAT_VERSION`]).
pub const META_FORMAT_KEY: &[u8] = b"format_version";
/// Meta key holding a lower bound `<u64 BE>` for the next series ref (written when series are deleted, so a
/// deleted series' ref is never handed out again).
pub const META_NEXT_REF_KEY: &[u8] = b"next_series_ref";

/// Version of the RocksDB layout described in `docs/format/rocksdb.md`.
pub const DB_FORMAT_VERSION: u8 = 4;
/// The oldest layout that opening still accepts and upgrades: 2 has chunk keys without a metric group
/// (moved at open), 3 a dirty-range key per series (replaced by the first downsampling pass's snapshot).
pub const DB_FORMAT_OLDEST: u8 = 2;
/// Version byte leading every `series` value.
pub const SERIES_VALUE_VERSION: u8 = 1;

/// Table options of every column family. RocksDB's implicit readahead is off: an iterator that reads
/// two neighbouring blocks issues a `readahead(2)` call for the next ones whether or not they are already
/// cached, and a query that seeks from series to series through cached blocks made about a thousand such
/// calls (a fifth of its CPU time). Reads of files not in the page cache get the kernel's own readahead
/// instead (see `open`, `advise_random_on_open`); compactions keep their own readahead.
const TABLE_OPTIONS: &str = "block_based_table_factory={max_auto_readahead_size=0}";

fn cf_options() -> Options {
    let mut o = Options::default();
    // LZ4 is cheap enough for the hot upper levels; ZSTD squeezes the cold bottom level, where most bytes sit.
    o.set_compression_type(DBCompressionType::Lz4);
    o.set_bottommost_compression_type(DBCompressionType::Zstd);
    match o.get_options_from_string(TABLE_OPTIONS) {
        Ok(with_table) => with_table,
        Err(e) => {
            tracing::warn!(error = %e, "RocksDB rejected the table options: using its defaults");
            o
        }
    }
}

/// Options of a partition column family of tier `tier`.
pub fn partition_options(tier: u8) -> Options {
    let mut o = cf_options();
    // Raw chunks arrive in bursts when the head seals; larger memtables keep L0 files few. The database-wide
    // write buffer limit (see `open`) bounds the total over all partitions.
    o.set_write_buffer_size(if tier == keys::TIER_RAW { 32 << 20 } else { 8 << 20 });
    o
}

/// Opens (creating if needed) the RocksDB database at `path` with Strata's column families and checks the
/// layout version. Returns the database, the names of its column families and its layout version: either
/// [`DB_FORMAT_VERSION`] or an older one from [`DB_FORMAT_OLDEST`] on, which the caller must upgrade (and
/// then record with [`set_format_version`]).
pub fn open(path: &Path) -> Result<(Db, Vec<String>, u8)> {
    let mut opts = cf_options();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    opts.set_max_background_jobs(2);
    opts.set_keep_log_file_num(4);
    // Sequential reads of files not in the page cache (series in ref order) get the kernel's readahead.
    opts.set_advise_random_on_open(false);
    // All memtables together, whatever the number of partitions.
    opts.set_db_write_buffer_size(128 << 20);
    let existing = Db::list_cf(&opts, path).unwrap_or_default();
    let mut cfs = vec![
        ColumnFamilyDescriptor::new(CF_META, cf_options()),
        ColumnFamilyDescriptor::new(CF_SERIES, cf_options()),
    ];
    let mut names = vec![CF_META.to_string(), CF_SERIES.to_string()];
    for name in existing {
        if names.contains(&name) {
            continue;
        }
        let o = match partition::parse_partition_name(&name) {
            Some((tier, _)) => partition_options(tier),
            None => {
                tracing::warn!(column_family = %name, "unknown column family in the database: kept, not used");
                cf_options()
            }
        };
        cfs.push(ColumnFamilyDescriptor::new(&name, o));
        names.push(name);
    }
    let db = Db::open_cf_descriptors(&opts, path, cfs)?;
    let meta = cf(&db, CF_META)?;
    let version = match db.get_cf(&meta, META_FORMAT_KEY)? {
        Some(v) => {
            let ver = v.first().copied().unwrap_or(0);
            if !(DB_FORMAT_OLDEST..=DB_FORMAT_VERSION).contains(&ver) || v.len() != 1 {
                return Err(Error::InvalidVersion {
                    what: "rocksdb layout",
                    version: ver,
                });
            }
            ver
        }
        None => {
            db.put_cf(&meta, META_FORMAT_KEY, [DB_FORMAT_VERSION])?;
            DB_FORMAT_VERSION
        }
    };
    drop(meta);
    Ok((db, names, version))
}

/// Records the layout version, fsynced.
pub fn set_format_version(db: &Db, version: u8) -> Result<()> {
    let mut sync = rocksdb::WriteOptions::default();
    sync.set_sync(true);
    db.put_cf_opt(&cf(db, CF_META)?, META_FORMAT_KEY, [version], &sync)?;
    Ok(())
}

/// Looks up one of the fixed column families.
pub fn cf<'a>(db: &'a Db, name: &'static str) -> Result<Arc<BoundColumnFamily<'a>>> {
    cf_named(db, name)
}

/// Looks up a column family by name.
pub fn cf_named<'a>(db: &'a Db, name: &str) -> Result<Arc<BoundColumnFamily<'a>>> {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The options RocksDB records for every column family (its latest `OPTIONS-*` file) carry our table
    /// options and compressions: a typo in [`TABLE_OPTIONS`] would otherwise only log a warning.
    #[test]
    fn every_column_family_has_the_table_options() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _, _) = open(dir.path()).unwrap();
        db.create_cf("raw_0", &partition_options(keys::TIER_RAW)).unwrap();
        drop(db);
        let (db, names, _) = open(dir.path()).unwrap();
        assert!(names.iter().any(|n| n == "raw_0"));
        drop(db);
        let latest = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with("OPTIONS-"))
            .max_by_key(|n| n.trim_start_matches("OPTIONS-").parse::<u64>().unwrap_or(0))
            .unwrap();
        let text = std::fs::read_to_string(dir.path().join(latest)).unwrap();
        let count = |needle: &str| text.lines().filter(|l| l.trim() == needle).count();
        assert_eq!(count("[TableOptions/BlockBasedTable \"raw_0\"]"), 1);
        assert_eq!(count("max_auto_readahead_size=0"), 3, "default, series and raw_0");
        assert_eq!(count("compression=kLZ4Compression"), 3);
        assert_eq!(count("bottommost_compression=kZSTD"), 3);
        assert_eq!(count("advise_random_on_open=false"), 1);
    }

    /// A new database gets the current layout version; older ones from 2 on open (to be upgraded); any
    /// other is refused.
    #[test]
    fn layout_versions() {
        let dir = tempfile::tempdir().unwrap();
        let (mut db, _, v) = open(dir.path()).unwrap();
        assert_eq!(v, 4);
        for old in [2, 3] {
            set_format_version(&db, old).unwrap();
            drop(db);
            let (reopened, _, v) = open(dir.path()).unwrap();
            assert_eq!(v, old);
            db = reopened;
        }
        drop(db);
        for bad in [1, 5] {
            let dir = tempfile::tempdir().unwrap();
            let (db, _, _) = open(dir.path()).unwrap();
            set_format_version(&db, bad).unwrap();
            drop(db);
            assert!(matches!(
                open(dir.path()),
                Err(Error::InvalidVersion { version, .. }) if version == bad
            ));
        }
    }
}
