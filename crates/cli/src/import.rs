//! `rapport import` and `rapport export`.

use anyhow::{Context, Result, bail};
use chrono::Datelike;
use clap::builder::TypedValueParser;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rapport_core::Currency;
use rapport_core::record::ParseOptions;
use rapport_ingest::{Delimiter, ExportFormat, Format, ImportOptions, ImportReport};
use rapport_store::{Backend, IngestOptions, Kind, Store};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

const FIELDS_HELP: &str =
    "Canonical fields for --map (a column whose name equals a field maps itself):
  customers:    id name email phone country city birth_year gender signup_at company
                (every other column becomes a typed custom attribute)
  companies:    id name industry size plan mrr
  products:     sku name category price
  orders:       order customer placed_at sku quantity unit_price amount currency status
                (one row per order line; without an order column the order id is derived
                from customer + placed_at; without status a negative quantity is a return)
  events:       id customer name at properties (other columns become properties)
  interactions: id customer channel direction subject body at
  feedback:     id customer order source text rating created_at (order: find the customer by order)
  consents:     id customer purpose granted source at

Every row is accounted for: read = inserted + updated + unchanged + rejected. Rejected rows go
to the rejects file with their line number, field and reason. Re-importing a file changes nothing.";

/// Parses a kind name, listing the kinds in `--help` and in errors.
fn kind_parser() -> impl TypedValueParser<Value = Kind> {
    clap::builder::PossibleValuesParser::new(Kind::ALL.map(Kind::as_str))
        .map(|s| Kind::parse(&s).expect("only listed values get here"))
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Args)]
#[command(after_help = FIELDS_HELP)]
pub struct ImportArgs {
    #[arg(value_parser = kind_parser())]
    kind: Kind,
    file: PathBuf,
    /// Column delimiter: one character, `tab`, or `whitespace` (runs of spaces, e.g. CDNOW).
    #[arg(long)]
    delimiter: Option<String>,
    /// Read JSON Lines (default: by extension .jsonl/.ndjson, otherwise delimited text).
    #[arg(long)]
    jsonl: bool,
    /// The first line is data, not column names (map columns by position).
    #[arg(long)]
    no_header: bool,
    /// field=column, column by name or 1-based position; repeatable.
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    map: Vec<String>,
    /// strftime format of date fields, e.g. %Y%m%d (default: ISO 8601 shapes).
    #[arg(long)]
    date_format: Option<String>,
    /// Do everything, then roll back: report what would happen.
    #[arg(long)]
    dry_run: bool,
    /// Rejected rows file (default: <file name>.rejects.csv in the current directory).
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Reject rows naming unknown customers instead of creating them.
    #[arg(long)]
    no_create_customers: bool,
    /// Currency for orders without a currency column.
    #[arg(long, default_value = "USD")]
    currency: String,
    /// Feedback source for rows without one.
    #[arg(long, default_value = "import")]
    source: String,
    /// Rows per transaction.
    #[arg(long, default_value_t = 20_000)]
    batch: usize,
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

pub async fn run_import(store: &dyn Backend, a: ImportArgs) -> Result<()> {
    let opts = options(&a)?;
    let size = std::fs::metadata(&a.file)
        .with_context(|| format!("cannot read {}", a.file.display()))?
        .len();
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {msg}")
            .expect("valid template"),
    );
    let start = Instant::now();
    let report = rapport_ingest::import(store, &a.file, &opts, |p| {
        bar.set_position(p.bytes);
        let rate = p.rows as f64 / start.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{} rows, {:.0} rows/s", p.rows, rate));
    })
    .await?;
    bar.finish_and_clear();
    print_report(&report, a.format, start.elapsed().as_secs_f64(), a.dry_run)?;
    if !a.dry_run && report.inserted + report.updated > 0 {
        refresh_segments(store).await?;
    }
    Ok(())
}

/// Saved segments follow the data: after an import changed something, their members are
/// materialised again (one read of the customers for all of them).
async fn refresh_segments(store: &dyn Backend) -> Result<()> {
    if store.saved_segments().await?.is_empty() {
        return Ok(());
    }
    let start = Instant::now();
    let done = rapport_reports::saved_segments::refresh(store, None, chrono::Utc::now()).await?;
    for r in &done {
        match (&r.point, &r.error) {
            (Some(p), _) => {
                eprintln!("segment {}: {} members (+{} −{})", r.slug, p.size, p.entered, p.left)
            }
            (None, Some(e)) => eprintln!("segment {}: not refreshed: {e}", r.slug),
            (None, None) => {}
        }
    }
    eprintln!("{} saved segments refreshed in {:.1} s", done.len(), start.elapsed().as_secs_f64());
    Ok(())
}

fn options(a: &ImportArgs) -> Result<ImportOptions> {
    let mut map = Vec::new();
    for m in &a.map {
        map.push(rapport_ingest::parse_map_arg(m).map_err(anyhow::Error::msg)?);
    }
    let delimiter =
        a.delimiter.as_deref().map(Delimiter::parse).transpose().map_err(anyhow::Error::msg)?;
    if a.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let mut parse = ParseOptions::new(chrono::Utc::now().year());
    parse.date_format = a.date_format.clone();
    parse.default_source =
        rapport_core::parse_source(&a.source).map_err(|e| anyhow::anyhow!("--source: {e}"))?;
    let ingest = IngestOptions {
        create_customers: !a.no_create_customers,
        dry_run: a.dry_run,
        bulk: true,
        default_currency: Currency::parse(&a.currency)
            .map_err(|e| anyhow::anyhow!("--currency: {e}"))?,
        create_only: false,
    };
    let rejects = a.rejects.clone().unwrap_or_else(|| {
        let name = a
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "import".into());
        PathBuf::from(format!("{name}.rejects.csv"))
    });
    Ok(ImportOptions {
        kind: a.kind,
        format: a.jsonl.then_some(Format::Jsonl),
        delimiter,
        has_header: !a.no_header,
        map,
        parse,
        ingest,
        rejects,
        batch_rows: a.batch,
    })
}

fn print_report(r: &ImportReport, format: OutputFormat, secs: f64, dry_run: bool) -> Result<()> {
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string(r)?),
        OutputFormat::Table => {
            let note = if dry_run { " (dry run: nothing stored)" } else { "" };
            println!(
                "read {} = inserted {} + updated {} + unchanged {} + rejected {}{note}",
                r.read, r.inserted, r.updated, r.unchanged, r.rejected
            );
            eprintln!("{:.1} s, {:.0} rows/s", secs, r.read as f64 / secs.max(1e-9));
        }
    }
    if let Some(path) = &r.rejects_file {
        eprintln!("{} rejected rows written to {}", r.rejected, path.display());
    }
    Ok(())
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormatArg {
    Csv,
    Jsonl,
}

#[derive(Args)]
pub struct ExportArgs {
    #[arg(value_parser = kind_parser())]
    kind: Kind,
    #[arg(long, value_enum, default_value = "csv")]
    format: ExportFormatArg,
    /// Output file (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub async fn run_export(store: &dyn Store, a: ExportArgs) -> Result<()> {
    let format = match a.format {
        ExportFormatArg::Csv => ExportFormat::Csv,
        ExportFormatArg::Jsonl => ExportFormat::Jsonl,
    };
    let mut out: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let n = rapport_ingest::export(store, a.kind, format, out.as_mut()).await?;
    out.flush()?;
    if let Some(p) = &a.out {
        eprintln!("{n} rows written to {}", p.display());
    }
    Ok(())
}
