//! Saved segments as tables or JSON: the list, one segment with its history and members, and
//! refreshes.

use crate::import::OutputFormat;
use anyhow::Result;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_reports::saved_segments;
use rapport_store::{Backend, CustomerLabel, SavedSegment, SizePoint};
use serde::Serialize;

pub async fn list(db: &dyn Backend, format: OutputFormat) -> Result<()> {
    let all = db.saved_segments().await?;
    if let OutputFormat::Json = format {
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(());
    }
    if all.is_empty() {
        println!("no saved segments (rapport segment save NAME FILTER)");
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "slug",
        "name",
        "members",
        "refreshed",
        "filter",
    ]);
    for s in &all {
        t.add_row([
            s.slug.clone(),
            s.spec.name.clone(),
            s.size.map_or("-".into(), |n| n.to_string()),
            s.refreshed_at.map_or("never".into(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
            s.spec.expression.clone(),
        ]);
    }
    println!("{t}");
    Ok(())
}

#[derive(Serialize)]
struct Shown {
    #[serde(flatten)]
    segment: SavedSegment,
    history: Vec<SizePoint>,
    members: Vec<Member>,
}

#[derive(Serialize)]
struct Member {
    id: String,
    name: Option<String>,
}

pub async fn show(db: &dyn Backend, slug: &str, limit: usize, format: OutputFormat) -> Result<()> {
    let segment = db.saved_segment(slug).await?;
    let history = db.segment_history(slug).await?;
    let keys = db.segment_member_keys(slug, None, limit).await?.items;
    let labels: Vec<CustomerLabel> =
        if limit == 0 { Vec::new() } else { db.customer_labels(&keys).await? };
    let members = labels
        .into_iter()
        .map(|l| Member { id: l.id.as_str().to_string(), name: l.name })
        .collect();
    let shown = Shown { segment, history, members };
    if let OutputFormat::Json = format {
        println!("{}", serde_json::to_string_pretty(&shown)?);
        return Ok(());
    }
    let s = &shown.segment;
    println!("{} ({})", s.spec.name, s.slug);
    if !s.spec.description.is_empty() {
        println!("{}", s.spec.description);
    }
    println!("filter: {}", s.spec.expression);
    println!("members: {}", s.size.map_or("not materialised yet".into(), |n| n.to_string()));
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(["refreshed", "members", "entered", "left"]);
    for p in &shown.history {
        let at = p.at.format("%Y-%m-%d %H:%M:%S").to_string();
        t.add_row([at, p.size.to_string(), p.entered.to_string(), p.left.to_string()]);
    }
    println!("{t}");
    if !shown.members.is_empty() {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED).set_header(["id", "name"]);
        for m in &shown.members {
            t.add_row([m.id.clone(), m.name.clone().unwrap_or_default()]);
        }
        println!("{t}");
    }
    Ok(())
}

pub async fn refresh(db: &dyn Backend, slugs: Vec<String>, format: OutputFormat) -> Result<()> {
    let only = (!slugs.is_empty()).then_some(slugs.as_slice());
    let start = std::time::Instant::now();
    let done = saved_segments::refresh(db, only, chrono::Utc::now()).await?;
    if let OutputFormat::Json = format {
        println!("{}", serde_json::to_string_pretty(&done)?);
        return Ok(());
    }
    for r in &done {
        match (&r.point, &r.error) {
            (Some(p), _) => {
                println!("{}: {} members (+{} −{})", r.slug, p.size, p.entered, p.left)
            }
            (None, e) => println!("{}: not refreshed: {}", r.slug, e.as_deref().unwrap_or("")),
        }
    }
    eprintln!("{} segments in {:.2} s", done.len(), start.elapsed().as_secs_f64());
    Ok(())
}
