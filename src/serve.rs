//! `strata serve`: opens storage in the background (so `/-/healthy` answers during WAL replay), serves HTTP,
//! runs periodic upkeep, and on SIGTERM/SIGINT stops accepting, flushes and exits cleanly.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use strata_query::{Engine, EngineOptions};
use strata_storage::{FsyncPolicy, Storage, StorageOptions};
use tokio::sync::Semaphore;

use crate::api::{self, AppState, Limits};
use crate::config::{Config, Fsync, Retention};
use crate::metadata::MetadataStore;
use crate::selfmetrics::ServerMetrics;

/// How often background upkeep (sealing full chunks, WAL truncation) runs.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(5);

/// Checks that the data directory exists (creating it) and is writable, with a clear error otherwise.
fn prepare_data_dir(c: &Config) -> anyhow::Result<()> {
    let d = &c.data_dir;
    if d.exists() && !d.is_dir() {
        anyhow::bail!("data directory {} exists and is not a directory", d.display());
    }
    std::fs::create_dir_all(d).with_context(|| format!("cannot create data directory {}", d.display()))?;
    let probe = d.join(".strata-write-test");
    std::fs::write(&probe, b"ok").with_context(|| format!("data directory {} is not writable", d.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

fn storage_options(c: &Config) -> StorageOptions {
    let mut o = StorageOptions::new(&c.data_dir);
    o.wal_fsync = match c.wal_fsync {
        Fsync::Always => FsyncPolicy::Always,
        Fsync::Never => FsyncPolicy::Never,
        Fsync::Interval(d) => FsyncPolicy::Interval(d),
    };
    o.retention_ms = [c.retention_raw, c.retention_5m, c.retention_1h].map(|r| match r {
        Retention::For(ms) => Some(ms),
        Retention::Forever => None,
    });
    o
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutdown signal received");
}

/// The PromQL engine settings of a configuration.
pub fn engine_options(c: &Config) -> EngineOptions {
    EngineOptions {
        lookback_delta_ms: c.lookback_delta_ms,
        max_samples: c.max_samples,
        timeout: c.query_timeout,
        ..EngineOptions::default()
    }
}

/// Runs the server until a shutdown signal. `source` is the config file and flags it was built from,
/// kept for `/-/reload`.
pub fn run(config: Config, source: (Option<std::path::PathBuf>, crate::config::Overrides)) -> anyhow::Result<()> {
    prepare_data_dir(&config)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("strata-http")
        .build()
        .context("starting the async runtime")?;
    rt.block_on(run_async(config, source))
}

async fn run_async(
    config: Config,
    source: (Option<std::path::PathBuf>, crate::config::Overrides),
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let engine = Engine::new(engine_options(&config));
    let limits = Limits {
        max_request_bytes: config.max_request_bytes,
        max_concurrent_inserts: config.max_concurrent_inserts,
        ..Limits::default()
    };
    let state = Arc::new(AppState {
        storage: OnceLock::new(),
        engine: parking_lot::RwLock::new(Arc::new(engine)),
        metadata: MetadataStore::default(),
        metrics: ServerMetrics::default(),
        flags: parking_lot::RwLock::new(config.flags()),
        config_source: source,
        insert_slots: Semaphore::new(limits.max_concurrent_inserts),
        limits,
        started: std::time::SystemTime::now(),
    });
    tracing::info!(listen = %config.listen, data_dir = %config.data_dir.display(), "strata starting");

    let opts = storage_options(&config);
    let opening = tokio::task::spawn_blocking(move || Storage::open(opts));
    let server_state = state.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, api::router(server_state))
            .with_graceful_shutdown(shutdown_signal())
            .await
    });

    let storage = Arc::new(
        opening
            .await
            .context("storage open task failed")?
            .with_context(|| format!("opening storage in {}", config.data_dir.display()))?,
    );
    let _ = state.storage.set(storage.clone());
    tracing::info!("storage ready");

    let upkeep_storage = storage.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let upkeep_stop = stop.clone();
    let upkeep = std::thread::Builder::new()
        .name("strata-upkeep".into())
        .spawn(move || {
            while !upkeep_stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Err(e) = upkeep_storage.maintain() {
                    tracing::warn!("storage upkeep failed: {e}");
                }
                // Sleep in short steps so shutdown is not delayed by a whole interval.
                for _ in 0..(MAINTENANCE_INTERVAL.as_millis() / 100) {
                    if upkeep_stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        })
        .context("starting the upkeep thread")?;

    #[cfg(unix)]
    {
        // SIGHUP reloads the configuration, as in Prometheus.
        let hup_state = state.clone();
        if let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    if let Err(e) = hup_state.reload() {
                        tracing::error!("reload failed: {e:#}");
                    }
                }
            });
        }
    }

    server
        .await
        .context("http server task failed")?
        .context("http server failed")?;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = upkeep.join();
    tracing::info!("flushing storage");
    tokio::task::spawn_blocking(move || storage.close())
        .await
        .context("storage close task failed")?
        .context("closing storage")?;
    tracing::info!("strata stopped cleanly");
    Ok(())
}
