//! Clustered segments: k-means ([`rapport_analytics::kmeans`]) on standardised behavioural
//! features of every buyer, with k given or chosen by silhouette or the gap statistic.
//!
//! Features (one row per customer with at least one purchase order; recency, frequency and
//! monetary are the RFM report's, as of the day after the last purchase by default):
//!
//! | feature | definition |
//! |---|---|
//! | `log_recency` | ln(1 + days from the customer's last purchase to the as-of day) |
//! | `log_frequency` | ln(1 + purchase orders) |
//! | `log_monetary` | ln(1 + purchase value), value below 0 taken as 0 |
//! | `tenure_days` | days from the first purchase to the as-of day |
//! | `log_events` | ln(1 + product events) |
//! | `log_interactions` | ln(1 + interactions of any channel) |
//! | `satisfaction` | mean of the customer's NPS and CSAT ratings on 0..1 (as the health score scales them); lacking ratings, their mean feedback sentiment mapped to 0..1; lacking both, the mean of the customers who have one |
//! | `return_share` | returns / (purchase orders + returns) |
//!
//! `rfm` is the first three; `behaviour` all eight. Every column is then z-scored, so a
//! feature the data does not vary (no events recorded, say) weighs nothing.

use crate::{ReportError, ReportResult, all_summaries};
use chrono::{DateTime, NaiveDate, Utc};
use rapport_analytics::health::{csat_rating, nps_rating};
use rapport_analytics::kmeans::{
    self, AutoParams, Criterion, Data, KScore, ParamError, Standardised,
};
use rapport_analytics::rfm;
use rapport_store::{Store, StoreError};
use serde::Serialize;
use std::collections::HashMap;

/// Which features to cluster on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureSet {
    /// Log recency, frequency and monetary value.
    Rfm,
    /// Log RFM, tenure, events, interactions, satisfaction and return share.
    Behaviour,
}

impl FeatureSet {
    /// `rfm`, `behaviour` (also `behavior`, `all`).
    pub fn parse(s: &str) -> Result<FeatureSet, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rfm" => Ok(FeatureSet::Rfm),
            "behaviour" | "behavior" | "all" => Ok(FeatureSet::Behaviour),
            _ => Err(format!("unknown feature set '{s}'; the sets are rfm, behaviour")),
        }
    }

    pub fn names(self) -> &'static [&'static str] {
        const ALL: [&str; 8] = [
            "log_recency",
            "log_frequency",
            "log_monetary",
            "tenure_days",
            "log_events",
            "log_interactions",
            "satisfaction",
            "return_share",
        ];
        match self {
            FeatureSet::Rfm => &ALL[..3],
            FeatureSet::Behaviour => &ALL,
        }
    }
}

/// Every buyer's features, row-major, before standardisation.
#[derive(Debug, Clone)]
pub struct Features {
    pub as_of: NaiveDate,
    pub set: FeatureSet,
    /// The store's key of each row's customer.
    pub keys: Vec<i64>,
    pub values: Vec<f64>,
}

impl Features {
    pub fn names(&self) -> &'static [&'static str] {
        self.set.names()
    }

    pub fn data(&self) -> ReportResult<Data<'_>> {
        Data::new(&self.values, self.names().len()).map_err(invalid)
    }
}

fn invalid(e: ParamError) -> ReportError {
    ReportError::Invalid { field: e.field, reason: e.reason }
}

/// Reads every buyer's features (see the module docs).
pub async fn features(
    store: &dyn Store,
    set: FeatureSet,
    as_of: Option<NaiveDate>,
) -> ReportResult<Features> {
    let customers = all_summaries(store).await?;
    let as_of = match as_of {
        Some(d) => d,
        None => rfm::default_as_of(customers.iter().map(|c| &c.summary))
            .ok_or(ReportError::NoData("purchases"))?,
    };
    let summaries: Vec<_> = customers.iter().map(|c| &c.summary).collect();
    let scores = rfm::rfm(&summaries, as_of);
    let satisfaction = match set {
        FeatureSet::Rfm => HashMap::new(),
        FeatureSet::Behaviour => satisfaction(store).await?,
    };
    let known: Vec<f64> = satisfaction.values().copied().collect();
    let typical =
        if known.is_empty() { 0.5 } else { known.iter().sum::<f64>() / known.len() as f64 };
    let (mut keys, mut values) = (Vec::new(), Vec::new());
    for (c, r) in customers.iter().zip(&scores) {
        let Some(r) = r else { continue };
        keys.push(c.key);
        let monetary = (r.monetary.e4() as f64 / 1e4).max(0.0);
        values.extend([
            (r.recency_days.max(0) as f64).ln_1p(),
            (r.frequency as f64).ln_1p(),
            monetary.ln_1p(),
        ]);
        if set == FeatureSet::Behaviour {
            let s = &c.summary;
            let tenure = s.first_purchase_at.map_or(0, |t| (as_of - t.date_naive()).num_days());
            let orders = (s.purchase_orders + s.returns).max(1) as f64;
            values.extend([
                tenure.max(0) as f64,
                (s.events.max(0) as f64).ln_1p(),
                (s.interactions.max(0) as f64).ln_1p(),
                satisfaction.get(&c.key).copied().unwrap_or(typical),
                s.returns.max(0) as f64 / orders,
            ]);
        }
    }
    if keys.is_empty() {
        return Err(ReportError::NoData("purchases"));
    }
    Ok(Features { as_of, set, keys, values })
}

