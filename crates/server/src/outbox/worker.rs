//! The outbox worker: claim → send → mark, one message at a time ([`Worker::run_next`]), in a
//! loop with a poll interval ([`Worker::run`]) or until nothing is due ([`Worker::drain`]).
//!
//! A send is bounded by the send timeout; a claim older than twice that was left by a worker
//! that died (a live one has marked it by then), so every worker turns such claims into
//! `unknown` when it starts and whenever it finds the queue idle. Several workers (the server's
//! and a standalone `rapport outbox work`) can share one queue.

use super::{Delivery, Smtp, SmtpSettings, webhook};
use chrono::Utc;
use rapport_store::{
    Backend, OutboxChannel, OutboxMessage, OutboxStatus, RetryPolicy, StoreError, StoreResult,
    Unsent,
};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How the worker sends and paces itself.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub smtp: SmtpSettings,
    /// How long to wait when nothing is due.
    pub poll: Duration,
    /// The longest one send may take; past it an e-mail is `unknown`, a webhook retried.
    pub send_timeout: Duration,
    pub retry: RetryPolicy,
}

impl WorkerSettings {
    pub fn new(smtp: SmtpSettings) -> WorkerSettings {
        WorkerSettings {
            smtp,
            poll: Duration::from_secs(5),
            send_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }
}

/// A message whose customer was erased while it was being sent is gone with them: nothing is
/// left to mark, and that is no reason to stop the worker.
fn erased_meanwhile(m: &OutboxMessage, r: StoreResult<()>) -> StoreResult<()> {
    match r {
        Err(StoreError::NotFound(_)) => {
            tracing::info!(
                id = m.id,
                "outbox: the message was erased with its customer during the send"
            );
            Ok(())
        }
        other => other,
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    /// Nothing was due.
    Empty,
    /// One message was attempted and ended in this status.
    Done(i64, OutboxStatus),
}

/// Totals of a drain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    pub attempted: u64,
    pub sent: u64,
    pub recovered: u64,
}

pub struct Worker {
    db: Arc<dyn Backend>,
    smtp: Smtp,
    http: reqwest::Client,
    settings: WorkerSettings,
}

impl Worker {
    pub fn new(db: Arc<dyn Backend>, settings: WorkerSettings) -> Result<Worker, String> {
        let http = reqwest::Client::builder()
            .timeout(settings.send_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("rapport/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("webhook client: {e}"))?;
        let smtp = Smtp::new(&settings.smtp, settings.send_timeout);
        Ok(Worker { db, smtp, http, settings })
    }

    /// Claims left `sending` by a dead worker become `unknown`; returns how many.
    pub async fn recover(&self) -> StoreResult<u64> {
        let grace = chrono::Duration::from_std(self.settings.send_timeout * 2).unwrap_or_default();
        let n = self.db.recover_abandoned(Utc::now() - grace).await?;
        if n > 0 {
            tracing::warn!(
                messages = n,
                "outbox: sends abandoned by a stopped worker are now unknown (not resent; see `rapport outbox status`)"
            );
            metrics::counter!("rapport_outbox_abandoned_total").increment(n);
        }
        Ok(n)
    }

    /// Claims the next due message, sends it and records the outcome.
    pub async fn run_next(&self) -> StoreResult<Ran> {
        let Some(m) = self.db.claim_next(Utc::now()).await? else {
            return Ok(Ran::Empty);
        };
        let started = std::time::Instant::now();
        let delivery = self.send(&m).await;
        let status = self.record(&m, delivery).await?;
        let channel = m.channel.as_str();
        metrics::counter!("rapport_outbox_attempts_total", "channel" => channel, "status" => status.as_str())
            .increment(1);
        metrics::histogram!("rapport_outbox_send_seconds", "channel" => channel)
            .record(started.elapsed().as_secs_f64());
        Ok(Ran::Done(m.id, status))
    }

    async fn send(&self, m: &OutboxMessage) -> Delivery {
        let send = async {
            match m.channel {
                OutboxChannel::Email => self.smtp.send(m).await,
                OutboxChannel::Webhook => webhook::send(&self.http, self.db.as_ref(), m).await,
            }
        };
        match tokio::time::timeout(self.settings.send_timeout, send).await {
            Ok(d) => d,
            // A webhook carries its idempotency key, so it is safe to try again; an e-mail
            // may have been taken by the server: unknown.
            Err(_) if m.channel == OutboxChannel::Webhook => Delivery::Retry("timed out".into()),
            Err(_) => Delivery::Unknown("timed out during the SMTP conversation".into()),
        }
    }

    async fn record(&self, m: &OutboxMessage, d: Delivery) -> StoreResult<OutboxStatus> {
        let now = Utc::now();
        let how = match d {
            Delivery::Sent => {
                erased_meanwhile(m, self.db.mark_sent(m.id, now).await)?;
                tracing::info!(id = m.id, key = %m.dedupe_key, channel = %m.channel, "outbox: sent");
                return Ok(OutboxStatus::Sent);
            }
            Delivery::Retry(e) => self.settings.retry.after_failure(m.attempts, now, e),
            Delivery::Failed(e) => Unsent::Failed(e),
            Delivery::Unknown(e) => Unsent::Unknown(e),
        };
        tracing::warn!(id = m.id, key = %m.dedupe_key, attempts = m.attempts, outcome = ?how, "outbox: not sent");
        let status = match &how {
            Unsent::RetryAt(..) => OutboxStatus::Queued,
            Unsent::Failed(_) => OutboxStatus::Failed,
            Unsent::Unknown(_) => OutboxStatus::Unknown,
        };
        erased_meanwhile(m, self.db.mark_unsent(m.id, how).await.map(drop))?;
        Ok(status)
    }

    /// Works until nothing is due (messages waiting for a later retry stay queued).
    pub async fn drain(&self) -> StoreResult<Drained> {
        let mut d = Drained { recovered: self.recover().await?, ..Drained::default() };
        while let Ran::Done(_, status) = self.run_next().await? {
            d.attempted += 1;
            d.sent += u64::from(status == OutboxStatus::Sent);
        }
        // Again at the end: a claim abandoned before this drain may have come of age.
        d.recovered += self.recover().await?;
        Ok(d)
    }

    /// Works until `shutdown` resolves. A send in progress is finished and recorded first:
    /// stopping mid-send would leave the message `unknown`.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        if let Err(e) = self.recover().await {
            tracing::error!(error = %e, "outbox: recovering abandoned sends failed");
        }
        loop {
            let idle = match self.run_next().await {
                Ok(Ran::Done(..)) => false,
                Ok(Ran::Empty) => true,
                Err(e) => {
                    tracing::error!(error = %e, "outbox: store error; retrying after the poll interval");
                    true
                }
            };
            if idle {
                let _ = self.recover().await;
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = tokio::time::sleep(self.settings.poll) => {}
                }
            } else {
                let stop = tokio::select! {
                    biased;
                    _ = &mut shutdown => true,
                    _ = std::future::ready(()) => false,
                };
                if stop {
                    break;
                }
            }
        }
        tracing::info!("outbox worker stopped");
    }
}
