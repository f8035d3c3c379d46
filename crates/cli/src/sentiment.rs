//! `rapport sentiment FILE`: one sentiment score per input row, in input order, for scripts
//! and evaluation (`analytics::sentiment`). No database is opened.

use crate::texts::TextSource;
use anyhow::Result;
use clap::{Args, ValueEnum};
use rapport_analytics::sentiment;
use std::io::{BufWriter, Write};

#[derive(Args)]
pub struct SentimentArgs {
    #[command(flatten)]
    source: TextSource,
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
    let texts = args.source.read()?;
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
