//! Answering label matchers from postings, with Prometheus semantics.
//!
//! Every matcher becomes a *term* over one label name: a positive term keeps series in the union of some
//! value postings, a negative term drops them. A matcher that does not match the empty string is positive
//! (`a="x"`, `a=~"x.*"`, `a!=""`): series without the label fail it. A matcher that matches the empty
//! string is negative (`a!="x"`, `a=""`, `a!~"x"`, `a=~"x|"`): series without the label pass it, so it is
//! evaluated as "all series minus those whose value fails".
//!
//! Plan: intersect the cheap positive terms (exact values, literal alternations, `a!=""`) smallest first;
//! then subtract cheap negative terms; then the terms that need a scan of the label's values (other
//! regexes). For each of those a cost model picks between scanning the values and merging their
//! postings, or testing the remaining candidates' own labels (with the verdict cached per value), which
//! wins when few candidates are left.

use roaring::{MultiOps, RoaringBitmap};

use super::hash::{FxMap, FxSet};
use super::pattern::FastPattern;
use super::postings::NamePostings;
use super::{Index, SeriesRef, value_of};
use crate::matcher::{LabelMatcher, MatchOp};

/// Rough cost of testing one candidate series against one matcher through its own labels: find the
/// label in its symbol pairs and look the verdict up in the per-value cache (nanoseconds).
const CANDIDATE_TEST_NS: u64 = 25;
/// Rough cost of testing one label value with a fast path or a regex (nanoseconds).
const VALUE_TEST_NS: u64 = 40;
/// Rough cost per series of merging and applying value postings (nanoseconds).
const MERGE_NS_PER_SERIES: u64 = 2;

/// The full-semantics test of one matcher on a present value.
struct ValueTest<'a> {
    matcher: &'a LabelMatcher,
    fast: Option<FastPattern>,
}

impl ValueTest<'_> {
    fn matches(&self, v: &str) -> bool {
        match &self.fast {
            Some(f) => f.matches(v) != (self.matcher.op == MatchOp::RegexNoMatch),
            None => self.matcher.matches(v),
        }
    }
}

/// Which value postings a term uses.
enum Values<'a> {
    /// Every series that has the label.
    Any,
    /// These value postings.
    Bitmaps(Vec<&'a RoaringBitmap>),
    /// Values picked by testing each: those whose verdict differs from the empty string's.
    Scan(ValueTest<'a>),
}

/// One matcher, resolved against the postings.
struct Term<'a> {
    name: u32,
    postings: &'a NamePostings,
    values: Values<'a>,
    /// Drop (rather than keep) series in the selected postings.
    negative: bool,
}

/// How the per-candidate filter decides a deferred scan term.
enum Verdicts {
    /// Test each distinct value on first sight and remember the verdict.
    Lazy(FxMap<u32, bool>),
    /// The values were scanned already: these are the selected ones.
    Selected(FxSet<u32>),
}

/// What one matcher contributes.
enum Plan<'a> {
    /// No series can match: the whole selection is empty.
    Nothing,
    /// Every series matches: the matcher can be dropped.
    Everything,
    Term(Term<'a>),
}

impl Term<'_> {
    fn is_scan(&self) -> bool {
        matches!(self.values, Values::Scan(_))
    }

    /// Upper bound of the series the term's postings hold.
    fn size(&self) -> u64 {
        match &self.values {
            Values::Any | Values::Scan(_) => self.postings.all.len(),
            Values::Bitmaps(bms) => bms.iter().map(|b| b.len()).sum(),
        }
    }
}

impl Index {
    /// Refs of series matching ALL matchers with Prometheus semantics (fully anchored regex; a matcher
    /// that matches the empty string also selects series without the label; `x!=""` means "has label
    /// x"), sorted ascending. An empty matcher list selects nothing.
    pub fn select(&self, matchers: &[LabelMatcher]) -> Vec<SeriesRef> {
        self.select_bitmap(matchers)
            .iter()
            .map(|r| SeriesRef(u64::from(r)))
            .collect()
    }

