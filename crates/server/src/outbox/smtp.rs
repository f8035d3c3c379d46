//! E-mail over SMTP (lettre), to a relay given as `smtp://[user[:password]@]host[:port]`.
//!
//! Plain SMTP only: the usual deployment hands mail to a relay on the same host or network
//! (Postfix, a provider's local agent), which does TLS to the world. Compiling a TLS stack
//! into the binary for this alone was not worth its build cost yet; `smtps://` is refused with
//! that explanation rather than silently sent in clear.

use super::Delivery;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use rapport_store::OutboxMessage;
use std::time::Duration;
use tokio::net::TcpStream;

/// Where mail goes and whom it is from.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub credentials: Option<(String, String)>,
    pub from: Mailbox,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl SmtpSettings {
    /// Parses `smtp://[user[:password]@]host[:port]` (port 25 by default) and the sender
    /// (`Name <address>` or an address). Errors name the setting at fault.
    pub fn parse(url: &str, from: &str) -> Result<SmtpSettings, String> {
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("mail from: '{from}' is not an e-mail address ({e})"))?;
        let rest = match url.trim().split_once("://") {
            Some(("smtp", rest)) => rest,
            Some(("smtps", _)) => {
                return Err("smtp url: smtps:// (TLS) is not supported; relay through a local \
                            SMTP server (smtp://)"
                    .into());
            }
            _ => return Err(format!("smtp url: '{url}' is not smtp://host[:port]")),
        };
        let rest = rest.trim_end_matches('/');
        let (auth, hostport) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let credentials = auth.map(|a| match a.split_once(':') {
            Some((u, p)) => (u.to_string(), p.to_string()),
            None => (a.to_string(), String::new()),
        });
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => {
                (h, p.parse().map_err(|_| format!("smtp url: port '{p}' is not a number"))?)
            }
            None => (hostport, 25),
        };
        if host.is_empty() || host.contains(['/', '?', '#', ' ']) {
            return Err(format!("smtp url: '{url}' has no host"));
        }
        Ok(SmtpSettings { host: host.to_string(), port, credentials, from })
    }
}

/// Sends e-mail over one fresh SMTP connection per message.
#[derive(Clone)]
pub struct Smtp {
    settings: SmtpSettings,
    hello: ClientId,
    timeout: Duration,
}

impl Smtp {
    /// `timeout` bounds connecting and greeting the server.
    pub fn new(s: &SmtpSettings, timeout: Duration) -> Smtp {
        Smtp { settings: s.clone(), hello: ClientId::default(), timeout }
    }

    /// Sends one e-mail message and judges the outcome (see the module docs of `outbox`).
    pub async fn send(&self, m: &OutboxMessage) -> Delivery {
        let email = match self.build(m) {
            Ok(e) => e,
            Err(e) => return Delivery::Failed(e),
        };
        // Nothing has been sent until the connection is up and the server greeted.
        let mut conn = match self.connect().await {
            Ok(c) => c,
            Err(e) => return Delivery::Retry(e),
        };
        let out = match conn.send(email.envelope(), &email.formatted()).await {
            Ok(_) => Delivery::Sent,
            Err(e) => judge(&e),
        };
        // The outcome is known: saying goodbye must not hold up (or time out) the send.
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), conn.quit()).await;
        });
        out
    }

    /// A connection greeted (EHLO) and, with credentials, authenticated. lettre's own
    /// transport leaves Nagle's algorithm on, and the server's delayed ACK then held every
    /// message's final `.` for 40 ms; this connection sends without delay.
    async fn connect(&self) -> Result<AsyncSmtpConnection, String> {
        let s = &self.settings;
        let at = format!("{}:{}", s.host, s.port);
        let tcp = tokio::time::timeout(self.timeout, TcpStream::connect((s.host.as_str(), s.port)))
            .await
            .map_err(|_| format!("connecting to {at}: timed out"))?
            .map_err(|e| format!("connecting to {at}: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| format!("connecting to {at}: {e}"))?;
        let greet = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello);
        let mut conn = tokio::time::timeout(self.timeout, greet)
            .await
            .map_err(|_| format!("{at} did not greet in time"))?
            .map_err(|e| format!("greeting {at}: {e}"))?;
        if let Some((user, password)) = &s.credentials {
            let c = Credentials::new(user.clone(), password.clone());
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &c)
                .await
                .map_err(|e| format!("signing in to {at} as {user}: {e}"))?;
        }
        Ok(conn)
    }

    fn build(&self, m: &OutboxMessage) -> Result<Message, String> {
        let to = m
            .recipient
            .parse::<Mailbox>()
            .map_err(|e| format!("recipient '{}' is not an e-mail address ({e})", m.recipient))?;
        // A stable Message-ID: a receiving system that sees the same message twice (an
        // operator's requeue) can tell it is one message.
        let host = self.settings.from.email.domain().to_string();
        let id = format!("<rapport.{}.{}@{host}>", m.id, digest(&m.dedupe_key));
        let builder = Message::builder()
            .from(self.settings.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .message_id(Some(id));
        let built = match &m.html {
            Some(html) => {
                builder.multipart(MultiPart::alternative_plain_html(m.body.clone(), html.clone()))
            }
            None => builder.singlepart(SinglePart::plain(m.body.clone())),
        };
        built.map_err(|e| format!("building the e-mail: {e}"))
    }
}

/// A short digest of the dedupe key for the Message-ID (keys may hold any character).
fn digest(key: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(key.as_bytes())[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// 5xx: the server refused for good. 4xx: refused for now. A timeout may have come after the
/// server took the message: unknown. Anything else (no connection, a client-side error before
/// the conversation) did not deliver.
fn judge(e: &lettre::transport::smtp::Error) -> Delivery {
    let text = e.to_string();
    if e.is_permanent() {
        Delivery::Failed(text)
    } else if e.is_transient() {
        Delivery::Retry(text)
    } else if e.is_timeout() {
        Delivery::Unknown(format!("timed out: {text}"))
    } else {
        Delivery::Retry(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_clear_errors() {
        let s =
            SmtpSettings::parse("smtp://127.0.0.1:2525", "Rapport <news@acme.example>").unwrap();
        assert_eq!((s.host.as_str(), s.port, s.credentials), ("127.0.0.1", 2525, None));
        assert_eq!(s.from.email.to_string(), "news@acme.example");
        let s = SmtpSettings::parse("smtp://bot:p%w@mail.local/", "a@b.example").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("mail.local", 25));
        assert_eq!(s.credentials, Some(("bot".into(), "p%w".into())));
        assert!(!format!("{s:?}").contains("p%w"), "no password in Debug");
        for (url, from, needle) in [
            ("smtps://x:465", "a@b.example", "TLS"),
            ("http://x", "a@b.example", "smtp url"),
            ("smtp://x:port", "a@b.example", "port"),
            ("smtp://:25", "a@b.example", "no host"),
            ("smtp://x", "not an address", "mail from"),
        ] {
            let e = SmtpSettings::parse(url, from).unwrap_err();
            assert!(e.contains(needle), "{url}: {e}");
        }
    }
}
