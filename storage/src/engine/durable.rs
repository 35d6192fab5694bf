//! Durability of writes that bypass Strata's WAL: chunks that a bulk write seals straight into RocksDB
//! (`Storage::seal_direct`) are made durable by RocksDB's own WAL, fsynced under the same
//! [`FsyncPolicy`] as Strata's WAL. Their samples never enter Strata's WAL, so a bulk write costs its
//! encoded chunk bytes in one log instead of ~12 bytes per sample in one log plus the chunks in the other.
//!
//! Writers call [`DbSync::note_write`] after their RocksDB write returns, then [`DbSync::commit`] with the
//! generation it gave, outside the append lock. Under `Always` the first committer fsyncs RocksDB's WAL
//! (everything written so far) while holding the state lock; the others wait for the lock and return at
//! once when that fsync covered their generation, so concurrent bulk writes share one fsync.
//!
//! A committer first waits, up to [`COMMIT_DELAY`], for bulk writers on their way to RocksDB (announced
//! with [`DbSync::begin`]: encoding, or waiting for the append lock) to write, so that its fsync covers
//! theirs too (the commit delay of PostgreSQL and MySQL). Two bulk connections that took one fsync per
//! request take about two for three. A lone writer never waits. It waits even when an earlier fsync
//! already covers its write: returning at once then measured 4 % more CPU per sample (eight alternating
//! pairs), the two senders falling out of step.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::db::Db;
use crate::error::Result;
use crate::wal::FsyncPolicy;

/// What has been made durable, and when.
struct Synced {
    generation: u64,
    at: Instant,
}

/// Longest wait of a committer for writers still encoding: about a bulk request's encoding time.
const COMMIT_DELAY: Duration = Duration::from_millis(2);

/// Generations of RocksDB writes that must be durable per the policy, and how far fsyncs have covered them.
pub(super) struct DbSync {
    policy: FsyncPolicy,
    /// Generation of the latest write that needs durability.
    written: AtomicU64,
    synced: Mutex<Synced>,
    /// Writers between [`DbSync::begin`] and the end of their [`Writing`] guard.
    writing: Mutex<usize>,
    /// Signalled when `writing` goes down.
    wrote: Condvar,
    /// Longest wait for them ([`COMMIT_DELAY`]).
    delay: Duration,
    fsyncs: AtomicU64,
}

/// A writer on its way to a RocksDB write that will need durability; dropped once it is written (or
/// abandoned).
pub(super) struct Writing<'a>(&'a DbSync);

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        let mut n = self.0.writing.lock();
        *n = n.saturating_sub(1);
        self.0.wrote.notify_all();
    }
}

impl DbSync {
    pub(super) fn new(policy: FsyncPolicy) -> Self {
        DbSync {
            policy,
            written: AtomicU64::new(0),
            synced: Mutex::new(Synced {
                generation: 0,
                at: Instant::now(),
            }),
            writing: Mutex::new(0),
            wrote: Condvar::new(),
            delay: COMMIT_DELAY,
            fsyncs: AtomicU64::new(0),
        }
    }

