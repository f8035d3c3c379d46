//! Input files as a stream of raw rows: format detection, gzip, header handling.

use crate::error::IngestError;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Delimited,
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    Byte(u8),
    /// Runs of spaces/tabs, for fixed-width exports such as CDNOW's.
    Whitespace,
}

impl Delimiter {
    pub fn parse(s: &str) -> Result<Delimiter, String> {
        match s {
            "whitespace" | "space" | "ws" => Ok(Delimiter::Whitespace),
            "tab" | "\\t" | "\t" => Ok(Delimiter::Byte(b'\t')),
            "comma" => Ok(Delimiter::Byte(b',')),
            "semicolon" => Ok(Delimiter::Byte(b';')),
            "pipe" => Ok(Delimiter::Byte(b'|')),
            s if s.len() == 1 && s.is_ascii() => Ok(Delimiter::Byte(s.as_bytes()[0])),
            _ => Err(format!("'{s}' is not a delimiter (one character, tab, or whitespace)")),
        }
    }
}

/// One data row: its 1-based line number in the file and its cells.
#[derive(Debug, Clone)]
pub struct RawRow {
    pub line: u64,
    pub cells: Vec<String>,
}

/// Counts bytes read from the file (compressed bytes for .gz), for the progress bar.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens a file (gzip detected by its magic bytes) as a buffered byte stream.
pub fn open(
    path: &Path,
    bytes_read: Arc<AtomicU64>,
) -> Result<Box<dyn BufRead + Send>, IngestError> {
    let err = |source| IngestError::Open { path: path.display().to_string(), source };
    let file = File::open(path).map_err(err)?;
    let mut buffered =
        BufReader::with_capacity(1 << 16, Counting { inner: file, count: bytes_read });
    let gz = buffered.fill_buf().map_err(err)?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(buffered)))
    } else {
        Box::new(buffered)
    })
}

/// Guesses format and delimiter from the file name (`.gz` stripped).
pub fn detect(path: &Path) -> (Format, Delimiter) {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".jsonl") || name.ends_with(".ndjson") || name.ends_with(".json") {
        (Format::Jsonl, Delimiter::Byte(b','))
    } else if name.ends_with(".tsv") || name.ends_with(".tab") {
        (Format::Delimited, Delimiter::Byte(b'\t'))
    } else {
        (Format::Delimited, Delimiter::Byte(b','))
    }
}

/// A source of raw rows with a header (column names).
pub trait Rows: Send {
    fn header(&self) -> &[String];
    /// The next row; `Err` for a row that cannot be read at all (it becomes a reject).
    fn next_row(&mut self) -> Option<Result<RawRow, (u64, String)>>;
    /// Columns first seen after the header (JSONL objects may add keys).
    fn columns_now(&self) -> &[String] {
        self.header()
    }
}

pub fn rows(
    input: Box<dyn BufRead + Send>,
    format: Format,
    delimiter: Delimiter,
    has_header: bool,
) -> Result<Box<dyn Rows>, IngestError> {
    match (format, delimiter) {
        (Format::Jsonl, _) => {
            Ok(Box::new(JsonlRows { input, line: 0, columns: Vec::new(), buf: String::new() }))
        }
        (Format::Delimited, Delimiter::Whitespace) => {
            WhitespaceRows::new(input, has_header).map(|r| Box::new(r) as _)
        }
        (Format::Delimited, Delimiter::Byte(b)) => {
            CsvRows::new(input, b, has_header).map(|r| Box::new(r) as _)
        }
    }
}

struct CsvRows {
    reader: csv::Reader<Box<dyn BufRead + Send>>,
    header: Vec<String>,
    record: csv::StringRecord,
}

