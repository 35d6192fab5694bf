//! Sealing cost on the node_exporter-like workload (`workload.rs`), in ns per sample. Ignored by default
//! (a timing is not a pass/fail property, and debug builds only give relative figures); run with
//! `cargo test --workspace encode_ns_per_sample -- --ignored --nocapture`.

use super::super::encode_chunk_into;
use super::workload::{Kind, node_exporter};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

/// Times `encode_chunk_into` over the workload at ±0 and ±5 ms of jitter, best of several rounds, and
/// prints ns per sample by series kind.
#[test]
#[ignore = "timing; run explicitly with --ignored --nocapture"]
fn encode_ns_per_sample() {
    const ROUNDS: usize = 5;
    for jitter in [0, 5] {
        let series = node_exporter(0x5eed, 2000, jitter);
        let mut best: BTreeMap<&'static str, (f64, usize)> = BTreeMap::new();
        let mut out = Vec::with_capacity(4096);
        for _ in 0..ROUNDS {
            let mut round: BTreeMap<&'static str, (f64, usize)> = BTreeMap::new();
            for s in &series {
                out.clear();
                let t = Instant::now();
                encode_chunk_into(black_box(&s.ts), black_box(&s.vs), &mut out).unwrap();
                let ns = t.elapsed().as_nanos() as f64;
                black_box(&out);
                for key in [s.kind.name(), "all"] {
                    let e = round.entry(key).or_default();
                    e.0 += ns;
                    e.1 += s.ts.len();
                }
            }
            for (k, v) in round {
                let e = best.entry(k).or_insert(v);
                if v.0 < e.0 {
                    *e = v;
                }
            }
        }
        println!("\nencode_chunk, jitter ±{jitter} ms (best of {ROUNDS} rounds)");
        for kind in Kind::ALL.iter().map(|k| k.name()).chain(["all"]) {
            let (ns, n) = best[kind];
            println!("  {kind:<14} {:>9.1} ns/sample", ns / n as f64);
        }
    }
}
