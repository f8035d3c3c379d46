//! Who may do what: users with roles, API keys with scopes, and the one rule that decides.
//!
//! Secrets never appear here in clear: stores keep password hashes (argon2id, computed by the
//! server) and SHA-256 digests of API keys and session tokens.

use crate::entity::Email;
use crate::value::Timestamp;
use crate::vocabulary::vocabulary;
use serde::Serialize;

vocabulary!(
    /// A person's role. Admins manage users and keys; members change data; viewers read.
    Role {
        Admin = "admin",
        Member = "member",
        Viewer = "viewer",
    }
);

vocabulary!(
    /// What an API key may do, mirroring the roles: read, write (read + change data), admin.
    Scope {
        Read = "read",
        Write = "write",
        Admin = "admin",
    }
);

/// The kinds of action a request performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Permission {
    /// Read customer data and reports.
    Read,
    /// Create, change or delete customer data.
    Write,
    /// Manage users, API keys and settings.
    Manage,
}

impl Role {
    pub fn allows(self, p: Permission) -> bool {
        p <= match self {
            Role::Admin => Permission::Manage,
            Role::Member => Permission::Write,
            Role::Viewer => Permission::Read,
        }
    }
}

impl Scope {
    pub fn allows(self, p: Permission) -> bool {
        p <= match self {
            Scope::Admin => Permission::Manage,
            Scope::Write => Permission::Write,
            Scope::Read => Permission::Read,
        }
    }
}

/// A login name: an e-mail address compared case-insensitively (stored lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Login(String);

impl Login {
    pub fn parse(s: &str) -> Result<Login, String> {
        Ok(Login(Email::parse(s)?.as_str().to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person who signs in to the web UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub login: Login,
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
}

/// A user to create; `password_hash` is a PHC string (argon2id).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: Login,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
}

/// An API key as listed: everything but the secret. `prefix` is the public part of the key that
/// identifies it (shown in lists so people can tell keys apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// An API key to create: `digest` is the hex SHA-256 of the whole key.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub scope: Scope,
    pub prefix: String,
    pub digest: String,
}

vocabulary!(
    /// What an inbound webhook delivers: feedback items, or support tickets (stored as
    /// interactions on the `support` channel).
    HookKind {
        Feedback = "feedback",
        Tickets = "tickets" | "ticket",
    }
);

/// The name of a webhook source, the last segment of its URL: `[a-z0-9_-]{1,64}`. Exact (no
/// case folding or trimming), since it is matched against URL paths.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct SourceName(String);

impl SourceName {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: &str) -> Result<SourceName, String> {
        let ok = (1..=Self::MAX_LEN).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(SourceName(s.to_string()))
        } else {
            Err(format!("'{s}' is not a source name (1 to 64 of a-z, 0-9, _ and -)"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A system allowed to call one inbound webhook, as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookSource {
    pub id: i64,
    pub kind: HookKind,
    pub name: SourceName,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// Where notifications to the customers who wrote through this source are posted
    /// (outbound webhooks, signed with the source's secret); none when unset.
    pub notify_url: Option<String>,
}

/// A source's notify URL: `http://` or `https://` with a host, no spaces or control
/// characters, at most 2,000 characters.
pub fn parse_notify_url(s: &str) -> Result<String, String> {
    let t = s.trim();
    let rest = t.strip_prefix("https://").or_else(|| t.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    let ok = host.is_some_and(|h| !h.is_empty() && !h.starts_with(':'))
        && t.len() <= 2000
        && !t.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(t.to_string()) } else { Err(format!("'{t}' is not an http:// or https:// URL")) }
}

/// A webhook source to create. The secret is kept as is: verifying an HMAC needs the secret
/// itself, so unlike API keys it cannot be stored as a digest.
#[derive(Clone)]
pub struct NewWebhookSource {
    pub kind: HookKind,
    pub name: SourceName,
    pub secret: String,
}

impl std::fmt::Debug for NewWebhookSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewWebhookSource")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A signed-in browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    /// The token forms must echo back (synchroniser-token CSRF protection).
    pub csrf: String,
    pub expires_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_scopes_form_a_ladder() {
        use Permission::*;
        assert!(Role::Viewer.allows(Read) && !Role::Viewer.allows(Write));
        assert!(Role::Member.allows(Write) && !Role::Member.allows(Manage));
        assert!(Role::Admin.allows(Manage));
        assert!(Scope::Read.allows(Read) && !Scope::Read.allows(Write));
        assert!(Scope::Write.allows(Write) && !Scope::Write.allows(Manage));
        assert!(Scope::Admin.allows(Manage));
    }

    #[test]
    fn source_names_are_url_safe_slugs() {
        assert_eq!(SourceName::parse("type-form_2").unwrap().as_str(), "type-form_2");
        for bad in ["", "TypeForm", "a b", "a/b", " x", &"x".repeat(65)] {
            assert!(SourceName::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(HookKind::parse("ticket").unwrap(), HookKind::Tickets);
        assert_eq!(
            parse_notify_url(" https://x.example/h?a=1 ").unwrap(),
            "https://x.example/h?a=1"
        );
        assert!(parse_notify_url("http://127.0.0.1:9/h").is_ok());
        for bad in ["", "ftp://x", "https://", "http:///p", "https://a b", "x.example/h"] {
            assert!(parse_notify_url(bad).is_err(), "{bad:?}");
        }
        let secret = NewWebhookSource {
            kind: HookKind::Feedback,
            name: SourceName::parse("x").unwrap(),
            secret: "whsec_s3cret".into(),
        };
        assert!(!format!("{secret:?}").contains("s3cret"));
    }

    #[test]
    fn logins_compare_case_insensitively() {
        assert_eq!(Login::parse(" Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
        assert!(Login::parse("ann").is_err());
    }
}
