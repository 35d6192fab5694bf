//! Strata's PromQL engine: a nom parser for the whole Prometheus 3.x language, and a column-wise evaluator
//! that reads through [`strata_storage::SeriesReader`] only.

pub mod engine;
pub mod functions;
pub mod parser;
pub mod promqltest;

pub use engine::{
    Engine, EngineOptions, InstantSample, QueryError, QueryOptions, QueryResult, QueryStats, RangeSeries, Value,
};
