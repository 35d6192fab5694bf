//! Runs Prometheus' own PromQL test scripts (`shared/conformance/promql/*.test`) against Strata's engine.
//!
//! Prints per file the passed/failed/skipped evals, each skipped eval with its reason and each failure with
//! the first line of its mismatch. Fails when a file passes fewer evals than its minimum in
//! `conformance-baseline.txt` (a ratchet: raise it as the engine improves; `STRATA_UPDATE_BASELINE=1`
//! rewrites it with the current counts, never lowering one).

#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use strata_query::promqltest::{Outcome, run_script};

fn baseline_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance-baseline.txt")
}

fn read_baseline() -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(baseline_path()).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.to_string(), it.next()?.parse().ok()?))
        })
        .collect()
}

#[test]
fn conformance() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/promql");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("conformance scripts not found at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .test files in {}", dir.display());
    let baseline = read_baseline();
    let mut counts: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut regressions = Vec::new();
    let verbose = std::env::var("STRATA_CONFORMANCE_QUIET").is_err();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let result = std::panic::catch_unwind(|| run_script(&text));
        let report = match result {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                println!("== {name}: script error: {e}");
                counts.insert(name.clone(), (0, 0, 0));
                if baseline.get(&name).copied().unwrap_or(0) > 0 {
                    regressions.push(format!("{name}: script error {e}"));
                }
                continue;
            }
            Err(_) => {
                println!("== {name}: PANIC while running");
                counts.insert(name.clone(), (0, 0, 0));
                regressions.push(format!("{name}: panicked"));
                continue;
            }
        };
        let (p, f, s) = (report.passed(), report.failed(), report.skipped());
        println!("== {name}: passed {p}, failed {f}, skipped {s}");
        if verbose {
            for e in &report.evals {
                match &e.outcome {
                    Outcome::Pass => {}
                    Outcome::Skip(why) => println!("   SKIP line {}: {} -- {why}", e.line, e.expr),
                    Outcome::Fail(why) => {
                        println!(
                            "   FAIL line {}: {} -- {}",
                            e.line,
                            e.expr,
                            why.lines().next().unwrap_or("")
                        )
                    }
                }
            }
        }
        if let Some(&min) = baseline.get(&name)
            && p < min
        {
            regressions.push(format!("{name}: {p} passed, baseline {min}"));
        }
        counts.insert(name, (p, f, s));
    }
    let (tp, tf, ts) = counts
        .values()
        .fold((0, 0, 0), |a, c| (a.0 + c.0, a.1 + c.1, a.2 + c.2));
    println!("== TOTAL: passed {tp}, failed {tf}, skipped {ts}");
    if std::env::var("STRATA_UPDATE_BASELINE").is_ok() {
        let mut out =
            String::from("# Minimum passing evals per conformance file (ratchet; see tests/conformance.rs).\n");
        for (name, (p, _, _)) in &counts {
            let keep = baseline.get(name).copied().unwrap_or(0).max(*p);
            out.push_str(&format!("{name} {keep}\n"));
        }
        std::fs::write(baseline_path(), out).unwrap();
    }
    assert!(regressions.is_empty(), "conformance regressions: {regressions:#?}");
}
