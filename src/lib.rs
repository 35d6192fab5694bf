//! The `strata` server: HTTP API, ingestion decoders, configuration and start-up. The binary in `main.rs`
//! is a thin command-line wrapper around [`serve::run`]; end-to-end tests reuse the protocol types.

pub mod api;
pub mod bench;
pub mod config;
pub mod export;
pub mod ingest;
pub mod metadata;
pub mod otlp;
pub mod remote;
pub mod selfmetrics;
pub mod serve;
