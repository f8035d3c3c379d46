//! Outbound webhooks: a JSON POST to the source's notify URL, signed with the source's secret
//! exactly as the source signs what it sends us (`X-Rapport-Signature` over
//! `<timestamp>.<body>`, see [`crate::hooks::signature`]), with the message's dedupe key as
//! `Idempotency-Key` so that a receiver can drop a retried delivery it already has.

use super::Delivery;
use crate::hooks::signature::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use rapport_core::access::{HookKind, SourceName};
use rapport_store::{AccessStore, OutboxMessage};
use serde_json::{Value, json};

/// The body of a delivery: the stored payload under `data`, with what a receiver needs to
/// de-duplicate and route it.
pub fn envelope(m: &OutboxMessage) -> Value {
    let data = serde_json::from_str::<Value>(&m.body).unwrap_or(Value::String(m.body.clone()));
    json!({
        "delivery_id": m.id,
        "idempotency_key": m.dedupe_key,
        "topic": m.topic,
        "customer": m.customer,
        "subject": m.subject,
        "data": data,
    })
}

/// Posts one webhook message and judges the outcome: 2xx sent; 408, 429 and 5xx (and no
/// answer) retried; other 4xx failed; a revoked source fails (nothing to sign with).
pub async fn send(http: &reqwest::Client, db: &dyn AccessStore, m: &OutboxMessage) -> Delivery {
    if let Some(why) = unsupported(&m.recipient) {
        return Delivery::Failed(why);
    }
    let Some(secret) = secret(db, m).await else {
        let source = m.source.as_deref().unwrap_or("");
        return Delivery::Failed(format!("webhook source '{source}' is unknown or revoked"));
    };
    let body = match serde_json::to_vec(&envelope(m)) {
        Ok(b) => b,
        Err(e) => return Delivery::Failed(format!("encoding the payload: {e}")),
    };
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let request = http
        .post(&m.recipient)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", &m.dedupe_key)
        .header(TIMESTAMP_HEADER, &timestamp)
        .header(SIGNATURE_HEADER, signature::sign(&secret, &timestamp, &body))
        .body(body);
    match request.send().await {
        Ok(r) => judge(r.status()),
        Err(e) if e.is_builder() => Delivery::Failed(format!("webhook url: {e}")),
        Err(e) => Delivery::Retry(format!("no answer from the webhook: {e}")),
    }
}

/// Why a URL cannot be posted to by this build, if it cannot: no TLS stack is compiled in
/// (see ARCHITECTURE.md), so an `https://` URL would only fail on every retry.
fn unsupported(url: &str) -> Option<String> {
    let https = url.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://"));
    https.then(|| {
        format!(
            "webhook url '{url}': https:// needs TLS, which this build does not include; \
             use http:// (e.g. through a local TLS-terminating proxy)"
        )
    })
}

async fn secret(db: &dyn AccessStore, m: &OutboxMessage) -> Option<String> {
    let name = SourceName::parse(m.source.as_deref()?).ok()?;
    db.webhook_secret(HookKind::Feedback, &name).await.ok().flatten()
}

fn judge(status: reqwest::StatusCode) -> Delivery {
    let code = status.as_u16();
    match code {
        200..=299 => Delivery::Sent,
        408 | 429 | 500..=599 => Delivery::Retry(format!("the webhook answered {status}")),
        _ => Delivery::Failed(format!("the webhook answered {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_urls_are_refused_up_front() {
        assert!(unsupported("HTTPS://h.example/n").unwrap().contains("needs TLS"));
        assert_eq!(unsupported("http://127.0.0.1:8/n"), None);
    }

    #[test]
    fn statuses_are_judged_by_whether_a_retry_can_help() {
        let at = |c: u16| judge(reqwest::StatusCode::from_u16(c).unwrap());
        assert_eq!(at(204), Delivery::Sent);
        for c in [408, 429, 500, 503] {
            assert!(matches!(at(c), Delivery::Retry(_)), "{c}");
        }
        for c in [301, 400, 401, 404, 410] {
            assert!(matches!(at(c), Delivery::Failed(_)), "{c}");
        }
    }
}
