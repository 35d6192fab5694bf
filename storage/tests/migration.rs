//! Opening a database of layout version 2 (chunk keys without a metric group) moves its keys to the current
//! layout: every chunk and tier block keeps its value, and its key is exactly the one Strata writes now.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use strata_storage::{MemStore, Storage};

const H: i64 = 3_600_000;

/// Every entry of every time-partition column family: (column family, key) → value.
type Entries = BTreeMap<(String, Vec<u8>), Vec<u8>>;

fn partition_families(db_path: &Path) -> Vec<String> {
    rocksdb::DB::list_cf(&rocksdb::Options::default(), db_path)
        .unwrap()
        .into_iter()
        .filter(|c| c.starts_with("raw_") || c.starts_with("5m_") || c.starts_with("1h_"))
        .collect()
}

fn entries(db_path: &Path) -> Entries {
    let cfs = rocksdb::DB::list_cf(&rocksdb::Options::default(), db_path).unwrap();
    let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), db_path, &cfs).unwrap();
    let mut out = Entries::new();
    for name in partition_families(db_path) {
        for item in db.iterator_cf(db.cf_handle(&name).unwrap(), rocksdb::IteratorMode::Start) {
            let (k, v) = item.unwrap();
            out.insert((name.clone(), k.to_vec()), v.to_vec());
        }
    }
    out
}

/// Rewrites the keys of `entries` whose position is accepted by `which` in the version 2 layout (tier,
/// series, max_t, seq: the group dropped) and records layout version 2, as a Strata of that version left
/// them (or as a migration interrupted part-way leaves them, when `which` takes only some).
fn downgrade(db_path: &Path, entries: &Entries, which: impl Fn(usize) -> bool) {
    let cfs = rocksdb::DB::list_cf(&rocksdb::Options::default(), db_path).unwrap();
    let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), db_path, &cfs).unwrap();
    for (i, ((name, k), v)) in entries.iter().enumerate() {
        if !which(i) {
            continue;
        }
        assert_eq!(k.len(), 29);
        let cf = db.cf_handle(name).unwrap();
        let mut old = vec![k[0]];
        old.extend_from_slice(&k[5..]);
        db.delete_cf(cf, k).unwrap();
        db.put_cf(cf, &old, v).unwrap();
    }
    db.put(b"format_version", [2u8]).unwrap();
}

/// Two metrics whose series were created interleaved, 1 000 samples each (chunks of 100), over 4 hours
/// ending a whole 5 m tier block (6 h) before now, so that a flush writes tier blocks too.
fn fill(dir: &Path) -> MemStore {
    let end = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        / (6 * H)
        - 1)
        * 6
        * H;
    let mut o = opts(dir);
    o.chunk_max_samples = 100;
    let st = Storage::open(o).unwrap();
    let mut model = MemStore::new();
    let batch: Vec<_> = (0..6)
        .map(|i| {
            let name = if i % 2 == 0 { "a_total" } else { "b_bytes" };
            ws(
                &series(name, i),
                (0..1000).map(|k| (end - 4 * H + k * 14_400, (k * (i as i64 + 1)) as f64)),
            )
        })
        .collect();
    append_both(&st, &mut model, &batch);
    st.flush().unwrap();
    st.close().unwrap();
    model
}

fn reopen(dir: &Path) -> Storage {
    let mut o = opts(dir);
    o.chunk_max_samples = 100;
    Storage::open(o).unwrap()
}

#[test]
fn version_2_keys_are_moved_at_open() {
    for (case, which) in [
        ("every key", (|_| true) as fn(usize) -> bool),
        ("an interrupted migration", |i| i % 2 == 0),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("db");
        let model = fill(dir.path());
        // What the current layout holds once settled: open and close again.
        reopen(dir.path()).close().unwrap();
        let want = entries(&db_path);
        assert!(want.keys().any(|(cf, _)| cf.starts_with("raw_")), "{case}");
        assert!(want.keys().any(|(cf, _)| cf.starts_with("5m_")), "{case}: tier blocks");
        // Series of one metric are neighbours in key order, whatever their creation order.
        let raw_refs: Vec<u64> = want
            .keys()
            .filter(|(cf, _)| cf.starts_with("raw_"))
            .map(|(_, k)| u64::from_be_bytes(k[5..13].try_into().unwrap()))
            .collect();
        let runs = raw_refs.windows(2).filter(|w| (w[0] % 2) != (w[1] % 2)).count();
        assert_eq!(runs, 1, "{case}: {raw_refs:?}");

        downgrade(&db_path, &want, which);
        assert_ne!(entries(&db_path), want);
        let st = reopen(dir.path());
        check_against(&st, &model, case);
        st.close().unwrap();
        drop(st);
        assert_eq!(entries(&db_path), want, "{case}");
        // The version was recorded: the next open finds nothing to move and changes nothing.
        reopen(dir.path()).close().unwrap();
        assert_eq!(entries(&db_path), want, "{case}");
    }
}
