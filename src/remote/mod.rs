//! Prometheus remote write (1.0 and 2.0) and remote read.

pub mod proto;
pub mod v1;
pub mod write;
