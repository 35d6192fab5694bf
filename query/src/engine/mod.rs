//! The PromQL evaluator: column-wise evaluation of a parsed expression over all steps of a query at once.
//!
//! Every AST node produces, for the whole step grid of the query, one column per output series
//! (`Vec<Option<f64>>`, `None` where the series has no point at that step). Selectors read their series once
//! over the whole time range and slide windows per step with two pointers; binary operators match series
//! once by signature and then combine columns; aggregations group series once and reduce columns.
//!
//! Semantics follow Prometheus 3.x: left-open range windows `(t - range, t]`, left-open lookback, staleness
//! markers ending a series, `@`/offset, subquery steps aligned to absolute multiples of the step, and delayed
//! removal of `__name__` (series are flagged and the name is dropped when the result is returned).

mod aggregate;
mod binary;
mod calls;
mod downsampled;
mod eval;
mod folded;
mod info;
mod labels_fn;
mod range_fn;
mod selector;
mod value;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use strata_storage::{Labels, Resolution, SeriesReader};

use crate::parser::ParseError;

/// Engine-wide settings.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for the latest sample, in milliseconds (default 5 minutes).
    pub lookback_delta_ms: i64,
    /// Maximum number of samples a query may hold in memory at once.
    pub max_samples: usize,
    /// Default query timeout.
    pub timeout: Duration,
    /// Step of subqueries written without one (`x[5m:]`), in milliseconds.
    pub default_subquery_step_ms: i64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            lookback_delta_ms: 300_000,
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            default_subquery_step_ms: 60_000,
        }
    }
}

/// Per-query settings that override the engine's.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    /// Lookback delta for this query, in milliseconds.
    pub lookback_delta_ms: Option<i64>,
    /// Timeout for this query.
    pub timeout: Option<Duration>,
    /// Set to true (from another thread) to cancel the query.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Which downsampling tier the storage may answer from (Thanos' `max_source_resolution`; default auto).
    pub resolution: Resolution,
}

/// The result of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// The value.
    pub value: Value,
    /// Warning annotations (`PromQL warning: ...`).
    pub warnings: Vec<String>,
    /// Info annotations (`PromQL info: ...`).
    pub infos: Vec<String>,
    /// Counters about the work done.
    pub stats: QueryStats,
}

/// Counters about a query's work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Samples read from storage.
    pub samples_loaded: u64,
    /// Series selected from storage.
    pub series_selected: u64,
}

/// A query result value, as the HTTP API returns it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar at time `t`.
    Scalar {
        /// Evaluation time in milliseconds.
        t: i64,
        /// The value.
        v: f64,
    },
    /// A string at time `t`.
    String {
        /// Evaluation time in milliseconds.
        t: i64,
        /// The value.
        v: String,
    },
    /// An instant vector.
    Vector(Vec<InstantSample>),
    /// A range vector (matrix), sorted by labels for range queries.
    Matrix(Vec<RangeSeries>),
}

/// One sample of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct InstantSample {
    /// Series labels.
    pub labels: Labels,
    /// Timestamp in milliseconds.
    pub t: i64,
    /// Value.
    pub v: f64,
}

/// One series of a matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    /// Series labels.
    pub labels: Labels,
    /// Timestamps in milliseconds, increasing.
    pub timestamps: Vec<i64>,
    /// Values, parallel to `timestamps`.
    pub values: Vec<f64>,
}

/// Why a query failed. `Display` gives Prometheus' message text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The query does not parse (HTTP 400, `bad_data`).
    #[error("{}", format_parse_error(.0))]
    Parse(ParseError),
    /// The query or its parameters are invalid (HTTP 400, `bad_data`).
    #[error("{0}")]
    BadData(String),
    /// Evaluation failed (HTTP 422, `execution`).
    #[error("{0}")]
    Execution(String),
    /// The max-samples limit was hit (HTTP 422, `execution`).
    #[error("query processing would load too many samples into memory in query execution")]
    TooManySamples,
    /// The query ran out of time (HTTP 503, `timeout`).
    #[error("query timed out in {0}")]
    Timeout(String),
    /// The query was canceled (HTTP 503, `canceled`).
    #[error("query was canceled in expression evaluation")]
    Canceled,
    /// Storage failed (HTTP 500, `internal`).
    #[error("{0}")]
    Storage(#[from] strata_storage::Error),
}

fn format_parse_error(e: &ParseError) -> String {
    e.to_string()
}

/// The PromQL engine. Cheap to share; holds only settings.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    /// A new engine with these settings.
    pub fn new(opts: EngineOptions) -> Self {
        Self { opts }
    }

    /// The engine's settings.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Evaluates `query` at the single time `t_ms`.
    pub fn instant_query(
        &self,
        reader: &dyn SeriesReader,
        query: &str,
        t_ms: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        let expr = crate::parser::parse(query).map_err(QueryError::Parse)?;
        self.instant_query_expr(reader, &expr, t_ms, opts)
    }

    /// Evaluates an already parsed expression at the single time `t_ms`.
    pub fn instant_query_expr(
        &self,
        reader: &dyn SeriesReader,
        expr: &crate::parser::ast::Expr,
        t_ms: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        eval::run(&self.opts, reader, expr, t_ms, t_ms, 0, opts)
    }

    /// Evaluates `query` at every step from `start_ms` to `end_ms`.
    pub fn range_query(
        &self,
        reader: &dyn SeriesReader,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        let expr = crate::parser::parse(query).map_err(QueryError::Parse)?;
        self.range_query_expr(reader, &expr, start_ms, end_ms, step_ms, opts)
    }

    /// Evaluates an already parsed expression at every step from `start_ms` to `end_ms`.
    pub fn range_query_expr(
        &self,
        reader: &dyn SeriesReader,
        expr: &crate::parser::ast::Expr,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        if step_ms <= 0 {
            return Err(QueryError::BadData(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if end_ms < start_ms {
            return Err(QueryError::BadData(
                "end timestamp must not be before start time".into(),
            ));
        }
        eval::run(&self.opts, reader, expr, start_ms, end_ms, step_ms, opts)
    }
}
