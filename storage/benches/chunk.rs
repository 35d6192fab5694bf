//! Criterion benches of the chunk codec on 120-sample chunks of a fixed-seed node_exporter-like workload:
//! sealed encode/decode per series kind, head append/decode, and `pco` 1.x on the same chunks for
//! comparison. Before timing, prints bytes/sample of both codecs.
//!
//! Run: `cargo bench -p strata-storage --bench chunk`.

#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

#[path = "../src/chunk/tests/workload.rs"]
mod workload;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use strata_storage::chunk::{HeadChunk, decode_chunk, encode_chunk};
use workload::{CHUNK_SAMPLES, Kind, Series, node_exporter};

/// Series per kind in the timed sets.
const PER_KIND: usize = 50;

/// `PER_KIND` chunks of `kind` from the ±5 ms workload.
fn chunks_of(all: &[Series], kind: Kind) -> Vec<Series> {
    all.iter().filter(|s| s.kind == kind).take(PER_KIND).cloned().collect()
}

/// Compresses a column as a standalone pco stream at the default level (8).
fn pco_compress<T: pco::data_types::Number>(column: &[T]) -> Vec<u8> {
    pco::standalone::simple_compress(column, &pco::ChunkConfig::default()).unwrap()
}

/// pco's size for one chunk: timestamps and values as two standalone pco streams.
fn pco_size(s: &Series) -> usize {
    pco_compress(&s.ts).len() + pco_compress(&s.vs).len()
}

/// Prints bytes/sample of Strata's sealed chunks and of pco, per kind.
fn print_sizes(all: &[Series], jitter: i64) {
    eprintln!(
        "\nbytes/sample, jitter ±{jitter} ms, {} chunks of {CHUNK_SAMPLES}",
        all.len()
    );
    eprintln!("  {:<14} {:>8} {:>8}", "kind", "strata", "pco");
    for kind in Kind::ALL.map(Some).into_iter().chain([None]) {
        let (mut n, mut ours, mut theirs) = (0usize, 0usize, 0usize);
        for s in all.iter().filter(|s| kind.is_none_or(|k| s.kind == k)) {
            n += s.ts.len();
            ours += encode_chunk(&s.ts, &s.vs).unwrap().len();
            theirs += pco_size(s);
        }
        let name = kind.map_or("all", Kind::name);
        eprintln!(
            "  {name:<14} {:>8.3} {:>8.3}",
            ours as f64 / n as f64,
            theirs as f64 / n as f64
        );
    }
}

fn bench_chunk(c: &mut Criterion) {
    for jitter in [0, 5] {
        print_sizes(&node_exporter(0x5eed, 2000, jitter), jitter);
    }
    let all = node_exporter(0x5eed, 2000, 5);
    let sets: Vec<(Kind, Vec<Series>, Vec<Vec<u8>>)> = Kind::ALL
        .iter()
        .map(|&k| {
            let chunks = chunks_of(&all, k);
            let encoded = chunks.iter().map(|s| encode_chunk(&s.ts, &s.vs).unwrap()).collect();
            (k, chunks, encoded)
        })
        .collect();
    let samples = (PER_KIND * CHUNK_SAMPLES) as u64;

    let mut g = c.benchmark_group("chunk");
    g.throughput(Throughput::Elements(samples));
    for (kind, chunks, encoded) in &sets {
        g.bench_with_input(BenchmarkId::new("encode", kind.name()), chunks, |b, chunks| {
            b.iter(|| {
                for s in chunks {
                    black_box(encode_chunk(&s.ts, &s.vs).unwrap());
                }
            });
        });
        g.bench_with_input(BenchmarkId::new("decode", kind.name()), encoded, |b, encoded| {
            let (mut ts, mut vs) = (Vec::with_capacity(CHUNK_SAMPLES), Vec::with_capacity(CHUNK_SAMPLES));
            b.iter(|| {
                for bytes in encoded {
                    ts.clear();
                    vs.clear();
                    decode_chunk(bytes, &mut ts, &mut vs).unwrap();
                    black_box((&ts, &vs));
                }
            });
        });
        g.bench_with_input(BenchmarkId::new("head_append", kind.name()), chunks, |b, chunks| {
            b.iter(|| {
                for s in chunks {
                    let mut head = HeadChunk::new();
                    for (&t, &v) in s.ts.iter().zip(&s.vs) {
                        head.append(t, v).unwrap();
                    }
                    black_box(&head);
                }
            });
        });
        let heads: Vec<HeadChunk> = chunks
            .iter()
            .map(|s| {
                let mut head = HeadChunk::new();
                for (&t, &v) in s.ts.iter().zip(&s.vs) {
                    head.append(t, v).unwrap();
                }
                head
            })
            .collect();
        g.bench_with_input(BenchmarkId::new("head_decode", kind.name()), &heads, |b, heads| {
            let (mut ts, mut vs) = (Vec::with_capacity(CHUNK_SAMPLES), Vec::with_capacity(CHUNK_SAMPLES));
            b.iter(|| {
                for head in heads {
                    ts.clear();
                    vs.clear();
                    head.decode_into(&mut ts, &mut vs).unwrap();
                    black_box((&ts, &vs));
                }
            });
        });
        g.bench_with_input(BenchmarkId::new("pco_encode", kind.name()), chunks, |b, chunks| {
            b.iter(|| {
                for s in chunks {
                    black_box(pco_compress(&s.ts));
                    black_box(pco_compress(&s.vs));
                }
            });
        });
        let pco_encoded: Vec<(Vec<u8>, Vec<u8>)> = chunks
            .iter()
            .map(|s| (pco_compress(&s.ts), pco_compress(&s.vs)))
            .collect();
        g.bench_with_input(BenchmarkId::new("pco_decode", kind.name()), &pco_encoded, |b, enc| {
            b.iter(|| {
                for (t, v) in enc {
                    black_box(pco::standalone::simple_decompress::<i64>(t).unwrap());
                    black_box(pco::standalone::simple_decompress::<f64>(v).unwrap());
                }
            });
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = bench_chunk
}
criterion_main!(benches);
