//! Property tests: `select`, `label_names` and `label_values` agree with a brute-force filter over the
//! live label sets, through creates, replays with known refs and removes.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;
use crate::matcher::{LabelMatcher, MatchOp};

const NAMES: &[&str] = &["__name__", "a", "b", "c"];
const VALUES: &[&str] = &["x", "xy", "y", "foo", "foobar", "a.b", "a\nb", "bar"];
const PATTERNS: &[&str] = &[
    "", "x", "foo", "fo", "x|y", "x|", "(x|foo)", "foo.*", ".*bar", ".*o.*", ".*", ".+", "[xy]+", "a\\.b", "a.b", "x?",
    "zzz", "zzz|qqq", "f.*|x", "(?i)FOO", "y*",
];

fn label_set() -> impl Strategy<Value = Labels> {
    proptest::collection::btree_map(
        proptest::sample::select(NAMES),
        proptest::sample::select(VALUES),
        0..=NAMES.len(),
    )
    .prop_map(|m: BTreeMap<&str, &str>| Labels::from_pairs(m))
}

fn matcher() -> impl Strategy<Value = LabelMatcher> {
    let name = prop_oneof![4 => proptest::sample::select(NAMES), 1 => Just("missing")];
    let op = proptest::sample::select(
        &[
            MatchOp::Equal,
            MatchOp::NotEqual,
            MatchOp::RegexMatch,
            MatchOp::RegexNoMatch,
        ][..],
    );
    let value = prop_oneof![proptest::sample::select(VALUES), proptest::sample::select(PATTERNS)];
    (name, op, value).prop_filter_map("regex must compile", |(n, op, v)| LabelMatcher::new(n, op, v).ok())
}

#[derive(Debug, Clone)]
enum Op {
    Create(Labels),
    Insert(u64, Labels),
    Remove(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => label_set().prop_map(Op::Create),
        1 => (1u64..80, label_set()).prop_map(|(r, l)| Op::Insert(r, l)),
        2 => (1u64..80).prop_map(Op::Remove),
    ]
}

/// Applies the ops to an index and to a plain map.
fn build(ops: &[Op]) -> (Index, BTreeMap<u64, Labels>) {
    let mut ix = Index::new();
    let mut model: BTreeMap<u64, Labels> = BTreeMap::new();
    let mut next = 1u64;
    for op in ops {
        match op {
            Op::Create(l) => {
                let existing = model.iter().find(|(_, v)| *v == l).map(|(r, _)| *r);
                let (r, created) = ix.get_or_create(l);
                match existing {
                    Some(e) => assert_eq!((r.0, created), (e, false)),
                    None => {
                        assert_eq!((r.0, created), (next, true));
                        model.insert(r.0, l.clone());
                        next += 1;
                    }
                }
            }
            Op::Insert(r, l) => {
                let clash = model.iter().any(|(k, v)| v == l && k != r);
                let res = ix.try_insert(SeriesRef(*r), l.clone());
                assert_eq!(res.is_err(), clash, "{res:?}");
                if !clash {
                    model.insert(*r, l.clone());
                    next = next.max(r + 1);
                }
            }
            Op::Remove(r) => {
                ix.remove(SeriesRef(*r));
                model.remove(r);
            }
        }
    }
    (ix, model)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn select_agrees_with_brute_force(
        ops in proptest::collection::vec(op(), 0..60),
        queries in proptest::collection::vec(proptest::collection::vec(matcher(), 0..4), 1..6),
    ) {
        let (ix, model) = build(&ops);
        prop_assert_eq!(ix.len(), model.len());
        for (r, l) in &model {
            prop_assert_eq!(ix.get(l), Some(SeriesRef(*r)));
            prop_assert_eq!(ix.labels(SeriesRef(*r)), Some(l.clone()));
        }
        for q in &queries {
            let want: Vec<SeriesRef> = if q.is_empty() {
                Vec::new()
            } else {
                model.iter().filter(|(_, l)| q.iter().all(|m| m.matches_labels(l))).map(|(r, _)| SeriesRef(*r)).collect()
            };
            let got = ix.select(q);
            prop_assert_eq!(&got, &want, "matchers {:?}", q.iter().map(ToString::to_string).collect::<Vec<_>>());

            let names: BTreeSet<String> = want.iter().flat_map(|r| model[&r.0].iter().map(|l| l.name.clone())).collect();
            prop_assert_eq!(ix.label_names(Some(&want)), names.into_iter().collect::<Vec<_>>());
            for name in NAMES {
                let values: BTreeSet<String> =
                    want.iter().filter_map(|r| model[&r.0].get(name).map(str::to_string)).collect();
                prop_assert_eq!(ix.label_values(name, Some(&want)), values.into_iter().collect::<Vec<_>>());
            }
        }
        let all_names: BTreeSet<String> = model.values().flat_map(|l| l.iter().map(|l| l.name.clone())).collect();
        prop_assert_eq!(ix.label_names(None), all_names.into_iter().collect::<Vec<_>>());
    }
}

/// The per-candidate path and the postings path of the planner must agree on a larger index, where
/// both are taken depending on selectivity.
#[test]
fn planner_paths_agree_on_a_larger_index() {
    let mut ix = Index::new();
    let mut all = Vec::new();
    for i in 0..3000u32 {
        let l = Labels::from_pairs([
            ("__name__", format!("m{}", i % 7)),
            ("a", format!("v{}", i % 500)),
            (
                "b",
                if i % 3 == 0 {
                    String::new()
                } else {
                    format!("w{}", i % 11)
                },
            ),
            ("c", if i % 30 == 1 { "rare".to_string() } else { String::new() }),
        ]);
        ix.get_or_create(&l);
        all.push(l);
    }
    let queries = [
        vec!["__name__=m1", "a=~v1.*"],
        vec!["__name__=m1", "a!~v1.*"],
        vec!["__name__=m1", "a=~v[0-9]5"],
        vec!["a=~v[0-9]5", "b!~w1|"],
        vec!["b=~w[13]|", "a!~v.*9"],
        vec!["__name__=~m[12]", "a=~v4[0-9]+", "b!=w3"],
        // Few candidates, values already scanned, many series selected: the pre-scanned verdicts.
        vec!["c=rare", "b=~w.*"],
        vec!["c=rare", "b!~w[0-9]"],
    ];
    for q in queries {
        let ms: Vec<LabelMatcher> = q
            .iter()
            .map(|s| {
                let (op, at) = ["!~", "=~", "!=", "="]
                    .iter()
                    .find_map(|op| s.find(op).map(|i| (*op, i)))
                    .unwrap();
                let op = match op {
                    "!~" => MatchOp::RegexNoMatch,
                    "=~" => MatchOp::RegexMatch,
                    "!=" => MatchOp::NotEqual,
                    _ => MatchOp::Equal,
                };
                let val = &s[at + if matches!(op, MatchOp::Equal) { 1 } else { 2 }..];
                LabelMatcher::new(&s[..at], op, val).unwrap()
            })
            .collect();
        let want: Vec<SeriesRef> = all
            .iter()
            .enumerate()
            .filter(|(_, l)| ms.iter().all(|m| m.matches_labels(l)))
            .map(|(i, _)| SeriesRef(i as u64 + 1))
            .collect();
        assert_eq!(ix.select(&ms), want, "{q:?}");
    }
}
