//! Label names, label values and cardinality statistics over the postings.

use std::cmp::Ordering;

use roaring::RoaringBitmap;

use super::hash::FxSet;
use super::{Index, SeriesRef, value_of};
use crate::labels::METRIC_NAME;

/// Below this many refs, label names and values are read from each series' own labels; above it, from
/// the postings intersected with a bitmap of the refs.
const PER_SERIES_REFS: usize = 64;

/// Cardinality statistics for `/api/v1/status/tsdb`, each list sorted by count descending (ties by name)
/// and cut to the requested limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cardinality {
    /// Number of series.
    pub num_series: u64,
    /// Number of distinct `name=value` pairs.
    pub num_label_pairs: u64,
    /// Series per metric name (`__name__` value).
    pub series_count_by_metric_name: Vec<(String, u64)>,
    /// Distinct values per label name.
    pub label_value_count_by_label_name: Vec<(String, u64)>,
    /// Per label name, the bytes of its values summed over series (value length × series), as
    /// Prometheus computes it.
    pub memory_in_bytes_by_label_name: Vec<(String, u64)>,
    /// Series per `name=value` pair.
    pub series_count_by_label_value_pair: Vec<(String, u64)>,
}

impl Index {
    /// Sorted distinct label names over the given refs (or over all series when `refs` is None).
    /// Unknown refs are ignored.
    pub fn label_names(&self, refs: Option<&[SeriesRef]>) -> Vec<String> {
        let syms: Vec<u32> = match refs {
            None => self.postings.iter().map(|(n, _)| n).collect(),
            Some(refs) if refs.len() < PER_SERIES_REFS => {
                let mut set = FxSet::default();
                for pairs in refs.iter().filter_map(|r| self.series.pairs(r.to_u32()?)) {
                    set.extend(pairs.chunks_exact(2).filter_map(|p| p.first().copied()));
                }
                set.into_iter().collect()
            }
            Some(refs) => {
                let rb = to_bitmap(refs);
                self.postings
                    .iter()
                    .filter(|(_, np)| !np.all.is_disjoint(&rb))
                    .map(|(n, _)| n)
                    .collect()
            }
        };
        self.sorted_strings(syms)
    }

    /// Sorted distinct values of a label over the given refs (or all series when None).
    /// Unknown refs are ignored.
    pub fn label_values(&self, name: &str, refs: Option<&[SeriesRef]>) -> Vec<String> {
        let Some((name, np)) = self
            .symbols
            .lookup(name)
            .and_then(|n| Some((n, self.postings.name(n)?)))
        else {
            return Vec::new();
        };
        let syms: Vec<u32> = match refs {
            None => np.values.keys().copied().collect(),
            Some(refs) if refs.len() < PER_SERIES_REFS.max(np.values.len()) => {
                let set: FxSet<u32> = refs
                    .iter()
                    .filter_map(|r| value_of(self.series.pairs(r.to_u32()?)?, name))
                    .collect();
                set.into_iter().collect()
            }
            Some(refs) => {
                let rb = to_bitmap(refs);
                np.values
                    .iter()
                    .filter(|(_, bm)| !bm.is_disjoint(&rb))
                    .map(|(&v, _)| v)
                    .collect()
            }
        };
        self.sorted_strings(syms)
    }

    /// Cardinality statistics for /api/v1/status/tsdb, top `limit` of each list, sorted by value
    /// descending (ties by name ascending).
    pub fn cardinality(&self, limit: usize) -> Cardinality {
        let metric = self.symbols.lookup(METRIC_NAME);
        let mut by_metric = Vec::new();
        let mut values_by_name = Vec::with_capacity(self.postings.num_names());
        let mut bytes_by_name = Vec::with_capacity(self.postings.num_names());
        // (name, value, series) per pair; formatted only for the top entries.
        let mut pairs: Vec<(u32, u32, u64)> = Vec::new();
        for (n, np) in self.postings.iter() {
            let name = self.symbols.str(n);
            values_by_name.push((name.to_string(), np.values.len() as u64));
            let mut bytes = 0u64;
            for (&v, bm) in &np.values {
                let series = bm.len();
                bytes = bytes.saturating_add((self.symbols.str(v).len() as u64).saturating_mul(series));
                if Some(n) == metric {
                    by_metric.push((self.symbols.str(v).to_string(), series));
                }
                pairs.push((n, v, series));
            }
            bytes_by_name.push((name.to_string(), bytes));
        }
        let num_label_pairs = pairs.len() as u64;
        let by_pair = top(pairs, limit, |a, b| {
            b.2.cmp(&a.2)
                .then_with(|| self.symbols.str(a.0).cmp(self.symbols.str(b.0)))
                .then_with(|| self.symbols.str(a.1).cmp(self.symbols.str(b.1)))
        });
        let by_count = |a: &(String, u64), b: &(String, u64)| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0));
        Cardinality {
            num_series: self.len() as u64,
            num_label_pairs,
            series_count_by_metric_name: top(by_metric, limit, by_count),
            label_value_count_by_label_name: top(values_by_name, limit, by_count),
            memory_in_bytes_by_label_name: top(bytes_by_name, limit, by_count),
            series_count_by_label_value_pair: by_pair
                .into_iter()
                .map(|(n, v, c)| (format!("{}={}", self.symbols.str(n), self.symbols.str(v)), c))
                .collect(),
        }
    }

    /// The strings of symbols, sorted.
    fn sorted_strings(&self, syms: Vec<u32>) -> Vec<String> {
        let mut out: Vec<String> = syms.into_iter().map(|s| self.symbols.str(s).to_string()).collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The `limit` smallest items under `cmp`, sorted.
fn top<T>(mut v: Vec<T>, limit: usize, cmp: impl Fn(&T, &T) -> Ordering) -> Vec<T> {
    if limit == 0 {
        return Vec::new();
    }
    if v.len() > limit {
        v.select_nth_unstable_by(limit - 1, &cmp);
        v.truncate(limit);
    }
    v.sort_unstable_by(cmp);
    v
}

/// The refs that fit the index's `u32` space, as a bitmap.
fn to_bitmap(refs: &[SeriesRef]) -> RoaringBitmap {
    refs.iter().filter_map(|r| r.to_u32()).collect()
}