    /// Announces a write that will need durability; a committer meanwhile waits for it (a while).
    pub(super) fn begin(&self) -> Writing<'_> {
        *self.writing.lock() += 1;
        Writing(self)
    }

    /// Records that a RocksDB write (already returned) needs durability; returns its generation.
    pub(super) fn note_write(&self) -> u64 {
        self.written.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Makes the write of `generation` durable as the policy asks.
    pub(super) fn commit(&self, db: &Db, generation: u64) -> Result<()> {
        match self.policy {
            FsyncPolicy::Always => self.sync_to(db, generation),
            FsyncPolicy::Interval(d) => {
                if self.synced.lock().at.elapsed() >= d {
                    self.sync_to(db, generation)
                } else {
                    Ok(())
                }
            }
            FsyncPolicy::Never => Ok(()),
        }
    }

    /// fsyncs when the policy is `Interval`, the interval has passed and writes are pending (from `maintain`).
    pub(super) fn tick(&self, db: &Db) -> Result<()> {
        if let FsyncPolicy::Interval(d) = self.policy {
            let written = self.written.load(Ordering::SeqCst);
            let due = {
                let st = self.synced.lock();
                st.generation < written && st.at.elapsed() >= d
            };
            if due {
                return self.sync_to(db, written);
            }
        }
        Ok(())
    }

    /// Waits until no writer is encoding, or the commit delay has passed.
    fn wait_for_writers(&self) {
        let deadline = Instant::now() + self.delay;
        let mut n = self.writing.lock();
        while *n > 0 {
            if self.wrote.wait_until(&mut n, deadline).timed_out() {
                break;
            }
        }
    }

    /// RocksDB WAL fsyncs made by this process for writes that bypass Strata's WAL.
    pub(super) fn fsyncs(&self) -> u64 {
        self.fsyncs.load(Ordering::Relaxed)
    }

    /// Blocks until the write of `generation` is on stable storage.
    fn sync_to(&self, db: &Db, generation: u64) -> Result<()> {
        if self.policy == FsyncPolicy::Always {
            self.wait_for_writers();
        }
        let mut st = self.synced.lock();
        if st.generation >= generation {
            return Ok(());
        }
        // Every write noted so far has returned from RocksDB, so this fsync covers it.
        let upto = self.written.load(Ordering::SeqCst);
        db.flush_wal(true)?;
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        st.generation = st.generation.max(upto);
        st.at = Instant::now();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use super::*;

    /// A committer waits for a writer that announced itself, and its one fsync covers both writes; with
    /// nobody writing it does not wait.
    #[test]
    fn a_commit_waits_for_announced_writers() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _, _) = crate::db::open(dir.path()).unwrap();
        let mut sync = DbSync::new(FsyncPolicy::Always);
        // Long enough that only a bug, not a slow machine, makes it time out.
        sync.delay = Duration::from_secs(60);
        let started = Instant::now();
        let g = sync.note_write();
        sync.commit(&db, g).unwrap();
        assert!(started.elapsed() < Duration::from_secs(30), "a lone writer waited");
        assert_eq!(sync.fsyncs(), 1);

        let other = sync.begin();
        let a = sync.note_write();
        std::thread::scope(|s| {
            let committer = s.spawn(|| sync.commit(&db, a));
            std::thread::sleep(Duration::from_millis(20));
            let b = sync.note_write();
            drop(other);
            committer.join().unwrap().unwrap();
            sync.commit(&db, b).unwrap();
        });
        assert_eq!(sync.fsyncs(), 2, "one fsync for both writes");
    }

    #[test]
    fn commits_fsync_per_policy_and_share_covered_writes() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _, _) = crate::db::open(dir.path()).unwrap();

        let always = DbSync::new(FsyncPolicy::Always);
        let (a, b) = (always.note_write(), always.note_write());
        always.commit(&db, b).unwrap();
        assert_eq!(always.fsyncs(), 1, "one fsync covers every write noted before it");
        always.commit(&db, a).unwrap();
        assert_eq!(always.fsyncs(), 1, "an earlier write is already covered");
        let c = always.note_write();
        always.commit(&db, c).unwrap();
        assert_eq!(always.fsyncs(), 2, "a later write needs its own");

        let never = DbSync::new(FsyncPolicy::Never);
        let g = never.note_write();
        never.commit(&db, g).unwrap();
        never.tick(&db).unwrap();
        assert_eq!(never.fsyncs(), 0);

        let interval = DbSync::new(FsyncPolicy::Interval(Duration::from_millis(20)));
        let g = interval.note_write();
        interval.commit(&db, g).unwrap();
        assert_eq!(interval.fsyncs(), 0, "within the interval");
        std::thread::sleep(Duration::from_millis(30));
        interval.tick(&db).unwrap();
        assert_eq!(
            interval.fsyncs(),
            1,
            "the tick after the interval syncs what is pending"
        );
        interval.tick(&db).unwrap();
        assert_eq!(interval.fsyncs(), 1, "nothing pending");
    }
}
