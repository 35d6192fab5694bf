//! `strata`: a Prometheus-compatible time-series database in one binary.

use std::path::PathBuf;

use strata::{bench, config, serve};

use clap::{Args, Parser, Subcommand};

/// Strata: Prometheus remote-write in, PromQL out, Gorilla-compressed chunks in RocksDB.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the server: ingestion, PromQL and the Prometheus HTTP API.
    Serve(ServeArgs),
    /// Remote-write load generator: node_exporter-like series, reports samples/s, server CPU and RSS, bytes on disk.
    Bench(bench::BenchArgs),
    /// PromQL evaluation throughput over the storage engine, in process: fills a fresh store, times range queries.
    BenchQuery(bench::query::BenchQueryArgs),
    /// Append throughput of the storage engine on one thread, in process: scrape-shaped appends to a fresh store.
    BenchAppend(bench::append::BenchAppendArgs),
    /// Exports series from a running server into a file: JSON lines or CSV (docs/formats.md).
    Export(strata::export::cli::ExportArgs),
    /// Imports a file into a running server: JSON lines, CSV, Prometheus text or Influx line protocol.
    Import(strata::ingest::cli::ImportArgs),
}

/// Flags of `strata serve`. Every flag overrides the same setting of the config file.
#[derive(Debug, Args)]
struct ServeArgs {
    /// YAML configuration file (see docs/configuration.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on for HTTP [default: 127.0.0.1:9090].
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Directory holding the WAL and the RocksDB store [default: ./strata-data].
    #[arg(long = "data-dir", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Retention of the raw tier: a duration (7d, 36h, 1y) or "forever" [default: 7d].
    #[arg(long = "retention.raw", value_name = "DURATION")]
    retention_raw: Option<String>,
    /// Retention of the 5-minute tier [default: 30d].
    #[arg(long = "retention.5m", value_name = "DURATION")]
    retention_5m: Option<String>,
    /// Retention of the 1-hour tier [default: 1y].
    #[arg(long = "retention.1h", value_name = "DURATION")]
    retention_1h: Option<String>,
    /// WAL fsync policy: "always" (fsync before acknowledging, group commit), "never", or an interval
    /// such as 1s (a crash may lose up to one interval of acknowledged writes) [default: always].
    #[arg(long = "wal.fsync", value_name = "POLICY")]
    wal_fsync: Option<String>,
    /// How far back PromQL looks for the latest sample of a series [default: 5m].
    #[arg(long = "query.lookback-delta", value_name = "DURATION")]
    lookback_delta: Option<String>,
    /// Longest a query may run before it is cancelled with a timeout error [default: 2m].
    #[arg(long = "query.timeout", value_name = "DURATION")]
    query_timeout: Option<String>,
    /// Most samples a single query may load into memory [default: 50000000].
    #[arg(long = "query.max-samples", value_name = "N")]
    max_samples: Option<usize>,
    /// Largest accepted request body in bytes [default: 33554432].
    #[arg(long = "max-request-bytes", value_name = "BYTES")]
    max_request_bytes: Option<usize>,
    /// Ingestion requests processed at once; more wait, then get a retryable 503 [default: 8].
    #[arg(long = "max-concurrent-inserts", value_name = "N")]
    max_concurrent_inserts: Option<usize>,
    /// Log filter, e.g. info, debug, strata=debug [default: info, or RUST_LOG].
    #[arg(long = "log.level", value_name = "FILTER")]
    log_level: Option<String>,
}

impl ServeArgs {
    fn overrides(&self) -> config::Overrides {
        config::Overrides {
            listen: self.listen.clone(),
            data_dir: self.data_dir.clone(),
            retention_raw: self.retention_raw.clone(),
            retention_5m: self.retention_5m.clone(),
            retention_1h: self.retention_1h.clone(),
            wal_fsync: self.wal_fsync.clone(),
            lookback_delta: self.lookback_delta.clone(),
            query_timeout: self.query_timeout.clone(),
            max_samples: self.max_samples,
            max_request_bytes: self.max_request_bytes,
            max_concurrent_inserts: self.max_concurrent_inserts,
        }
    }
}

fn init_logging(filter: Option<&str>) {
    let filter = filter
        .map(tracing_subscriber::EnvFilter::new)
        .or_else(|| tracing_subscriber::EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

/// mimalloc serves the server's own allocations: label sets, decoded columns and request buffers are many
/// small, short-lived allocations made on one thread and freed on another, where glibc's malloc spent a
/// quarter of the time of large queries and live ingest (`docs/performance.md`, "Profiles").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Allocator settings that must be in the environment when the process starts, with why:
/// - glibc's malloc (still used by RocksDB's C++) gives threads that allocate at the same time arenas of their
///   own, up to eight per core, and memory freed in one arena is not reused by the others: one per core;
/// - mimalloc commits its arenas eagerly and returns freed pages after 10 ms: under bulk ingest (large request
///   buffers) lazy commit lowered peak RSS from 255 to 198 MB at 100 000 series (`docs/performance.md`, "Peak
///   RSS"); freed pages go back after 250 ms, long enough for the next bulk request and a query's next batch
///   of series to reuse them instead of faulting fresh pages in (against 25 ms: bulk ingest about 10 % and
///   query a about 9 % less CPU; the peak RSS of a bulk load is the same, a large query's up to 40 MB more).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn allocator_env() -> [(&'static str, String); 3] {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()).max(2);
    [
        ("MALLOC_ARENA_MAX", cores.to_string()),
        ("MIMALLOC_ARENA_EAGER_COMMIT", "0".to_string()),
        ("MIMALLOC_PURGE_DELAY", "250".to_string()),
    ]
}

/// Re-executes the server (same process id) with the settings of [`allocator_env`] that the environment does
/// not set already. Any failure leaves the server running as it is.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_allocator_env() {
    use std::os::unix::process::CommandExt;
    let missing: Vec<(&str, String)> = allocator_env()
        .into_iter()
        .filter(|(k, _)| std::env::var_os(k).is_none())
        .collect();
    if missing.is_empty() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .envs(missing.iter().map(|(k, v)| (k, v)))
        .exec();
    eprintln!("strata: could not re-execute with allocator settings {missing:?} ({err}); continuing without");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_allocator_env() {}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench(args) => match bench::run(args) {
            Ok(r) if r.errors == 0 => std::process::ExitCode::SUCCESS,
            Ok(r) => {
                eprintln!("strata bench: {} requests failed", r.errors);
                std::process::ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("strata bench: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::BenchAppend(args) => match bench::append::run(args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("strata bench-append: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::BenchQuery(args) => match bench::query::run(args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("strata bench-query: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::Export(args) => match strata::export::cli::run(&args) {
            Ok(_) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("strata export: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::Import(args) => match strata::ingest::cli::run(&args) {
            Ok(_) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("strata import: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::Serve(args) => {
            set_allocator_env();
            init_logging(args.log_level.as_deref());
            let overrides = args.overrides();
            let result = config::Config::load(args.config.as_deref(), &overrides)
                .and_then(|c| serve::run(c, (args.config.clone(), overrides)));
            match result {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    eprintln!("strata: {e:#}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
    }
}
