//! Reading WAL segments back: header check, frame walk, per-record crc32c. Format: `docs/format/wal.md`.

use std::path::Path;

use super::record::{self, FRAME_HEADER, MAX_RECORD_BYTES, Record};
use super::{SEGMENT_HEADER_LEN, SEGMENT_MAGIC, WalFormat};
use crate::error::{Error, Result};

/// What reading one segment found.
#[derive(Debug)]
pub struct SegmentReplay {
    /// Records decoded and handed to the callback.
    pub records: u64,
    /// Bytes of the segment that were intact (header included).
    pub good_bytes: u64,
    /// Total bytes of the segment file.
    pub file_bytes: u64,
    /// Why reading stopped before the end of the file, if it did: a torn or corrupt record. Everything from
    /// that point on in this segment is skipped.
    pub corruption: Option<Error>,
}

/// Reads one segment and calls `f` for each intact record, in order. Stops at the first torn or corrupt
/// record (reported in [`SegmentReplay::corruption`]); only an error from `f` or from reading the file is
/// returned as `Err`.
pub fn replay_segment(path: &Path, mut f: impl FnMut(Record) -> Result<()>) -> Result<SegmentReplay> {
    let data = std::fs::read(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut out = SegmentReplay {
        records: 0,
        good_bytes: 0,
        file_bytes: data.len() as u64,
        corruption: None,
    };
    let header_err = match data.get(..SEGMENT_HEADER_LEN) {
        None => Some(Error::Corrupt {
            what: "wal segment",
            reason: format!("header truncated ({} bytes)", data.len()),
        }),
        Some(h) if h.get(..6) != Some(&SEGMENT_MAGIC[..]) => Some(Error::Corrupt {
            what: "wal segment",
            reason: "bad magic".to_string(),
        }),
        Some(h) => WalFormat::from_byte(h.get(6).copied().unwrap_or(0)).err(),
    };
    if let Some(e) = header_err {
        out.corruption = Some(e);
        return Ok(out);
    }
    let mut pos = SEGMENT_HEADER_LEN;
    out.good_bytes = pos as u64;
    while pos < data.len() {
        match next_frame(&data, pos) {
            Ok((kind, payload, next)) => match record::decode(kind, payload) {
                Ok(rec) => {
                    f(rec)?;
                    out.records += 1;
                    pos = next;
                    out.good_bytes = pos as u64;
                }
                Err(e) => {
                    out.corruption = Some(e);
                    break;
                }
            },
            Err(e) => {
                out.corruption = Some(e);
                break;
            }
        }
    }
    Ok(out)
}

fn next_frame(data: &[u8], pos: usize) -> Result<(u8, &[u8], usize)> {
    let torn = |reason: String| Error::Corrupt {
        what: "wal record",
        reason,
    };
    let head = data.get(pos..pos + FRAME_HEADER).ok_or_else(|| {
        torn(format!(
            "torn frame header at offset {pos} ({} bytes left)",
            data.len() - pos
        ))
    })?;
    let mut len4 = [0u8; 4];
    len4.copy_from_slice(head.get(0..4).unwrap_or(&[0; 4]));
    let mut crc4 = [0u8; 4];
    crc4.copy_from_slice(head.get(4..8).unwrap_or(&[0; 4]));
    let len = u32::from_le_bytes(len4) as usize;
    let expected = u32::from_le_bytes(crc4);
    if len == 0 || len > MAX_RECORD_BYTES {
        return Err(torn(format!("bad record length {len} at offset {pos}")));
    }
    let body_start = pos + 8;
    let body = data.get(body_start..body_start + len).ok_or_else(|| {
        torn(format!(
            "record at offset {pos} needs {len} bytes, {} left",
            data.len() - body_start
        ))
    })?;
    let got = crc32c::crc32c(body);
    if got != expected {
        return Err(Error::ChecksumMismatch {
            what: "wal record",
            got,
            expected,
        });
    }
    let kind = body.first().copied().unwrap_or(0);
    Ok((kind, body.get(1..).unwrap_or(&[]), body_start + len))
}
