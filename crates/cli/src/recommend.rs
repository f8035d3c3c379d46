//! `rapport recommend train` fits the model on the stored purchases and stores it; `rapport
//! recommend show CUSTOMER` prints a customer's recommendations (as the API serves them).
//! `rapport recommend evaluate FILE`: how well recommendations from implicit feedback would
//! have done on a file of (user, item) interactions: each user's items split 80/20 with a
//! seed, the model fitted on the 80%, its top 10 compared with the 20%, beside the popularity
//! baseline (no database).

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use rapport_analytics::recommend::eval::{self, Metrics, Split};
use rapport_analytics::recommend::{AlsParams, Csr, fit, popularity};
use rapport_core::ExternalId;
use rapport_ingest::{ColumnRef, Delimiter, parse_map_arg};
use rapport_reports::recommend;
use rapport_store::Backend;
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Subcommand)]
pub enum RecommendCommand {
    /// Evaluate recommendations on a file of interactions (precision, recall and nDCG at 10
    /// against the popularity baseline).
    Evaluate(EvaluateArgs),
    /// Train the model on every stored purchase and replace the stored one.
    Train(TrainArgs),
    /// A customer's recommendations (only with consent to personalisation).
    Show {
        customer: String,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[arg(long, value_enum, default_value = "table")]
        format: crate::import::OutputFormat,
    },
}

#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    model: ModelArgs,
}

