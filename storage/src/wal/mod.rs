//! The write-ahead log: numbered segment files of checksummed records, written before a write is
//! acknowledged, replayed on start, deleted once the data they hold is sealed into RocksDB.
//! Format: `docs/format/wal.md`.
//!
//! Group commit: appenders write their records under the writer lock (one `write(2)` per batch), release it,
//! then call [`Wal::commit`]. With [`FsyncPolicy::Always`] the first waiter becomes the leader and fsyncs
//! everything written so far; the others wait on a condition variable and return once a leader's fsync
//! covered their record, so concurrent appenders share one fsync.

pub mod reader;
pub mod record;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::error::{Error, Result};

/// When the WAL is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// fsync before acknowledging a write; concurrent appenders share one fsync (group commit). The default:
    /// every acknowledged sample survives power loss.
    Always,
    /// fsync at most this often (checked on append and in `maintain`); a crash of the machine loses at most
    /// about one interval of acknowledged writes, a crash of the process loses nothing.
    Interval(Duration),
    /// Never fsync (except on segment rotation and close); the OS decides. A crash of the process loses
    /// nothing (records are written before acknowledging), a crash of the machine may lose recent writes.
    Never,
}

/// The segment file header: magic `STRWAL`, the format version, a reserved zero byte.
pub const SEGMENT_MAGIC: &[u8; 6] = b"STRWAL";
/// Length of the segment header in bytes.
pub const SEGMENT_HEADER_LEN: usize = 8;
/// File name extension of WAL segments (`<20-digit number>.wal`).
pub const SEGMENT_EXT: &str = "wal";
/// A segment is closed and a new one started once it holds this many bytes. 64 MiB keeps the file count
/// low while letting sealed data leave the disk in reasonable steps.
pub const SEGMENT_TARGET_BYTES: u64 = 64 << 20;

/// WAL format versions this build reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum WalFormat {
    /// The first version, described in `docs/format/wal.md`.
    V1 = 1,
}

impl WalFormat {
    /// Parses a version byte.
    pub fn from_byte(b: u8) -> Result<Self> {
        match b {
            1 => Ok(WalFormat::V1),
            v => Err(Error::InvalidVersion {
                what: "wal segment",
                version: v,
            }),
        }
    }
}

/// The header bytes of a new segment.
pub fn segment_header() -> [u8; SEGMENT_HEADER_LEN] {
    let mut h = [0u8; SEGMENT_HEADER_LEN];
    h[..6].copy_from_slice(SEGMENT_MAGIC);
    h[6] = WalFormat::V1 as u8;
    h
}

/// The path of segment `n` in `dir`.
pub fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:020}.{SEGMENT_EXT}"))
}

/// Lists the segments in `dir`, sorted by number. Files with other names are ignored.
pub fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let io = |e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some(SEGMENT_EXT) {
            continue;
        }
        if let Some(n) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse::<u64>().ok())
        {
            out.push((n, path));
        }
    }
    out.sort();
    Ok(out)
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    })
}

struct Writer {
    seg: u64,
    path: PathBuf,
    file: Arc<File>,
    seg_bytes: u64,
    /// Number of the last record written (records are numbered from 1 across segments).
    lsn: u64,
    buf: Vec<u8>,
    /// A write failed part-way: the next append starts a fresh segment so no record follows torn bytes.
    broken: bool,
}

struct SyncState {
    synced: u64,
    in_progress: bool,
    last: Instant,
}

/// The write-ahead log of one data directory.
pub struct Wal {
    dir: PathBuf,
    policy: FsyncPolicy,
    writer: Mutex<Writer>,
    sync: Mutex<SyncState>,
    cond: Condvar,
    bytes_written: AtomicU64,
    fsyncs: AtomicU64,
}

fn create_segment(dir: &Path, n: u64) -> Result<(File, PathBuf)> {
    let path = segment_path(dir, n);
    let io = |e| Error::Io {
        path: path.clone(),
        source: e,
    };
    let mut f = OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(&path)
        .map_err(io)?;
    f.write_all(&segment_header()).map_err(io)?;
    f.sync_data().map_err(io)?;
    sync_dir(dir)?;
    Ok((f, path))
}

