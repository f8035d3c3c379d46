//! `rapport idea create|list|link|status`: feature ideas from the command line, ranked by the
//! same priority as the API and the board.

use crate::import::OutputFormat;
use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_core::ExternalId;
use rapport_core::idea::{Idea, IdeaSpec, IdeaStatus};
use rapport_reports::ideas::{self, Params, SegmentWeights};
use rapport_store::{Actor, Backend, StoreError};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum IdeaCommand {
    /// Create an idea from a TOML or JSON file, or from flags.
    Create(CreateArgs),
    /// Ideas ranked by priority, with RICE beside the score.
    List(ListArgs),
    /// Link feedback items as evidence (their customers thereby asked), or add customers who
    /// asked on their behalf.
    Link {
        id: i64,
        #[arg(long)]
        feedback: Vec<String>,
        #[arg(long)]
        customer: Vec<String>,
        /// With --customer: how they asked.
        #[arg(long)]
        note: Option<String>,
    },
    /// Move an idea to a status: new, planned, in_progress, shipped, declined.
    Status { id: i64, status: String },
}

#[derive(Args)]
pub struct CreateArgs {
    /// A file with `title`, `description`, `kind`, `reach`, `impact`, `confidence`, `effort`,
    /// `events`.
    #[arg(conflicts_with = "title", required_unless_present = "title")]
    file: Option<PathBuf>,
    #[arg(long)]
    title: Option<String>,
    #[arg(long)]
    description: Option<String>,
    /// `new` (a new capability, the default) or `improve` (of an existing feature).
    #[arg(long)]
    kind: Option<String>,
    #[arg(long)]
    reach: Option<u32>,
    /// 0.25, 0.5, 1, 2 or 3.
    #[arg(long)]
    impact: Option<f64>,
    /// Percent, 0-100.
    #[arg(long)]
    confidence: Option<u8>,
    /// Person-weeks.
    #[arg(long)]
    effort: Option<f64>,
    /// A related event name (repeatable): its usage weighs improve ideas.
    #[arg(long = "event")]
    events: Vec<String>,
}

#[derive(Args)]
pub struct ListArgs {
    #[arg(long)]
    status: Option<String>,
    /// A segment's weight, NAME=X (repeatable), over the defaults.
    #[arg(long = "segment-weight")]
    segment_weights: Vec<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

pub async fn run(db: &dyn Backend, c: IdeaCommand) -> Result<()> {
    let who = Actor { by: Some(format!("cli:{}", whoami())), at: Utc::now() };
    match c {
        IdeaCommand::Create(a) => create(db, a, &who).await,
        IdeaCommand::List(a) => list(db, a).await,
        IdeaCommand::Link { id, feedback, customer, note } => {
            for f in &feedback {
                let item = ExternalId::parse(f).map_err(|r| anyhow!("--feedback: {r}"))?;
                let new = db.link_feedback(id, &item, &who).await?;
                eprintln!(
                    "idea {id}: feedback {f} {}",
                    if new { "linked" } else { "was linked already" }
                );
            }
            for c in &customer {
                let cid = ExternalId::parse(c).map_err(|r| anyhow!("--customer: {r}"))?;
                let new = db.add_requester(id, &cid, note.as_deref(), &who).await?;
                eprintln!("idea {id}: customer {c} {}", if new { "added" } else { "updated" });
            }
            if feedback.is_empty() && customer.is_empty() {
                return Err(anyhow!("say what to link: --feedback ID or --customer ID"));
            }
            Ok(())
        }
        IdeaCommand::Status { id, status } => {
            let to = IdeaStatus::parse(&status).map_err(|r| anyhow!("status: {r}"))?;
            let change = db.set_idea_status(id, to, &who).await.map_err(|e| match e {
                StoreError::Invalid(why) => anyhow!("status: {why}"),
                e => e.into(),
            })?;
            eprintln!("idea {id}: {} -> {}", change.from.as_str(), change.to.as_str());
            if to == IdeaStatus::Shipped {
                let told = rapport_server::outbox::announce::shipped(db, id, chrono::Utc::now())
                    .await
                    .map_err(|e| anyhow!("telling the requesters: {e}"))?;
                eprintln!(
                    "{} message(s) queued for the outbox, {} told before, {} not notified:",
                    told.queued,
                    told.already,
                    told.not_notified.len()
                );
                for n in &told.not_notified {
                    eprintln!("  {}: {}", n.customer, n.reason);
                }
            }
            Ok(())
        }
    }
}

fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "unknown".into())
}

async fn create(db: &dyn Backend, a: CreateArgs, who: &Actor) -> Result<()> {
    let spec = match &a.file {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            rapport_server::api::ideas::parse_spec(&text)
                .map_err(|e| anyhow!("{}: {e}", file.display()))?
        }
        None => IdeaSpec {
            title: a.title.unwrap_or_default(),
            description: a.description,
            kind: a.kind,
            reach: a.reach,
            impact: a.impact,
            confidence: a.confidence,
            effort: a.effort,
            events: a.events,
        },
    };
    let idea = Idea::parse(spec).map_err(|e| anyhow!("{e}"))?;
    let id = db.create_idea(&idea, who).await?;
    println!("{id}");
    eprintln!("idea {id} created; link evidence with `rapport idea link {id} --feedback ID`");
    Ok(())
}

async fn list(db: &dyn Backend, a: ListArgs) -> Result<()> {
    let mut weights = SegmentWeights::default();
    for w in &a.segment_weights {
        let (name, value) =
            w.split_once('=').ok_or_else(|| anyhow!("--segment-weight: '{w}' is not NAME=X"))?;
        weights.set(name, value).map_err(|r| anyhow!("--segment-weight: {r}"))?;
    }
    let status = a
        .status
        .as_deref()
        .map(IdeaStatus::parse)
        .transpose()
        .map_err(|r| anyhow!("--status: {r}"))?;
    let model = ideas::customer_model(db).await?;
    let ranked = ideas::rank(db, &model, &Params { status, weights, ..Params::default() }).await?;
    if a.format == OutputFormat::Json {
        println!("{}", serde_json::to_string(&ranked)?);
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "#",
        "id",
        "title",
        "status",
        "score",
        "customers",
        "evidence",
        "RICE",
    ]);
    for r in &ranked {
        t.add_row([
            r.rank.to_string(),
            r.idea.id.to_string(),
            r.idea.idea.title.clone(),
            r.idea.status.as_str().to_string(),
            format!("{:.1}", r.score),
            r.idea.requesters.to_string(),
            r.idea.evidence.to_string(),
            r.rice.map(|v| format!("{v:.1}")).unwrap_or_default(),
        ]);
    }
    println!("{t}");
    Ok(())
}
