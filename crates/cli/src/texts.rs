//! Reading texts from a file for the commands that take one (`rapport sentiment`, `rapport
//! themes`, `rapport bench themes`): one text per line, or one column of delimited rows.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::io::Read;
use std::path::PathBuf;

#[derive(Args)]
pub struct TextSource {
    /// The texts: one per line, or delimited rows with the text in the `--column`; `-` reads
    /// standard input.
    pub file: PathBuf,
    /// The column holding the text: a header name, or a 1-based position. Without it, each
    /// line is one text.
    #[arg(long)]
    pub column: Option<String>,
    /// Column delimiter: one character, `tab` or `comma` (default: tab for .tsv and .tab
    /// files, comma otherwise). Tab-separated text is read as it is: quotes are text.
    #[arg(long)]
    pub delimiter: Option<String>,
    /// With `--column`: the first line is data, not column names.
    #[arg(long)]
    pub no_header: bool,
}

impl TextSource {
    /// Every text, in input order.
    pub fn read(&self) -> Result<Vec<String>> {
        Ok(self.read_lines()?.into_iter().map(|(_, t)| t).collect())
    }

    /// Every text with the line it starts on, in input order.
    pub fn read_lines(&self) -> Result<Vec<(u64, String)>> {
        let input = read_input(&self.file)?;
        match &self.column {
            None => Ok((1..).zip(input.lines().map(str::to_string)).collect()),
            Some(column) => self.column_texts(&input, column),
        }
    }

    /// The text of `column` in every data row, in order, with the line the row starts on.
    fn column_texts(&self, input: &str, column: &str) -> Result<Vec<(u64, String)>> {
        let delimiter = match self.delimiter.as_deref() {
            Some(d) => match rapport_ingest::Delimiter::parse(d) {
                Ok(rapport_ingest::Delimiter::Byte(b)) => b,
                _ => bail!("--delimiter: '{d}' is not one character, tab or comma"),
            },
            None => {
                let name = self.file.to_string_lossy().to_lowercase();
                if name.ends_with(".tsv") || name.ends_with(".tab") { b'\t' } else { b',' }
            }
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .quoting(delimiter != b'\t')
            .has_headers(!self.no_header)
            .flexible(true)
            .from_reader(input.as_bytes());
        let index = match column.parse::<usize>() {
            Ok(0) => bail!("--column: positions start at 1"),
            Ok(n) => n - 1,
            Err(_) if self.no_header => {
                bail!(
                    "--column '{column}': a name needs a header line (drop --no-header, or give a position)"
                )
            }
            Err(_) => {
                let header = reader.headers().context("reading the header line")?;
                let names: Vec<&str> =
                    header.iter().map(|h| h.trim_start_matches('\u{feff}').trim()).collect();
                names.iter().position(|h| *h == column).with_context(|| {
                    format!(
                        "--column '{column}': the header has no such column ({})",
                        names.join(", ")
                    )
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
