//! `rapport outbox work|status|requeue`: the delivery worker run on its own, and the operator's
//! view of the queue.

use crate::import::OutputFormat;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_server::outbox::{SmtpSettings, Worker, WorkerSettings};
use rapport_store::{Backend, OutboxMessage, OutboxQuery, OutboxStatus, RetryPolicy};
use std::sync::Arc;
use std::time::Duration;

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// Send queued messages: until nothing is due (--once) or until stopped.
    Work {
        #[command(flatten)]
        mail: MailArgs,
        /// Stop when nothing is due instead of waiting for more.
        #[arg(long)]
        once: bool,
    },
    /// Messages per status, and the unknown and failed ones (which need an operator).
    Status {
        /// Only this topic (e.g. idea:12).
        #[arg(long)]
        topic: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Queue an unknown or failed message again. For an unknown e-mail, check first that the
    /// customer did not get it: it may have gone out.
    Requeue { id: i64 },
}

/// How the worker reaches the mail relay and paces itself (also used by `rapport serve`).
#[derive(Args, Clone, Debug)]
pub struct MailArgs {
    /// The SMTP relay: smtp://[user[:password]@]host[:port].
    #[arg(long, env = "RAPPORT_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The sender of e-mails: an address or "Name <address>".
    #[arg(long, env = "RAPPORT_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Seconds between looks at the queue when nothing is due.
    #[arg(long, env = "RAPPORT_OUTBOX_POLL", default_value_t = 5.0)]
    pub poll: f64,
    /// Seconds one send may take; a timed-out e-mail is left unknown (never resent).
    #[arg(long, env = "RAPPORT_OUTBOX_SEND_TIMEOUT", default_value_t = 30.0)]
    pub send_timeout: f64,
    /// Attempts per message before it is failed.
    #[arg(long, env = "RAPPORT_OUTBOX_MAX_ATTEMPTS", default_value_t = 8)]
    pub max_attempts: i32,
    /// Seconds before the first retry; each next one waits twice as long, at most an hour.
    #[arg(long, env = "RAPPORT_OUTBOX_RETRY_BASE", default_value_t = 60.0)]
    pub retry_base: f64,
}

fn seconds(name: &str, v: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(v).with_context(|| format!("--{name}: {v} is not a duration"))
}

impl MailArgs {
    /// The worker settings, or `None` when no SMTP relay is configured.
    pub fn settings(&self) -> Result<Option<WorkerSettings>> {
        let Some(url) = &self.smtp_url else { return Ok(None) };
        let from = self.mail_from.as_deref().context(
            "--mail-from (RAPPORT_MAIL_FROM) is required with --smtp-url: the sender of e-mails",
        )?;
        let smtp = SmtpSettings::parse(url, from).map_err(anyhow::Error::msg)?;
        if self.max_attempts < 1 {
            anyhow::bail!("--max-attempts: must be at least 1");
        }
        Ok(Some(WorkerSettings {
            smtp,
            poll: seconds("poll", self.poll)?,
            send_timeout: seconds("send-timeout", self.send_timeout)?,
            retry: RetryPolicy {
                max_attempts: self.max_attempts,
                base: seconds("retry-base", self.retry_base)?,
                ..RetryPolicy::default()
            },
        }))
    }
}

pub async fn run(db: Arc<dyn Backend>, c: OutboxCommand) -> Result<()> {
    match c {
        OutboxCommand::Work { mail, once } => work(db, mail, once).await,
        OutboxCommand::Status { topic, format } => status(db.as_ref(), topic, format).await,
        OutboxCommand::Requeue { id } => {
            db.requeue(id, chrono::Utc::now()).await.with_context(|| format!("requeueing {id}"))?;
            eprintln!("message {id} is queued again");
            Ok(())
        }
    }
}

async fn work(db: Arc<dyn Backend>, mail: MailArgs, once: bool) -> Result<()> {
    let settings = mail.settings()?.context("--smtp-url (RAPPORT_SMTP_URL) is required")?;
    let worker = Worker::new(db, settings).map_err(anyhow::Error::msg)?;
    if once {
        let d = worker.drain().await?;
        eprintln!(
            "outbox: {} attempted, {} sent, {} abandoned sends marked unknown",
            d.attempted, d.sent, d.recovered
        );
        return Ok(());
    }
    eprintln!("outbox worker running (Ctrl-C stops it after the send in progress)");
    worker.run(crate::serve::shutdown_signal()).await;
    Ok(())
}

async fn status(db: &dyn Backend, topic: Option<String>, format: OutputFormat) -> Result<()> {
    let counts = db.outbox_counts(topic.as_deref()).await?;
    let mut attention = Vec::new();
    for status in [OutboxStatus::Unknown, OutboxStatus::Failed] {
        let q = OutboxQuery { topic: topic.clone(), status: Some(status), limit: 1000 };
        attention.extend(db.outbox_messages(&q).await?);
    }
    if format == OutputFormat::Json {
        let out = serde_json::json!({ "counts": counts, "attention": attention });
        println!("{out}");
        return Ok(());
    }
    println!(
        "queued {}  sending {}  sent {}  failed {}  unknown {}",
        counts.queued, counts.sending, counts.sent, counts.failed, counts.unknown
    );
    if !attention.is_empty() {
        println!("{}", attention_table(&attention));
        println!("`rapport outbox requeue ID` sends one again (an unknown one may have gone out).");
    }
    Ok(())
}

fn attention_table(messages: &[OutboxMessage]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "id",
        "status",
        "channel",
        "recipient",
        "topic",
        "attempts",
        "error",
    ]);
    for m in messages {
        t.add_row([
            m.id.to_string(),
            m.status.to_string(),
            m.channel.to_string(),
            m.recipient.clone(),
            m.topic.clone(),
            m.attempts.to_string(),
            m.last_error.clone().unwrap_or_default(),
        ]);
    }
    t
}
