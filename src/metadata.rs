//! Metric metadata (type, help, unit) received through remote write, served by `/api/v1/metadata`.
//! Kept in memory, as Prometheus keeps scraped metadata: it is refreshed by every sender on every send.

use std::collections::BTreeMap;

use parking_lot::RwLock;

/// One metadata entry of a metric family.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MetricMetadata {
    /// `counter`, `gauge`, `histogram`, `gaugehistogram`, `summary`, `info`, `stateset` or `unknown`.
    pub kind: &'static str,
    /// Help text.
    pub help: String,
    /// Unit, often empty.
    pub unit: String,
}

/// Bound on distinct entries kept per metric family, so a sender cycling help texts cannot grow memory.
const MAX_ENTRIES_PER_METRIC: usize = 10;

/// Metadata by metric family name; distinct entries per family are kept (Prometheus lists them all).
#[derive(Debug, Default)]
pub struct MetadataStore {
    by_metric: RwLock<BTreeMap<String, Vec<MetricMetadata>>>,
}

impl MetadataStore {
    /// Records entries, ignoring exact duplicates.
    pub fn record(&self, entries: Vec<(String, MetricMetadata)>) {
        if entries.is_empty() {
            return;
        }
        let mut map = self.by_metric.write();
        for (name, md) in entries {
            let list = map.entry(name).or_default();
            if !list.contains(&md) && list.len() < MAX_ENTRIES_PER_METRIC {
                list.push(md);
            }
        }
    }

    /// Entries for `metric` (or all when None), at most `limit` metrics and `limit_per_metric` entries each
    /// (0 or negative means unlimited), as `/api/v1/metadata` answers.
    pub fn query(
        &self,
        metric: Option<&str>,
        limit: Option<usize>,
        limit_per_metric: Option<usize>,
    ) -> Vec<(String, Vec<MetricMetadata>)> {
        let map = self.by_metric.read();
        let per = |v: &Vec<MetricMetadata>| match limit_per_metric {
            Some(n) => v.iter().take(n).cloned().collect(),
            None => v.clone(),
        };
        let iter: Box<dyn Iterator<Item = (&String, &Vec<MetricMetadata>)>> = match metric {
            Some(m) => Box::new(map.get_key_value(m).into_iter()),
            None => Box::new(map.iter()),
        };
        iter.take(limit.unwrap_or(usize::MAX))
            .map(|(k, v)| (k.clone(), per(v)))
            .collect()
    }
}
