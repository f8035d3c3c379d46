//! `rapport themes FILE`: the recurring topics of a file of texts (`analytics::themes`), the
//! largest first, with their top phrases and most central texts. No database is opened.

use crate::texts::TextSource;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use rapport_analytics::themes::{self, Discovery, ThemeParams, ValidThemeParams};
use std::io::{BufWriter, Write};

#[derive(Args)]
pub struct ThemesArgs {
    #[command(flatten)]
    pub source: TextSource,
    #[command(flatten)]
    pub tuning: Tuning,
    /// `table`: the themes as text for reading; `json`: every theme found, with its phrases
    /// and examples.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Themes listed (the largest).
    #[arg(long, default_value_t = 10)]
    top: usize,
}

/// The discovery parameters a command line may change.
#[derive(Args)]
pub struct Tuning {
    /// Most themes to look for (small ones are dissolved, so fewer may come out).
    #[arg(long, default_value_t = ThemeParams::default().themes)]
    themes: usize,
    /// Example texts per theme.
    #[arg(long, default_value_t = ThemeParams::default().examples)]
    examples: usize,
    /// Seed of the clustering's random start.
    #[arg(long, default_value_t = ThemeParams::default().seed)]
    seed: u64,
}

impl Tuning {
    pub fn params(&self) -> Result<ValidThemeParams> {
        let p = ThemeParams {
            themes: self.themes,
            examples: self.examples,
            seed: self.seed,
            ..ThemeParams::default()
        };
        p.check().map_err(|e| anyhow::anyhow!("--{}", e.to_string().replace('_', "-")))
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

/// The non-blank texts and their rows (1-based data rows of the input).
pub fn non_blank(texts: Vec<String>) -> (Vec<String>, Vec<usize>) {
    texts
        .into_iter()
        .enumerate()
        .filter(|(_, t)| !t.trim().is_empty())
        .map(|(i, t)| (t, i + 1))
        .unzip()
}

pub fn run(args: ThemesArgs) -> Result<()> {
    let params = args.tuning.params()?;
    let (texts, rows) = non_blank(args.source.read()?);
    let found = themes::discover(&texts, &params, &[]);
    let mut out = BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Table => table(&mut out, &found, &texts, args.top)?,
        Format::Json => {
            let json = json(&found, &texts, &rows, args.top);
            serde_json::to_writer_pretty(&mut out, &json).context("writing JSON")?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(())
}

fn json(found: &Discovery, texts: &[String], rows: &[usize], top: usize) -> serde_json::Value {
    let assigned = found.assignments.iter().flatten().count();
    let themes: Vec<_> = found
        .model
        .themes()
        .iter()
        .take(top)
        .map(|t| {
            let examples: Vec<_> = t
                .examples
                .iter()
                .map(|&i| serde_json::json!({ "row": rows[i], "text": texts[i] }))
                .collect();
            serde_json::json!({
                "id": t.id,
                "label": t.label,
                "size": t.size,
                "share": t.size as f64 / texts.len().max(1) as f64,
                "phrases": t.phrases,
                "examples": examples,
            })
        })
        .collect();
    serde_json::json!({
        "texts": texts.len(),
        "assigned": assigned,
        "themes_found": found.model.themes().len(),
        "themes": themes,
    })
}

/// A text on one line, at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

fn table(out: &mut impl Write, found: &Discovery, texts: &[String], top: usize) -> Result<()> {
    let n = texts.len().max(1);
    let assigned = found.assignments.iter().flatten().count();
    let all = found.model.themes();
    writeln!(
        out,
        "{} texts, {} themes, {} texts in a theme ({:.1}%)",
        texts.len(),
        all.len(),
        assigned,
        100.0 * assigned as f64 / n as f64
    )?;
    for (rank, t) in all.iter().take(top).enumerate() {
        writeln!(out)?;
        let share = 100.0 * t.size as f64 / n as f64;
        writeln!(
            out,
            "{:>2}. {}  ({} texts, {share:.1}%)  id {}",
            rank + 1,
            t.label,
            t.size,
            t.id
        )?;
        let phrases: Vec<String> =
            t.phrases.iter().map(|p| format!("{} ({})", p.text, p.docs)).collect();
        writeln!(out, "    phrases: {}", phrases.join(", "))?;
        for &i in &t.examples {
            writeln!(out, "    - {}", one_line(&texts[i], 160))?;
        }
    }
    Ok(())
}
