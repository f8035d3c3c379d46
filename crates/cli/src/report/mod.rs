//! `rapport report ...` and `rapport check`: reports over the store, printed as a table, JSON or
//! CSV. Lifetime value (`clv`) and satisfaction (`satisfaction_report`) have modules of their own.

use crate::import::OutputFormat;
use anyhow::{Result, bail};
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_analytics::satisfaction;
use rapport_reports as reports;

mod clusters;
mod clv;
mod health;
mod satisfaction_report;
mod scorecard_report;
mod themes_report;

use clv::ClvArgs;
use rapport_store::{Backend, Counts, Store};
use satisfaction_report::SatisfactionArgs;
use serde::Serialize;

#[derive(Subcommand)]
pub enum Report {
    /// Counts of every entity and reconciled totals.
    Summary {
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// RFM: every buyer's recency, frequency, monetary value, scores and segment, or the
    /// customers per named segment. CSV lists buyers; the table and JSON list segments.
    Rfm {
        #[command(flatten)]
        o: ReportArgs,
        /// One row per buyer, in any format.
        #[arg(long, conflicts_with = "segments")]
        by_customer: bool,
        /// One row per named segment, in any format.
        #[arg(long)]
        segments: bool,
    },
    /// Customers with two or more purchase orders, over customers with one or more.
    Repeat {
        #[command(flatten)]
        o: ReportArgs,
    },
    /// Retention cohorts: share of each first-purchase month's customers buying k months later.
    Retention {
        #[command(flatten)]
        o: ReportArgs,
    },
    /// Monthly churn: last month's buyers who did not buy this month.
    Churn {
        #[command(flatten)]
        o: ReportArgs,
    },
    /// Predictive lifetime value: BG/NBD and Gamma-Gamma fitted on a calibration period, the
    /// expected purchases and discounted value over a horizon, and with `--holdout-end` actual
    /// against predicted purchases in the holdout.
    Clv {
        #[command(flatten)]
        o: ClvArgs,
    },
    /// Customer health (0-100) from recency, P(alive), satisfaction, support load, usage and
    /// purchase trend, and the at-risk customers ordered by value at risk.
    Health {
        #[command(flatten)]
        o: health::HealthArgs,
    },
    /// Net Promoter Score (ratings 0-10 of feedback from source `nps`), with 95% intervals.
    Nps {
        #[command(flatten)]
        o: SatisfactionArgs,
    },
    /// Customer satisfaction (ratings 1-5 of feedback from source `csat`): % of 4s and 5s.
    Csat {
        #[command(flatten)]
        o: SatisfactionArgs,
    },
    /// Customer effort (ratings 1-7 of feedback from source `ces`, higher = easier): the mean.
    Ces {
        #[command(flatten)]
        o: SatisfactionArgs,
    },
    /// Clustered segments: k-means on the buyers' standardised log RFM (`--features rfm`) or
    /// behaviour (`--features behaviour`), with `--k` or k chosen by silhouette.
    Clusters {
        #[command(flatten)]
        o: clusters::ClustersArgs,
    },
    /// The balanced scorecard: every goal's latest complete period against its target, with
    /// its status (on track, at risk, off track) and trend. Goals: `rapport scorecard goal`.
    Scorecard {
        #[command(flatten)]
        o: scorecard_report::ScorecardArgs,
    },
    /// Recurring themes of the feedback texts (found without supervision): size, share,
    /// sentiment, example quotes.
    Themes {
        #[command(flatten)]
        o: themes_report::ThemesArgs,
    },
}

#[derive(Args)]
pub struct ReportArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: ReportFormat,
    /// The day the report is as of (YYYY-MM-DD); default: the day after the last purchase for
    /// RFM, the day of the last purchase for retention and churn.
    #[arg(long, value_parser = parse_day)]
    as_of: Option<NaiveDate>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Csv,
}

fn parse_day(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| format!("'{s}' is not a YYYY-MM-DD date: {e}"))
}

pub async fn run(backend: &dyn Backend, r: Report) -> Result<()> {
    let store: &dyn Store = backend;
    match r {
        Report::Scorecard { o } => scorecard_report::report(backend, &o).await,
        Report::Summary { format } => {
            let counts = store.counts().await?;
            print_summary(store.backend(), &counts, format)
        }
        Report::Rfm { o, by_customer, segments } => {
            let per_buyer = by_customer || (o.format == ReportFormat::Csv && !segments);
            report_rfm(store, &o, per_buyer).await
        }
        Report::Clv { o } => clv::report(store, &o).await,
        Report::Themes { o } => themes_report::report(store, &o).await,
        Report::Clusters { o } => clusters::report(store, &o).await,
        Report::Health { o } => health::report(store, &o).await,
        Report::Nps { o } => satisfaction_report::report(store, satisfaction::Scale::Nps, &o).await,
        Report::Csat { o } => {
            satisfaction_report::report(store, satisfaction::Scale::Csat, &o).await
        }
        Report::Ces { o } => satisfaction_report::report(store, satisfaction::Scale::Ces, &o).await,
        Report::Repeat { o } => {
            let r = reports::retention::repeat(store).await?;
            let rate = r.rate.map_or(String::new(), |r| format!("{:.4}", r));
            let row = vec![r.buyers.to_string(), r.repeat_buyers.to_string(), rate];
            emit(o.format, &r, &["buyers", "repeat_buyers", "rate"], vec![row])
        }
        Report::Retention { o } => {
            let cohorts = reports::retention::cohorts(store, o.as_of).await?;
            let width = cohorts.rows.first().map_or(0, |c| c.active.len());
            let mut header = vec!["cohort".to_string(), "customers".to_string()];
            header.extend((0..width).map(|k| format!("m{k}")));
            let rows = cohorts
                .rows
                .iter()
                .map(|c| {
                    let mut row =
                        vec![c.month.format("%Y-%m").to_string(), c.customers.to_string()];
                    row.extend(c.shares().iter().map(|s| format!("{s:.3}")));
                    row
                })
                .collect();
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            emit(o.format, &cohorts, &header, rows)
        }
        Report::Churn { o } => {
            let churn = reports::retention::churn(store, o.as_of).await?;
            let rows = churn
                .rows
                .iter()
                .map(|c| {
                    let rate = c.rate.map_or(String::new(), |r| format!("{r:.4}"));
                    let month = c.month.format("%Y-%m").to_string();
                    vec![month, c.active_at_start.to_string(), c.churned.to_string(), rate]
                })
                .collect();
            let header = ["month", "active_at_start", "churned", "rate"];
            emit(o.format, &churn, &header, rows)
        }
    }
}

