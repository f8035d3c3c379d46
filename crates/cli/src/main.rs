//! `rapport`: the command-line entry point. Thin: parse arguments, open the store, call the
//! command module, print.

mod access;
mod bench;
mod campaign;
mod db;
mod demo;
mod duplicates;
mod idea;
mod import;
mod journey;
mod journey_bench;
mod outbox;
mod persona;
mod recommend;
mod report;
mod scorecard;
mod segment;
mod sentiment;
mod serve;
mod survey;
mod texts;
mod themes;
mod webhook;

// glibc's allocator spent over half of a large import in malloc/free: rows are allocated on the
// reader thread and freed on the writer thread. mimalloc handles that cross-thread pattern well.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "rapport",
    version,
    about = "Rapport: the self-hosted customer-centric product platform"
)]
struct Cli {
    /// Database: a SQLite file path (default ./rapport.db) or a postgres:// URL.
    #[arg(long, global = true, env = "RAPPORT_DB", default_value = "rapport.db")]
    db: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import a file of one kind of record (CSV, TSV, whitespace columns or JSONL; .gz ok).
    Import(import::ImportArgs),
    /// Export every record of one kind as CSV or JSONL (re-importable).
    Export(import::ExportArgs),
    /// Reports.
    Report {
        #[command(subcommand)]
        report: report::Report,
    },
    /// Build a realistic demo company, then serve it (prints the URL and a demo sign-in).
    Demo(serve::DemoArgs),
    /// Serve the web UI and the REST API.
    Serve(serve::ServeArgs),
    /// Manage users who sign in to the web UI.
    User {
        #[command(subcommand)]
        command: access::UserCommand,
    },
    /// Manage API keys.
    Apikey {
        #[command(subcommand)]
        command: access::ApiKeyCommand,
    },
    /// Surveys: create from a file, send (one link per consenting customer), results.
    Survey {
        #[command(subcommand)]
        command: survey::SurveyCommand,
    },
    /// Feature ideas: create, rank by priority (with RICE), link evidence, change status.
    Idea {
        #[command(subcommand)]
        command: idea::IdeaCommand,
    },
    /// Journey maps: stages from first visit to advocacy, with drop-off and its reasons.
    Journey {
        #[command(subcommand)]
        command: journey::JourneyCommand,
    },
    /// Segments by filter: preview how many customers a filter selects (see
    /// docs/filter-language.md).
    Segment {
        #[command(subcommand)]
        command: segment::SegmentCommand,
    },
    Persona {
        #[command(subcommand)]
        command: persona::PersonaCommand,
    },
    /// The balanced scorecard's goals (measured by `rapport report scorecard`).
    Scorecard {
        #[command(subcommand)]
        command: scorecard::ScorecardCommand,
    },
    /// Customer-marketing campaigns: a message to a segment with a random holdout, and the
    /// lift it made on its goal.
    Campaign {
        #[command(subcommand)]
        command: campaign::CampaignCommand,
    },
    /// Manage the sources allowed to call the inbound webhooks (/hooks/...).
    Webhook {
        #[command(subcommand)]
        command: webhook::WebhookCommand,
    },
    /// The outbox of messages to customers: run the delivery worker, see and requeue messages.
    Outbox {
        #[command(subcommand)]
        command: outbox::OutboxCommand,
    },
    /// Apply pending database migrations and exit (they also run at every start).
    Migrate,
    /// Recompute every per-customer summary from the raw rows and report any difference.
    Check,
    /// Score the sentiment of every text in a file (-1..1), one score per row in order (no
    /// database).
    Sentiment(sentiment::SentimentArgs),
    /// Group the near-duplicate texts of a file (MinHash and LSH; no database).
    Duplicates(duplicates::DuplicatesArgs),
    /// Find the recurring topics of the texts in a file (unsupervised), largest first, with
    /// their top phrases and example texts (no database).
    Themes(themes::ThemesArgs),
    /// Recommendations: train the model on the stored purchases, show a customer's, or
    /// evaluate the method on a file of interactions (no database).
    Recommend {
        #[command(subcommand)]
        command: recommend::RecommendCommand,
    },
    /// Time the analytics core on a file (for side-by-side benchmarks; no database).
    Bench {
        #[command(subcommand)]
        bench: bench::Bench,
    },
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RAPPORT_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: logs sent to a file or a collector stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    // Blocking threads run SQLite calls: at most 8 reads at once (the store's pool) and one
    // writer, so a few dozen threads suffice; more would only hold idle stacks and heaps.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(32)
        .enable_all()
        .build()?;
    rt.block_on(run(cli))
}

async fn run(cli: Cli) -> Result<()> {
    // Benchmarks open no database.
    let command = match cli.command {
        Command::Bench { bench } => return bench::run(bench),
        Command::Sentiment(args) => return sentiment::run(args),
        Command::Duplicates(args) => return duplicates::run(args),
        Command::Themes(args) => return themes::run(args),
        Command::Recommend { command: recommend::RecommendCommand::Evaluate(a) } => {
            return recommend::evaluate(a);
        }
        other => other,
    };
    let store = db::open(&cli.db).await?;
    match command {
        Command::Import(args) => import::run_import(store.as_ref(), args).await,
        Command::Export(args) => import::run_export(store.as_ref(), args).await,
        Command::Report { report } => report::run(store.as_ref(), report).await,
        Command::Demo(args) => serve::run_demo(store, args).await,
        Command::Serve(args) => serve::run_serve(store, args).await,
        Command::User { command } => access::run_user(store.as_ref(), command).await,
        Command::Apikey { command } => access::run_apikey(store.as_ref(), command).await,
        Command::Segment { command } => segment::run(store.as_ref(), command).await,
        Command::Persona { command } => persona::run(store.as_ref(), command).await,
        Command::Campaign { command } => campaign::run(store.as_ref(), command).await,
        Command::Webhook { command } => webhook::run(store.as_ref(), command).await,
        Command::Survey { command } => survey::run(store.as_ref(), command).await,
        Command::Idea { command } => idea::run(store.as_ref(), command).await,
        Command::Recommend { command } => recommend::run(store.as_ref(), command).await,
        Command::Journey { command } => journey::run(store.as_ref(), command).await,
        Command::Scorecard { command } => scorecard::run(store.as_ref(), command).await,
        Command::Outbox { command } => outbox::run(store, command).await,
        Command::Migrate => {
            println!("{} database is at the latest schema", store.backend());
            Ok(())
        }
        Command::Check => report::run_check(store.as_ref()).await,
        Command::Bench { .. }
        | Command::Sentiment(_)
        | Command::Duplicates(_)
        | Command::Themes(_) => {
            unreachable!("handled before the store opens")
        }
    }
}
