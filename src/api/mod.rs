//! The HTTP API: Prometheus-compatible ingestion, query, admin and operations endpoints (axum).

pub mod error;
pub mod formats;
pub mod json;
pub mod ops;
pub mod params;
pub mod query;
pub mod write;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use strata_query::Engine;
use strata_storage::Storage;
use tokio::sync::Semaphore;

use crate::metadata::MetadataStore;
use crate::selfmetrics::ServerMetrics;
use error::ApiError;
use params::Params;

/// Limits applied by the API.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted request body, compressed, in bytes.
    pub max_request_bytes: usize,
    /// Largest accepted decompressed remote-write message, in bytes.
    pub max_decompressed_bytes: usize,
    /// Ingestion requests processed at once; further ones wait up to `insert_wait`.
    pub max_concurrent_inserts: usize,
    /// How long an ingestion request waits for a slot before a retryable 503.
    pub insert_wait: std::time::Duration,
    /// Largest number of points per series a range query may return (Prometheus: 11,000).
    pub max_points_per_series: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: 32 << 20,
            max_decompressed_bytes: 256 << 20,
            max_concurrent_inserts: 8,
            insert_wait: std::time::Duration::from_secs(30),
            max_points_per_series: 11_000,
        }
    }
}

/// Everything the handlers share.
pub struct AppState {
    /// The storage engine, set once WAL replay has finished (`/-/ready` is 503 until then).
    pub storage: OnceLock<Arc<Storage>>,
    /// The PromQL engine; replaced when `/-/reload` changes query settings.
    pub engine: parking_lot::RwLock<Arc<Engine>>,
    /// Metric metadata from remote write.
    pub metadata: MetadataStore,
    /// Self-metrics.
    pub metrics: ServerMetrics,
    /// The effective settings, served by `/api/v1/status/flags`.
    pub flags: parking_lot::RwLock<BTreeMap<String, String>>,
    /// The configuration file and flags, re-read by `/-/reload`.
    pub config_source: (Option<std::path::PathBuf>, crate::config::Overrides),
    /// API limits.
    pub limits: Limits,
    /// Ingestion concurrency gate.
    pub insert_slots: Semaphore,
    /// Server start time.
    pub started: std::time::SystemTime,
}

impl AppState {
    /// The current PromQL engine.
    pub fn engine(&self) -> Arc<Engine> {
        self.engine.read().clone()
    }

    /// Re-reads the configuration file and applies the settings that can change at run time (query
    /// lookback, timeout and sample limit). Settings that need a restart (listen address, data dir, WAL
    /// policy, limits) are validated, and a change to them is reported in the log.
    pub fn reload(&self) -> anyhow::Result<()> {
        let (file, overrides) = &self.config_source;
        let c = crate::config::Config::load(file.as_deref(), overrides)?;
        *self.engine.write() = Arc::new(Engine::new(crate::serve::engine_options(&c)));
        let new_flags = c.flags();
        let mut flags = self.flags.write();
        for (k, v) in &new_flags {
            if flags.get(k) != Some(v) && !k.starts_with("query.") {
                tracing::warn!(setting = %k, old = ?flags.get(k), new = %v, "setting changes only on restart");
            }
        }
        for (k, v) in new_flags.into_iter().filter(|(k, _)| k.starts_with("query.")) {
            flags.insert(k, v);
        }
        tracing::info!("configuration reloaded");
        Ok(())
    }

    /// The storage engine, or a 503 while it is still opening.
    pub fn storage(&self) -> Result<Arc<Storage>, ApiError> {
        self.storage
            .get()
            .cloned()
            .ok_or_else(|| ApiError::unavailable("storage is not ready yet: replaying the write-ahead log"))
    }
}

/// Runs blocking storage or query work off the async threads; a task that panicked is an internal error
/// naming `what`.
pub async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("{what} task failed: {e}")))?
}

/// Reads parameters from the URL and, for form-encoded POSTs, from the body.
pub fn request_params(raw_query: Option<&str>, headers: &HeaderMap, body: &Bytes) -> Params {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    Params::parse(raw_query, is_form.then_some(body.as_ref()))
}

async fn track(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let handler = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "other".to_string());
    let start = Instant::now();
    let resp = next.run(req).await;
    state
        .metrics
        .observe_request(&handler, resp.status().as_u16(), start.elapsed().as_secs_f64());
    resp
}

/// Builds the router with every endpoint.
pub fn router(state: Arc<AppState>) -> Router {
    let max_body = state.limits.max_request_bytes;
    Router::new()
        .route("/api/v1/write", post(write::remote_write))
        .route("/api/v1/read", post(write::remote_read))
        .route("/api/v1/query", get(query::instant).post(query::instant))
        .route("/api/v1/query_range", get(query::range).post(query::range))
        .route("/api/v1/series", get(query::series).post(query::series))
        .route("/api/v1/labels", get(query::labels).post(query::labels))
        .route("/api/v1/label/{name}/values", get(query::label_values))
        .route("/api/v1/metadata", get(query::metadata))
        .route("/api/v1/query_exemplars", get(query::exemplars).post(query::exemplars))
        .route(
            "/api/v1/format_query",
            get(query::format_query).post(query::format_query),
        )
        .route("/api/v1/status/buildinfo", get(ops::buildinfo))
        .route("/api/v1/status/flags", get(ops::flags))
        .route("/api/v1/status/tsdb", get(ops::tsdb_status))
        .route("/api/v1/status/runtimeinfo", get(ops::runtimeinfo))
        .route(
            "/api/v1/admin/tsdb/delete_series",
            post(ops::delete_series).put(ops::delete_series),
        )
        .route("/internal/force_flush", post(ops::force_flush).get(ops::force_flush))
        .route("/-/reload", post(ops::reload).put(ops::reload))
        .route("/-/healthy", get(ops::healthy).head(ops::healthy))
        .route("/-/ready", get(ops::ready).head(ops::ready))
        .route("/metrics", get(ops::metrics))
        .merge(formats::routes())
        .fallback(ops::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}