impl Wal {
    /// Starts writing at a new segment numbered `first_seg` in `dir` (older segments are left alone).
    pub fn create(dir: &Path, first_seg: u64, policy: FsyncPolicy) -> Result<Wal> {
        let (file, path) = create_segment(dir, first_seg)?;
        Ok(Wal {
            dir: dir.to_path_buf(),
            policy,
            writer: Mutex::new(Writer {
                seg: first_seg,
                path,
                file: Arc::new(file),
                seg_bytes: SEGMENT_HEADER_LEN as u64,
                lsn: 0,
                buf: Vec::new(),
                broken: false,
            }),
            sync: Mutex::new(SyncState {
                synced: 0,
                in_progress: false,
                last: Instant::now(),
            }),
            cond: Condvar::new(),
            bytes_written: AtomicU64::new(0),
            fsyncs: AtomicU64::new(0),
        })
    }

    /// The directory holding the segments.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes of records written by this process.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written.load(Ordering::Relaxed)
    }

    /// fsync calls made by this process.
    pub fn fsyncs(&self) -> u64 {
        self.fsyncs.load(Ordering::Relaxed)
    }

    /// Number of the segment being written.
    pub fn current_segment(&self) -> u64 {
        self.writer.lock().seg
    }

    /// Writes framed records in one `write(2)`; returns the number of the last record and the segment it
    /// went to. The records reach the OS before this returns; durability needs [`Wal::commit`].
    pub fn append(&self, records: &[(u8, &[u8])]) -> Result<(u64, u64)> {
        let mut w = self.writer.lock();
        if w.broken || w.seg_bytes >= SEGMENT_TARGET_BYTES {
            self.rotate_locked(&mut w)?;
        }
        let mut buf = std::mem::take(&mut w.buf);
        buf.clear();
        for (kind, payload) in records {
            record::frame(&mut buf, *kind, payload);
        }
        let res = (&*w.file).write_all(&buf);
        let n = buf.len() as u64;
        w.buf = buf;
        if let Err(e) = res {
            w.broken = true;
            return Err(Error::Io {
                path: w.path.clone(),
                source: e,
            });
        }
        w.seg_bytes += n;
        w.lsn += records.len() as u64;
        self.bytes_written.fetch_add(n, Ordering::Relaxed);
        Ok((w.lsn, w.seg))
    }

    /// Makes record `lsn` durable as the fsync policy asks.
    pub fn commit(&self, lsn: u64) -> Result<()> {
        match self.policy {
            FsyncPolicy::Always => self.sync_to(lsn),
            FsyncPolicy::Interval(d) => {
                if self.sync.lock().last.elapsed() >= d {
                    self.sync_to(lsn)
                } else {
                    Ok(())
                }
            }
            FsyncPolicy::Never => Ok(()),
        }
    }

    /// fsyncs when the policy is `Interval` and the interval has passed (called from `maintain`).
    pub fn tick(&self) -> Result<()> {
        if let FsyncPolicy::Interval(d) = self.policy {
            let lsn = self.writer.lock().lsn;
            let due = {
                let st = self.sync.lock();
                st.synced < lsn && st.last.elapsed() >= d
            };
            if due {
                return self.sync_to(lsn);
            }
        }
        Ok(())
    }

    /// fsyncs everything written so far.
    pub fn sync_all(&self) -> Result<()> {
        let lsn = self.writer.lock().lsn;
        self.sync_to(lsn)
    }

    /// Blocks until record `lsn` is on stable storage, sharing fsyncs with concurrent callers.
    pub fn sync_to(&self, lsn: u64) -> Result<()> {
        let mut st = self.sync.lock();
        loop {
            if st.synced >= lsn {
                return Ok(());
            }
            if st.in_progress {
                self.cond.wait(&mut st);
                continue;
            }
            st.in_progress = true;
            drop(st);
            let (file, path, upto) = {
                let w = self.writer.lock();
                (Arc::clone(&w.file), w.path.clone(), w.lsn)
            };
            let res = file.sync_data();
            st = self.sync.lock();
            st.in_progress = false;
            if res.is_ok() {
                st.synced = st.synced.max(upto);
                st.last = Instant::now();
                self.fsyncs.fetch_add(1, Ordering::Relaxed);
            }
            self.cond.notify_all();
            res.map_err(|e| Error::Io { path, source: e })?;
        }
    }

    fn rotate_locked(&self, w: &mut Writer) -> Result<()> {
        if !w.broken {
            w.file.sync_data().map_err(|e| Error::Io {
                path: w.path.clone(),
                source: e,
            })?;
            self.fsyncs.fetch_add(1, Ordering::Relaxed);
            let mut st = self.sync.lock();
            st.synced = st.synced.max(w.lsn);
            st.last = Instant::now();
            self.cond.notify_all();
        }
        let next = w.seg + 1;
        let (file, path) = create_segment(&self.dir, next)?;
        w.seg = next;
        w.path = path;
        w.file = Arc::new(file);
        w.seg_bytes = SEGMENT_HEADER_LEN as u64;
        w.broken = false;
        Ok(())
    }

    /// Closes the current segment (fsynced) and starts the next; returns the new segment's number.
    pub fn rotate(&self) -> Result<u64> {
        let mut w = self.writer.lock();
        self.rotate_locked(&mut w)?;
        Ok(w.seg)
    }

    /// Whether the current segment holds any record.
    pub fn current_has_records(&self) -> bool {
        self.writer.lock().seg_bytes > SEGMENT_HEADER_LEN as u64
    }

    /// Deletes every segment numbered below `seg` (never the current one). Returns how many were deleted.
    pub fn remove_below(&self, seg: u64) -> Result<usize> {
        let limit = seg.min(self.current_segment());
        let mut n = 0;
        for (num, path) in list_segments(&self.dir)? {
            if num >= limit {
                break;
            }
            fs::remove_file(&path).map_err(|e| Error::Io {
                path: path.clone(),
                source: e,
            })?;
            n += 1;
        }
        if n > 0 {
            sync_dir(&self.dir)?;
        }
        Ok(n)
    }

    /// Bytes of all segment files on disk.
    pub fn disk_bytes(&self) -> u64 {
        list_segments(&self.dir)
            .map(|v| {
                v.iter()
                    .filter_map(|(_, p)| fs::metadata(p).ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::record::{REC_TOMBSTONE, Record, encode_tombstones};
    use super::*;

    fn stones(n: u64) -> Vec<u8> {
        let mut p = Vec::new();
        encode_tombstones(&mut p, &[(n, -1, 1)]);
        p
    }

    fn read_all(path: &Path) -> (Vec<Record>, reader::SegmentReplay) {
        let mut recs = Vec::new();
        let out = reader::replay_segment(path, |r| {
            recs.push(r);
            Ok(())
        })
        .unwrap();
        (recs, out)
    }

    #[test]
    fn segments_rotate_replay_and_truncate() {
        let dir = tempfile::tempdir().unwrap();
        let wal = Wal::create(dir.path(), 3, FsyncPolicy::Always).unwrap();
        let (lsn, seg) = wal
            .append(&[(REC_TOMBSTONE, &stones(1)), (REC_TOMBSTONE, &stones(2))])
            .unwrap();
        assert_eq!((lsn, seg), (2, 3));
        wal.commit(lsn).unwrap();
        assert_eq!(wal.fsyncs(), 1);
        wal.commit(lsn).unwrap();
        assert_eq!(wal.fsyncs(), 1, "already durable: no second fsync");
        assert_eq!(wal.rotate().unwrap(), 4);
        let (lsn, seg) = wal.append(&[(REC_TOMBSTONE, &stones(3))]).unwrap();
        assert_eq!((lsn, seg), (3, 4));
        let segs = list_segments(dir.path()).unwrap();
        assert_eq!(segs.iter().map(|s| s.0).collect::<Vec<_>>(), [3, 4]);
        let (recs, out) = read_all(&segs[0].1);
        assert_eq!(
            recs,
            [
                Record::Tombstones(vec![(1, -1, 1)]),
                Record::Tombstones(vec![(2, -1, 1)])
            ]
        );
        assert!(out.corruption.is_none());
        // Never deletes the current segment.
        assert_eq!(wal.remove_below(u64::MAX).unwrap(), 1);
        assert_eq!(list_segments(dir.path()).unwrap().len(), 1);
        // A torn tail ends the segment with a reported corruption, earlier records intact.
        let path = &list_segments(dir.path()).unwrap()[0].1;
        let mut f = OpenOptions::new().append(true).open(path).unwrap();
        f.write_all(&[20, 0, 0, 0, 1, 2]).unwrap();
        let (recs, out) = read_all(path);
        assert_eq!(recs.len(), 1);
        assert!(out.corruption.is_some());
        assert_eq!(out.good_bytes + 6, out.file_bytes);
    }

    #[test]
    fn group_commit_shares_fsyncs() {
        let dir = tempfile::tempdir().unwrap();
        let wal = Arc::new(Wal::create(dir.path(), 1, FsyncPolicy::Always).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let wal = Arc::clone(&wal);
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        let (lsn, _) = wal.append(&[(REC_TOMBSTONE, &stones(i))]).unwrap();
                        wal.commit(lsn).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(wal.fsyncs() >= 1 && wal.fsyncs() <= 200);
        let (recs, _) = read_all(&list_segments(dir.path()).unwrap()[0].1);
        assert_eq!(recs.len(), 200);
    }
}
