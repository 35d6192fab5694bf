//! Shared helpers of the parser integration tests: the conformance corpus loader and AST normalization.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, dead_code)]

use std::path::{Path, PathBuf};

use strata_query::parser::ast::Expr;

/// The corpora: Strata's own scripts (`tests/promql` at the repository root) and Prometheus' scripts in
/// the shared conformance directory; every one that exists is used, at least one must.
pub fn corpus_dirs() -> Vec<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        manifest.join("../tests/promql"),
        PathBuf::from("/work/shared/conformance/promql"),
    ];
    let found: Vec<PathBuf> = candidates
        .iter()
        .filter(|c| {
            c.is_dir()
                && std::fs::read_dir(c)
                    .unwrap()
                    .flatten()
                    .any(|e| e.path().extension().is_some_and(|x| x == "test"))
        })
        .cloned()
        .collect();
    assert!(!found.is_empty(), "no PromQL script corpus found in {candidates:?}");
    found
}

/// One `eval` query of the corpus.
pub struct Case {
    pub file: String,
    pub line: usize,
    pub query: String,
    pub expect_fail: bool,
}

/// Extracts the query from an `eval` command line, or `None` for other lines.
pub fn eval_query(line: &str) -> Option<(String, bool)> {
    let mut words = line.split_whitespace();
    let cmd = words.next()?;
    if !cmd.starts_with("eval") {
        return None;
    }
    let fail = cmd == "eval_fail";
    let rest = line.trim_start().get(cmd.len()..)?.trim_start();
    let query = if let Some(r) = rest.strip_prefix("instant at ") {
        // `instant at <time> <query>`
        r.trim_start().split_once(char::is_whitespace)?.1
    } else if let Some(r) = rest.strip_prefix("range from ") {
        // `range from <start> to <end> step <step> <query>`
        let mut r = r;
        for _ in 0..5 {
            r = r.trim_start().split_once(char::is_whitespace)?.1;
        }
        r
    } else {
        return None;
    };
    Some((query.trim().to_owned(), fail))
}

pub fn load_cases() -> Vec<Case> {
    let mut files: Vec<PathBuf> = corpus_dirs()
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some((query, mut fail)) = eval_query(line) else {
                continue;
            };
            // `expect fail` lines belong to the eval command until the next blank line or command.
            for next in lines.iter().skip(i + 1) {
                let t = next.trim();
                if t.is_empty() || t.starts_with("eval") || t.starts_with("load") || t.starts_with("clear") {
                    break;
                }
                if t.starts_with("expect fail") {
                    fail = true;
                }
            }
            let file = path.to_string_lossy().into_owned();
            cases.push(Case {
                file,
                line: i + 1,
                query,
                expect_fail: fail,
            });
        }
    }
    cases
}

/// Sorts every selector's matchers, since the printer sorts them as Prometheus does.
pub fn normalize(e: &mut Expr) {
    match e {
        Expr::VectorSelector(vs) => vs.matchers.sort_by_key(|m| m.to_string()),
        Expr::MatrixSelector(m) => m.selector.matchers.sort_by_key(|m| m.to_string()),
        Expr::Subquery(s) => normalize(&mut s.expr),
        Expr::Paren(x) | Expr::Unary(_, x) => normalize(x),
        Expr::Binary(b) => {
            normalize(&mut b.lhs);
            normalize(&mut b.rhs);
        }
        Expr::Aggregate(a) => {
            normalize(&mut a.expr);
            if let Some(p) = &mut a.param {
                normalize(p);
            }
        }
        Expr::Call(c) => c.args.iter_mut().for_each(normalize),
        Expr::Number(_) | Expr::String(_) => {}
    }
}

/// NaN-aware structural equality via the Debug form (NaN literals never compare equal with `==`).
pub fn same(a: &Expr, b: &Expr) -> bool {
    a == b || format!("{a:?}") == format!("{b:?}")
}
