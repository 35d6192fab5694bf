//! Tests of the chunk codec: round-trip properties, golden vectors, corruption, and the compactness figure.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod compression;
mod corrupt;
mod golden;
mod roundtrip;
pub(crate) mod workload;
