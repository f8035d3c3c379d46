//! `rapport bench ...`: timings of the analytics core on a file, for the side-by-side
//! benchmarks against peer libraries (scripts/bench-bgnbd.sh, scripts/bench-kmeans.sh). No
//! database is opened.

use crate::texts::TextSource;
use crate::themes::Tuning;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use rapport_analytics::bgnbd;
use std::time::Instant;

mod als;

#[derive(Subcommand)]
pub enum Bench {
    /// Fit BG/NBD to a summary CSV (header, then id,frequency,recency,T per customer: the
    /// layout of lifetimes' summary_data_from_transaction_data) and print the best time.
    Bgnbd {
        file: std::path::PathBuf,
        /// Runs; the fastest is reported.
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// Score every text of a VADER ground-truth file (tab separated: id, rating, text) on one
    /// thread and print the best time of the scoring alone, as scripts/peer/vader_score.py
    /// times Python's.
    Sentiment {
        file: std::path::PathBuf,
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// Near-duplicates over a file of texts (the flags of `rapport duplicates`): signatures
    /// per second, the index build from stored bytes and its memory, the lookup of a new
    /// item's duplicates (mean, p95, p99 over held-out texts), grouping the whole file.
    Duplicates(crate::duplicates::BenchArgs),
    /// Discover the themes of the texts in a file (same input flags as `rapport themes`) and
    /// print the best time, then assign every text to the themes found, one at a time on one
    /// thread as a new item would be, and print the mean time per text.
    Themes(ThemesBench),
    /// k-means on a CSV of numeric features (a header row, then one row per point), fitted as
    /// given (`--standardise` to z-score it first): with `--k`, one fit; without, one fit per
    /// k of `--k-min..=--k-max`. Prints inertia, iterations and the fit time as JSON.
    Kmeans(KmeansBench),
    /// ALS training on a seeded synthetic matrix of `--users` × `--items` with
    /// `--interactions` draws, then recommendation requests one at a time: fit seconds and
    /// request percentiles as JSON.
    Als(als::AlsBench),
}

#[derive(Args)]
pub struct KmeansBench {
    file: std::path::PathBuf,
    #[arg(long)]
    k: Option<usize>,
    #[arg(long, default_value_t = 2)]
    k_min: usize,
    #[arg(long, default_value_t = 10)]
    k_max: usize,
    #[arg(long, default_value_t = 10)]
    restarts: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = 300)]
    max_iter: usize,
    #[arg(long, default_value_t = 1e-4)]
    tol: f64,
    /// Z-score every column before fitting.
    #[arg(long)]
    standardise: bool,
    /// Without --k: choose k by --criterion (on a sample of --sample rows) as `report
    /// clusters` does, and time the whole choice.
    #[arg(long, conflicts_with = "k")]
    auto: bool,
    #[arg(long, default_value_t = 10_000)]
    sample: usize,
    /// `silhouette` or `gap`, with --auto.
    #[arg(long, default_value = "silhouette", value_parser = rapport_analytics::kmeans::Criterion::parse)]
    criterion: rapport_analytics::kmeans::Criterion,
}

#[derive(Args)]
pub struct ThemesBench {
    #[command(flatten)]
    source: TextSource,
    #[command(flatten)]
    tuning: Tuning,
    #[arg(long, default_value_t = 1)]
    runs: u32,
}

pub fn run(b: Bench) -> Result<()> {
    match b {
        Bench::Bgnbd { file, runs } => bgnbd(&file, runs),
        Bench::Sentiment { file, runs } => sentiment(&file, runs),
        Bench::Duplicates(args) => crate::duplicates::bench(args),
        Bench::Themes(args) => themes(args),
        Bench::Kmeans(args) => kmeans(&args),
        Bench::Als(args) => als::run(&args),
    }
}

fn themes(args: ThemesBench) -> Result<()> {
    use rapport_analytics::themes;
    let params = args.tuning.params()?;
    let t0 = Instant::now();
    let (texts, _) = crate::themes::non_blank(args.source.read()?);
    let read = t0.elapsed().as_secs_f64();
    let mut best = f64::INFINITY;
    let mut found = None;
    for _ in 0..args.runs.max(1) {
        let t0 = Instant::now();
        found = Some(themes::discover(&texts, &params, &[]));
        best = best.min(t0.elapsed().as_secs_f64());
    }
    let found = found.context("no run")?;
    let t0 = Instant::now();
    let again: Vec<_> = texts.iter().map(|t| found.model.assign(t)).collect();
    let assign = t0.elapsed().as_secs_f64();
    let same = again
        .iter()
        .zip(&found.assignments)
        .filter(|(a, b)| a.map(|a| a.theme) == b.map(|b| b.theme));
    let n = texts.len().max(1) as f64;
    let out = serde_json::json!({
        "texts": texts.len(),
        "read_seconds": read,
        "discovery_seconds": best,
        "texts_per_second": texts.len() as f64 / best,
        "themes": found.model.themes().len(),
        "assigned": found.assignments.iter().flatten().count(),
        "assign_seconds": assign,
        "assign_us_per_text": assign * 1e6 / n,
        "assign_same_as_discovery": same.count() as f64 / n,
    });
    println!("{out}");
    Ok(())
}