/// Each customer's mean rating on 0..1 (NPS and CSAT), or lacking ratings their mean feedback
/// sentiment on 0..1.
async fn satisfaction(store: &dyn Store) -> ReportResult<HashMap<i64, f64>> {
    let mut sums: HashMap<i64, (f64, u32)> = HashMap::new();
    for (source, scale) in [("nps", nps_rating as fn(i16) -> f64), ("csat", csat_rating)] {
        for r in store.ratings(source).await? {
            let e = sums.entry(r.customer).or_default();
            (e.0, e.1) = (e.0 + scale(r.rating), e.1 + 1);
        }
    }
    let mut out: HashMap<i64, f64> =
        sums.into_iter().map(|(k, (sum, n))| (k, sum / f64::from(n))).collect();
    for (key, mean, _) in store.feedback_sentiment(DateTime::<Utc>::UNIX_EPOCH).await? {
        out.entry(key).or_insert((mean.clamp(-1.0, 1.0) + 1.0) / 2.0);
    }
    Ok(out)
}

/// How to cluster: a fixed k, or the best of a range.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub features: FeatureSet,
    pub as_of: Option<NaiveDate>,
    /// `None`: chosen by `criterion` over `k_min..=k_max`.
    pub k: Option<usize>,
    pub k_min: usize,
    pub k_max: usize,
    pub restarts: usize,
    pub seed: u64,
    /// Rows the silhouette (and the gap statistic) is computed on.
    pub sample: usize,
    pub criterion: Criterion,
}

impl Default for Params {
    fn default() -> Self {
        let auto = AutoParams::default();
        Params {
            features: FeatureSet::Rfm,
            as_of: None,
            k: None,
            k_min: auto.k_min,
            k_max: auto.k_max,
            restarts: auto.restarts,
            seed: auto.seed,
            sample: auto.sample,
            criterion: auto.criterion,
        }
    }
}

/// How k was chosen, when it was.
#[derive(Debug, Clone, Serialize)]
pub struct Chosen {
    pub rule: String,
    pub method: &'static str,
    pub sample: usize,
    pub scores: Vec<KScore>,
}

/// One cluster in words and numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    pub cluster: usize,
    pub size: u64,
    pub share: f64,
    /// From the centroid's largest standardised deviations, e.g. "recent, frequent, high spend".
    pub label: String,
}

/// The clustering: clusters numbered by size, largest first.
#[derive(Debug, Clone, Serialize)]
pub struct Clusters {
    pub as_of: NaiveDate,
    pub features: Vec<&'static str>,
    pub customers: u64,
    pub k: usize,
    /// On the standardised features.
    pub inertia: f64,
    pub sizes: Vec<u64>,
    /// In standardised units (z-scores), one row per cluster in `features` order.
    pub centroids: Vec<Vec<f64>>,
    /// In the features' own units (log features exponentiated back: days, orders, money,
    /// counts; a geometric-style mean of 1 + x, minus 1).
    pub centroids_raw: Vec<Vec<f64>>,
    pub clusters: Vec<Cluster>,
    /// How k was chosen (absent when it was given).
    pub chosen: Option<Chosen>,
    pub seed: u64,
    pub restarts: usize,
    pub iterations: usize,
}

/// Reads the features and clusters them (the arithmetic on a blocking thread).
pub async fn report(store: &dyn Store, p: &Params) -> ReportResult<Clusters> {
    let f = features(store, p.features, p.as_of).await?;
    let p = p.clone();
    tokio::task::spawn_blocking(move || cluster(&f, &p))
        .await
        .map_err(|e| ReportError::Store(StoreError::other(e)))?
}

/// Standardises the features and clusters them.
pub fn cluster(f: &Features, p: &Params) -> ReportResult<Clusters> {
    Ok(cluster_labelled(f, p)?.0)
}

