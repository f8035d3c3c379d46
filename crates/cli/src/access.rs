//! `rapport user add|list|remove` and `rapport apikey create|list|revoke`.

use crate::import::OutputFormat;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_core::access::Login;
use rapport_server::auth;
use rapport_store::Backend;
use std::io::{BufRead, IsTerminal};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is prompted for (or read from stdin when piped).
    Add {
        /// E-mail address used to sign in.
        #[arg(long)]
        login: String,
        #[arg(long, default_value = "")]
        name: String,
        /// admin (manages users and keys), member (changes data) or viewer (reads).
        #[arg(long, default_value = "member")]
        role: String,
    },
    /// List users.
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Remove a user and end their sessions.
    Remove { login: String },
}

#[derive(Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key. The key is printed once and cannot be shown again.
    Create {
        #[arg(long)]
        name: String,
        /// read, write (read + change data) or admin (also manage users and keys).
        #[arg(long, default_value = "read")]
        scope: String,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// List API keys (never the keys themselves).
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Revoke an API key by id; requests with it fail from now on.
    Revoke { id: i64 },
}

fn read_password() -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let p = rpassword::prompt_password("Password (10+ characters): ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if p != again {
            bail!("the passwords differ");
        }
        return Ok(p);
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub async fn run_user(db: &dyn Backend, c: UserCommand) -> Result<()> {
    match c {
        UserCommand::Add { login, name, role } => {
            let password = read_password()?;
            let user = db.create_user(auth::new_user(&login, &name, &role, &password)?).await?;
            eprintln!("added {} ({})", user.login.as_str(), user.role);
        }
        UserCommand::List { format } => {
            let users = db.users().await?;
            if format == OutputFormat::Json {
                println!("{}", serde_json::to_string(&users)?);
                return Ok(());
            }
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED).set_header(["login", "name", "role", "created"]);
            for u in users {
                let created = u.created_at.format("%Y-%m-%d").to_string();
                t.add_row([u.login.as_str().to_string(), u.name, u.role.to_string(), created]);
            }
            println!("{t}");
        }
        UserCommand::Remove { login } => {
            let login = Login::parse(&login).map_err(anyhow::Error::msg)?;
            db.remove_user(&login).await?;
            eprintln!("removed {}", login.as_str());
        }
    }
    Ok(())
}

pub async fn run_apikey(db: &dyn Backend, c: ApiKeyCommand) -> Result<()> {
    match c {
        ApiKeyCommand::Create { name, scope, format } => {
            let (record, key) = auth::create_api_key(db, &name, &scope).await?;
            if format == OutputFormat::Json {
                let out = serde_json::json!({
                    "id": record.id, "key": key, "name": record.name, "scope": record.scope,
                    "prefix": record.prefix,
                });
                println!("{out}");
            } else {
                println!("{key}");
                eprintln!(
                    "API key {} ({} scope, id {}): copy it now, it is not shown again",
                    record.name, record.scope, record.id
                );
            }
        }
        ApiKeyCommand::List { format } => {
            let keys = db.api_keys().await?;
            if format == OutputFormat::Json {
                println!("{}", serde_json::to_string(&keys)?);
                return Ok(());
            }
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED).set_header([
                "id",
                "name",
                "prefix",
                "scope",
                "created",
                "last used",
                "revoked",
            ]);
            let day = |t: Option<rapport_core::Timestamp>| {
                t.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
            };
            for k in keys {
                t.add_row([
                    k.id.to_string(),
                    k.name,
                    k.prefix,
                    k.scope.to_string(),
                    day(Some(k.created_at)),
                    day(k.last_used_at),
                    day(k.revoked_at),
                ]);
            }
            println!("{t}");
        }
        ApiKeyCommand::Revoke { id } => {
            db.revoke_api_key(id, chrono::Utc::now()).await?;
            eprintln!("revoked API key {id}");
        }
    }
    Ok(())
}
