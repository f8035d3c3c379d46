//! `rapport serve` and `rapport demo`: start the web server (after building the demo company).

use crate::import::OutputFormat;
use crate::report::print_summary;
use anyhow::{Context, Result, bail};
use clap::Args;
use rapport_core::access::{Login, Role};
use rapport_server::outbox::Worker;
use rapport_server::{AppState, Settings, auth};
use rapport_store::{Backend, StoreError};
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "RAPPORT_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Always mark cookies Secure (set this when users reach Rapport over HTTPS).
    #[arg(long, env = "RAPPORT_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Require credentials for /metrics (by default it is open, for a Prometheus scraper).
    #[arg(long, env = "RAPPORT_PRIVATE_METRICS")]
    private_metrics: bool,
    /// Seconds between runs of the feedback analysis job (themes of new items, similar items,
    /// segments); 0 turns it off.
    #[arg(long, env = "RAPPORT_ANALYSIS_EVERY", default_value_t = 30)]
    analysis_every: u64,
    /// With --smtp-url, the server also runs the outbox worker.
    #[command(flatten)]
    mail: crate::outbox::MailArgs,
}

pub async fn run_serve(db: Arc<dyn Backend>, a: ServeArgs) -> Result<()> {
    if db.users().await?.is_empty() {
        eprintln!("No users yet. Create the first admin with:");
        eprintln!("  rapport user add --login you@example.com --role admin");
    }
    serve(db, a).await
}

async fn serve(db: Arc<dyn Backend>, a: ServeArgs) -> Result<()> {
    let settings = Settings {
        secure_cookies: a.secure_cookies,
        public_metrics: !a.private_metrics,
        warm_reports: true,
        analysis_every: (a.analysis_every > 0)
            .then(|| std::time::Duration::from_secs(a.analysis_every)),
        ..Settings::default()
    };
    let worker = match a.mail.settings()? {
        Some(w) => Some(Worker::new(db.clone(), w).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(a.addr)
        .await
        .with_context(|| format!("listening on {}", a.addr))?;
    let addr = listener.local_addr()?;
    eprintln!("Rapport is serving {} data at http://{addr}/ (Ctrl-C stops it)", db.backend());
    tracing::info!(%addr, backend = db.backend(), "serving");
    // One signal stops both: the server finishes its requests, the worker its send.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = worker.map(|w| {
        eprintln!("the outbox worker is sending queued messages");
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            w.run(async move {
                stopped.wait_for(|s| *s).await.ok();
            })
            .await
        })
    });
    let mut server_stopped = stopped;
    let shutdown = async move {
        server_stopped.wait_for(|s| *s).await.ok();
    };
    tokio::spawn(async move {
        shutdown_signal().await;
        stop.send(true).ok();
    });
    rapport_server::launch(AppState::new(db, settings), listener, shutdown).await?;
    if let Some(w) = worker {
        w.await.ok();
    }
    eprintln!("stopped");
    Ok(())
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

#[derive(Args)]
pub struct DemoArgs {
    /// Number of customers.
    #[arg(long, default_value_t = 20_000)]
    customers: usize,
    /// Random seed: the same seed builds the same company.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Build the company and exit instead of serving it.
    #[arg(long)]
    no_serve: bool,
    #[command(flatten)]
    serve: ServeArgs,
}

/// The demo's sign-in. Its password is new on every run and printed, never fixed in code.
pub const DEMO_LOGIN: &str = "demo@rapport.example";

pub async fn run_demo(db: Arc<dyn Backend>, a: DemoArgs) -> Result<()> {
    let demo_login = Login::parse(DEMO_LOGIN).expect("valid login");
    let is_demo = db.user_credentials(&demo_login).await?.is_some();
    let customers = db.counts().await?.customers;
    if customers > 0 && !is_demo {
        bail!(
            "the database already holds customers that are not the demo's; run the demo on another database (e.g. --db demo.db)"
        );
    }
    if customers == 0 {
        let start = std::time::Instant::now();
        let stats = crate::demo::build(db.as_ref(), a.customers, a.seed).await?;
        eprintln!("demo company built in {:.1} s", start.elapsed().as_secs_f64());
        let i = &stats.ideas;
        eprintln!(
            "feedback: {} items given a theme; {} ideas backed by {} linked items; one shipped, \
             {} requesters told, {} not notified",
            i.themed, i.ideas, i.linked, i.told, i.not_notified
        );
        eprintln!("{} saved segments, materialised", stats.segments);
        let (orders, points, redeemed) = stats.loyalty;
        eprintln!(
            "loyalty: {orders} purchases since the launch credited with {points} points; \
             {redeemed} vouchers redeemed"
        );
        let (treated, held, extra) = stats.campaign;
        eprintln!(
            "campaign: {treated} customers sent the finished campaign, {held} held out, \
             {extra} purchases simulated as its effect"
        );
        let [on, risk, off] = stats.scorecard;
        eprintln!("scorecard: {on} goals on track, {risk} at risk, {off} off track");
        print_summary(db.backend(), &db.counts().await?, OutputFormat::Table)?;
    } else {
        eprintln!("the demo company is already in this database ({customers} customers)");
    }
    let password = reset_demo_admin(db.as_ref(), &demo_login).await?;
    if a.no_serve {
        eprintln!("demo sign-in: {DEMO_LOGIN} / {password}");
        return Ok(());
    }
    eprintln!();
    eprintln!(
        "  Open http://{}/ and sign in as {DEMO_LOGIN} with password {password}",
        a.serve.addr
    );
    eprintln!();
    serve(db, a.serve).await
}

/// (Re)creates the demo admin with a fresh random password.
async fn reset_demo_admin(db: &dyn Backend, login: &Login) -> Result<String> {
    match db.remove_user(login).await {
        Ok(()) | Err(StoreError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let password = auth::random_token()[..16].to_string();
    let user = auth::new_user(login.as_str(), "Demo Admin", Role::Admin.as_str(), &password)?;
    db.create_user(user).await?;
    Ok(password)
}
