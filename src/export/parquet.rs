//! Parquet export: one row per sample — `metric` (the metric name), one column per label name of the
//! exported series, `timestamp` (milliseconds, UTC) and `value` — with the name and label columns
//! dictionary-encoded, Snappy-compressed pages and row groups of up to [`ROW_GROUP_ROWS`] rows, so that
//! DuckDB, pyarrow and pandas read it as a table directly. Streamed like the other exports: rows are
//! built in batches of [`BATCH_ROWS`] and the file's bytes leave in pieces as the writer produces them;
//! memory stays bounded by one batch, one row group and one series. Format notes: `docs/formats.md`.
//!
//! Snappy rather than ZSTD: the parquet crate's ZSTD codec would change the feature set of the `zstd-sys`
//! build RocksDB links, and with it force a rebuild of RocksDB for every build of the workspace.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, Float64Array, RecordBatch, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use strata_storage::{Labels, METRIC_NAME, SeriesReader};
use tokio::sync::mpsc;

use super::{CHUNK_BYTES, ExportError, GROUP_SERIES, exact_matchers};

/// Rows per record batch handed to the Parquet writer.
pub const BATCH_ROWS: usize = 64 * 1024;
/// Rows per row group.
pub const ROW_GROUP_ROWS: usize = 1024 * 1024;
/// The `Content-Type` of a Parquet export.
pub const CONTENT_TYPE: &str = "application/vnd.apache.parquet";

/// Sends the writer's bytes down the response channel in pieces of about [`CHUNK_BYTES`].
struct ChannelWriter<'a> {
    tx: &'a mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter<'_> {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let piece = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES)));
        self.tx
            .blocking_send(Ok(piece))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client disconnected"))
    }
}

impl Write for ChannelWriter<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// The rows of the batch being built.
struct Batch {
    schema: SchemaRef,
    metric: StringDictionaryBuilder<Int32Type>,
    labels: Vec<StringDictionaryBuilder<Int32Type>>,
    ts: Vec<i64>,
    vs: Vec<f64>,
}

impl Batch {
    fn new(schema: SchemaRef, label_columns: usize) -> Batch {
        Batch {
            schema,
            metric: StringDictionaryBuilder::new(),
            labels: (0..label_columns).map(|_| StringDictionaryBuilder::new()).collect(),
            ts: Vec::with_capacity(BATCH_ROWS),
            vs: Vec::with_capacity(BATCH_ROWS),
        }
    }

    /// Adds rows for `ts`/`vs` of a series whose label columns hold `values` (`None`: label absent).
    fn push(
        &mut self,
        metric: Option<&str>,
        values: &[Option<&str>],
        ts: &[i64],
        vs: &[f64],
    ) -> Result<(), ExportError> {
        let n = ts.len();
        let enc = |e: arrow_schema::ArrowError| ExportError::Encode(e.to_string());
        match metric {
            Some(m) => {
                self.metric.append_n(m, n).map_err(enc)?;
            }
            None => self.metric.append_nulls(n),
        }
        for (b, v) in self.labels.iter_mut().zip(values) {
            match v {
                Some(v) => {
                    b.append_n(v, n).map_err(enc)?;
                }
                None => b.append_nulls(n),
            }
        }
        self.ts.extend_from_slice(ts);
        self.vs.extend_from_slice(vs);
        Ok(())
    }

    fn rows(&self) -> usize {
        self.ts.len()
    }

    fn take(&mut self) -> Result<RecordBatch, ExportError> {
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(self.labels.len() + 3);
        cols.push(Arc::new(self.metric.finish()));
        for b in &mut self.labels {
            cols.push(Arc::new(b.finish()));
        }
        let ts = TimestampMillisecondArray::from(std::mem::take(&mut self.ts)).with_timezone("UTC");
        cols.push(Arc::new(ts));
        cols.push(Arc::new(Float64Array::from(std::mem::take(&mut self.vs))));
        RecordBatch::try_new(self.schema.clone(), cols).map_err(|e| ExportError::Encode(e.to_string()))
    }
}

/// The schema of an export whose series carry the label names `names` (besides `__name__`).
pub fn schema(names: &[&str]) -> SchemaRef {
    let dict = || DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let mut fields = vec![Field::new("metric", dict(), true)];
    fields.extend(names.iter().map(|n| Field::new(*n, dict(), true)));
    fields.push(Field::new(
        "timestamp",
        DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        false,
    ));
    fields.push(Field::new("value", DataType::Float64, false));
    Arc::new(Schema::new(fields))
}

