//! `rapport webhook add|list|revoke`: the sources allowed to call the inbound webhooks.

use crate::import::OutputFormat;
use anyhow::Result;
use clap::Subcommand;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_core::access::{HookKind, SourceName};
use rapport_server::hooks;
use rapport_store::Backend;

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Add a source. Its signing secret is printed once and cannot be shown again.
    Add {
        /// feedback or tickets.
        #[arg(long)]
        kind: String,
        /// The source's name, the last part of its URL: 1 to 64 of a-z, 0-9, _ and -.
        #[arg(long)]
        source: String,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// List sources (never their secrets).
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Revoke a source; its deliveries are refused from now on.
    Revoke { kind: String, source: String },
}

pub async fn run(db: &dyn Backend, c: WebhookCommand) -> Result<()> {
    match c {
        WebhookCommand::Add { kind, source, format } => add(db, &kind, &source, format).await,
        WebhookCommand::List { format } => list(db, format).await,
        WebhookCommand::Revoke { kind, source } => {
            let kind = HookKind::parse(&kind).map_err(anyhow::Error::msg)?;
            let name = SourceName::parse(&source).map_err(anyhow::Error::msg)?;
            db.revoke_webhook_source(kind, &name, chrono::Utc::now()).await?;
            eprintln!("revoked {kind} source {source}");
            Ok(())
        }
    }
}

async fn add(db: &dyn Backend, kind: &str, source: &str, format: OutputFormat) -> Result<()> {
    let (record, secret) = hooks::create_source(db, kind, source).await?;
    let path = hooks::path(record.kind, &record.name);
    if format == OutputFormat::Json {
        let out = serde_json::json!({
            "id": record.id, "kind": record.kind, "source": record.name, "secret": secret,
            "path": path,
        });
        println!("{out}");
    } else {
        println!("{secret}");
        eprintln!(
            "{} source {}: deliveries go to POST {path}, signed with the secret above \
             (copy it now, it is not shown again)",
            record.kind,
            record.name.as_str()
        );
    }
    Ok(())
}

async fn list(db: &dyn Backend, format: OutputFormat) -> Result<()> {
    let sources = db.webhook_sources().await?;
    if format == OutputFormat::Json {
        println!("{}", serde_json::to_string(&sources)?);
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(["kind", "source", "path", "created", "revoked"]);
    let day = |t: Option<rapport_core::Timestamp>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
    };
    for s in sources {
        t.add_row([
            s.kind.to_string(),
            s.name.as_str().to_string(),
            hooks::path(s.kind, &s.name),
            day(Some(s.created_at)),
            day(s.revoked_at),
        ]);
    }
    println!("{t}");
    Ok(())
}
