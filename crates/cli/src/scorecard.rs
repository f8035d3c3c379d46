//! `rapport scorecard goal add|list|remove`: the balanced scorecard's goals from the command
//! line, checked by the same rules as the API and the page. `rapport report scorecard`
//! measures them.

use crate::import::OutputFormat;
use anyhow::{Result, anyhow};
use chrono::Utc;
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_analytics::scorecard::{GoalSpec, Metric};
use rapport_reports::scorecard;
use rapport_store::Backend;

#[derive(Subcommand)]
pub enum ScorecardCommand {
    /// The goals: add, list, remove.
    Goal {
        #[command(subcommand)]
        command: GoalCommand,
    },
}

#[derive(Subcommand)]
pub enum GoalCommand {
    /// Add a goal on a metric: nps, csat, ces, retention, churn, repeat_rate, clv, revenue,
    /// orders, active_customers or loyalty_liability.
    Add(AddArgs),
    /// Every goal, by id.
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Remove a goal by id.
    Remove { id: i64 },
}

#[derive(Args)]
pub struct AddArgs {
    metric: String,
    /// In the metric's unit: NPS points, percent (CSAT, retention, churn, repeat rate), the
    /// CES mean, currency units (CLV, revenue), a count, or loyalty points.
    #[arg(long, allow_negative_numbers = true)]
    target: f64,
    /// Who answers for the goal.
    #[arg(long)]
    owner: String,
    /// month or quarter.
    #[arg(long, default_value = "month")]
    period: String,
    /// higher or lower is better (default: lower for churn and loyalty liability, else higher).
    #[arg(long)]
    direction: Option<String>,
    /// How far on the wrong side of the target is still "at risk", in the target's unit
    /// (default: 5% of the target; on a bounded scale at least 1% of the scale).
    #[arg(long)]
    at_risk_margin: Option<f64>,
}

pub async fn run(db: &dyn Backend, c: ScorecardCommand) -> Result<()> {
    let ScorecardCommand::Goal { command } = c;
    match command {
        GoalCommand::Add(a) => add(db, a).await,
        GoalCommand::List { format } => list(db, format).await,
        GoalCommand::Remove { id } => {
            db.delete_goal(id).await?;
            eprintln!("goal {id} removed");
            Ok(())
        }
    }
}

async fn add(db: &dyn Backend, a: AddArgs) -> Result<()> {
    let spec = GoalSpec {
        metric: a.metric,
        target: Some(a.target),
        period: Some(a.period),
        owner: a.owner,
        direction: a.direction,
        at_risk_margin: a.at_risk_margin,
    };
    let goal = spec.check().map_err(|e| anyhow!("{e}"))?;
    let by = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()));
    let made = scorecard::create_goal(db, &goal, Some(&by), Utc::now()).await?;
    println!("{}", made.id);
    eprintln!("goal {} added; see it with `rapport report scorecard`", made.id);
    Ok(())
}

async fn list(db: &dyn Backend, format: OutputFormat) -> Result<()> {
    let goals = db.goals().await?;
    if format == OutputFormat::Json {
        println!("{}", serde_json::to_string(&goals)?);
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "id",
        "metric",
        "target",
        "period",
        "owner",
        "direction",
        "at risk within",
    ]);
    for g in goals {
        let goal = &g.goal;
        let unit = goal.metric.unit();
        t.add_row([
            g.id.to_string(),
            label(goal.metric),
            unit.format(goal.target),
            goal.period.name().to_string(),
            goal.owner.clone(),
            goal.direction.name().to_string(),
            unit.format(goal.at_risk_margin),
        ]);
    }
    println!("{t}");
    Ok(())
}

fn label(m: Metric) -> String {
    format!("{} ({})", m.label(), m.name())
}