/// [`cluster`], with each row's cluster (rows as `f.keys`).
pub fn cluster_labelled(f: &Features, p: &Params) -> ReportResult<(Clusters, Vec<u32>)> {
    let z = kmeans::standardise(f.data()?);
    let (fit, chosen) = match p.k {
        Some(k) => {
            let params = Params::fixed(k, p).check().map_err(invalid)?;
            (kmeans::fit(z.data(), &params).map_err(invalid)?, None)
        }
        None => {
            let auto = AutoParams {
                k_min: p.k_min,
                k_max: p.k_max,
                restarts: p.restarts,
                seed: p.seed,
                sample: p.sample,
                criterion: p.criterion,
                ..AutoParams::default()
            };
            let a = kmeans::choose_k(z.data(), &auto.check().map_err(invalid)?).map_err(invalid)?;
            let method = p.criterion.name();
            let chosen = Chosen { rule: a.rule, method, sample: a.sample, scores: a.scores };
            (a.fit, Some(chosen))
        }
    };
    let described = describe(f, &z, &fit, chosen, p);
    Ok((described, fit.labels))
}

impl Params {
    fn fixed(k: usize, p: &Params) -> kmeans::Params {
        kmeans::Params { k, restarts: p.restarts, seed: p.seed, ..kmeans::Params::default() }
    }
}

fn describe(
    f: &Features,
    z: &Standardised,
    fit: &kmeans::Fit,
    chosen: Option<Chosen>,
    p: &Params,
) -> Clusters {
    let names = f.names();
    let n = f.keys.len() as u64;
    let centroids: Vec<Vec<f64>> = (0..fit.k).map(|c| fit.centroid(c).to_vec()).collect();
    let centroids_raw = centroids
        .iter()
        .map(|c| {
            let raw = z.unscale(c);
            raw.iter()
                .zip(names)
                .map(|(v, name)| if name.starts_with("log_") { v.exp() - 1.0 } else { *v })
                .collect()
        })
        .collect();
    let clusters = centroids
        .iter()
        .zip(&fit.sizes)
        .enumerate()
        .map(|(cluster, (c, &size))| Cluster {
            cluster,
            size,
            share: size as f64 / n.max(1) as f64,
            label: label(names, c),
        })
        .collect();
    Clusters {
        as_of: f.as_of,
        features: names.to_vec(),
        customers: n,
        k: fit.k,
        inertia: fit.inertia,
        sizes: fit.sizes.clone(),
        centroids,
        centroids_raw,
        clusters,
        chosen,
        seed: p.seed,
        restarts: p.restarts,
        iterations: fit.iterations,
    }
}

/// Words for a centroid: each feature at least a quarter of a standard deviation from the
/// mean, the three furthest, in feature order; "typical" when none is.
pub fn label(names: &[&str], centroid: &[f64]) -> String {
    let word = |name: &str, high: bool| -> &'static str {
        match (name, high) {
            ("log_recency", true) => "lapsed",
            ("log_recency", false) => "recent",
            ("log_frequency", true) => "frequent",
            ("log_frequency", false) => "infrequent",
            ("log_monetary", true) => "high spend",
            ("log_monetary", false) => "low spend",
            ("tenure_days", true) => "long-standing",
            ("tenure_days", false) => "new",
            ("log_events", true) => "heavy usage",
            ("log_events", false) => "light usage",
            ("log_interactions", true) => "many contacts",
            ("log_interactions", false) => "few contacts",
            ("satisfaction", true) => "satisfied",
            ("satisfaction", false) => "dissatisfied",
            ("return_share", true) => "returns often",
            ("return_share", false) => "rarely returns",
            _ => "",
        }
    };
    let mut notable: Vec<usize> =
        (0..centroid.len()).filter(|&i| centroid[i].abs() >= 0.25).collect();
    notable.sort_by(|&a, &b| centroid[b].abs().total_cmp(&centroid[a].abs()));
    notable.truncate(3);
    notable.sort_unstable();
    let words: Vec<&str> = notable.iter().map(|&i| word(names[i], centroid[i] > 0.0)).collect();
    if words.is_empty() { "typical".to_string() } else { words.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_largest_deviations_in_feature_order() {
        let names = FeatureSet::Rfm.names();
        assert_eq!(label(names, &[-1.2, 0.9, 1.1]), "recent, frequent, high spend");
        assert_eq!(label(names, &[1.0, -0.1, -0.6]), "lapsed, low spend");
        assert_eq!(label(names, &[0.1, -0.1, 0.2]), "typical");
        let all = FeatureSet::Behaviour.names();
        let c = [0.3, 0.0, 0.0, -2.0, 0.0, 0.0, -1.0, 0.5];
        assert_eq!(label(all, &c), "new, dissatisfied, returns often");
    }

    #[test]
    fn feature_sets_parse_by_name() {
        assert_eq!(FeatureSet::parse("RFM"), Ok(FeatureSet::Rfm));
        assert_eq!(FeatureSet::parse("all"), Ok(FeatureSet::Behaviour));
        assert!(FeatureSet::parse("x").unwrap_err().contains("rfm, behaviour"));
    }
}