    /// [`Index::select`] as a bitmap of `u32` refs.
    pub fn select_bitmap(&self, matchers: &[LabelMatcher]) -> RoaringBitmap {
        if matchers.is_empty() {
            return RoaringBitmap::new();
        }
        let mut terms = Vec::with_capacity(matchers.len());
        for m in matchers {
            match self.plan(m) {
                Plan::Nothing => return RoaringBitmap::new(),
                Plan::Everything => {}
                Plan::Term(t) => terms.push(t),
            }
        }
        let (mut scans, cheap): (Vec<_>, Vec<_>) = terms.into_iter().partition(Term::is_scan);
        let (mut positives, negatives): (Vec<_>, Vec<_>) = cheap.into_iter().partition(|t| !t.negative);
        positives.sort_by_key(Term::size);
        scans.sort_by_key(|t| (t.postings.values.len(), t.negative));

        let mut cand: Option<RoaringBitmap> = None;
        for t in &positives {
            let c = match cand.take() {
                None => owned_union(t),
                Some(mut c) => {
                    match &t.values {
                        Values::Any => c &= &t.postings.all,
                        Values::Bitmaps(bms) if bms.len() == 1 => bms.iter().for_each(|b| c &= *b),
                        _ => c &= &owned_union(t),
                    }
                    c
                }
            };
            if c.is_empty() {
                return c;
            }
            cand = Some(c);
        }
        let mut cand = match cand {
            Some(c) => c,
            None => match scans.iter().position(|t| !t.negative) {
                Some(i) => {
                    let t = scans.remove(i);
                    self.scan_union(&t)
                }
                None => self.all.clone(),
            },
        };
        for t in &negatives {
            match &t.values {
                Values::Any => cand -= &t.postings.all,
                Values::Bitmaps(bms) => bms.iter().for_each(|b| cand -= *b),
                Values::Scan(_) => {}
            }
        }
        let mut deferred = Vec::new();
        for t in scans {
            if cand.is_empty() {
                return cand;
            }
            let test_cost = cand.len().saturating_mul(CANDIDATE_TEST_NS);
            let scan_cost = (t.postings.values.len() as u64).saturating_mul(VALUE_TEST_NS);
            if test_cost <= scan_cost {
                // Fewer candidates than values: test the candidates, each distinct value once.
                deferred.push((t, Verdicts::Lazy(FxMap::default())));
                continue;
            }
            let selected = self.scan_values(&t);
            let merge_cost = selected
                .iter()
                .map(|(_, bm)| bm.len())
                .sum::<u64>()
                .saturating_mul(MERGE_NS_PER_SERIES);
            if test_cost <= merge_cost {
                let syms = selected.iter().map(|(v, _)| *v).collect();
                deferred.push((t, Verdicts::Selected(syms)));
                continue;
            }
            let u = union(selected.into_iter().map(|(_, bm)| bm));
            if t.negative {
                cand -= &u;
            } else {
                cand &= &u;
            }
        }
        if deferred.is_empty() {
            cand
        } else {
            self.filter_candidates(&cand, &mut deferred)
        }
    }

