//! `rapport journey create|list|show|delete|bench`: journey maps from the command line, computed
//! by the same report as the API and the journey page.

use crate::import::OutputFormat;
use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_analytics::journey::{JourneySpec, StageDef};
use rapport_reports::journeys::{self, JourneyReport};
use rapport_store::Backend;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum JourneyCommand {
    /// Create a journey from a TOML or JSON file, or from flags.
    Create(CreateArgs),
    /// Every journey with its stages.
    List,
    /// Compute a journey's map: reach, conversion, drop-off, time, satisfaction, pain points.
    Show {
        id: i64,
        /// Restrict to the customers a filter (docs/filter-language.md) or a saved segment (by
        /// slug) selects, instead of the journey's own segment.
        #[arg(long)]
        segment: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    Delete {
        id: i64,
    },
    /// Fill an empty database with generated funnel data of about `--events` events (a filled
    /// one is used as it is), then time the default journey's computation over it (best of
    /// `--runs`).
    Bench(crate::journey_bench::BenchArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// A file with `name`, `description`, `segment` and `[[stages]]` (`name`, `conditions`).
    #[arg(conflicts_with = "name", required_unless_present = "name")]
    file: Option<PathBuf>,
    #[arg(long)]
    name: Option<String>,
    #[arg(long, default_value = "")]
    description: String,
    /// A filter expression or a saved segment's slug: the journey of that segment's customers.
    #[arg(long)]
    segment: Option<String>,
    /// A stage, in order (repeatable): `NAME=COND | COND`, where COND is `event:NAME[>=N]`,
    /// `purchase[>=N]`, `survey:nps|csat|ces|any[>=RATING]` or `filter:EXPR` (last).
    #[arg(long = "stage")]
    stages: Vec<String>,
}

pub async fn run(db: &dyn Backend, c: JourneyCommand) -> Result<()> {
    match c {
        JourneyCommand::Create(a) => create(db, a).await,
        JourneyCommand::List => list(db).await,
        JourneyCommand::Show { id, segment, format } => {
            let journey = db.journey(id).await?;
            let map = journeys::journey(db, &journey.spec, segment.as_deref(), Utc::now()).await?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string(&map)?),
                OutputFormat::Table => print_map(&journey.spec.name, &map),
            }
            Ok(())
        }
        JourneyCommand::Delete { id } => {
            db.delete_journey(id).await?;
            eprintln!("journey {id} deleted");
            Ok(())
        }
        JourneyCommand::Bench(a) => crate::journey_bench::run(db, a).await,
    }
}

async fn create(db: &dyn Backend, a: CreateArgs) -> Result<()> {
    let spec = match &a.file {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            rapport_server::api::journeys::parse_spec(&text)
                .map_err(|e| anyhow!("{}: {e}", file.display()))?
        }
        None => JourneySpec {
            name: a.name.unwrap_or_default(),
            description: a.description,
            stages: a
                .stages
                .iter()
                .map(|s| StageDef::parse(s))
                .collect::<Result<_, _>>()
                .map_err(|e| anyhow!("--stage: {e}"))?,
            segment: a.segment,
        },
    };
    journeys::check(&spec)?;
    let by = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()));
    let made = db.create_journey(&spec, Some(&by), Utc::now()).await?;
    println!("{}", made.id);
    eprintln!("journey {} created; see it with `rapport journey show {}`", made.id, made.id);
    Ok(())
}

async fn list(db: &dyn Backend) -> Result<()> {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(["id", "name", "stages", "segment"]);
    for j in db.journeys().await? {
        let stages: Vec<&str> = j.spec.stages.iter().map(|s| s.name.as_str()).collect();
        t.add_row([
            j.id.to_string(),
            j.spec.name.clone(),
            stages.join(" → "),
            j.spec.segment.clone().unwrap_or_default(),
        ]);
    }
    println!("{t}");
    Ok(())
}

fn percent(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1}%", 100.0 * v)).unwrap_or_else(|| "–".into())
}

fn print_map(name: &str, map: &JourneyReport) {
    let of = map.segment.as_deref().map(|s| format!(" (segment: {s})")).unwrap_or_default();
    println!("{name}: {} customers{of}", map.population);
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "stage",
        "reached",
        "conversion",
        "dropped",
        "median days",
        "NPS (n)",
        "top pain point",
    ]);
    for s in &map.stages {
        let r = &s.result;
        let nps = r.satisfaction.nps.as_ref();
        let pain = r.pain_points.first();
        t.add_row([
            r.name.clone(),
            r.reached.to_string(),
            percent(r.conversion),
            format!("{} ({})", r.dropped, percent(r.drop_share)),
            r.median_days.map(|d| format!("{d:.1}")).unwrap_or_else(|| "–".into()),
            nps.map(|e| format!("{:+.0} ({})", e.score, e.responses)).unwrap_or_else(|| "–".into()),
            pain.map(|p| format!("{} ({})", p.theme, p.complaints)).unwrap_or_default(),
        ]);
    }
    println!("{t}");
    for s in map.stages.iter().filter(|s| !s.quotes.is_empty()) {
        println!("Dropped before {}:", s.result.name);
        for q in &s.quotes {
            println!("  “{}” — {}", q.text, q.name.as_deref().unwrap_or(q.customer.as_str()));
        }
    }
}
