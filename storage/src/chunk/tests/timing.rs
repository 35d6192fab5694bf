//! Sealing cost on the node_exporter-like workload (`workload.rs`), in ns per sample, for the encoder and
//! for the exhaustive chooser it replaced (`oracle.rs`), timed in alternation so that both see the same
//! machine load. Ignored by default (a timing is not a pass/fail property, and debug builds only give
//! relative figures); run with `cargo test --workspace encode_ns_per_sample -- --ignored --nocapture`.

use super::super::encode_chunk_into;
use super::oracle::encode_chunk_exhaustive;
use super::workload::{Kind, Series, node_exporter};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

/// Best-of-rounds nanoseconds and samples, per series kind and in total.
type Times = BTreeMap<&'static str, (f64, usize)>;

/// Times one round of `encode` over `series`, per kind.
fn round(series: &[Series], mut encode: impl FnMut(&Series) -> usize) -> Times {
    let mut times = Times::new();
    for s in series {
        let t = Instant::now();
        black_box(encode(s));
        let ns = t.elapsed().as_nanos() as f64;
        for key in [s.kind.name(), "all"] {
            let e = times.entry(key).or_default();
            e.0 += ns;
            e.1 += s.ts.len();
        }
    }
    times
}

/// Keeps the faster of each kind.
fn keep_best(best: &mut Times, round: Times) {
    for (k, v) in round {
        let e = best.entry(k).or_insert(v);
        if v.0 < e.0 {
            *e = v;
        }
    }
}

/// Times `encode_chunk_into` and the exhaustive chooser over the workload at ±0 and ±5 ms of jitter, best
/// of several alternating rounds, and prints ns per sample by series kind.
#[test]
#[ignore = "timing; run explicitly with --ignored --nocapture"]
fn encode_ns_per_sample() {
    const ROUNDS: usize = 5;
    for jitter in [0, 5] {
        let series = node_exporter(0x5eed, 2000, jitter);
        let (mut fast, mut exhaustive) = (Times::new(), Times::new());
        let mut out = Vec::with_capacity(4096);
        for _ in 0..ROUNDS {
            let r = round(&series, |s| {
                out.clear();
                encode_chunk_into(black_box(&s.ts), black_box(&s.vs), &mut out).unwrap();
                out.len()
            });
            keep_best(&mut fast, r);
            let r = round(&series, |s| {
                encode_chunk_exhaustive(black_box(&s.ts), black_box(&s.vs)).len()
            });
            keep_best(&mut exhaustive, r);
        }
        println!("\nencode_chunk, jitter ±{jitter} ms (best of {ROUNDS} rounds): ns/sample  sized | exhaustive");
        for kind in Kind::ALL.iter().map(|k| k.name()).chain(["all"]) {
            let per = |t: &Times| t[kind].0 / t[kind].1 as f64;
            println!("  {kind:<14} {:>9.1} | {:>9.1}", per(&fast), per(&exhaustive));
        }
    }
}
