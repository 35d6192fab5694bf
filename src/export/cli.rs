//! `strata export`: streams `/api/v1/export`, `/api/v1/export/csv` or `/api/v1/export/parquet` of a running
//! server into a file (or stdout), with a progress bar on stderr.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

/// Export formats of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CliExportFormat {
    /// VictoriaMetrics JSON lines, one series per line (lossless).
    Jsonl,
    /// CSV, one sample per row, columns from --csv-format.
    Csv,
    /// Parquet, one sample per row (metric, labels, timestamp, value).
    Parquet,
}

/// Flags of `strata export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Base URL of the Strata (or VictoriaMetrics) server.
    #[arg(long, default_value = "http://127.0.0.1:9090")]
    pub url: String,
    /// Series selector; repeat for several (e.g. --match 'up' --match '{job="node"}').
    #[arg(long = "match", value_name = "SELECTOR", required = true)]
    pub matches: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: CliExportFormat,
    /// CSV columns (VictoriaMetrics' `format` parameter): `__name__`, `__value__`,
    /// `__timestamp__:<unix_s|unix_ms|unix_ns|rfc3339|custom:LAYOUT>`, or label names.
    #[arg(long = "csv-format", default_value = "__name__,__value__,__timestamp__:unix_ms")]
    pub csv_format: String,
    /// Start of the time range: RFC 3339 or Unix seconds [default: unbounded].
    #[arg(long)]
    pub start: Option<String>,
    /// End of the time range: RFC 3339 or Unix seconds [default: unbounded].
    #[arg(long)]
    pub end: Option<String>,
    /// Output file [default: stdout].
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// What an export wrote.
#[derive(Debug, Clone, Copy)]
pub struct ExportSummary {
    /// Bytes written.
    pub bytes: u64,
    /// Lines written (series for JSON lines; rows plus the header for CSV).
    pub lines: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// Runs `strata export`.
pub fn run(a: &ExportArgs) -> anyhow::Result<ExportSummary> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for m in &a.matches {
        form.append_pair("match[]", m);
    }
    if let Some(s) = &a.start {
        form.append_pair("start", s);
    }
    if let Some(e) = &a.end {
        form.append_pair("end", e);
    }
    let path = match a.format {
        CliExportFormat::Jsonl => "/api/v1/export",
        CliExportFormat::Csv => {
            form.append_pair("format", &a.csv_format);
            "/api/v1/export/csv"
        }
        CliExportFormat::Parquet => "/api/v1/export/parquet",
    };
    let url = format!("{}{path}", a.url.trim_end_matches('/'));
    // An export may take long: no overall timeout, only for connecting.
    let client = reqwest::blocking::Client::builder()
        .timeout(None::<Duration>)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .context("building the HTTP client")?;
    let began = Instant::now();
    let mut resp = client
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.finish())
        .send()
        .with_context(|| format!("requesting {url}"))?;
    if !resp.status().is_success() {
        let status = resp.status();
        let text = resp.text().unwrap_or_default();
        bail!("{url} answered {status}: {}", text.trim());
    }
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bytes} exported ({binary_bytes_per_sec}), {msg} [{elapsed}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut buf = vec![0u8; 256 << 10];
    let (mut bytes, mut lines) = (0u64, 0u64);
    let unit = match a.format {
        CliExportFormat::Jsonl => "series",
        CliExportFormat::Csv => "rows",
        // Binary: there are no lines to count, only bytes.
        CliExportFormat::Parquet => "",
    };
    loop {
        let n = resp
            .read(&mut buf)
            .context("reading the export (the server may have hit an error)")?;
        let Some(chunk) = buf.get(..n) else { break };
        if chunk.is_empty() {
            break;
        }
        out.write_all(chunk).context("writing the output")?;
        bytes += n as u64;
        lines += chunk.iter().filter(|&&c| c == b'\n').count() as u64;
        bar.set_position(bytes);
        if !unit.is_empty() {
            bar.set_message(format!("{lines} {unit}"));
        }
    }
    out.flush().context("writing the output")?;
    bar.finish();
    let elapsed = began.elapsed();
    eprintln!(
        "exported {lines} {unit}, {bytes} bytes in {:.2}s",
        elapsed.as_secs_f64()
    );
    Ok(ExportSummary { bytes, lines, elapsed })
}
