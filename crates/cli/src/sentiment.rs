//! `rapport sentiment FILE`: one sentiment score per input row, in input order, for scripts
//! and evaluation (`analytics::sentiment`). No database is opened.

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use rapport_analytics::sentiment;
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;

#[derive(Args)]
pub struct SentimentArgs {
    /// The texts: one per line, or delimited rows with the text in the `--column`; `-` reads
    /// standard input.
    file: PathBuf,
    /// The column holding the text: a header name, or a 1-based position. Without it, each
    /// line is one text.
    #[arg(long)]
    column: Option<String>,
    /// Column delimiter: one character, `tab` or `comma` (default: tab for .tsv and .tab
    /// files, comma otherwise). Tab-separated text is read as it is: quotes are text.
    #[arg(long)]
    delimiter: Option<String>,
    /// With `--column`: the first line is data, not column names.
    #[arg(long)]
    no_header: bool,
    /// `csv`: a `score` header, then one score per line; `jsonl`: {"score": ...} per line.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Jsonl,
}

pub fn run(args: SentimentArgs) -> Result<()> {
    let input = read_input(&args.file)?;
    let texts: Vec<String> = match &args.column {
        None => input.lines().map(str::to_string).collect(),
        Some(column) => column_texts(&input, &args, column)?.into_iter().map(|(_, t)| t).collect(),
    };
    let scores = score_all(&texts);
    let mut out = BufWriter::new(std::io::stdout().lock());
    if let Format::Csv = args.format {
        writeln!(out, "score")?;
    }
    for s in scores {
        match args.format {
            Format::Csv => writeln!(out, "{s}")?,
            Format::Jsonl => writeln!(out, "{{\"score\":{s}}}")?,
        }
    }
    out.flush()?;
    Ok(())
}

fn read_input(path: &PathBuf) -> Result<String> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).context("reading standard input")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    }
    String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()].iter().filter(|&&b| b == b'\n');
        anyhow::anyhow!("{}: line {} is not valid UTF-8 text", path.display(), line.count() + 1)
    })
}

/// The texts of `file` read as `rapport sentiment` reads them (the same flags), each with the
/// line it starts on; for the other commands over a file of texts (`rapport duplicates`).
pub(crate) fn read_texts(
    file: PathBuf,
    column: Option<String>,
    delimiter: Option<String>,
    no_header: bool,
) -> Result<Vec<(u64, String)>> {
    let args = SentimentArgs { file, column, delimiter, no_header, format: Format::Csv };
    let input = read_input(&args.file)?;
    match &args.column {
        None => Ok((1..).zip(input.lines().map(str::to_string)).collect()),
        Some(column) => column_texts(&input, &args, column),
    }
}

/// The text of `column` in every data row, in order, with the line the row starts on.
fn column_texts(input: &str, args: &SentimentArgs, column: &str) -> Result<Vec<(u64, String)>> {
    let delimiter = match args.delimiter.as_deref() {
        Some(d) => match rapport_ingest::Delimiter::parse(d) {
            Ok(rapport_ingest::Delimiter::Byte(b)) => b,
            _ => bail!("--delimiter: '{d}' is not one character, tab or comma"),
        },
        None => {
            let name = args.file.to_string_lossy().to_lowercase();
            if name.ends_with(".tsv") || name.ends_with(".tab") { b'\t' } else { b',' }
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .quoting(delimiter != b'\t')
        .has_headers(!args.no_header)
        .flexible(true)
        .from_reader(input.as_bytes());
    let index = match column.parse::<usize>() {
        Ok(0) => bail!("--column: positions start at 1"),
        Ok(n) => n - 1,
        Err(_) if args.no_header => {
            bail!(
                "--column '{column}': a name needs a header line (drop --no-header, or give a position)"
            )
        }
        Err(_) => {
            let header = reader.headers().context("reading the header line")?;
            let names: Vec<&str> =
                header.iter().map(|h| h.trim_start_matches('\u{feff}').trim()).collect();
            names.iter().position(|h| *h == column).with_context(|| {
                format!("--column '{column}': the header has no such column ({})", names.join(", "))
            })?
        }
    };
    let mut texts = Vec::new();
    for record in reader.records() {
        let record = record.context("reading a row")?;
        let line = record.position().map_or(0, |p| p.line());
        let text = record.get(index).with_context(|| {
            format!("line {line}: no column {} (the row has {})", index + 1, record.len())
        })?;
        texts.push((line, text.to_string()));
    }
    Ok(texts)
}

/// Scores on every core, in input order.
fn score_all(texts: &[String]) -> Vec<f64> {
    let analyzer = sentiment::analyzer();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = texts.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = texts
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|t| analyzer.score(t)).collect::<Vec<_>>()))
            .collect();
        parts.into_iter().flat_map(|p| p.join().expect("scoring does not panic")).collect()
    })
}