/// The model's settings, shared by `train` and `evaluate`.
#[derive(Args)]
pub struct ModelArgs {
    #[arg(long, default_value_t = 64)]
    factors: usize,
    #[arg(long, default_value_t = 15)]
    iterations: usize,
    #[arg(long, default_value_t = 0.01)]
    regularization: f32,
    /// Confidence per unit of weight (purchase orders of a product, or a file's weight
    /// column): c = 1 + alpha · weight.
    #[arg(long, default_value_t = 1.0)]
    alpha: f32,
    /// Seeds the factors' starting values (and `evaluate`'s split).
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

impl ModelArgs {
    fn params(&self) -> AlsParams {
        AlsParams {
            factors: self.factors,
            iterations: self.iterations,
            regularization: self.regularization,
            alpha: self.alpha,
            seed: self.seed,
            ..AlsParams::default()
        }
    }
}

#[derive(Args)]
pub struct EvaluateArgs {
    /// Interactions, one per row: a user and an item (and optionally a weight), in a CSV,
    /// TSV, whitespace-separated or JSONL file, gzip or not.
    file: PathBuf,
    /// Which column holds what: `user=N`, `item=N` and optionally `weight=N` (a header name or
    /// a 1-based position).
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    map: Vec<String>,
    /// Column delimiter: one character, `tab`, `comma`, `whitespace` (default: from the name).
    #[arg(long)]
    delimiter: Option<String>,
    /// The first line is data, not column names.
    #[arg(long)]
    no_header: bool,
    /// Share of each user's items held out for testing.
    #[arg(long, default_value_t = 0.2)]
    test_share: f64,
    #[command(flatten)]
    model: ModelArgs,
    /// Write the split as `train.tsv` and `test.tsv` (user and item numbers) into this
    /// directory, for a side-by-side run of another library on the same split.
    #[arg(long)]
    split_out: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    format: crate::import::OutputFormat,
}

#[derive(Serialize)]
struct Evaluation {
    #[serde(flatten)]
    model: Metrics,
    popularity: Metrics,
    users: usize,
    items: usize,
    interactions: usize,
    params: AlsParams,
    fit_seconds: f64,
}

pub async fn run(db: &dyn Backend, c: RecommendCommand) -> Result<()> {
    match c {
        RecommendCommand::Evaluate(a) => evaluate(a),
        RecommendCommand::Train(a) => {
            let info = recommend::train(db, &a.model.params(), chrono::Utc::now()).await?;
            println!(
                "trained on {} purchases of {} products by {} customers in {:.1} s",
                info.interactions, info.products, info.customers, info.seconds
            );
            Ok(())
        }
        RecommendCommand::Show { customer, limit, format } => {
            let id = ExternalId::parse(&customer).map_err(|e| anyhow::anyhow!("customer: {e}"))?;
            let cat = recommend::catalogue(db).await?;
            let r = recommend::for_customer(db, cat.as_ref(), &id, limit).await?;
            match format {
                crate::import::OutputFormat::Json => println!("{}", serde_json::to_string(&r)?),
                crate::import::OutputFormat::Table => {
                    println!("{} ({:?})", r.customer, r.basis);
                    for (n, item) in r.items.iter().enumerate() {
                        let score = item.score.map_or(String::new(), |s| format!("{s:.3}"));
                        let name = item.name.as_deref().unwrap_or("");
                        println!("{:>3}. {:<16} {:<40} {score}", n + 1, item.sku, name);
                    }
                }
            }
            Ok(())
        }
    }
}

pub fn evaluate(a: EvaluateArgs) -> Result<()> {
    if !(0.0..1.0).contains(&a.test_share) {
        bail!("--test-share must be at least 0 and below 1");
    }
    let m = read(&a)?;
    let split = eval::split(&m, a.test_share, a.model.seed);
    if let Some(dir) = &a.split_out {
        write_split(dir, &split)?;
    }
    let params = a.model.params();
    let started = Instant::now();
    let model = fit(&split.train, &params);
    let fit_seconds = started.elapsed().as_secs_f64();
    let ranked = |u: usize, owned: &[u32]| -> Vec<u32> {
        model.recommend(u, 10, owned).into_iter().map(|(i, _)| i).collect()
    };
    let popular = popularity(&split.train);
    let baseline = |_: usize, owned: &[u32]| -> Vec<u32> {
        popular.iter().copied().filter(|i| owned.binary_search(i).is_err()).take(10).collect()
    };
    let e = Evaluation {
        model: eval::evaluate(&split, 10, ranked),
        popularity: eval::evaluate(&split, 10, baseline),
        users: m.rows,
        items: m.cols,
        interactions: m.nnz(),
        params,
        fit_seconds,
    };
    match a.format {
        crate::import::OutputFormat::Json => println!("{}", serde_json::to_string(&e)?),
        crate::import::OutputFormat::Table => print_table(&e),
    }
    Ok(())
}

fn print_table(e: &Evaluation) {
    println!(
        "{} users, {} items, {} interactions; {} users with held-out items",
        e.users, e.items, e.interactions, e.model.users
    );
    println!("{:<12} {:>12} {:>12} {:>12}", "", "precision@10", "recall@10", "nDCG@10");
    for (name, m) in [("ALS", &e.model), ("popularity", &e.popularity)] {
        println!(
            "{name:<12} {:>12.4} {:>12.4} {:>12.4}",
            m.precision_at_10, m.recall_at_10, m.ndcg_at_10
        );
    }
    eprintln!(
        "fit: {} factors, {} iterations in {:.2} s",
        e.params.factors, e.params.iterations, e.fit_seconds
    );
}

/// The file's interactions as a users × items matrix; users and items are numbered in order
/// of first appearance. A row without a user or item, or with a weight that is not a number,
/// stops the command with its line and field.
fn read(a: &EvaluateArgs) -> Result<Csr> {
    let delimiter =
        a.delimiter.as_deref().map(Delimiter::parse).transpose().map_err(anyhow::Error::msg)?;
    let mut rows = rapport_ingest::raw_rows(&a.file, delimiter, !a.no_header)
        .with_context(|| format!("cannot read {}", a.file.display()))?;
    let mut columns: HashMap<String, usize> = HashMap::new();
    for m in &a.map {
        let (field, col) = parse_map_arg(m).map_err(anyhow::Error::msg)?;
        if !["user", "item", "weight"].contains(&field.as_str()) {
            bail!("--map '{m}': the fields are user, item and weight");
        }
        let index = match col {
            ColumnRef::Position(n) => n - 1,
            ColumnRef::Name(name) => {
                rows.header().iter().position(|h| *h == name).with_context(|| {
                    format!(
                        "--map '{m}': the header has no column '{name}' ({})",
                        rows.header().join(", ")
                    )
                })?
            }
        };
        columns.insert(field, index);
    }
    let (Some(&user), Some(&item)) = (columns.get("user"), columns.get("item")) else {
        bail!("say which columns hold the user and the item: --map user=N --map item=N");
    };
    let weight = columns.get("weight").copied();
    let (mut users, mut items) = (Ids::default(), Ids::default());
    let mut triplets = Vec::new();
    while let Some(row) = rows.next_row() {
        let row = row.map_err(|(line, why)| anyhow::anyhow!("line {line}: {why}"))?;
        let cell = |i: usize, field: &str| -> Result<&str> {
            match row.cells.get(i).map(|c| c.trim()).filter(|c| !c.is_empty()) {
                Some(c) => Ok(c),
                None => bail!("line {}: {field} is missing (column {})", row.line, i + 1),
            }
        };
        let w = match weight {
            None => 1.0,
            Some(i) => {
                let text = cell(i, "weight")?;
                match text.parse::<f32>() {
                    Ok(w) if w.is_finite() && w >= 0.0 => w,
                    _ => bail!("line {}: weight '{text}' is not a number of at least 0", row.line),
                }
            }
        };
        let (u, i) = (users.of(cell(user, "user")?), items.of(cell(item, "item")?));
        triplets.push((u, i, w));
    }
    if triplets.is_empty() {
        bail!("{} holds no interactions", a.file.display());
    }
    Ok(Csr::from_triplets(users.len(), items.len(), &triplets))
}

/// Numbers for names, in order of first appearance.
#[derive(Default)]
struct Ids(HashMap<String, u32>);

impl Ids {
    fn of(&mut self, name: &str) -> u32 {
        let next = self.0.len() as u32;
        *self.0.entry(name.to_string()).or_insert(next)
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

fn write_split(dir: &Path, s: &Split) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut train = std::io::BufWriter::new(std::fs::File::create(dir.join("train.tsv"))?);
    for u in 0..s.train.rows {
        let (cols, vals) = s.train.row(u);
        for (i, v) in cols.iter().zip(vals) {
            writeln!(train, "{u}\t{i}\t{v}")?;
        }
    }
    train.flush()?;
    let mut test = std::io::BufWriter::new(std::fs::File::create(dir.join("test.tsv"))?);
    for (u, items) in s.test.iter().enumerate() {
        for i in items {
            writeln!(test, "{u}\t{i}")?;
        }
    }
    test.flush()?;
    writeln!(std::io::stderr(), "split written to {}/train.tsv and test.tsv", dir.display())?;
    Ok(())
}
