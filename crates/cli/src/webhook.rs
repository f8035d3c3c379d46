//! `rapport webhook add|list|revoke`: the sources allowed to call the inbound webhooks.

use crate::import::OutputFormat;
use anyhow::Result;
use clap::Subcommand;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_core::access::{HookKind, SourceName, parse_notify_url};
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
        /// Where notifications to the customers who wrote through this source are posted
        /// (signed with the same secret).
        #[arg(long)]
        notify_url: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Set, or with --clear remove, the URL a source takes notifications at.
    NotifyUrl {
        kind: String,
        source: String,
        #[arg(required_unless_present = "clear")]
        url: Option<String>,
        #[arg(long, conflicts_with = "url")]
        clear: bool,
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
        WebhookCommand::Add { kind, source, notify_url, format } => {
            add(db, &kind, &source, notify_url.as_deref(), format).await
        }
        WebhookCommand::NotifyUrl { kind, source, url, clear: _ } => {
            let (kind, name) = parse(&kind, &source)?;
            let url =
                url.as_deref().map(parse_notify_url).transpose().map_err(anyhow::Error::msg)?;
            db.set_webhook_notify_url(kind, &name, url.as_deref()).await?;
            if let Some(u) = &url {
                warn_https(u);
            }
            match url {
                Some(u) => eprintln!("{kind} source {source} takes notifications at {u}"),
                None => eprintln!("{kind} source {source} takes no notifications"),
            }
            Ok(())
        }
        WebhookCommand::List { format } => list(db, format).await,
        WebhookCommand::Revoke { kind, source } => {
            let (kind, name) = parse(&kind, &source)?;
            db.revoke_webhook_source(kind, &name, chrono::Utc::now()).await?;
            eprintln!("revoked {kind} source {source}");
            Ok(())
        }
    }
}

/// This build posts webhooks over plain HTTP only (no TLS stack compiled in): say so when an
/// https:// URL is configured, rather than let every notification fail later.
fn warn_https(url: &str) {
    if url.to_ascii_lowercase().starts_with("https://") {
        eprintln!(
            "note: this build posts notifications over http:// only; deliveries to {url} will \
             fail (put a TLS-terminating proxy in front, or use http://)"
        );
    }
}

fn parse(kind: &str, source: &str) -> Result<(HookKind, SourceName)> {
    let kind = HookKind::parse(kind).map_err(|e| anyhow::anyhow!("kind: {e}"))?;
    let name = SourceName::parse(source).map_err(|e| anyhow::anyhow!("source: {e}"))?;
    Ok((kind, name))
}

async fn add(
    db: &dyn Backend,
    kind: &str,
    source: &str,
    notify_url: Option<&str>,
    format: OutputFormat,
) -> Result<()> {
    // Checked before the source is created, so a bad URL creates nothing.
    let notify_url = notify_url
        .map(parse_notify_url)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--notify-url: {e}"))?;
    let (record, secret) = hooks::create_source(db, kind, source).await?;
    if let Some(url) = &notify_url {
        db.set_webhook_notify_url(record.kind, &record.name, Some(url)).await?;
        warn_https(url);
    }
    let path = hooks::path(record.kind, &record.name);
    if format == OutputFormat::Json {
        let out = serde_json::json!({
            "id": record.id, "kind": record.kind, "source": record.name, "secret": secret,
            "path": path, "notify_url": notify_url,
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
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "kind",
        "source",
        "path",
        "notify url",
        "created",
        "revoked",
    ]);
    let day = |t: Option<rapport_core::Timestamp>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
    };
    for s in sources {
        t.add_row([
            s.kind.to_string(),
            s.name.as_str().to_string(),
            hooks::path(s.kind, &s.name),
            s.notify_url.clone().unwrap_or_default(),
            day(Some(s.created_at)),
            day(s.revoked_at),
        ]);
    }
    println!("{t}");
    Ok(())
}