impl CsvRows {
    fn new(
        input: Box<dyn BufRead + Send>,
        delim: u8,
        has_header: bool,
    ) -> Result<CsvRows, IngestError> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delim)
            .has_headers(has_header)
            .flexible(true)
            .from_reader(input);
        let header = if has_header {
            let h = reader.headers().map_err(|e| IngestError::Read(e.to_string()))?;
            // A UTF-8 byte-order mark would otherwise become part of the first column's name.
            h.iter().map(|s| s.trim_start_matches('\u{feff}').trim().to_string()).collect()
        } else {
            Vec::new()
        };
        Ok(CsvRows { reader, header, record: csv::StringRecord::new() })
    }
}

impl Rows for CsvRows {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn next_row(&mut self) -> Option<Result<RawRow, (u64, String)>> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                Some(Ok(RawRow { line, cells: self.record.iter().map(str::to_string).collect() }))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let why = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8 text".to_string(),
                    _ => e.to_string(),
                };
                Some(Err((line, why)))
            }
        }
    }
}

/// Reads the next non-blank line into `buf`, counting lines; `None` at end of input.
fn next_line(
    input: &mut dyn BufRead,
    buf: &mut String,
    line: &mut u64,
) -> Option<Result<(), String>> {
    loop {
        buf.clear();
        *line += 1;
        match input.read_line(buf) {
            Ok(0) => return None,
            Ok(_) if buf.trim().is_empty() => continue,
            Ok(_) => return Some(Ok(())),
            Err(e) => return Some(Err(format!("cannot read the line: {e}"))),
        }
    }
}

struct WhitespaceRows {
    input: Box<dyn BufRead + Send>,
    header: Vec<String>,
    line: u64,
    buf: String,
}

impl WhitespaceRows {
    fn new(
        mut input: Box<dyn BufRead + Send>,
        has_header: bool,
    ) -> Result<WhitespaceRows, IngestError> {
        let mut buf = String::new();
        let mut line = 0;
        let mut header = Vec::new();
        if has_header {
            input.read_line(&mut buf).map_err(|e| IngestError::Read(e.to_string()))?;
            line = 1;
            header = buf.split_whitespace().map(str::to_string).collect();
        }
        Ok(WhitespaceRows { input, header, line, buf })
    }
}

impl Rows for WhitespaceRows {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn next_row(&mut self) -> Option<Result<RawRow, (u64, String)>> {
        Some(match next_line(&mut self.input, &mut self.buf, &mut self.line)? {
            Ok(()) => {
                let cells = self.buf.split_whitespace().map(str::to_string).collect();
                Ok(RawRow { line: self.line, cells })
            }
            Err(why) => Err((self.line, why)),
        })
    }
}

/// JSON Lines: one object per line. Keys become columns as they are first seen.
struct JsonlRows {
    input: Box<dyn BufRead + Send>,
    line: u64,
    columns: Vec<String>,
    buf: String,
}

impl Rows for JsonlRows {
    fn header(&self) -> &[String] {
        &self.columns
    }

    fn next_row(&mut self) -> Option<Result<RawRow, (u64, String)>> {
        Some(match next_line(&mut self.input, &mut self.buf, &mut self.line)? {
            Ok(()) => self.parse_object().map_err(|why| (self.line, why)),
            Err(why) => Err((self.line, why)),
        })
    }
}

impl JsonlRows {
    fn parse_object(&mut self) -> Result<RawRow, String> {
        let value: serde_json::Value = serde_json::from_str(&self.buf)
            .map_err(|e| format!("the line is not valid JSON: {e}"))?;
        let serde_json::Value::Object(obj) = value else {
            return Err("the line is not a JSON object".into());
        };
        let mut cells = vec![String::new(); self.columns.len()];
        for (k, v) in obj {
            let i = match self.columns.iter().position(|c| *c == k) {
                Some(i) => i,
                None => {
                    self.columns.push(k);
                    cells.push(String::new());
                    self.columns.len() - 1
                }
            };
            cells[i] = match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
        }
        Ok(RawRow { line: self.line, cells })
    }
}
