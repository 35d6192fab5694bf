//! The parser against the PromQL conformance corpus (Prometheus' `promqltest` scripts): every query of
//! an `eval` command that is not expected to fail must parse, and must print to text that parses back
//! to the same AST.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::{eval_query, load_cases, normalize, same};
use strata_query::parser::parse;

#[test]
fn every_eval_query_parses_and_round_trips() {
    let cases = load_cases();
    assert!(cases.len() > 50, "only {} eval commands found", cases.len());
    let mut failures = Vec::new();
    let mut parsed = 0;
    let mut parse_failures_expected = 0;
    for c in &cases {
        match parse(&c.query) {
            Ok(expr) => {
                parsed += 1;
                let printed = expr.to_string();
                match parse(&printed) {
                    Ok(again) => {
                        let (mut x, mut y) = (expr.clone(), again);
                        normalize(&mut x);
                        normalize(&mut y);
                        if !same(&x, &y) {
                            failures.push(format!(
                                "{}:{}: {} printed as {printed} changes the AST",
                                c.file, c.line, c.query
                            ));
                        }
                    }
                    Err(e) => failures.push(format!(
                        "{}:{}: {} printed as {printed} fails: {e}",
                        c.file, c.line, c.query
                    )),
                }
            }
            Err(e) if c.expect_fail => {
                parse_failures_expected += 1;
                eprintln!(
                    "{}:{}: expected failure at parse time: {} -> {e}",
                    c.file, c.line, c.query
                );
            }
            Err(e) => failures.push(format!("{}:{}: {} -> {e}", c.file, c.line, c.query)),
        }
    }
    eprintln!(
        "{} eval queries: {parsed} parsed, {parse_failures_expected} expected failures rejected at parse time",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn extraction_reads_both_eval_forms() {
    assert_eq!(
        eval_query("eval instant at 50m sum(foo)").unwrap(),
        ("sum(foo)".to_owned(), false)
    );
    assert_eq!(
        eval_query("eval range from 0 to 10s step 5s rate(x[1m]) + 1").unwrap(),
        ("rate(x[1m]) + 1".to_owned(), false)
    );
    assert_eq!(
        eval_query("eval_fail instant at 0 -{job=\"api\"}").unwrap(),
        ("-{job=\"api\"}".to_owned(), true)
    );
    assert!(eval_query("load 5m").is_none());
}