fn kmeans(b: &KmeansBench) -> Result<()> {
    use rapport_analytics::kmeans::{self, Data, Params};
    let t0 = Instant::now();
    let (values, d) = read_matrix(&b.file)?;
    let read = t0.elapsed().as_secs_f64();
    let mut data = Data::new(&values, d)?;
    let standardised;
    if b.standardise {
        standardised = kmeans::standardise(data);
        data = standardised.data();
    }
    if b.auto {
        return kmeans_auto(b, data, read);
    }
    let ks: Vec<usize> = match b.k {
        Some(k) => vec![k],
        None => (b.k_min..=b.k_max).collect(),
    };
    let mut fits = Vec::new();
    let total = Instant::now();
    for k in ks {
        let (restarts, seed, max_iter, tol) = (b.restarts, b.seed, b.max_iter, b.tol);
        let params = Params { k, restarts, max_iter, tol, seed }.check()?;
        let t0 = Instant::now();
        let fit = kmeans::fit(data, &params)?;
        fits.push(serde_json::json!({
            "k": k,
            "inertia": fit.inertia,
            "iterations": fit.iterations,
            "sizes": fit.sizes,
            "seconds": t0.elapsed().as_secs_f64(),
        }));
    }
    let mut out = serde_json::json!({
        "rows": data.n(),
        "features": d,
        "restarts": b.restarts,
        "seed": b.seed,
        "read_seconds": read,
        "seconds": total.elapsed().as_secs_f64(),
    });
    if b.k.is_some() {
        let one = fits.pop().context("one fit")?;
        out.as_object_mut()
            .context("an object")?
            .extend(one.as_object().cloned().unwrap_or_default());
    } else {
        out["fits"] = serde_json::Value::Array(fits);
    }
    println!("{out}");
    Ok(())
}

fn kmeans_auto(b: &KmeansBench, data: rapport_analytics::kmeans::Data, read: f64) -> Result<()> {
    use rapport_analytics::kmeans::{self, AutoParams};
    let p = AutoParams {
        k_min: b.k_min,
        k_max: b.k_max,
        restarts: b.restarts,
        max_iter: b.max_iter,
        tol: b.tol,
        seed: b.seed,
        sample: b.sample,
        criterion: b.criterion,
    }
    .check()?;
    let t0 = Instant::now();
    let auto = kmeans::choose_k(data, &p)?;
    let out = serde_json::json!({
        "rows": data.n(),
        "features": data.d(),
        "read_seconds": read,
        "seconds": t0.elapsed().as_secs_f64(),
        "k": auto.fit.k,
        "inertia": auto.fit.inertia,
        "rule": auto.rule,
        "scores": auto.scores,
    });
    println!("{out}");
    Ok(())
}

/// A CSV of numbers with a header row as one row-major matrix and its column count.
fn read_matrix(file: &std::path::Path) -> Result<(Vec<f64>, usize)> {
    let mut r =
        csv::Reader::from_path(file).with_context(|| format!("reading {}", file.display()))?;
    let d = r.headers()?.len();
    let mut values = Vec::new();
    for (i, record) in r.records().enumerate() {
        let record = record?;
        if record.len() != d {
            bail!("line {}: {} columns, the header has {d}", i + 2, record.len());
        }
        for (j, cell) in record.iter().enumerate() {
            let v: f64 = cell.trim().parse().with_context(|| {
                format!("line {}, column {}: '{cell}' is not a number", i + 2, j + 1)
            })?;
            values.push(v);
        }
    }
    Ok((values, d))
}

fn sentiment(file: &std::path::Path, runs: u32) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let texts: Vec<&str> = text.lines().filter_map(|l| l.splitn(3, '\t').nth(2)).collect();
    let analyzer = rapport_analytics::sentiment::analyzer();
    let mut best = f64::INFINITY;
    let mut total = 0.0;
    for _ in 0..runs.max(1) {
        let t0 = Instant::now();
        total = texts.iter().map(|t| analyzer.score(t)).sum::<f64>();
        best = best.min(t0.elapsed().as_secs_f64());
    }
    let out = serde_json::json!({ "rows": texts.len(), "seconds": best, "score_sum": total });
    println!("{out}");
    Ok(())
}

fn bgnbd(file: &std::path::Path, runs: u32) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut histories = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let num = |k: usize| -> Result<f64> {
            let v = f.get(k).with_context(|| format!("line {}: expected 4 columns", i + 1))?;
            v.trim()
                .parse()
                .with_context(|| format!("line {}, column {}: '{v}' is not a number", i + 1, k + 1))
        };
        histories.push(bgnbd::History { x: num(1)?, t_x: num(2)?, t: num(3)? });
    }
    if histories.is_empty() {
        bail!("{}: no customers", file.display());
    }
    let mut best = f64::INFINITY;
    let mut fit = None;
    for _ in 0..runs.max(1) {
        let t0 = Instant::now();
        fit = bgnbd::fit(&histories);
        best = best.min(t0.elapsed().as_secs_f64());
    }
    let fit = fit.context("no fit")?;
    let out = serde_json::json!({
        "customers": histories.len(),
        "distinct_histories": bgnbd::group(&histories).len(),
        "seconds": best,
        "params": fit.params,
        "log_likelihood": fit.log_likelihood,
        "iterations": fit.iterations,
    });
    println!("{out}");
    Ok(())
}
