//! Property tests for the parser (the stable-toolchain stand-in for `query/fuzz`): no input panics,
//! overflows the stack or takes long; error ranges lie inside the input; and whatever parses prints to
//! text that parses back to the same AST.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::time::{Duration, Instant};

use common::{normalize, same};
use proptest::prelude::*;
use strata_query::parser::parse;

/// Fragments of PromQL that make random concatenations likely to be (nearly) valid queries.
const TOKENS: &[&str] = &[
    "foo",
    "bar",
    "sum",
    "rate",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "@",
    "start()",
    "end()",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "=",
    "!=",
    "=~",
    "!~",
    "\"a\"",
    "'b'",
    "`c`",
    "\"x.y\"",
    "1",
    "-1",
    "0x1f",
    "1e3",
    "Inf",
    "NaN",
    "5m",
    "1h30m",
    "10s",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "==",
    ">",
    "<=",
    "and",
    "or",
    "unless",
    "atan2",
    "topk",
    "count_values",
    "quantile",
    "histogram_quantile",
    "label_replace",
    "time",
    "vector",
    "abs",
    "#c\n",
    "\n",
    " ",
    "step",
    "fill",
    "anchored",
    "job",
    "le",
    "__name__",
    "5",
    "0",
    ".5",
];

fn token_query() -> impl Strategy<Value = String> {
    prop::collection::vec((0..TOKENS.len(), prop::bool::ANY), 0..24).prop_map(|parts| {
        let mut s = String::new();
        for (i, space) in parts {
            s.push_str(TOKENS[i]);
            if space {
                s.push(' ');
            }
        }
        s
    })
}

/// Valid instant-vector queries, built from the grammar: they must all parse and round-trip.
fn valid_query() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec![
        "up",
        "http_requests_total",
        "foo:bar:rate5m",
        "sum",
        "by",
        "offset",
        "x",
    ]);
    let label = prop::sample::select(vec!["job", "instance", "on", "by", "le", "\"a.b\""]);
    let op = prop::sample::select(vec!["=", "!=", "=~", "!~"]);
    let value = prop::sample::select(vec!["\"api\"", "'a.*'", "`b|c`", "\"x\\ny\"", "\"ü\""]);
    let matcher = (label.clone(), op, value).prop_map(|(l, o, v)| format!("{l}{o}{v}"));
    let modifier = prop::sample::select(vec![
        "",
        " offset 5m",
        " offset -1h30m",
        " @ 100",
        " @ start()",
        " @ end() offset 1s",
    ]);
    let selector =
        (name, prop::collection::vec(matcher, 0..3), prop::bool::ANY, modifier).prop_map(|(n, ms, trailing, m)| {
            let body = if ms.is_empty() {
                String::new()
            } else {
                format!("{{{}{}}}", ms.join(", "), if trailing { "," } else { "" })
            };
            format!("{n}{body}{m}")
        });
    let number = prop::sample::select(vec!["1", "0.5", "-2", "0x10", "1e3", "Inf", "NaN", "5m", ".5"]);
    selector.prop_recursive(4, 40, 3, move |inner| {
        let bin_op = prop::sample::select(vec![
            "+", "-", "*", "/", "%", "^", "atan2", "==", "!=", ">", "<", ">=", "<=",
        ]);
        let set_op = prop::sample::select(vec!["and", "or", "unless"]);
        let matching = prop::sample::select(vec![
            "",
            " on (job)",
            " ignoring (instance)",
            " on ()",
            " on (job) group_left (le)",
            " ignoring (x) group_right ()",
        ]);
        let agg = prop::sample::select(vec!["sum", "avg", "min", "max", "count", "group", "stddev", "stdvar"]);
        let grouping = prop::sample::select(vec![
            "",
            " by (job)",
            " without (instance, le)",
            " by ()",
            " by (\"a.b\")",
        ]);
        let range_fn = prop::sample::select(vec!["rate", "increase", "max_over_time", "avg_over_time", "changes"]);
        prop_oneof![
            (
                inner.clone(),
                bin_op.clone(),
                prop::bool::ANY,
                matching.clone(),
                inner.clone()
            )
                .prop_map(|(l, o, b, m, r)| {
                    let cmp = matches!(o, "==" | "!=" | ">" | "<" | ">=" | "<=");
                    format!("{l} {o}{}{m} {r}", if b && cmp { " bool" } else { "" })
                }),
            (inner.clone(), bin_op, number.clone()).prop_map(|(l, o, n)| format!("({l} {o} {n})")),
            (
                inner.clone(),
                set_op,
                prop::sample::select(vec!["", " on (job)", " ignoring ()"]),
                inner.clone()
            )
                .prop_map(|(l, o, m, r)| format!("{l} {o}{m} {r}")),
            (agg, grouping.clone(), inner.clone(), prop::bool::ANY).prop_map(|(a, g, e, after)| {
                if after {
                    format!("{a}({e}){g}")
                } else {
                    format!("{a}{g} ({e})")
                }
            }),
            (
                prop::sample::select(vec!["topk", "bottomk", "limitk"]),
                grouping,
                inner.clone()
            )
                .prop_map(|(a, g, e)| format!("{a}{g} (3, {e})")),
            inner.clone().prop_map(|e| format!("({e})")),
            inner.clone().prop_map(|e| format!("-{e}")),
            inner.clone().prop_map(|e| format!("abs({e})")),
            inner.clone().prop_map(|e| format!("histogram_quantile(0.9, {e})")),
            inner
                .clone()
                .prop_map(|e| format!("label_replace({e}, \"dst\", \"$1\", \"src\", \"(.*)\")")),
            (
                range_fn.clone(),
                inner.clone(),
                prop::sample::select(vec!["[5m:]", "[1h:30s]", "[5m:1m] offset 1m", "[10m:] @ end()"])
            )
                .prop_map(|(f, e, r)| format!("{f}(({e}){r})")),
            (
                range_fn,
                prop::sample::select(vec!["[5m]", "[1h30m] offset 5m", "[90s] @ 1000"])
            )
                .prop_map(|(f, r)| format!("{f}(x{{job=\"a\"}}{r})")),
        ]
    })
}

