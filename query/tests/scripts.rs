//! Runs Strata's own PromQL scripts (`tests/promql/*.test` at the repository root): every eval must pass.
//! With `STRATA_BLESS=1` the expected result lines are rewritten from the actual results instead.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::PathBuf;

use strata_query::promqltest::{Outcome, bless_script, run_script};

#[test]
fn strata_scripts() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/promql");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("scripts not found at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .test files in {}", dir.display());
    let bless = std::env::var("STRATA_BLESS").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        if bless {
            let new = bless_script(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            if new != text {
                std::fs::write(path, new).unwrap();
                println!("blessed {name}");
            }
            continue;
        }
        let report = run_script(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        println!(
            "== {name}: passed {}, failed {}, skipped {}",
            report.passed(),
            report.failed(),
            report.skipped()
        );
        for e in &report.evals {
            match &e.outcome {
                Outcome::Pass => {}
                Outcome::Skip(why) => failures.push(format!("{name}:{}: {} skipped: {why}", e.line, e.expr)),
                Outcome::Fail(why) => failures.push(format!("{name}:{}: {} -- {why}", e.line, e.expr)),
            }
        }
    }
    assert!(failures.is_empty(), "failing evals:\n{}", failures.join("\n"));
}
