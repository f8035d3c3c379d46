//! `rapport segment preview "EXPR"`: how many customers a filter selects over the stored
//! company, with a sample of them (see docs/filter-language.md); and saved segments, whose
//! members are materialised with a history of their size (`save`, `list`, `show`, `refresh`,
//! `delete`).

use crate::import::OutputFormat;
use anyhow::Result;
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_core::filter::parse;
use rapport_reports::saved_segments;
use rapport_reports::segments::{self, Needs};
use rapport_store::{Backend, SegmentSpec};
use serde::Serialize;
use std::time::Instant;

mod saved;

#[derive(Subcommand)]
pub enum SegmentCommand {
    /// Count the customers a filter selects now, with the first few of them.
    Preview(PreviewArgs),
    /// Save a segment (or replace a saved one's definition with --replace) and materialise
    /// its members.
    Save(SaveArgs),
    /// The saved segments with their sizes.
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// A saved segment: its definition, size history and first members.
    Show {
        slug: String,
        /// How many members to list.
        #[arg(long, default_value_t = 20)]
        members: usize,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Materialise the members of saved segments again (all without a slug).
    Refresh {
        slugs: Vec<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Delete a saved segment, its members and its history.
    Delete { slug: String },
}

#[derive(Args)]
pub struct SaveArgs {
    /// The segment's name, e.g. "High-value DACH".
    name: String,
    /// The filter, e.g. 'country in ("DE","AT") and clv_predicted > 500'.
    filter: String,
    /// What the segment is for.
    #[arg(long, default_value = "")]
    description: String,
    /// The segment's id in URLs and commands (default: made from the name).
    #[arg(long)]
    slug: Option<String>,
    /// Replace the definition of the saved segment with this slug.
    #[arg(long)]
    replace: bool,
}

#[derive(Args)]
pub struct PreviewArgs {
    /// The filter, e.g. 'country in ("DE","AT") and last_purchase_days < 90'.
    filter: String,
    /// How many members to list.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// The evaluation time of `_days` fields, `age` and event windows (default: now), e.g.
    /// 2024-03-31 or 2024-03-31T14:05:00Z: for data that ends in the past.
    #[arg(long, value_parser = |s: &str| rapport_core::value::parse_timestamp(s, None))]
    now: Option<rapport_core::Timestamp>,
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

#[derive(Serialize)]
struct Timed {
    #[serde(flatten)]
    preview: saved_segments::Preview,
    load_ms: u128,
    eval_ms: u128,
}

pub async fn run(db: &dyn Backend, c: SegmentCommand) -> Result<()> {
    match c {
        SegmentCommand::Preview(a) => preview(db, a).await,
        SegmentCommand::Save(a) => save(db, a).await,
        SegmentCommand::List { format } => saved::list(db, format).await,
        SegmentCommand::Show { slug, members, format } => {
            saved::show(db, &slug, members, format).await
        }
        SegmentCommand::Refresh { slugs, format } => saved::refresh(db, slugs, format).await,
        SegmentCommand::Delete { slug } => {
            db.delete_segment(&slug).await?;
            println!("deleted segment {slug}");
            Ok(())
        }
    }
}

async fn save(db: &dyn Backend, a: SaveArgs) -> Result<()> {
    let spec = SegmentSpec { name: a.name, expression: a.filter, description: a.description };
    let now = chrono::Utc::now();
    let result = match (a.replace, a.slug) {
        (true, Some(slug)) => saved_segments::update(db, &slug, &spec, now).await,
        (true, None) => anyhow::bail!("--replace needs the --slug of the segment to replace"),
        (false, slug) => saved_segments::create(db, slug.as_deref(), &spec, None, now).await,
    };
    let (segment, point) = match result {
        Err(rapport_reports::ReportError::Invalid { field: "expression", reason }) => {
            eprintln!("{reason}");
            std::process::exit(2);
        }
        other => other?,
    };
    println!(
        "saved segment {} ({}): {} members (+{} −{})",
        segment.slug, segment.spec.name, point.size, point.entered, point.left
    );
    Ok(())
}

async fn preview(store: &dyn Backend, a: PreviewArgs) -> Result<()> {
    let filter = match parse(&a.filter) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let frame = segments::frame(store, &Needs::of(&filter)).await?;
    let load_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let now = a.now.unwrap_or_else(chrono::Utc::now);
    let preview = saved_segments::preview(&frame, &filter, now, a.limit);
    let p = Timed { preview, load_ms, eval_ms: started.elapsed().as_millis() };
    match a.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&p)?),
        OutputFormat::Table => print_table(&p),
    }
    Ok(())
}

fn print_table(t: &Timed) {
    let p = &t.preview;
    println!(
        "{} of {} customers ({:.1}%)  load {} ms, evaluate {} ms",
        p.count,
        p.customers,
        p.share * 100.0,
        t.load_ms,
        t.eval_ms
    );
    for w in &p.warnings {
        println!("warning: {w}");
    }
    if p.sample.is_empty() {
        return;
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(["id", "name", "email", "country"]);
    for m in &p.sample {
        let cell = |v: &Option<String>| v.clone().unwrap_or_default();
        t.add_row([m.id.clone(), cell(&m.name), cell(&m.email), cell(&m.country)]);
    }
    println!("{t}");
}
