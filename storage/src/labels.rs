//! Label sets: a series is identified by its sorted labels, `__name__` included.

use std::fmt;

/// The label that holds the metric name.
pub const METRIC_NAME: &str = "__name__";

/// One label pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    /// Label name.
    pub name: String,
    /// Label value; never empty inside a stored label set (an empty value means "no such label").
    pub value: String,
}

/// A label set sorted by name, without duplicate names and without empty values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Labels(Vec<Label>);

impl Labels {
    /// Builds a label set from pairs: sorts by name, drops empty values. Duplicate names are kept
    /// (use [`Labels::duplicate_name`] to validate).
    pub fn from_pairs<N: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (N, V)>) -> Self {
        let mut v: Vec<Label> = pairs
            .into_iter()
            .map(|(n, v)| Label {
                name: n.into(),
                value: v.into(),
            })
            .filter(|l| !l.value.is_empty())
            .collect();
        v.sort();
        Labels(v)
    }

    /// Wraps labels that are already sorted by name with empty values removed.
    pub fn from_sorted(v: Vec<Label>) -> Self {
        debug_assert!(v.windows(2).all(|w| w[0].name <= w[1].name), "labels not sorted");
        Labels(v)
    }

    /// The first name that occurs twice, if any.
    pub fn duplicate_name(&self) -> Option<&str> {
        self.0
            .windows(2)
            .find(|w| w[0].name == w[1].name)
            .map(|w| w[0].name.as_str())
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .and_then(|i| self.0.get(i))
            .map(|l| l.value.as_str())
    }

    /// The metric name, if present.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// Sets (or with an empty value, removes) a label, keeping the order.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.binary_search_by(|l| l.name.as_str().cmp(name)) {
            Ok(i) => {
                if value.is_empty() {
                    self.0.remove(i);
                } else if let Some(l) = self.0.get_mut(i) {
                    l.value = value.to_string();
                }
            }
            Err(i) => {
                if !value.is_empty() {
                    self.0.insert(
                        i,
                        Label {
                            name: name.to_string(),
                            value: value.to_string(),
                        },
                    );
                }
            }
        }
    }

    /// Removes a label if present.
    pub fn remove(&mut self, name: &str) {
        self.set(name, "");
    }

    /// Iterates over the labels in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    /// The labels as a slice.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Consumes the set into its labels.
    pub fn into_vec(self) -> Vec<Label> {
        self.0
    }

    /// Keeps only labels for which `keep` is true.
    pub fn retain(&mut self, keep: impl FnMut(&Label) -> bool) {
        self.0.retain(keep);
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Labels {
    /// Prints `name{a="b", c="d"}` as Prometheus does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.metric_name();
        if let Some(n) = name {
            f.write_str(n)?;
        }
        let mut rest = self.0.iter().filter(|l| l.name != METRIC_NAME).peekable();
        if rest.peek().is_none() && name.is_some() {
            return Ok(());
        }
        f.write_str("{")?;
        let mut first = true;
        for l in rest {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{}={:?}", l.name, l.value)?;
        }
        f.write_str("}")
    }
}
