#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::matcher::{LabelMatcher, MatchOp};

fn ls(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn m(name: &str, op: MatchOp, value: &str) -> LabelMatcher {
    LabelMatcher::new(name, op, value).unwrap()
}

fn refs(v: &[u64]) -> Vec<SeriesRef> {
    v.iter().map(|&r| SeriesRef(r)).collect()
}

/// 1: up{job=api,instance=a}  2: up{job=api,instance=b}  3: up{job=web,instance=a,env=prod}
/// 4: foobar{job=web}  5: foo{job=db,instance=c,env=""}  6: http_requests{job=api,path=/a}
fn fixture() -> Index {
    let mut ix = Index::new();
    for l in [
        ls(&[("__name__", "up"), ("job", "api"), ("instance", "a")]),
        ls(&[("__name__", "up"), ("job", "api"), ("instance", "b")]),
        ls(&[("__name__", "up"), ("job", "web"), ("instance", "a"), ("env", "prod")]),
        ls(&[("__name__", "foobar"), ("job", "web")]),
        ls(&[("__name__", "foo"), ("job", "db"), ("instance", "c"), ("env", "")]),
        ls(&[("__name__", "http_requests"), ("job", "api"), ("path", "/a")]),
    ] {
        ix.get_or_create(&l);
    }
    ix
}

fn sel(ix: &Index, ms: &[LabelMatcher]) -> Vec<u64> {
    ix.select(ms).into_iter().map(|r| r.0).collect()
}

#[test]
fn get_or_create_allocates_dense_refs_from_one() {
    let mut ix = Index::new();
    assert!(ix.is_empty());
    let a = ls(&[("__name__", "up"), ("job", "x")]);
    let b = ls(&[("__name__", "up"), ("job", "y")]);
    assert_eq!(ix.get(&a), None);
    assert_eq!(ix.get_or_create(&a), (SeriesRef(1), true));
    assert_eq!(ix.get_or_create(&b), (SeriesRef(2), true));
    assert_eq!(ix.get_or_create(&a), (SeriesRef(1), false));
    assert_eq!(ix.get(&b), Some(SeriesRef(2)));
    assert_eq!(ix.len(), 2);
    assert_eq!(ix.labels(SeriesRef(2)), Some(b.clone()));
    assert_eq!(ix.labels(SeriesRef(3)), None);
    assert_eq!(ix.label_value(SeriesRef(2), "job"), Some("y"));
    assert_eq!(ix.label_value(SeriesRef(2), "nope"), None);
    let pairs: Vec<_> = ix.label_pairs(SeriesRef(1)).unwrap().collect();
    assert_eq!(pairs, vec![("__name__", "up"), ("job", "x")]);
    assert_eq!(ix.next_ref(), SeriesRef(3));
    assert_eq!(ix.all(), refs(&[1, 2]));
}

#[test]
fn empty_values_are_not_part_of_the_identity() {
    let mut ix = Index::new();
    let (r, _) = ix.get_or_create(&ls(&[("__name__", "up"), ("job", "x")]));
    let with_empty = Labels::from_sorted(vec![
        Label {
            name: "__name__".into(),
            value: "up".into(),
        },
        Label {
            name: "a".into(),
            value: String::new(),
        },
        Label {
            name: "job".into(),
            value: "x".into(),
        },
    ]);
    assert_eq!(ix.get(&with_empty), Some(r));
    assert_eq!(ix.get_or_create(&with_empty), (r, false));
}

#[test]
fn similar_label_sets_are_distinct() {
    // Same strings, different split between name and value; and a prefix of another set.
    let mut ix = Index::new();
    let a = ls(&[("ab", "c")]);
    let b = ls(&[("a", "bc")]);
    let c = ls(&[("a", "bc"), ("d", "e")]);
    let (ra, _) = ix.get_or_create(&a);
    let (rb, _) = ix.get_or_create(&b);
    let (rc, _) = ix.get_or_create(&c);
    assert!(ra != rb && rb != rc);
    assert_eq!(ix.get(&a), Some(ra));
    assert_eq!(ix.get(&b), Some(rb));
    assert_eq!(ix.get(&c), Some(rc));
}

#[test]
fn equal_and_not_equal() {
    let ix = fixture();
    assert_eq!(sel(&ix, &[m("__name__", MatchOp::Equal, "up")]), vec![1, 2, 3]);
    assert_eq!(
        sel(
            &ix,
            &[m("__name__", MatchOp::Equal, "up"), m("job", MatchOp::Equal, "api")]
        ),
        vec![1, 2]
    );
    assert_eq!(sel(&ix, &[m("__name__", MatchOp::Equal, "nope")]), Vec::<u64>::new());
    assert_eq!(sel(&ix, &[m("nope", MatchOp::Equal, "x")]), Vec::<u64>::new());
    // `!=` keeps series without the label.
    assert_eq!(sel(&ix, &[m("env", MatchOp::NotEqual, "prod")]), vec![1, 2, 4, 5, 6]);
    assert_eq!(
        sel(
            &ix,
            &[m("job", MatchOp::Equal, "web"), m("instance", MatchOp::NotEqual, "a")]
        ),
        vec![4]
    );
    // `!=` of a value nobody has, or on a label nobody has: everything.
    assert_eq!(sel(&ix, &[m("job", MatchOp::NotEqual, "zzz")]), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(sel(&ix, &[m("nope", MatchOp::NotEqual, "x")]), vec![1, 2, 3, 4, 5, 6]);
}

#[test]
fn empty_string_semantics() {
    let ix = fixture();
    // `x=""`: series without x.
    assert_eq!(sel(&ix, &[m("instance", MatchOp::Equal, "")]), vec![4, 6]);
    assert_eq!(sel(&ix, &[m("nope", MatchOp::Equal, "")]), vec![1, 2, 3, 4, 5, 6]);
    // `x!=""`: series with x.
    assert_eq!(sel(&ix, &[m("env", MatchOp::NotEqual, "")]), vec![3]);
    assert_eq!(sel(&ix, &[m("nope", MatchOp::NotEqual, "")]), Vec::<u64>::new());
    // A regex matching "" also selects series without the label.
    assert_eq!(
        sel(&ix, &[m("env", MatchOp::RegexMatch, "prod|")]),
        vec![1, 2, 3, 4, 5, 6]
    );
    assert_eq!(sel(&ix, &[m("instance", MatchOp::RegexMatch, "b|")]), vec![2, 4, 6]);
    assert_eq!(sel(&ix, &[m("instance", MatchOp::RegexMatch, "b?")]), vec![2, 4, 6]);
    assert_eq!(sel(&ix, &[m("instance", MatchOp::RegexMatch, "")]), vec![4, 6]);
    assert_eq!(
        sel(&ix, &[m("instance", MatchOp::RegexMatch, ".*")]),
        vec![1, 2, 3, 4, 5, 6]
    );
    assert_eq!(sel(&ix, &[m("instance", MatchOp::RegexMatch, ".+")]), vec![1, 2, 3, 5]);
    assert_eq!(sel(&ix, &[m("instance", MatchOp::RegexNoMatch, ".+")]), vec![4, 6]);
    assert_eq!(
        sel(&ix, &[m("instance", MatchOp::RegexNoMatch, ".*")]),
        Vec::<u64>::new()
    );
    // The env="" label of series 5 was dropped: 5 has no env.
    assert_eq!(
        sel(&ix, &[m("env", MatchOp::Equal, ""), m("job", MatchOp::Equal, "db")]),
        vec![5]
    );
}

#[test]
fn regex_is_fully_anchored() {
    let ix = fixture();
    assert_eq!(sel(&ix, &[m("__name__", MatchOp::RegexMatch, "foo")]), vec![5]);
    assert_eq!(sel(&ix, &[m("__name__", MatchOp::RegexMatch, "oo")]), Vec::<u64>::new());
    assert_eq!(sel(&ix, &[m("__name__", MatchOp::RegexMatch, "foo.*")]), vec![4, 5]);
    assert_eq!(sel(&ix, &[m("__name__", MatchOp::RegexMatch, ".*bar")]), vec![4]);
    assert_eq!(sel(&ix, &[m("__name__", MatchOp::RegexMatch, ".*_req.*")]), vec![6]);
    assert_eq!(sel(&ix, &[m("__name__", MatchOp::RegexMatch, "fo+")]), vec![5]);
    assert_eq!(
        sel(&ix, &[m("__name__", MatchOp::RegexMatch, "[fu].*")]),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(
        sel(&ix, &[m("__name__", MatchOp::RegexMatch, "up|foo")]),
        vec![1, 2, 3, 5]
    );
    assert_eq!(
        sel(&ix, &[m("__name__", MatchOp::RegexMatch, "(up|foo)")]),
        vec![1, 2, 3, 5]
    );
    assert_eq!(
        sel(&ix, &[m("__name__", MatchOp::RegexMatch, "up|nothere")]),
        vec![1, 2, 3]
    );
    assert_eq!(
        sel(&ix, &[m("__name__", MatchOp::RegexMatch, "nothere|neither")]),
        Vec::<u64>::new()
    );
    assert_eq!(sel(&ix, &[m("path", MatchOp::RegexMatch, "/a")]), vec![6]);
    assert_eq!(sel(&ix, &[m("path", MatchOp::RegexMatch, "/.")]), vec![6]);
}

#[test]
fn regex_no_match_and_missing_labels() {
    let ix = fixture();
    // `!~` keeps series without the label (the empty string does not match `foo`).
    assert_eq!(
        sel(&ix, &[m("__name__", MatchOp::RegexNoMatch, "foo")]),
        vec![1, 2, 3, 4, 6]
    );
    assert_eq!(
        sel(&ix, &[m("env", MatchOp::RegexNoMatch, "prod")]),
        vec![1, 2, 4, 5, 6]
    );
    assert_eq!(sel(&ix, &[m("env", MatchOp::RegexNoMatch, "p.*")]), vec![1, 2, 4, 5, 6]);
    assert_eq!(
        sel(&ix, &[m("env", MatchOp::RegexNoMatch, "[p]rod")]),
        vec![1, 2, 4, 5, 6]
    );
    assert_eq!(
        sel(&ix, &[m("nope", MatchOp::RegexNoMatch, "x")]),
        vec![1, 2, 3, 4, 5, 6]
    );
    // `!~` of a regex that matches "": series without the label fail it.
    assert_eq!(sel(&ix, &[m("env", MatchOp::RegexNoMatch, "x|")]), vec![3]);
    assert_eq!(sel(&ix, &[m("env", MatchOp::RegexNoMatch, "x?")]), vec![3]);
    assert_eq!(sel(&ix, &[m("nope", MatchOp::RegexNoMatch, "x?")]), Vec::<u64>::new());
    assert_eq!(
        sel(
            &ix,
            &[
                m("job", MatchOp::RegexMatch, "api|web"),
                m("instance", MatchOp::RegexNoMatch, "a|c")
            ]
        ),
        vec![2, 4, 6]
    );
}

#[test]
fn combined_matchers_use_every_path() {
    let ix = fixture();
    let q = [
        m("__name__", MatchOp::RegexMatch, "up|http_requests"),
        m("job", MatchOp::RegexMatch, "a.*"),
        m("instance", MatchOp::NotEqual, "b"),
        m("path", MatchOp::RegexNoMatch, "/b[0-9]"),
    ];
    assert_eq!(sel(&ix, &q), vec![1, 6]);
    assert_eq!(sel(&ix, &[]), Vec::<u64>::new());
    // Only negative matchers start from all series.
    assert_eq!(
        sel(&ix, &[m("job", MatchOp::NotEqual, "api"), m("env", MatchOp::Equal, "")]),
        vec![4, 5]
    );
}

#[test]
fn candidate_filtering_matches_postings_path() {
    // Many values per label, few candidates: the planner tests candidates' own labels.
    let mut ix = Index::new();
    for i in 0..5000 {
        let id = format!("id-{i}");
        let job = if i % 100 == 0 { "rare" } else { "common" };
        ix.get_or_create(&ls(&[("__name__", "m"), ("id", &id), ("job", job)]));
    }
    let rare = [
        m("job", MatchOp::Equal, "rare"),
        m("id", MatchOp::RegexMatch, "id-[0-9]*00"),
    ];
    assert_eq!(ix.select(&rare).len(), 49);
    let rare_neg = [
        m("job", MatchOp::Equal, "rare"),
        m("id", MatchOp::RegexNoMatch, "id-[0-9]*000"),
    ];
    assert_eq!(ix.select(&rare_neg).len(), 46);
    let all_ids = [m("id", MatchOp::RegexMatch, "id-[0-9]*00")];
    assert_eq!(ix.select(&all_ids), ix.select(&rare));
}

#[test]
fn remove_drops_series_everywhere_and_never_reuses_refs() {
    let mut ix = fixture();
    let l3 = ix.labels(SeriesRef(3)).unwrap();
    ix.remove(SeriesRef(3));
    ix.remove(SeriesRef(3));
    ix.remove(SeriesRef(99));
    ix.remove(SeriesRef(u64::MAX));
    assert_eq!(ix.len(), 5);
    assert_eq!(ix.get(&l3), None);
    assert!(!ix.contains(SeriesRef(3)));
    assert_eq!(ix.labels(SeriesRef(3)), None);
    assert_eq!(sel(&ix, &[m("__name__", MatchOp::Equal, "up")]), vec![1, 2]);
    assert_eq!(sel(&ix, &[m("env", MatchOp::NotEqual, "")]), Vec::<u64>::new());
    assert!(!ix.label_names(None).contains(&"env".to_string()));
    assert_eq!(ix.label_values("env", None), Vec::<String>::new());
    // Re-creating gets a fresh ref.
    assert_eq!(ix.get_or_create(&l3), (SeriesRef(7), true));
    // Removing everything frees every symbol.
    for r in 1..=7 {
        ix.remove(SeriesRef(r));
    }
    assert!(ix.is_empty());
    assert_eq!(ix.symbols.len(), 0);
    assert_eq!(ix.label_names(None), Vec::<String>::new());
    assert_eq!(sel(&ix, &[m("job", MatchOp::NotEqual, "x")]), Vec::<u64>::new());
    assert_eq!(ix.get_or_create(&l3).0, SeriesRef(8));
}

#[test]
fn insert_with_known_ref() {
    let mut ix = Index::new();
    let a = ls(&[("__name__", "a")]);
    let b = ls(&[("__name__", "b")]);
    let c = ls(&[("__name__", "c")]);
    ix.insert(SeriesRef(10), a.clone());
    ix.insert(SeriesRef(4), b.clone());
    assert_eq!(ix.get(&a), Some(SeriesRef(10)));
    assert_eq!(ix.labels(SeriesRef(4)), Some(b.clone()));
    assert_eq!(ix.next_ref(), SeriesRef(11));
    assert_eq!(ix.get_or_create(&c), (SeriesRef(11), true));
    // Same pair again: no-op.
    ix.insert(SeriesRef(4), b.clone());
    assert_eq!(ix.len(), 3);
    // Same labels under another ref: rejected, index unchanged.
    assert!(matches!(
        ix.try_insert(SeriesRef(5), b.clone()),
        Err(Error::Corrupt { .. })
    ));
    ix.insert(SeriesRef(5), b.clone());
    assert_eq!(ix.len(), 3);
    assert!(!ix.contains(SeriesRef(5)));
    // A ref with new labels replaces the old ones.
    let d = ls(&[("__name__", "d")]);
    ix.insert(SeriesRef(4), d.clone());
    assert_eq!(ix.get(&b), None);
    assert_eq!(ix.get(&d), Some(SeriesRef(4)));
    assert_eq!(ix.label_values("__name__", None), vec!["a", "c", "d"]);
    // Refs outside 1..2^32.
    assert!(ix.try_insert(SeriesRef(0), ls(&[("x", "y")])).is_err());
    assert!(ix.try_insert(SeriesRef(1 << 32), ls(&[("x", "y")])).is_err());
    assert_eq!(ix.len(), 3);
    ix.ensure_next_ref(SeriesRef(100));
    assert_eq!(ix.get_or_create(&b), (SeriesRef(100), true));
    ix.ensure_next_ref(SeriesRef(50));
    assert_eq!(ix.next_ref(), SeriesRef(101));
}

#[test]
fn ref_space_exhaustion_is_an_error() {
    let mut ix = Index::new();
    ix.insert(SeriesRef(u64::from(u32::MAX)), ls(&[("a", "b")]));
    assert!(ix.contains(SeriesRef(u64::from(u32::MAX))));
    let e = ix.try_get_or_create(&ls(&[("a", "c")]));
    assert!(matches!(e, Err(Error::LimitExceeded(_))), "{e:?}");
    assert_eq!(
        ix.try_get_or_create(&ls(&[("a", "b")])).unwrap(),
        (SeriesRef(u64::from(u32::MAX)), false)
    );
}

#[test]
fn label_names_and_values_restricted_to_refs() {
    let ix = fixture();
    assert_eq!(ix.label_names(None), vec!["__name__", "env", "instance", "job", "path"]);
    assert_eq!(ix.label_names(Some(&refs(&[4, 6]))), vec!["__name__", "job", "path"]);
    assert_eq!(ix.label_names(Some(&refs(&[4, 99, 1 << 40]))), vec!["__name__", "job"]);
    assert_eq!(ix.label_names(Some(&[])), Vec::<String>::new());
    assert_eq!(ix.label_values("job", None), vec!["api", "db", "web"]);
    assert_eq!(ix.label_values("job", Some(&refs(&[3, 4, 1]))), vec!["api", "web"]);
    assert_eq!(ix.label_values("instance", Some(&refs(&[4, 6]))), Vec::<String>::new());
    assert_eq!(ix.label_values("nope", None), Vec::<String>::new());
    // The bitmap path (many refs) agrees with the per-series path.
    let many: Vec<SeriesRef> = (0..200).map(|i| SeriesRef(1 + i % 3)).collect();
    assert_eq!(ix.label_values("instance", Some(&many)), vec!["a", "b"]);
    assert_eq!(ix.label_names(Some(&many)), vec!["__name__", "env", "instance", "job"]);
}

#[test]
fn cardinality_statistics() {
    let ix = fixture();
    let c = ix.cardinality(10);
    assert_eq!(c.num_series, 6);
    // __name__: up foobar foo http_requests; job: api web db; instance: a b c; env: prod; path: /a.
    assert_eq!(c.num_label_pairs, 12);
    assert_eq!(
        c.series_count_by_metric_name,
        vec![
            ("up".into(), 3),
            ("foo".into(), 1),
            ("foobar".into(), 1),
            ("http_requests".into(), 1)
        ]
    );
    assert_eq!(
        c.label_value_count_by_label_name,
        vec![
            ("__name__".into(), 4),
            ("instance".into(), 3),
            ("job".into(), 3),
            ("env".into(), 1),
            ("path".into(), 1)
        ]
    );
    // __name__: up*3*2 + foobar 6 + foo 3 + http_requests 13 = 28.
    assert_eq!(
        c.memory_in_bytes_by_label_name.first(),
        Some(&("__name__".to_string(), 28))
    );
    assert_eq!(c.memory_in_bytes_by_label_name.get(1), Some(&("job".to_string(), 17)));
    let top2 = ix.cardinality(2);
    assert_eq!(
        top2.series_count_by_label_value_pair,
        vec![("__name__=up".into(), 3), ("job=api".into(), 3)]
    );
    assert_eq!(top2.series_count_by_metric_name.len(), 2);
    assert_eq!(ix.cardinality(0).series_count_by_metric_name, Vec::new());
    assert_eq!(Index::new().cardinality(5), Cardinality::default());
}

#[test]
fn heap_bytes_grows_with_series() {
    let mut ix = Index::new();
    let empty = ix.heap_bytes();
    for i in 0..10_000 {
        ix.get_or_create(&ls(&[("__name__", "m"), ("i", &i.to_string())]));
    }
    let full = ix.heap_bytes();
    assert!(full > empty + 10_000 * 8, "{empty} -> {full}");
    assert!(full < 10_000 * 1024, "{full}");
}

#[test]
fn churn_keeps_symbols_and_arenas_bounded() {
    let mut ix = Index::new();
    for round in 0..20u64 {
        for i in 0..5_000u64 {
            let pod = format!("pod-{round}-{i}-{}", "x".repeat(40));
            ix.get_or_create(&ls(&[("__name__", "m"), ("pod", &pod)]));
        }
        for r in (round * 5_000 + 1)..=(round * 5_000 + 5_000) {
            if round < 19 {
                ix.remove(SeriesRef(r));
            }
        }
    }
    assert_eq!(ix.len(), 5_000);
    assert_eq!(ix.symbols.len(), 5_003);
    let v = ix.label_values("pod", None);
    assert_eq!(v.len(), 5_000);
    assert!(v.iter().all(|p| p.starts_with("pod-19-")));
    let first = ix.get(&ls(&[
        ("__name__", "m"),
        ("pod", &format!("pod-19-0-{}", "x".repeat(40))),
    ]));
    assert_eq!(first, Some(SeriesRef(19 * 5_000 + 1)));
}

#[test]
fn many_series_survive_hash_collisions() {
    // The hash index keys on 32 bits: at 200k series a few pairs collide (expected ~5), and every
    // series must still be found under its own ref.
    let mut ix = Index::new();
    let n = 200_000u64;
    for i in 0..n {
        let (r, created) = ix.get_or_create(&ls(&[("__name__", "m"), ("i", &i.to_string())]));
        assert_eq!((r, created), (SeriesRef(i + 1), true));
    }
    for i in 0..n {
        assert_eq!(
            ix.get(&ls(&[("__name__", "m"), ("i", &i.to_string())])),
            Some(SeriesRef(i + 1))
        );
    }
    for i in (0..n).step_by(2) {
        ix.remove(SeriesRef(i + 1));
    }
    for i in 0..n {
        let want = (i % 2 == 1).then_some(SeriesRef(i + 1));
        assert_eq!(ix.get(&ls(&[("__name__", "m"), ("i", &i.to_string())])), want);
    }
}

#[test]
fn sort_by_labels_matches_label_set_order() {
    let mut ix = Index::new();
    let mut state = 7u64;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let names = ["__name__", "a", "b", "job", "zz"];
    let values = ["", "0", "1", "10", "9", "x", "xy", "y"];
    for _ in 0..400 {
        let pairs: Vec<(&str, &str)> = names
            .iter()
            .map(|&n| (n, values[next(values.len() as u64) as usize]))
            .collect();
        let l = ls(&pairs);
        if !l.is_empty() {
            ix.get_or_create(&l);
        }
    }
    let mut refs: Vec<u64> = ix.all().into_iter().map(|r| r.0).collect();
    assert!(refs.len() > 100);
    refs.reverse();
    let mut want: Vec<(Labels, u64)> = refs.iter().map(|&r| (ix.labels(SeriesRef(r)).unwrap(), r)).collect();
    want.sort();
    ix.sort_by_labels(&mut refs);
    let want: Vec<u64> = want.into_iter().map(|(_, r)| r).collect();
    assert_eq!(refs, want);
}

#[test]
fn has_labels_compares_ordered_pairs_against_the_arena() {
    let mut ix = fixture();
    let up_a = [("__name__", "up"), ("instance", "a"), ("job", "api")];
    assert!(ix.has_labels(SeriesRef(1), up_a));
    // Empty values are skipped, as Labels::from_pairs drops them.
    assert!(ix.has_labels(
        SeriesRef(5),
        [("__name__", "foo"), ("env", ""), ("instance", "c"), ("job", "db")]
    ));
    // Another series, another order, a missing or extra label, a repeated name: no match.
    assert!(!ix.has_labels(SeriesRef(2), up_a));
    assert!(!ix.has_labels(SeriesRef(1), [("instance", "a"), ("__name__", "up"), ("job", "api")]));
    assert!(!ix.has_labels(SeriesRef(1), [("__name__", "up"), ("instance", "a")]));
    assert!(!ix.has_labels(
        SeriesRef(1),
        [("__name__", "up"), ("instance", "a"), ("job", "api"), ("zone", "z")]
    ));
    assert!(!ix.has_labels(SeriesRef(1), [("__name__", "up"), ("instance", "a"), ("instance", "a")]));
    // Unknown and removed refs never match.
    assert!(!ix.has_labels(SeriesRef(99), up_a));
    assert!(!ix.has_labels(SeriesRef(0), up_a));
    ix.remove(SeriesRef(1));
    assert!(!ix.has_labels(SeriesRef(1), up_a));
}
