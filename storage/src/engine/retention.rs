//! Per-tier retention: whole time partitions are dropped once they end before `now - retention`. Raw data is
//! dropped only once the 5 m tier holds it, 5 m data only once the 1 h tier holds it. Dropping a column
//! family deletes its SST files: no live data is read or rewritten, and the disk space comes back at once.

use std::sync::atomic::Ordering;

use super::downsample::horizon_key;
use super::{Storage, now_ms};
use crate::db::CF_META;
use crate::db::partition::{TIER_1H, TIER_RAW};
use crate::error::Result;

impl Storage {
    /// Drops the partitions that retention no longer keeps. Returns how many were dropped.
    pub fn apply_retention(&self) -> Result<usize> {
        let now = now_ms();
        let mut dropped = 0;
        for t in TIER_RAW..=TIER_1H {
            let Some(keep) = self.opts.retention_ms.get(usize::from(t)).copied().flatten() else {
                continue;
            };
            let mut cutoff = now.saturating_sub(keep);
            if t < TIER_1H {
                // Never drop what the next tier does not hold yet.
                cutoff = cutoff.min(self.tiers.complete_to[usize::from(t) + 1].load(Ordering::Relaxed));
            }
            let gone = self.partitions.drop_ending_before(&self.db, t, cutoff)?;
            let Some(end) = gone.iter().map(|p| p.end()).max() else {
                continue;
            };
            dropped += gone.len();
            let horizon = &self.tiers.horizon[usize::from(t)];
            if end > horizon.load(Ordering::Relaxed) {
                horizon.store(end, Ordering::Relaxed);
                self.db.put_cf(&self.cf(CF_META)?, horizon_key(t), end.to_be_bytes())?;
            }
            for p in &gone {
                tracing::info!(partition = %p.name, "retention: dropped partition");
            }
        }
        self.remove_expired_series()?;
        Ok(dropped)
    }

    /// Removes the series none of whose data is left: nothing in the head and all of it older than every
    /// tier's horizon (so every tier has dropped it). Series that stopped being written would otherwise stay in
    /// the index, the head and the `series` column family for ever. Returns how many were removed.
    pub(super) fn remove_expired_series(&self) -> Result<usize> {
        // A tier without retention never drops anything: its horizon stays at i64::MIN.
        let cutoff = self
            .tiers
            .horizon
            .iter()
            .map(|h| h.load(Ordering::Relaxed))
            .min()
            .unwrap_or(i64::MIN);
        if cutoff == i64::MIN {
            return Ok(0);
        }
        let _guard = self.append_lock.lock();
        let mut expired = Vec::new();
        for shard in self.head.shards() {
            let mut shard = shard.write();
            for (&r, s) in shard.iter_mut() {
                if s.chunk.is_empty() && s.ooo.is_empty() && s.max_data_t < cutoff {
                    // Its sealed chunks went with the dropped partitions.
                    s.sealed_chunks = 0;
                    expired.push(r);
                }
            }
        }
        let n = expired.len();
        if n > 0 {
            self.remove_empty_series(expired.into_iter())?;
            tracing::info!(series = n, "retention: removed series without data left");
        }
        Ok(n)
    }
}
