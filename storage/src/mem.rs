//! An in-memory [`SeriesReader`]: the store PromQL tests (`load` blocks) run against.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::labels::Labels;
use crate::matcher::{LabelMatcher, matches_all};
use crate::read::{Sample, SeriesData, SeriesReader};

/// Series kept in sorted vectors; a sample written for an existing timestamp replaces it.
#[derive(Debug, Default, Clone)]
pub struct MemStore {
    series: BTreeMap<Labels, Vec<Sample>>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one sample; the newest write for a (series, timestamp) wins.
    pub fn add(&mut self, labels: &Labels, t: i64, v: f64) {
        let samples = self.series.entry(labels.clone()).or_default();
        match samples.binary_search_by(|s| s.t.cmp(&t)) {
            Ok(i) => {
                if let Some(s) = samples.get_mut(i) {
                    s.v = v;
                }
            }
            Err(i) => samples.insert(i, Sample { t, v }),
        }
    }

    /// Removes every series.
    pub fn clear(&mut self) {
        self.series.clear();
    }

    fn matching<'a>(
        &'a self,
        matchers: &'a [LabelMatcher],
        mint: i64,
        maxt: i64,
    ) -> impl Iterator<Item = (&'a Labels, &'a [Sample])> + 'a {
        self.series.iter().filter_map(move |(l, s)| {
            if !matches_all(matchers, l) {
                return None;
            }
            let lo = s.partition_point(|x| x.t < mint);
            let hi = s.partition_point(|x| x.t <= maxt);
            let slice = s.get(lo..hi)?;
            (!slice.is_empty()).then_some((l, slice))
        })
    }
}

impl SeriesReader for MemStore {
    fn select(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<SeriesData>> {
        Ok(self
            .matching(matchers, mint, maxt)
            .map(|(l, s)| SeriesData {
                labels: l.clone(),
                timestamps: s.iter().map(|x| x.t).collect(),
                values: s.iter().map(|x| x.v).collect(),
            })
            .collect())
    }

    fn series(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<Labels>> {
        Ok(self.matching(matchers, mint, maxt).map(|(l, _)| l.clone()).collect())
    }

    fn label_names(&self, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .matching(matchers, mint, maxt)
            .flat_map(|(l, _)| l.iter().map(|x| x.name.clone()))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn label_values(&self, name: &str, matchers: &[LabelMatcher], mint: i64, maxt: i64) -> Result<Vec<String>> {
        let mut values: Vec<String> = self
            .matching(matchers, mint, maxt)
            .filter_map(|(l, _)| l.get(name).map(str::to_string))
            .collect();
        values.sort();
        values.dedup();
        Ok(values)
    }
}
