//! Configuration: defaults, overridden by the YAML config file, overridden by command-line flags.
//!
//! ```yaml
//! listen: 127.0.0.1:9090
//! data_dir: ./strata-data
//! retention: { raw: 7d, 5m: 30d, 1h: 1y }   # each also "forever"
//! wal_fsync: always                          # always | never | a flush interval such as 1s
//! query: { lookback_delta: 5m, timeout: 2m, max_samples: 50000000 }
//! limits: { max_request_bytes: 33554432, max_concurrent_inserts: 8 }
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

/// A retention period: a duration or "forever".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// Keep data this many milliseconds.
    For(i64),
    /// Never drop data.
    Forever,
}

impl Retention {
    /// Parses `7d`, `1y`, `36h`, `forever`.
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        if s.eq_ignore_ascii_case("forever") {
            return Ok(Retention::Forever);
        }
        match crate::api::params::parse_duration(s) {
            Some(ms) if ms > 0 => Ok(Retention::For(ms)),
            _ => bail!("invalid retention {s:?}: expected a duration such as 7d, 30d, 1y, or \"forever\""),
        }
    }
}

impl std::fmt::Display for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Retention::Forever => f.write_str("forever"),
            Retention::For(ms) => f.write_str(&format_duration(*ms)),
        }
    }
}

/// Formats milliseconds as a Prometheus duration (`1d`, `1h30m`, `500ms`).
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut rest = ms;
    let mut out = String::new();
    for (unit, size) in [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// WAL fsync policy as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// fsync before every acknowledgement (group commit).
    Always,
    /// fsync every interval; a crash may lose up to one interval of acknowledged data.
    Interval(Duration),
    /// Never fsync (the OS decides): for tests and throwaway data only.
    Never,
}

impl Fsync {
    /// Parses `always`, `never`, or an interval such as `1s`.
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        match s {
            "always" => Ok(Fsync::Always),
            "never" => Ok(Fsync::Never),
            d => match crate::api::params::parse_duration(d) {
                Some(ms) if ms > 0 => Ok(Fsync::Interval(Duration::from_millis(ms as u64))),
                _ => bail!("invalid wal fsync policy {s:?}: expected always, never or an interval such as 1s"),
            },
        }
    }
}

/// The effective configuration of `strata serve`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Raw tier retention.
    pub retention_raw: Retention,
    /// 5-minute tier retention.
    pub retention_5m: Retention,
    /// 1-hour tier retention.
    pub retention_1h: Retention,
    /// WAL fsync policy.
    pub wal_fsync: Fsync,
    /// PromQL lookback delta in milliseconds.
    pub lookback_delta_ms: i64,
    /// Query timeout.
    pub query_timeout: Duration,
    /// Most samples one query may load.
    pub max_samples: usize,
    /// Largest request body in bytes.
    pub max_request_bytes: usize,
    /// Ingestion requests processed at once.
    pub max_concurrent_inserts: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            data_dir: PathBuf::from("./strata-data"),
            retention_raw: Retention::For(7 * 86_400_000),
            retention_5m: Retention::For(30 * 86_400_000),
            retention_1h: Retention::For(365 * 86_400_000),
            wal_fsync: Fsync::Always,
            lookback_delta_ms: 300_000,
            query_timeout: Duration::from_secs(120),
            max_samples: 50_000_000,
            max_request_bytes: 32 << 20,
            max_concurrent_inserts: 8,
        }
    }
}

/// The config file's shape; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    retention: Option<FileRetention>,
    wal_fsync: Option<String>,
    query: Option<FileQuery>,
    limits: Option<FileLimits>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRetention {
    raw: Option<String>,
    #[serde(rename = "5m")]
    five_m: Option<String>,
    #[serde(rename = "1h")]
    one_h: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileQuery {
    lookback_delta: Option<String>,
    timeout: Option<String>,
    max_samples: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    max_request_bytes: Option<usize>,
    max_concurrent_inserts: Option<usize>,
}

/// Settings given on the command line (each overrides the file).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--listen`
    pub listen: Option<String>,
    /// `--data-dir`
    pub data_dir: Option<PathBuf>,
    /// `--retention.raw`
    pub retention_raw: Option<String>,
    /// `--retention.5m`
    pub retention_5m: Option<String>,
    /// `--retention.1h`
    pub retention_1h: Option<String>,
    /// `--wal.fsync`
    pub wal_fsync: Option<String>,
    /// `--query.lookback-delta`
    pub lookback_delta: Option<String>,
    /// `--query.timeout`
    pub query_timeout: Option<String>,
    /// `--query.max-samples`
    pub max_samples: Option<usize>,
    /// `--max-request-bytes`
    pub max_request_bytes: Option<usize>,
    /// `--max-concurrent-inserts`
    pub max_concurrent_inserts: Option<usize>,
}

fn duration_ms(what: &str, s: &str) -> anyhow::Result<i64> {
    match crate::api::params::parse_duration(s) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => bail!("invalid {what} {s:?}: expected a positive duration such as 5m"),
    }
}

