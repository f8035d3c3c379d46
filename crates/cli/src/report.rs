//! `rapport report ...`, `rapport check` and `rapport demo`.

use crate::import::OutputFormat;
use anyhow::{Result, bail};
use clap::Subcommand;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_store::{Counts, Store};

#[derive(Subcommand)]
pub enum Report {
    /// Counts of every entity and reconciled totals.
    Summary {
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
}

pub async fn run(store: &dyn Store, r: Report) -> Result<()> {
    match r {
        Report::Summary { format } => {
            let counts = store.counts().await?;
            print_summary(store.backend(), &counts, format)
        }
    }
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
