//! `rapport survey create|list|send|results`.

use crate::import::OutputFormat;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_core::ExternalId;
use rapport_server::api::surveys::{SendIn, audience};
use rapport_server::surveys;
use rapport_store::{Backend, RowOutcome};
use std::io::Write;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum SurveyCommand {
    /// Create a survey from a TOML or JSON file, or replace the definition of the survey with
    /// its id (responses stay).
    Create { file: PathBuf },
    /// List the surveys with their invitations and responses.
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Create one link per customer who consented to surveys and was not invited yet, and
    /// print them as CSV (customer,name,email,link) for a mail tool. Links are shown once.
    Send(SendArgs),
    /// A survey's score, distribution per question and latest comments.
    Results {
        survey: String,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
}

#[derive(Args)]
pub struct SendArgs {
    survey: String,
    /// Every consenting customer.
    #[arg(long, conflicts_with_all = ["country", "customer", "segment", "matching"])]
    all: bool,
    /// Only customers in this country (ISO code).
    #[arg(long)]
    country: Option<String>,
    /// Only these customers (repeatable).
    #[arg(long)]
    customer: Vec<String>,
    /// Only the customers of this RFM segment (champions, loyal, at_risk, ...; as of the day
    /// after the last purchase).
    #[arg(long)]
    segment: Option<String>,
    /// Only the customers a segment filter selects, e.g. 'country = "DE" and orders > 2'
    /// (docs/filter-language.md).
    #[arg(long = "where", value_name = "FILTER")]
    matching: Option<String>,
    /// The address customers reach the server at, for the links.
    #[arg(long, env = "RAPPORT_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    base_url: String,
    /// Write the CSV here instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub async fn run(db: &dyn Backend, c: SurveyCommand) -> Result<()> {
    match c {
        SurveyCommand::Create { file } => create(db, &file).await,
        SurveyCommand::List { format } => list(db, format).await,
        SurveyCommand::Send(args) => send(db, args).await,
        SurveyCommand::Results { survey, format } => results(db, &survey, format).await,
    }
}

async fn create(db: &dyn Backend, file: &PathBuf) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let spec =
        surveys::parse_spec(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let (survey, outcome) =
        surveys::create(db, spec).await.map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let what = match outcome {
        RowOutcome::Inserted => "created",
        RowOutcome::Updated => "updated",
        _ => "unchanged",
    };
    let info = db.survey(&survey.id).await?;
    eprintln!(
        "survey {} {what}: {} question(s); embed page /s/{}; send it with `rapport survey send {} --all`",
        survey.id,
        survey.questions.len(),
        info.embed_token,
        survey.id
    );
    Ok(())
}

async fn list(db: &dyn Backend, format: OutputFormat) -> Result<()> {
    let all = db.surveys().await?;
    if format == OutputFormat::Json {
        println!("{}", serde_json::to_string(&all)?);
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "id",
        "name",
        "kind",
        "invited",
        "responses",
        "last response",
    ]);
    for i in all {
        t.add_row([
            i.survey.id.to_string(),
            i.survey.name,
            i.survey.kind.as_str().to_string(),
            i.invited.to_string(),
            i.responses.to_string(),
            i.last_response_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
        ]);
    }
    println!("{t}");
    Ok(())
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

async fn send(db: &dyn Backend, a: SendArgs) -> Result<()> {
    let id = ExternalId::parse(&a.survey).map_err(|r| anyhow::anyhow!("survey: {r}"))?;
    let body = SendIn {
        all: a.all,
        country: a.country,
        customers: a.customer,
        segment: a.segment,
        matching: a.matching,
    };
    let filter = audience(body).map_err(|e| match e {
        rapport_server::error::ApiError::Invalid { field, reason, .. } if field != "all" => {
            anyhow::anyhow!("--{field}: {reason}")
        }
        _ => anyhow::anyhow!(
            "say who to send to: --all, --country CODE, --segment NAME, --where FILTER or --customer ID"
        ),
    })?;
    let sent = surveys::send(db, &id, &filter, &a.base_url).await?;
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => {
            Box::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    writeln!(out, "customer,name,email,link")?;
    for i in &sent.invited {
        let (name, email) = (i.name.as_deref().unwrap_or(""), i.email.as_deref().unwrap_or(""));
        writeln!(
            out,
            "{},{},{},{}",
            csv_cell(i.customer.as_str()),
            csv_cell(name),
            csv_cell(email),
            i.link
        )?;
    }
    out.flush()?;
    eprintln!(
        "invited {} customers (links expire {}); {} without surveys consent left out; {} invited before",
        sent.invited.len(),
        sent.expires_at.format("%Y-%m-%d"),
        sent.without_consent,
        sent.already_invited
    );
    Ok(())
}

async fn results(db: &dyn Backend, survey: &str, format: OutputFormat) -> Result<()> {
    let id = ExternalId::parse(survey).map_err(|r| anyhow::anyhow!("survey: {r}"))?;
    let r = rapport_reports::survey::results(db, &id).await?;
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string(&r)?),
        OutputFormat::Table => {
            println!(
                "{} ({}): {} responses, {} invited",
                r.name,
                r.kind.as_str(),
                r.responses,
                r.invited
            );
            if let Some(e) = &r.score {
                println!("score {:.1} (95% CI {:.1} to {:.1})", e.score, e.low, e.high);
            }
            for q in &r.questions {
                println!("\n{} ({} answered)", q.prompt, q.answered);
                let mut t = Table::new();
                t.load_preset(UTF8_FULL_CONDENSED);
                for (label, n) in &q.counts {
                    t.add_row([label.clone(), n.to_string()]);
                }
                for c in q.comments.iter().take(10) {
                    let who = c
                        .customer
                        .as_ref()
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "anonymous".into());
                    t.add_row([format!("{} {who}", c.at.format("%Y-%m-%d")), c.text.clone()]);
                }
                println!("{t}");
            }
        }
    }
    Ok(())
}