impl Config {
    /// Builds the configuration from an optional file and the flags.
    pub fn load(file: Option<&Path>, flags: &Overrides) -> anyhow::Result<Config> {
        let fc = match file {
            None => FileConfig::default(),
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).with_context(|| format!("reading config file {}", p.display()))?;
                serde_saphyr::from_str::<FileConfig>(&text)
                    .map_err(|e| anyhow::anyhow!("parsing config file {}: {e}", p.display()))?
            }
        };
        let fr = fc.retention.unwrap_or_default();
        let fq = fc.query.unwrap_or_default();
        let fl = fc.limits.unwrap_or_default();
        let mut c = Config::default();
        if let Some(l) = flags.listen.clone().or(fc.listen) {
            c.listen = l
                .parse()
                .with_context(|| format!("invalid listen address {l:?}: expected host:port such as 127.0.0.1:9090"))?;
        }
        if let Some(d) = flags.data_dir.clone().or(fc.data_dir) {
            c.data_dir = d;
        }
        if let Some(r) = flags.retention_raw.clone().or(fr.raw) {
            c.retention_raw = Retention::parse(&r)?;
        }
        if let Some(r) = flags.retention_5m.clone().or(fr.five_m) {
            c.retention_5m = Retention::parse(&r)?;
        }
        if let Some(r) = flags.retention_1h.clone().or(fr.one_h) {
            c.retention_1h = Retention::parse(&r)?;
        }
        if let Some(f) = flags.wal_fsync.clone().or(fc.wal_fsync) {
            c.wal_fsync = Fsync::parse(&f)?;
        }
        if let Some(d) = flags.lookback_delta.clone().or(fq.lookback_delta) {
            c.lookback_delta_ms = duration_ms("lookback delta", &d)?;
        }
        if let Some(d) = flags.query_timeout.clone().or(fq.timeout) {
            c.query_timeout = Duration::from_millis(duration_ms("query timeout", &d)? as u64);
        }
        if let Some(n) = flags.max_samples.or(fq.max_samples) {
            c.max_samples = n;
        }
        if let Some(n) = flags.max_request_bytes.or(fl.max_request_bytes) {
            c.max_request_bytes = n;
        }
        if let Some(n) = flags.max_concurrent_inserts.or(fl.max_concurrent_inserts) {
            if n == 0 {
                bail!("max concurrent inserts must be at least 1");
            }
            c.max_concurrent_inserts = n;
        }
        Ok(c)
    }

    /// The settings as `/api/v1/status/flags` lists them.
    pub fn flags(&self) -> BTreeMap<String, String> {
        let fsync = match self.wal_fsync {
            Fsync::Always => "always".to_string(),
            Fsync::Never => "never".to_string(),
            Fsync::Interval(d) => format_duration(d.as_millis() as i64),
        };
        [
            ("listen", self.listen.to_string()),
            ("data-dir", self.data_dir.display().to_string()),
            ("retention.raw", self.retention_raw.to_string()),
            ("retention.5m", self.retention_5m.to_string()),
            ("retention.1h", self.retention_1h.to_string()),
            ("wal.fsync", fsync),
            ("query.lookback-delta", format_duration(self.lookback_delta_ms)),
            ("query.timeout", format_duration(self.query_timeout.as_millis() as i64)),
            ("query.max-samples", self.max_samples.to_string()),
            ("max-request-bytes", self.max_request_bytes.to_string()),
            ("max-concurrent-inserts", self.max_concurrent_inserts.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flags_override_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("strata.yml");
        std::fs::write(
            &f,
            "listen: 127.0.0.1:9999\nretention:\n  raw: 1d\n  1h: forever\nquery:\n  timeout: 30s\n",
        )
        .unwrap();
        let flags = Overrides {
            retention_raw: Some("2d".into()),
            ..Default::default()
        };
        let c = Config::load(Some(&f), &flags).unwrap();
        assert_eq!(c.listen.port(), 9999);
        assert_eq!(c.retention_raw, Retention::For(2 * 86_400_000));
        assert_eq!(c.retention_5m, Retention::For(30 * 86_400_000));
        assert_eq!(c.retention_1h, Retention::Forever);
        assert_eq!(c.query_timeout, Duration::from_secs(30));
        assert_eq!(c.flags()["retention.raw"], "2d");
    }

    #[test]
    fn bad_settings_are_clear_errors() {
        let bad = |o: Overrides| Config::load(None, &o).unwrap_err().to_string();
        assert!(
            bad(Overrides {
                retention_raw: Some("7x".into()),
                ..Default::default()
            })
            .contains("invalid retention")
        );
        assert!(
            bad(Overrides {
                listen: Some("nope".into()),
                ..Default::default()
            })
            .contains("invalid listen address")
        );
        assert!(
            bad(Overrides {
                wal_fsync: Some("sometimes".into()),
                ..Default::default()
            })
            .contains("fsync")
        );
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bad.yml");
        std::fs::write(&f, "no_such_setting: 1\n").unwrap();
        assert!(Config::load(Some(&f), &Overrides::default()).is_err());
    }
}
