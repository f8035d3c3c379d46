//! `rapport duplicates FILE`: the groups of near-duplicate texts in a file
//! (`analytics::duplicates`), and `rapport bench duplicates FILE`, which times signatures,
//! the index build and the lookup of a new item's duplicates. No database is opened.

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rapport_analytics::duplicates::{DuplicateParams, LshIndex, MinHasher, Signature, jaccard};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

/// The file of texts, read as `rapport sentiment` reads it.
#[derive(Args)]
pub struct Input {
    /// The texts: one per line, or delimited rows with the text in the `--column`; `-` reads
    /// standard input.
    file: PathBuf,
    /// The column holding the text: a header name, or a 1-based position. Without it, each
    /// line is one text.
    #[arg(long)]
    column: Option<String>,
    /// Column delimiter: one character, `tab` or `comma` (default: tab for .tsv and .tab
    /// files, comma otherwise).
    #[arg(long)]
    delimiter: Option<String>,
    /// With `--column`: the first line is data, not column names.
    #[arg(long)]
    no_header: bool,
    /// Jaccard similarity of the word pairs (or, for texts under 5 words, the character
    /// 4-grams) from which two texts are near-duplicates.
    #[arg(long, default_value_t = DuplicateParams::default().threshold)]
    threshold: f32,
}

impl Input {
    fn read(self) -> Result<(MinHasher, Vec<(u64, String)>)> {
        let params = DuplicateParams { threshold: self.threshold, ..DuplicateParams::default() };
        let hasher = params.check().map_err(|e| anyhow::anyhow!("--{e}"))?;
        let source = crate::texts::TextSource {
            file: self.file,
            column: self.column,
            delimiter: self.delimiter,
            no_header: self.no_header,
        };
        let texts = source.read_lines()?;
        Ok((hasher, texts))
    }
}

#[derive(Args)]
pub struct DuplicatesArgs {
    #[command(flatten)]
    input: Input,
    /// `table`: a summary line, then each group's texts with their lines and their similarity
    /// to the group's first text, largest groups first; `json`: the same as one document.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Format {
    Table,
    Json,
}

#[derive(serde::Serialize)]
struct Member<'a> {
    line: u64,
    /// Exact Jaccard similarity with the group's first text.
    jaccard: f32,
    text: &'a str,
}

pub fn run(args: DuplicatesArgs) -> Result<()> {
    let (hasher, rows) = args.input.read()?;
    let texts: Vec<&str> = rows.iter().map(|(_, t)| t.as_str()).collect();
    let mut groups = hasher.clusters(&texts);
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let groups: Vec<Vec<Member>> = groups
        .iter()
        .map(|g| {
            let first = hasher.shingles(texts[g[0]]);
            g.iter()
                .map(|&i| Member {
                    line: rows[i].0,
                    jaccard: jaccard(&first, &hasher.shingles(texts[i])),
                    text: texts[i],
                })
                .collect()
        })
        .collect();
    let grouped: usize = groups.iter().map(Vec::len).sum();
    let threshold = hasher.params().threshold;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let written = match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "texts": texts.len(),
                "threshold": threshold,
                "grouped_texts": grouped,
                "groups": groups,
            });
            serde_json::to_writer(&mut out, &doc).map_err(std::io::Error::from)
        }
        Format::Table => write!(
            out,
            "{} groups of near-duplicates among {} texts ({grouped} texts in groups; \
             Jaccard ≥ {threshold})",
            groups.len(),
            texts.len(),
        )
        .and_then(|()| {
            if groups.is_empty() { Ok(()) } else { write!(out, "\n{}", table(&groups)) }
        }),
    };
    match written.and_then(|()| writeln!(out)).and_then(|()| out.flush()) {
        // `| head` has all it wants.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn table(groups: &[Vec<Member>]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(vec!["group", "line", "jaccard", "text"]);
    for (g, members) in groups.iter().enumerate() {
        for m in members {
            // One row per text: line breaks inside a quoted cell are shown as spaces.
            let text = m.text.split_whitespace().collect::<Vec<_>>().join(" ");
            t.add_row(vec![
                (g + 1).to_string(),
                m.line.to_string(),
                format!("{:.2}", m.jaccard),
                text,
            ]);
        }
    }
    t
}

#[derive(Args)]
pub struct BenchArgs {
    #[command(flatten)]
    input: Input,
    /// Texts held out of the index and looked up as new items (spread evenly over the file).
    #[arg(long, default_value_t = 10_000)]
    probes: usize,
}

