//! `rapport campaign create|list|send|results|delete|bench`: campaigns from the command line,
//! through the same operations as the API and the pages (`rapport_server::campaigns`).

use crate::import::OutputFormat;
use anyhow::{Context, Result};
use chrono::Utc;
use clap::Subcommand;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_core::campaign::CampaignSpec;
use rapport_reports::campaigns::{Comparison, Stage, results};
use rapport_reports::recommend::catalogue;
use rapport_reports::saved_segments;
use rapport_reports::segments::{Needs, keyed_frame};
use rapport_server::campaigns;
use rapport_store::Backend;
use std::time::Instant;

#[derive(Subcommand)]
pub enum CampaignCommand {
    /// Create a draft campaign (templates and segment are checked).
    Create {
        #[arg(long)]
        name: String,
        /// A saved segment's slug or a filter expression (docs/filter-language.md).
        #[arg(long)]
        segment: String,
        /// `email` or `webhook:<source>`.
        #[arg(long, default_value = "email")]
        channel: String,
        /// The subject (a minijinja template).
        #[arg(long)]
        subject: String,
        /// A file with the plain-text body (minijinja: name, first_name, points, tier,
        /// recommendations, campaign).
        #[arg(long)]
        text_file: std::path::PathBuf,
        /// A file with the HTML body (auto-escaped).
        #[arg(long)]
        html_file: Option<std::path::PathBuf>,
        /// `purchase`, `retention`, `revenue` or `clv_change`.
        #[arg(long, default_value = "purchase")]
        goal: String,
        #[arg(long, default_value_t = 30)]
        goal_days: u32,
        /// The share held out, 0 to 0.5.
        #[arg(long, default_value_t = 0.1)]
        holdout: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    List,
    /// Send a draft: consent checked per customer, holdout drawn, messages queued in the
    /// outbox (delivered by `rapport serve` or `rapport outbox run`).
    Send {
        id: i64,
    },
    /// Treatment against holdout on the goal, overall and per RFM segment.
    Results {
        id: i64,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Delete a draft.
    Delete {
        id: i64,
    },
    /// Time preparing a launch (customers read, consent, holdout, personalisation) for a
    /// segment, without sending: a draft is created, prepared and deleted.
    Bench {
        #[arg(long, default_value = "orders >= 0")]
        segment: String,
    },
}

pub async fn run(db: &dyn Backend, command: CampaignCommand) -> Result<()> {
    match command {
        CampaignCommand::Create {
            name,
            segment,
            channel,
            subject,
            text_file,
            html_file,
            goal,
            goal_days,
            holdout,
            seed,
        } => {
            let read = |p: &std::path::Path| {
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
            };
            let spec = CampaignSpec {
                name,
                segment,
                channel,
                subject,
                text: read(&text_file)?,
                html: html_file.as_deref().map(read).transpose()?,
                goal,
                goal_days,
                holdout,
                seed,
            };
            let id = campaigns::create(db, &spec, Utc::now()).await?;
            println!("created campaign {id} (a draft: `rapport campaign send {id}` sends it)");
            Ok(())
        }
        CampaignCommand::List => list(db).await,
        CampaignCommand::Send { id } => send(db, id).await,
        CampaignCommand::Results { id, format } => show(db, id, format).await,
        CampaignCommand::Delete { id } => {
            db.delete_campaign(id).await?;
            println!("deleted draft {id}");
            Ok(())
        }
        CampaignCommand::Bench { segment } => bench(db, &segment).await,
    }
}

async fn list(db: &dyn Backend) -> Result<()> {
    let now = Utc::now();
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["id", "name", "segment", "goal", "stage", "sent", "treatment", "holdout"]);
    for c in db.campaigns().await? {
        let n = c.counts.unwrap_or_default();
        t.add_row([
            c.id.to_string(),
            c.campaign.name.clone(),
            c.campaign.segment.clone(),
            format!("{} in {} days", c.campaign.goal.as_str(), c.campaign.goal_days),
            Stage::of(&c, now).label().to_string(),
            c.sent_at.map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
            n.treatment.to_string(),
            n.holdout.to_string(),
        ]);
    }
    println!("{t}");
    Ok(())
}

/// Reads the customers for a campaign's segment, with the models (RFM and CLV at launch).
pub(crate) async fn frame(
    db: &dyn Backend,
    segment: &str,
) -> Result<rapport_reports::segments::KeyedFrame> {
    let filter = saved_segments::resolve(db, segment, "segment").await?;
    Ok(keyed_frame(db, &Needs::all(Needs::of(&filter).events)).await?)
}

async fn send(db: &dyn Backend, id: i64) -> Result<()> {
    let c = db.campaign(id).await?;
    let kf = frame(db, &c.campaign.segment).await?;
    let cat = catalogue(db).await?;
    let l = campaigns::launch(db, &kf, cat.as_ref(), id, Utc::now()).await?;
    let n = l.counts;
    println!(
        "campaign {id} sent: {} in the segment, {} without marketing consent, {} without an address; {} in the treatment ({} messages queued), {} held out",
        n.segment, n.no_consent, n.no_address, n.treatment, l.queued, n.holdout
    );
    if let Some(r) = l.first_refusal {
        println!("{} messages refused by the outbox, e.g.: {r}", l.refused);
    }
    Ok(())
}

async fn show(db: &dyn Backend, id: i64, format: OutputFormat) -> Result<()> {
    let r = results(db, id, Utc::now()).await?;
    if let OutputFormat::Json = format {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    let c = &r.campaign.campaign;
    println!("{} ({}): {} within {} days", c.name, r.stage.label(), c.goal.label(), c.goal_days);
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["group", "treatment", "holdout", "n (t/h)", "lift", "95% CI", "relative", "p"]);
    for cmp in r.overall.iter().chain(&r.by_segment) {
        t.add_row(row(cmp));
    }
    println!("{t}");
    Ok(())
}

fn row(c: &Comparison) -> Vec<String> {
    let group = c.segment.clone().unwrap_or_else(|| "all".into());
    let n = format!("{}/{}", c.treatment, c.holdout);
    let Some(l) = &c.lift else {
        return vec![
            group,
            "-".into(),
            "-".into(),
            n,
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
        ];
    };
    vec![
        group,
        format!("{:.4}", l.treatment.value),
        format!("{:.4}", l.control.value),
        n,
        format!("{:+.4}", l.absolute),
        format!("[{:+.4}, {:+.4}]", l.ci_low, l.ci_high),
        l.relative.map_or("-".into(), |r| format!("{:+.1}%", r * 100.0)),
        if l.p_value < 1e-4 { "< 0.0001".into() } else { format!("{:.4}", l.p_value) },
    ]
}

async fn bench(db: &dyn Backend, segment: &str) -> Result<()> {
    let spec = CampaignSpec {
        name: "bench (deleted afterwards)".into(),
        segment: segment.into(),
        channel: "email".into(),
        subject: "{{ first_name or \"Hello\" }}, something for you".into(),
        text: "Hello {{ name or \"there\" }},\n{% if points %}You have {{ points }} points ({{ tier }}).\n{% endif %}Thank you.\n".into(),
        html: Some("<p>Hello {{ name or \"there\" }},</p>{% if points %}<p>You have {{ points }} points ({{ tier }}).</p>{% endif %}".into()),
        goal: "purchase".into(),
        goal_days: 30,
        holdout: 0.1,
        seed: 1,
    };
    let id = campaigns::create(db, &spec, Utc::now()).await?;
    let started = Instant::now();
    let kf = frame(db, segment).await;
    let read = started.elapsed();
    let prepared = match kf {
        Ok(kf) => campaigns::prepare(db, &kf, None, id, Utc::now()).await.map_err(Into::into),
        Err(e) => Err(e),
    };
    let total = started.elapsed();
    db.delete_campaign(id).await?;
    let l = prepared?;
    println!(
        "campaign bench: {} customers in the segment, {} treatment messages rendered, {} held out, {} without consent",
        l.counts.segment,
        l.messages.len(),
        l.counts.holdout,
        l.counts.no_consent
    );
    println!(
        "customers read (with models): {:.2} s; audience + loyalty + rendering: {:.2} s; total {:.2} s",
        read.as_secs_f64(),
        (total - read).as_secs_f64(),
        total.as_secs_f64()
    );
    Ok(())
}