async fn report_rfm(store: &dyn Store, o: &ReportArgs, by_customer: bool) -> Result<()> {
    if by_customer {
        let buyers = reports::rfm::customers(store, o.as_of).await?;
        let rows = buyers
            .rows
            .iter()
            .map(|b| {
                let r = &b.rfm;
                vec![
                    b.customer.to_string(),
                    r.recency_days.to_string(),
                    r.frequency.to_string(),
                    r.monetary.to_string(),
                    r.r.to_string(),
                    r.f.to_string(),
                    r.m.to_string(),
                    r.segment.as_str().to_string(),
                ]
            })
            .collect();
        let header = [
            "customer_external_id",
            "recency_days",
            "frequency",
            "monetary",
            "r_score",
            "f_score",
            "m_score",
            "segment",
        ];
        return emit(o.format, &buyers, &header, rows);
    }
    let segments = reports::rfm::segments(store, o.as_of).await?;
    let rows = segments
        .rows
        .iter()
        .map(|s| {
            vec![
                s.segment.as_str().to_string(),
                s.customers.to_string(),
                format!("{:.3}", s.share),
                format!("{:.1}", s.mean_recency_days),
                format!("{:.2}", s.mean_frequency),
                s.monetary.to_string(),
            ]
        })
        .collect();
    let header =
        ["segment", "customers", "share", "mean_recency_days", "mean_frequency", "monetary"];
    emit(o.format, &segments, &header, rows)
}

/// Prints a report: a table, one JSON object (`json`), or CSV with the same columns as the
/// table.
fn emit(
    format: ReportFormat,
    json: &impl Serialize,
    header: &[&str],
    rows: Vec<Vec<String>>,
) -> Result<()> {
    match format {
        ReportFormat::Json => println!("{}", serde_json::to_string(json)?),
        ReportFormat::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            w.write_record(header)?;
            for mut row in rows {
                // Ragged reports (the cohort triangle) get empty cells, so every record has
                // the header's width.
                row.resize(header.len().max(row.len()), String::new());
                w.write_record(row)?;
            }
            w.flush()?;
        }
        ReportFormat::Table => {
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED).set_header(header.to_vec());
            for row in rows {
                t.add_row(row);
            }
            println!("{t}");
        }
    }
    Ok(())
}

pub fn print_summary(backend: &str, c: &Counts, format: OutputFormat) -> Result<()> {
    if format == OutputFormat::Json {
        println!("{}", serde_json::to_string(c)?);
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(vec!["", "count"]);
    let rows: [(&str, String); 16] = [
        ("customers", c.customers.to_string()),
        ("companies", c.companies.to_string()),
        ("products", c.products.to_string()),
        ("orders", c.orders.to_string()),
        ("  purchases", c.purchase_orders.to_string()),
        ("  returns", c.return_orders.to_string()),
        ("  cancelled", c.cancelled_orders.to_string()),
        ("order lines", c.order_lines.to_string()),
        ("events", c.events.to_string()),
        ("interactions", c.interactions.to_string()),
        ("feedback", c.feedback.to_string()),
        ("consents", c.consents.to_string()),
        ("customers with purchases", c.customers_with_purchases.to_string()),
        ("purchase value", c.purchase_value.to_string()),
        ("  (sum of customer summaries)", c.summarised_purchase_value.to_string()),
        ("return value", c.return_value.to_string()),
    ];
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    println!("Rapport summary ({backend})\n{t}");
    if c.purchase_value != c.summarised_purchase_value {
        eprintln!("warning: summaries do not reconcile with order lines; run `rapport check`");
    }
    Ok(())
}

pub async fn run_check(store: &dyn Store) -> Result<()> {
    let mismatches = store.verify_summaries().await?;
    if mismatches.is_empty() {
        println!("ok: every customer summary equals its recomputation from the raw rows");
        return Ok(());
    }
    for m in mismatches.iter().take(20) {
        eprintln!("{}: stored {:?}\n   recomputed {:?}", m.customer, m.stored, m.recomputed);
    }
    bail!("{} customer summaries differ from their recomputation", mismatches.len())
}