/// The properties every input must satisfy.
fn check(input: &str) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let result = parse(input);
    prop_assert!(
        t0.elapsed() < Duration::from_secs(2),
        "parsing {input:?} took {:?}",
        t0.elapsed()
    );
    match result {
        Ok(expr) => {
            let printed = expr.to_string();
            let again = parse(&printed);
            prop_assert!(
                again.is_ok(),
                "{input:?} printed as {printed:?} fails: {:?}",
                again.err()
            );
            let (mut x, mut y) = (expr, again.unwrap());
            normalize(&mut x);
            normalize(&mut y);
            prop_assert!(same(&x, &y), "{input:?} printed as {printed:?} parses differently");
        }
        Err(e) => {
            prop_assert!(e.start <= e.end && e.end <= input.len(), "{input:?}: bad range {e:?}");
            prop_assert!(
                input.is_char_boundary(e.start) && input.is_char_boundary(e.end),
                "{input:?}: {e:?}"
            );
            prop_assert!(e.to_string().contains(": parse error: "));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn grammar_generated_queries_parse_and_round_trip(q in valid_query()) {
        prop_assert!(parse(&q).is_ok(), "{q:?}: {:?}", parse(&q).err());
        check(&q)?;
    }

    #[test]
    fn token_soup_never_panics(q in token_query()) {
        check(&q)?;
    }

    #[test]
    fn arbitrary_text_never_panics(q in "\\PC{0,40}") {
        check(&q)?;
    }

    #[test]
    fn ascii_noise_never_panics(q in "[ -~\\n\\t]{0,60}") {
        check(&q)?;
    }
}

/// Runs `f` on a thread with a small stack, as a server worker might have.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    on_small_stack(|| {
        let n = 100_000;
        let parens = format!("{}1{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&parens).unwrap_err().message.contains("nesting too deep"));
        let unary = format!("{}1", "-".repeat(n));
        assert!(parse(&unary).is_err());
        let sum = format!("1{}", "+1".repeat(n));
        assert!(parse(&sum).unwrap_err().message.contains("nesting too deep"));
        let pow = format!("{}1", "2^".repeat(n));
        assert!(parse(&pow).is_err());
        let calls = format!("{}x{}", "abs(".repeat(n), ")".repeat(n));
        assert!(parse(&calls).is_err());
        let braces = format!("foo{}", "{".repeat(n));
        assert!(parse(&braces).is_err());
    });
}

#[test]
fn moderately_deep_queries_still_parse_and_print() {
    on_small_stack(|| {
        let parens = format!("{}1{}", "(".repeat(90), ")".repeat(90));
        assert_eq!(parse(&parens).unwrap().to_string(), parens);
        let sum = format!("a{}", " + a".repeat(450));
        assert_eq!(parse(&sum).unwrap().to_string(), sum);
        let nested = format!("{}x{}", "abs(".repeat(90), ")".repeat(90));
        assert_eq!(parse(&nested).unwrap().to_string(), nested);
    });
}
