//! Fuzzes the PromQL parser: no input may panic, and whatever parses must print to text that parses
//! back to an expression that prints the same.
//!
//! Run with `cargo +nightly fuzz run parse` from `query/`. On stable, the proptest in
//! `query/tests/parser_props.rs` covers the same properties.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_query::parser::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    match parse(input) {
        Ok(expr) => {
            let printed = expr.to_string();
            let again = parse(&printed).unwrap_or_else(|e| panic!("{input:?} printed as {printed:?}: {e}"));
            assert_eq!(again.to_string(), printed, "printing is not stable for {input:?}");
        }
        Err(e) => {
            assert!(
                e.start <= e.end && e.end <= input.len(),
                "bad error range for {input:?}: {e:?}"
            );
            let _ = e.to_string();
        }
    }
});