/// Reads `series` and sends them as one Parquet file through `tx`; runs on a blocking thread. Returns
/// the number of samples (rows) written.
pub fn produce<R: SeriesReader + ?Sized>(
    reader: &R,
    series: &[Labels],
    start: i64,
    end: i64,
    tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Result<u64, ExportError> {
    // A label called like a fixed column keeps its name with a `label_` prefix.
    let names: Vec<&str> = series
        .iter()
        .flat_map(|l| l.iter().map(|l| l.name.as_str()))
        .filter(|n| *n != METRIC_NAME)
        .collect::<BTreeSet<&str>>()
        .into_iter()
        .collect();
    let columns: Vec<String> = names
        .iter()
        .map(|n| match *n {
            "metric" | "timestamp" | "value" => format!("label_{n}"),
            n => n.to_string(),
        })
        .collect();
    let schema = schema(&columns.iter().map(String::as_str).collect::<Vec<_>>());
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(true)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let sink = ChannelWriter {
        tx,
        buf: Vec::with_capacity(CHUNK_BYTES),
    };
    let pq = |e: parquet::errors::ParquetError| match e {
        parquet::errors::ParquetError::External(ref inner) if inner.to_string().contains("client disconnected") => {
            ExportError::Disconnected
        }
        e => ExportError::Encode(e.to_string()),
    };
    let mut w = ArrowWriter::try_new(sink, schema.clone(), Some(props)).map_err(pq)?;
    let mut batch = Batch::new(schema, names.len());
    let mut samples = 0u64;
    for group in series.chunks(GROUP_SERIES) {
        let group_names: BTreeSet<&str> = group.iter().flat_map(|l| l.iter().map(|l| l.name.as_str())).collect();
        for labels in group {
            let found = match reader.select(&exact_matchers(labels, &group_names), start, end) {
                Ok(f) => f,
                Err(e) => {
                    let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                    return Err(e.into());
                }
            };
            for s in found.iter().filter(|s| s.labels == *labels) {
                let values: Vec<Option<&str>> = names.iter().map(|n| s.labels.get(n)).collect();
                let metric = s.labels.get(METRIC_NAME);
                for (ts, vs) in s.timestamps.chunks(BATCH_ROWS).zip(s.values.chunks(BATCH_ROWS)) {
                    batch.push(metric, &values, ts, vs)?;
                    samples += ts.len() as u64;
                    if batch.rows() >= BATCH_ROWS {
                        w.write(&batch.take()?).map_err(pq)?;
                    }
                }
            }
        }
    }
    if batch.rows() > 0 {
        w.write(&batch.take()?).map_err(pq)?;
    }
    w.finish().map_err(pq)?;
    w.inner_mut().flush().map_err(|_| ExportError::Disconnected)?;
    Ok(samples)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arrow_array::Array;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use strata_storage::{LabelMatcher, MemStore};

    #[test]
    fn streams_a_file_that_reads_back_row_for_row() {
        let mut store = MemStore::new();
        for i in 0..2500 {
            let mut pairs = vec![("__name__".to_string(), "m".to_string())];
            if i % 2 == 0 {
                pairs.push(("i".to_string(), i.to_string()));
            }
            // A label named like a fixed column keeps its values under `label_value`.
            pairs.push(("value".to_string(), "x".to_string()));
            pairs.push(("j".to_string(), i.to_string()));
            let labels = Labels::from_pairs(pairs);
            for t in 0..50 {
                store.add(&labels, t * 1000, (i * t) as f64);
            }
        }
        let sets = vec![vec![LabelMatcher::equal("__name__", "m")]];
        let series = super::super::list_series(&store, &sets, 0, 100_000).unwrap();
        let (tx, mut rx) = mpsc::channel(1 << 16);
        let n = produce(&store, &series, 0, 100_000, &tx).unwrap();
        assert_eq!(n, 2500 * 50);
        drop(tx);
        let mut file = Vec::new();
        let mut pieces = 0;
        while let Ok(p) = rx.try_recv() {
            file.extend_from_slice(&p.unwrap());
            pieces += 1;
        }
        assert!(pieces > 1, "streamed in pieces");
        let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file))
            .unwrap()
            .build()
            .unwrap();
        let (mut rows, mut sum, mut missing_i) = (0usize, 0.0, 0usize);
        for batch in reader {
            let batch = batch.unwrap();
            let names: Vec<String> = batch.schema().fields().iter().map(|f| f.name().clone()).collect();
            assert_eq!(names, ["metric", "i", "j", "label_value", "timestamp", "value"]);
            rows += batch.num_rows();
            let v = batch.column(5).as_any().downcast_ref::<Float64Array>().unwrap();
            sum += v.values().iter().sum::<f64>();
            missing_i += batch.column(1).null_count();
        }
        assert_eq!(rows, 2500 * 50);
        assert_eq!(missing_i, 1250 * 50, "series without label i have nulls there");
        let want: f64 = (0..2500).map(|i| (0..50).map(|t| (i * t) as f64).sum::<f64>()).sum();
        assert_eq!(sum, want);
    }
}