/// Times, in order: signatures on one thread; the index build from stored bytes (as at
/// start-up) and its memory; the lookup of each held-out text as a new item (signature and
/// `similar`), then its insert and removal; grouping the whole file (and, for small files,
/// its recall against comparing every pair). Prints one JSON document.
pub fn bench(args: BenchArgs) -> Result<()> {
    let (hasher, rows) = args.input.read()?;
    let texts: Vec<&str> = rows.iter().map(|(_, t)| t.as_str()).collect();
    if texts.len() <= args.probes {
        bail!("{} texts: need more than --probes {}", texts.len(), args.probes);
    }
    // Signatures are stored as bytes and the index is built from them, as at start-up.
    let t0 = Instant::now();
    let blobs: Vec<Vec<u8>> = texts.iter().map(|t| hasher.signature(t).to_bytes()).collect();
    let sign_s = t0.elapsed().as_secs_f64();
    let stride = texts.len() / args.probes.max(1);
    let is_probe =
        |i: usize| args.probes > 0 && i.is_multiple_of(stride) && i / stride < args.probes;
    let rss_before = rss_bytes();
    let t0 = Instant::now();
    let stored = blobs.iter().enumerate().filter(|(i, _)| !is_probe(*i));
    let sig = |b: &[u8]| Signature::from_bytes(b).expect("bytes of to_bytes");
    let mut index = LshIndex::build(&hasher, stored.map(|(i, b)| (i as i64, sig(b))));
    let build_s = t0.elapsed().as_secs_f64();
    let rss_after = rss_bytes();
    let heap_built = index.heap_bytes();
    let probes: Vec<usize> = (0..texts.len()).filter(|&i| is_probe(i)).collect();
    let (mut sign, mut lookup, mut total) = (Vec::new(), Vec::new(), Vec::new());
    let (mut candidates, mut found) = (0, 0);
    for &i in &probes {
        let t0 = Instant::now();
        let sig = hasher.signature(texts[i]);
        let t1 = Instant::now();
        let similar = index.similar(&sig, hasher.params().threshold);
        let t2 = Instant::now();
        sign.push(micros(t1 - t0));
        lookup.push(micros(t2 - t1));
        total.push(micros(t2 - t0));
        found += usize::from(!similar.is_empty());
        candidates += index.candidates(&sig).len();
    }
    let t0 = Instant::now();
    for &i in &probes {
        index.insert(i as i64, &hasher.signature(texts[i]));
    }
    let insert_us = micros(t0.elapsed()) / probes.len() as f64;
    let t0 = Instant::now();
    for &i in &probes {
        index.remove(i as i64);
    }
    let remove_us = micros(t0.elapsed()) / probes.len() as f64;
    let index_items = index.len();
    let heap = index.heap_bytes();
    drop(index);
    let t0 = Instant::now();
    let groups = hasher.clusters(&texts);
    let clusters_s = t0.elapsed().as_secs_f64();
    let all_pairs = (texts.len() <= ALL_PAIRS_UP_TO).then(|| all_pairs(&hasher, &texts, &groups));
    let out = serde_json::json!({
        "texts": texts.len(),
        "params": hasher.params(),
        "signatures": {
            "seconds_one_thread": sign_s,
            "per_second": texts.len() as f64 / sign_s,
            "bytes_each": blobs.first().map_or(0, Vec::len),
        },
        "index_build": {
            "items": index_items,
            "seconds_from_bytes": build_s,
            "heap_bytes": heap_built,
            "heap_bytes_after_probes": heap,
            "rss_increase_bytes": rss_after.zip(rss_before).map(|(a, b)| a.saturating_sub(b)),
        },
        "new_item": {
            "probes": probes.len(),
            "with_duplicates": found,
            "mean_candidates": candidates as f64 / probes.len() as f64,
            "signature_us": stats(sign),
            "similar_us": stats(lookup),
            "total_us": stats(total),
            "insert_us_mean": insert_us,
            "remove_us_mean": remove_us,
        },
        "clusters": {
            "seconds": clusters_s,
            "groups": groups.len(),
            "texts_in_groups": groups.iter().map(Vec::len).sum::<usize>(),
            "largest": groups.iter().map(Vec::len).max().unwrap_or(0),
            "all_pairs": all_pairs,
        },
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Files up to this many texts also get every pair compared, for the recall of `clusters`.
const ALL_PAIRS_UP_TO: usize = 20_000;

/// The pairs of texts at or above the threshold by exact Jaccard, compared one by one, and how
/// many of them `clusters` put in one group (its recall, LSH misses included).
fn all_pairs(hasher: &MinHasher, texts: &[&str], groups: &[Vec<usize>]) -> serde_json::Value {
    let sets: Vec<_> = texts.iter().map(|t| hasher.shingles(t)).collect();
    let mut group_of = vec![usize::MAX; texts.len()];
    for (g, members) in groups.iter().enumerate() {
        for &i in members {
            group_of[i] = g;
        }
    }
    let (mut pairs, mut together) = (0u64, 0u64);
    for i in 0..sets.len() {
        for j in i + 1..sets.len() {
            if jaccard(&sets[i], &sets[j]) >= hasher.params().threshold {
                pairs += 1;
                together += u64::from(group_of[i] != usize::MAX && group_of[i] == group_of[j]);
            }
        }
    }
    serde_json::json!({ "pairs": pairs, "in_one_group": together })
}

fn micros(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Mean, median, p95, p99 and max, in the unit given.
fn stats(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
    serde_json::json!({
        "mean": v.iter().sum::<f64>() / v.len() as f64,
        "p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": at(1.0),
    })
}

/// The resident set size of this process (Linux), to measure what a build takes.
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