    /// Resolves one matcher against the postings.
    fn plan<'a>(&'a self, m: &'a LabelMatcher) -> Plan<'a> {
        let matches_empty = m.matches_empty();
        let Some((name, np)) = self
            .symbols
            .lookup(&m.name)
            .and_then(|n| Some((n, self.postings.name(n)?)))
        else {
            // Nobody has the label: every series sees the empty string.
            return if matches_empty { Plan::Everything } else { Plan::Nothing };
        };
        let value = |v: &str| self.symbols.lookup(v).and_then(|s| np.values.get(&s));
        let term = |values, negative| {
            Plan::Term(Term {
                name,
                postings: np,
                values,
                negative,
            })
        };
        match m.op {
            MatchOp::Equal if m.value.is_empty() => term(Values::Any, true),
            MatchOp::Equal => match value(&m.value) {
                Some(bm) => term(Values::Bitmaps(vec![bm]), false),
                None => Plan::Nothing,
            },
            MatchOp::NotEqual if m.value.is_empty() => term(Values::Any, false),
            MatchOp::NotEqual => match value(&m.value) {
                Some(bm) => term(Values::Bitmaps(vec![bm]), true),
                None => Plan::Everything,
            },
            MatchOp::RegexMatch | MatchOp::RegexNoMatch => {
                let negate = m.op == MatchOp::RegexNoMatch;
                let fast = FastPattern::parse(&m.value);
                if let Some(f) = &fast {
                    if f.matches_everything() {
                        return if negate { Plan::Nothing } else { Plan::Everything };
                    }
                    if *f == FastPattern::NonEmpty {
                        return term(Values::Any, negate);
                    }
                    if let Some(lits) = f.literals().filter(|l| !l.contains(&"")) {
                        let bms: Vec<_> = lits.into_iter().filter_map(value).collect();
                        if bms.is_empty() {
                            return if negate { Plan::Everything } else { Plan::Nothing };
                        }
                        return term(Values::Bitmaps(bms), negate);
                    }
                }
                term(Values::Scan(ValueTest { matcher: m, fast }), matches_empty)
            }
        }
    }

    /// The value postings a scan term selects: positive terms keep matching values; negative terms
    /// (which match "") drop the failing ones.
    fn scan_values<'a>(&self, t: &Term<'a>) -> Vec<(u32, &'a RoaringBitmap)> {
        let Values::Scan(test) = &t.values else {
            debug_assert!(false, "scan_values of a non-scan term");
            return Vec::new();
        };
        let want = !t.negative;
        t.postings
            .values
            .iter()
            .filter(|&(&v, _)| test.matches(self.symbols.str(v)) == want)
            .map(|(&v, bm)| (v, bm))
            .collect()
    }

    /// The union of the value postings a scan term selects.
    fn scan_union(&self, t: &Term<'_>) -> RoaringBitmap {
        union(self.scan_values(t).into_iter().map(|(_, bm)| bm))
    }

    /// Keeps the candidates whose own labels pass every deferred scan term.
    fn filter_candidates(&self, cand: &RoaringBitmap, terms: &mut [(Term<'_>, Verdicts)]) -> RoaringBitmap {
        let mut out = RoaringBitmap::new();
        'series: for r in cand {
            let Some(pairs) = self.series.pairs(r) else {
                debug_assert!(false, "postings hold unknown series {r}");
                continue;
            };
            for (t, verdicts) in terms.iter_mut() {
                let Values::Scan(test) = &t.values else {
                    continue;
                };
                let pass = match (value_of(pairs, t.name), verdicts) {
                    // A missing label is the empty string, which negative terms match.
                    (None, _) => t.negative,
                    (Some(v), Verdicts::Lazy(cache)) => {
                        *cache.entry(v).or_insert_with(|| test.matches(self.symbols.str(v)))
                    }
                    // Selected values are the matching ones of a positive term and the failing
                    // ones of a negative term.
                    (Some(v), Verdicts::Selected(set)) => set.contains(&v) != t.negative,
                };
                if !pass {
                    continue 'series;
                }
            }
            out.push(r);
        }
        out
    }
}

/// The union of a non-scan term's postings as a new bitmap.
fn owned_union(t: &Term<'_>) -> RoaringBitmap {
    match &t.values {
        Values::Any => t.postings.all.clone(),
        Values::Bitmaps(bms) => union(bms.iter().copied()),
        Values::Scan(_) => {
            debug_assert!(false, "owned_union of a scan term");
            RoaringBitmap::new()
        }
    }
}

/// Up to this many bitmaps are merged pairwise; more go through roaring's multi-way union, which
/// converts every container to a bitset first and only pays off with many inputs.
const PAIRWISE_UNION_MAX: usize = 4;

/// The union of some bitmaps.
fn union<'a>(bms: impl Iterator<Item = &'a RoaringBitmap> + Clone) -> RoaringBitmap {
    if bms.clone().nth(PAIRWISE_UNION_MAX).is_some() {
        return bms.union();
    }
    let mut out = RoaringBitmap::new();
    for bm in bms {
        out |= bm;
    }
    out
}
