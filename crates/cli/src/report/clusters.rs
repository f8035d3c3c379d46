//! `rapport report clusters`: k-means segments of the buyers.

use super::{ReportFormat, emit, parse_day};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Args;
use rapport_analytics::kmeans;
use rapport_reports::clusters::{self, FeatureSet, Params};
use rapport_store::Store;
use std::io::Write;

#[derive(Args)]
pub struct ClustersArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: ReportFormat,
    /// The day recency and tenure count to (default: the day after the last purchase).
    #[arg(long, value_parser = parse_day)]
    as_of: Option<NaiveDate>,
    /// `rfm` (log recency, frequency, monetary) or `behaviour` (also tenure, events,
    /// interactions, satisfaction, return share).
    #[arg(long, default_value = "rfm", value_parser = FeatureSet::parse)]
    features: FeatureSet,
    /// Number of clusters; without it, k is chosen by --criterion over --k-min..=--k-max.
    #[arg(long)]
    k: Option<usize>,
    #[arg(long, default_value_t = 2)]
    k_min: usize,
    #[arg(long, default_value_t = 10)]
    k_max: usize,
    /// Seeded k-means runs per k; the lowest inertia is kept.
    #[arg(long, default_value_t = 10)]
    restarts: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Customers the silhouette and the gap statistic are computed on (a seeded sample).
    #[arg(long, default_value_t = 10_000)]
    sample: usize,
    /// How k is chosen without --k: `silhouette` (highest mean silhouette) or `gap` (the gap
    /// statistic against 10 uniform reference sets).
    #[arg(long, default_value = "silhouette", value_parser = kmeans::Criterion::parse)]
    criterion: kmeans::Criterion,
    /// Also write the standardised feature matrix (what k-means sees) to this CSV file.
    #[arg(long, value_name = "FILE")]
    features_out: Option<std::path::PathBuf>,
}

pub async fn report(store: &dyn Store, o: &ClustersArgs) -> Result<()> {
    let p = Params {
        features: o.features,
        as_of: o.as_of,
        k: o.k,
        k_min: o.k_min,
        k_max: o.k_max,
        restarts: o.restarts,
        seed: o.seed,
        sample: o.sample,
        criterion: o.criterion,
    };
    let f = clusters::features(store, p.features, p.as_of).await?;
    if let Some(path) = &o.features_out {
        write_features(path, f.names(), &kmeans::standardise(f.data()?))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let out = tokio::task::spawn_blocking(move || clusters::cluster(&f, &p)).await??;
    let mut header = vec!["cluster", "customers", "share", "label"];
    // The columns are centroids in the features' own units (days, orders, money), so the
    // `log_` of the standardised features' names would mislead.
    header.extend(out.features.iter().map(|n| n.strip_prefix("log_").unwrap_or(n)));
    let rows = out
        .clusters
        .iter()
        .zip(&out.centroids_raw)
        .map(|(c, raw)| {
            let mut row =
                vec![c.cluster.to_string(), c.size.to_string(), format!("{:.3}", c.share)];
            row.push(c.label.clone());
            row.extend(raw.iter().map(|v| format!("{v:.2}")));
            row
        })
        .collect();
    if o.format == ReportFormat::Table {
        let how = out.chosen.as_ref().map_or(String::from("k given"), |c| c.rule.clone());
        println!(
            "{} buyers as of {}, k = {} ({how}); inertia {:.1} on standardised features; \
             centroids in the features' own units:",
            out.customers, out.as_of, out.k, out.inertia
        );
    }
    emit(o.format, &out, &header, rows)
}

/// The standardised matrix as CSV, one row per buyer, the feature names as header.
fn write_features(path: &std::path::Path, names: &[&str], z: &kmeans::Standardised) -> Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "{}", names.join(","))?;
    for row in z.values.chunks_exact(z.d) {
        // `{}` prints the shortest text that parses back to the same f64.
        let cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        writeln!(w, "{}", cells.join(","))?;
    }
    w.flush()?;
    Ok(())
}
