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
        Ok(dropped)
    }
}
