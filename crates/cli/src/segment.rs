//! `rapport segment preview "EXPR"`: how many customers a filter selects over the stored
//! company, with a sample of them (see docs/filter-language.md).

use crate::import::OutputFormat;
use anyhow::Result;
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_analytics::segment::{CustomerFrame, compile};
use rapport_core::filter::{Field, parse};
use rapport_reports::segments::{self, Needs};
use rapport_store::Store;
use serde::Serialize;
use std::time::Instant;

#[derive(Subcommand)]
pub enum SegmentCommand {
    /// Count the customers a filter selects now, with the first few of them.
    Preview(PreviewArgs),
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
struct Preview {
    count: usize,
    customers: usize,
    share: f64,
    warnings: Vec<String>,
    sample: Vec<Member>,
    load_ms: u128,
    eval_ms: u128,
}

#[derive(Serialize)]
struct Member {
    id: String,
    name: Option<String>,
    email: Option<String>,
    country: Option<String>,
}

pub async fn run(store: &dyn Store, c: SegmentCommand) -> Result<()> {
    match c {
        SegmentCommand::Preview(a) => preview(store, a).await,
    }
}

async fn preview(store: &dyn Store, a: PreviewArgs) -> Result<()> {
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
    let plan = compile(&filter, &frame.schema());
    let members = plan.eval(&frame, a.now.unwrap_or_else(chrono::Utc::now));
    let eval_ms = started.elapsed().as_millis();
    let count = members.count();
    let p = Preview {
        count,
        customers: frame.len(),
        share: if frame.is_empty() { 0.0 } else { count as f64 / frame.len() as f64 },
        warnings: plan.warnings().iter().map(|w| w.to_string()).collect(),
        sample: members.ones().take(a.limit).map(|row| member(&frame, row)).collect(),
        load_ms,
        eval_ms,
    };
    match a.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&p)?),
        OutputFormat::Table => print_table(&p),
    }
    Ok(())
}

fn member(frame: &CustomerFrame, row: usize) -> Member {
    let text = |f| frame.text(f, row).map(str::to_string);
    Member {
        id: frame.id(row).to_string(),
        name: text(Field::Name),
        email: text(Field::Email),
        country: text(Field::Country),
    }
}

fn print_table(p: &Preview) {
    println!(
        "{} of {} customers ({:.1}%)  load {} ms, evaluate {} ms",
        p.count,
        p.customers,
        p.share * 100.0,
        p.load_ms,
        p.eval_ms
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
