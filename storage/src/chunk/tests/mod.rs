//! Tests of the chunk codec: round-trip properties, golden vectors, corruption, and the compactness figure.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod compression;
mod corrupt;
mod golden;
mod oracle;
mod roundtrip;
mod timing;
pub(crate) mod workload;
