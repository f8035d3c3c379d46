//! `rapport report ...` and `rapport check`: reports over the store, printed as a table, JSON or
//! CSV. Lifetime value (`clv`) and satisfaction (`satisfaction_report`) have modules of their own.

use crate::import::OutputFormat;
use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_analytics::{retention, rfm, satisfaction};

mod clv;
mod satisfaction_report;

use clv::ClvArgs;
use rapport_core::{CustomerSummary, ExternalId};
use rapport_store::{Counts, Store};
use satisfaction_report::SatisfactionArgs;
use serde::Serialize;

#[derive(Subcommand)]
pub enum Report {
    /// Counts of every entity and reconciled totals.
    Summary {
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// RFM: customers per named segment, or every buyer's scores (`--by-customer`).
    Rfm {
        #[command(flatten)]
        o: ReportArgs,
        /// One row per buyer (id, recency, frequency, monetary, scores, segment).
        #[arg(long)]
        by_customer: bool,
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

pub async fn run(store: &dyn Store, r: Report) -> Result<()> {
    match r {
        Report::Summary { format } => {
            let counts = store.counts().await?;
            print_summary(store.backend(), &counts, format)
        }
        Report::Rfm { o, by_customer } => report_rfm(store, &o, by_customer).await,
        Report::Clv { o } => clv::report(store, &o).await,
        Report::Nps { o } => {
            satisfaction_report::report(store, satisfaction::Scale::Nps, "nps", &o).await
        }
        Report::Csat { o } => {
            satisfaction_report::report(store, satisfaction::Scale::Csat, "csat", &o).await
        }
        Report::Ces { o } => {
            satisfaction_report::report(store, satisfaction::Scale::Ces, "ces", &o).await
        }
        Report::Repeat { o } => {
            let all = all_summaries(store).await?;
            let r = retention::repeat_purchase(all.iter().map(|(_, s)| s));
            let rate = r.rate.map_or(String::new(), |r| format!("{:.4}", r));
            let row = vec![r.buyers.to_string(), r.repeat_buyers.to_string(), rate];
            emit(o.format, &r, &["buyers", "repeat_buyers", "rate"], vec![row])
        }
        Report::Retention { o } => {
            let (purchases, as_of) = purchases(store, o.as_of).await?;
            let cohorts = retention::cohorts(purchases, as_of);
            let width = cohorts.first().map_or(0, |c| c.active.len());
            let mut header = vec!["cohort".to_string(), "customers".to_string()];
            header.extend((0..width).map(|k| format!("m{k}")));
            let rows = cohorts
                .iter()
                .map(|c| {
                    let mut row =
                        vec![c.month.format("%Y-%m").to_string(), c.customers.to_string()];
                    row.extend(c.shares().iter().map(|s| format!("{s:.3}")));
                    row
                })
                .collect();
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            emit(o.format, &Dated { as_of, rows: &cohorts }, &header, rows)
        }
        Report::Churn { o } => {
            let (purchases, as_of) = purchases(store, o.as_of).await?;
            let churn = retention::churn(purchases, as_of);
            let rows = churn
                .iter()
                .map(|c| {
                    let rate = c.rate.map_or(String::new(), |r| format!("{r:.4}"));
                    let month = c.month.format("%Y-%m").to_string();
                    vec![month, c.active_at_start.to_string(), c.churned.to_string(), rate]
                })
                .collect();
            let header = ["month", "active_at_start", "churned", "rate"];
            emit(o.format, &Dated { as_of, rows: &churn }, &header, rows)
        }
    }
}

/// The date of a UTC day number (days since 1970-01-01).
fn date(day: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date") + chrono::Duration::days(day)
}

/// A report's rows with the day they are as of, for JSON.
#[derive(Serialize)]
struct Dated<'a, T: Serialize> {
    as_of: NaiveDate,
    rows: &'a [T],
}

/// Every customer summary, read a page at a time.
async fn all_summaries(store: &dyn Store) -> Result<Vec<(ExternalId, CustomerSummary)>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.summaries(after, 10_000).await?;
        out.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

/// Purchase occasions as (customer, month) pairs, and the as-of day (default: the day of the
/// last purchase, so the last month reported is the last with data).
async fn purchases(
    store: &dyn Store,
    as_of: Option<NaiveDate>,
) -> Result<(Vec<(u64, i32)>, NaiveDate)> {
    let days = store.purchase_days().await?;
    let as_of = match as_of {
        Some(d) => d,
        None => days.iter().map(|p| date(p.day)).max().context("no purchases to report on")?,
    };
    let pairs = days
        .into_iter()
        .map(|p| (p.customer as u64, retention::month_index(date(p.day))))
        .collect();
    Ok((pairs, as_of))
}

async fn report_rfm(store: &dyn Store, o: &ReportArgs, by_customer: bool) -> Result<()> {
    let all = all_summaries(store).await?;
    let summaries: Vec<CustomerSummary> = all.iter().map(|(_, s)| s.clone()).collect();
    let as_of = match o.as_of {
        Some(d) => d,
        None => rfm::default_as_of(&summaries).context("no purchases to report on")?,
    };
    let scores = rfm::rfm(&summaries, as_of);
    if by_customer {
        #[derive(Serialize)]
        struct Row<'a> {
            customer: &'a str,
            #[serde(flatten)]
            rfm: &'a rfm::Rfm,
        }
        let buyers: Vec<Row> = all
            .iter()
            .zip(&scores)
            .filter_map(|((id, _), r)| Some(Row { customer: id.as_str(), rfm: r.as_ref()? }))
            .collect();
        let rows = buyers
            .iter()
            .map(|b| {
                let r = b.rfm;
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
        let header =
            ["customer", "recency_days", "frequency", "monetary", "r", "f", "m", "segment"];
        return emit(o.format, &Dated { as_of, rows: &buyers }, &header, rows);
    }
    #[derive(Serialize)]
    struct SegmentRow {
        segment: &'static str,
        customers: u64,
        share: f64,
        mean_recency_days: f64,
        mean_frequency: f64,
        #[serde(serialize_with = "rfm::decimal")]
        monetary: rapport_core::Money,
    }
    let buyers = scores.iter().flatten().count().max(1) as f64;
    let segments: Vec<SegmentRow> = rfm::Segment::ALL
        .iter()
        .map(|seg| {
            let members: Vec<&rfm::Rfm> =
                scores.iter().flatten().filter(|r| r.segment == *seg).collect();
            let n = members.len().max(1) as f64;
            SegmentRow {
                segment: seg.as_str(),
                customers: members.len() as u64,
                share: members.len() as f64 / buyers,
                mean_recency_days: members.iter().map(|r| r.recency_days as f64).sum::<f64>() / n,
                mean_frequency: members.iter().map(|r| r.frequency as f64).sum::<f64>() / n,
                monetary: members.iter().map(|r| r.monetary).sum(),
            }
        })
        .collect();
    let rows = segments
        .iter()
        .map(|s| {
            vec![
                s.segment.to_string(),
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
    emit(o.format, &Dated { as_of, rows: &segments }, &header, rows)
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
