//! `strata import`: sends a file to a running server's import endpoint in batches of whole records,
//! with a progress bar on stderr. A batch with bad lines is reported (its good lines are stored by the
//! server) and the import goes on; the command fails at the end if any batch had errors.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

/// Import formats of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CliImportFormat {
    /// VictoriaMetrics JSON lines (`/api/v1/import`).
    Jsonl,
    /// CSV with --csv-format column descriptors (`/api/v1/import/csv`).
    Csv,
    /// Prometheus text exposition format (`/api/v1/import/prometheus`).
    Prometheus,
    /// Influx line protocol (`/write`).
    Influx,
}

/// Flags of `strata import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Base URL of the Strata (or VictoriaMetrics) server.
    #[arg(long, default_value = "http://127.0.0.1:9090")]
    pub url: String,
    /// Input format.
    #[arg(long, value_enum)]
    pub format: CliImportFormat,
    /// CSV column descriptors, e.g. `1:label:__name__,2:metric:value,3:time:unix_ms,4:label:job`
    /// (required for --format csv).
    #[arg(long = "csv-format")]
    pub csv_format: Option<String>,
    /// Influx timestamp precision: ns, us, ms, s, m, h [default: ns].
    #[arg(long)]
    pub precision: Option<String>,
    /// Influx database, added as label `db`.
    #[arg(long)]
    pub db: Option<String>,
    /// Largest batch sent per request, in bytes (keep it under the server's --max-request-bytes).
    #[arg(long = "batch-bytes", default_value_t = 8 << 20)]
    pub batch_bytes: usize,
    /// Input file; `-` reads stdin.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// What an import sent.
#[derive(Debug, Clone, Copy)]
pub struct ImportSummary {
    /// Bytes sent.
    pub bytes: u64,
    /// Requests sent.
    pub batches: u64,
    /// Requests answered with bad lines.
    pub failed_batches: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// Runs `strata import`.
pub fn run(a: &ImportArgs) -> anyhow::Result<ImportSummary> {
    let base = a.url.trim_end_matches('/');
    let mut q = form_urlencoded::Serializer::new(String::new());
    let path = match a.format {
        CliImportFormat::Jsonl => "/api/v1/import",
        CliImportFormat::Prometheus => "/api/v1/import/prometheus",
        CliImportFormat::Csv => {
            let f = a.csv_format.as_deref().context("--format csv needs --csv-format")?;
            q.append_pair("format", f);
            "/api/v1/import/csv"
        }
        CliImportFormat::Influx => {
            if let Some(p) = &a.precision {
                q.append_pair("precision", p);
            }
            if let Some(db) = &a.db {
                q.append_pair("db", db);
            }
            "/write"
        }
    };
    let query = q.finish();
    let url = if query.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{query}")
    };
    let (input, total): (Box<dyn Read>, u64) = if a.file.as_os_str() == "-" {
        (Box::new(std::io::stdin().lock()), 0)
    } else {
        let f = std::fs::File::open(&a.file).with_context(|| format!("opening {}", a.file.display()))?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        (Box::new(f), len)
    };
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .context("building the HTTP client")?;
    let bar = if total > 0 {
        indicatif::ProgressBar::new(total)
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} ({binary_bytes_per_sec}) eta {eta} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let began = Instant::now();
    let mut s = ImportSummary {
        bytes: 0,
        batches: 0,
        failed_batches: 0,
        elapsed: Duration::ZERO,
    };
    let mut batch: Vec<u8> = Vec::with_capacity(a.batch_bytes + (64 << 10));
    let (mut line_no, mut batch_first_line) = (0usize, 1usize);
    let mut in_quote = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).context("reading the input")?;
        if n > 0 {
            line_no += 1;
            batch.extend_from_slice(&line);
            if a.format == CliImportFormat::Csv {
                // A quoted CSV field may hold line breaks: only cut between records.
                in_quote ^= line.iter().filter(|&&c| c == b'"').count() % 2 == 1;
            }
        }
        let at_end = n == 0;
        if (batch.len() >= a.batch_bytes && !in_quote) || (at_end && !batch.is_empty()) {
            s.batches += 1;
            s.bytes += batch.len() as u64;
            let body = std::mem::replace(&mut batch, Vec::with_capacity(a.batch_bytes + (64 << 10)));
            let resp = client
                .post(&url)
                .body(body)
                .send()
                .with_context(|| format!("sending to {url}"))?;
            let status = resp.status();
            if !status.is_success() {
                let text = resp.text().unwrap_or_default();
                if status.as_u16() != 400 {
                    bail!(
                        "{url} answered {status} for the batch at line {batch_first_line}: {}",
                        text.trim()
                    );
                }
                s.failed_batches += 1;
                let msg = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                    .unwrap_or(text);
                bar.suspend(|| {
                    eprintln!("batch starting at line {batch_first_line} (line numbers relative to it): {msg}")
                });
            }
            batch_first_line = line_no + 1;
            bar.set_position(s.bytes);
            bar.set_message(format!("{} batches", s.batches));
        }
        if at_end {
            break;
        }
    }
    bar.finish();
    s.elapsed = began.elapsed();
    eprintln!(
        "imported {} bytes in {} batches in {:.2}s",
        s.bytes,
        s.batches,
        s.elapsed.as_secs_f64()
    );
    if s.failed_batches > 0 {
        bail!(
            "{} of {} batches had bad lines (their other lines were stored)",
            s.failed_batches,
            s.batches
        );
    }
    Ok(s)
}
