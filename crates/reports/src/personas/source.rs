//! What selects a persona's members: a filter, an RFM segment, a saved segment (by slug, its
//! filter as it is at each regeneration) or a k-means cluster.
//!
//! A cluster source is written as `key=value` pairs, e.g. `features=behaviour k=4 cluster=0`:
//! `k` and `cluster` are required (clusters are numbered by size, largest first, as
//! `rapport report clusters` numbers them), `features` defaults to `behaviour`, `seed` to 0 and
//! `restarts` to 10. The clustering is fitted again at each regeneration, so a persona follows
//! the n-th largest cluster of the current data.

use crate::clusters::{self, FeatureSet};
use crate::segments::Needs;
use crate::{ReportError, ReportResult, saved_segments};
use rapport_core::filter::{Filter, parse};
use rapport_store::Backend;

/// The kinds of source a persona may have.
pub const KINDS: [&str; 4] = ["filter", "rfm", "segment", "cluster"];

/// A persona's source, parsed: what selects its members.
#[derive(Debug, Clone)]
pub struct Source {
    pub kind: String,
    pub expression: String,
    pub(crate) select: Select,
}

#[derive(Debug, Clone)]
pub(crate) enum Select {
    Filter(Filter),
    Cluster(ClusterSpec),
}

/// One cluster of a clustering.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClusterSpec {
    pub features: FeatureSet,
    pub k: usize,
    pub seed: u64,
    pub restarts: usize,
    pub cluster: usize,
}

impl ClusterSpec {
    /// The clustering's parameters (the cluster aside): equal specs share one fit.
    pub fn params(&self) -> clusters::Params {
        clusters::Params {
            features: self.features,
            k: Some(self.k),
            seed: self.seed,
            restarts: self.restarts,
            ..clusters::Params::default()
        }
    }
}

fn invalid(reason: String) -> ReportError {
    ReportError::Invalid { field: "source", reason }
}

impl Source {
    /// A source that needs no reading: `filter` with a filter expression, `rfm` with an RFM
    /// segment's name ("champions"), `cluster` with a cluster spec (see the module docs).
    /// `segment` needs the store: [`Source::resolve`].
    pub fn parse(kind: &str, expression: &str) -> ReportResult<Source> {
        let expression = expression.trim().to_string();
        let select = match kind {
            "filter" => Select::Filter(filter(&expression)?),
            "rfm" => Select::Filter(filter(&segment_text(kind, &expression).unwrap_or_default())?),
            "cluster" => Select::Cluster(cluster_spec(&expression)?),
            "segment" => {
                return Err(invalid("a saved segment is read from the store: resolve it".into()));
            }
            other => {
                return Err(invalid(format!("'{other}' is not one of: {}", KINDS.join(", "))));
            }
        };
        Ok(Source { kind: kind.to_string(), expression, select })
    }

    /// Any kind of source; a `segment` source is its saved segment's filter as stored now
    /// (`NotFound` for an unknown slug).
    pub async fn resolve(
        store: &dyn Backend,
        kind: &str,
        expression: &str,
    ) -> ReportResult<Source> {
        if kind != "segment" {
            return Source::parse(kind, expression);
        }
        let slug = expression.trim();
        if !saved_segments::is_slug(slug) {
            return Err(invalid(format!("'{slug}' is not a saved segment's slug")));
        }
        let f = saved_segments::resolve(store, slug, "source").await?;
        Ok(Source {
            kind: kind.to_string(),
            expression: slug.to_string(),
            select: Select::Filter(f),
        })
    }

    /// What the segment frame must hold to select the members.
    pub fn needs(&self) -> Needs {
        match &self.select {
            Select::Filter(f) => Needs::of(f),
            Select::Cluster(_) => Needs::default(),
        }
    }
}

/// A stored source as a segment other reports take (a filter, or a saved segment's slug);
/// `None` for a cluster, which no filter describes.
pub fn segment_text(kind: &str, expression: &str) -> Option<String> {
    match kind {
        "filter" | "segment" => Some(expression.trim().to_string()),
        "rfm" => Some(format!("rfm_segment = \"{}\"", expression.trim().replace('"', ""))),
        _ => None,
    }
}

fn filter(text: &str) -> ReportResult<Filter> {
    parse(text).map_err(|e| invalid(e.to_string()))
}

/// `features=behaviour k=4 seed=0 restarts=10 cluster=0`, in any order.
pub(crate) fn cluster_spec(text: &str) -> ReportResult<ClusterSpec> {
    let (mut features, mut k, mut seed, mut restarts, mut cluster) =
        (FeatureSet::Behaviour, None, 0u64, 10usize, None);
    for pair in text.split([' ', ',', '\t', '\n']).filter(|p| !p.is_empty()) {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(invalid(format!("'{pair}' is not key=value (e.g. k=4 cluster=0)")));
        };
        let number = |what: &str| {
            value.trim().parse::<u64>().map_err(|_| {
                invalid(format!("{what} must be a whole number, not '{}'", value.trim()))
            })
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "features" => features = FeatureSet::parse(value).map_err(invalid)?,
            "k" => k = Some(number("k")? as usize),
            "seed" => seed = number("seed")?,
            "restarts" => restarts = number("restarts")? as usize,
            "cluster" => cluster = Some(number("cluster")? as usize),
            other => {
                return Err(invalid(format!(
                    "unknown key '{other}'; the keys are features, k, seed, restarts, cluster"
                )));
            }
        }
    }
    let k = k.ok_or_else(|| invalid("a cluster source needs k, e.g. k=4 cluster=0".into()))?;
    let cluster = cluster
        .ok_or_else(|| invalid("a cluster source needs cluster, e.g. k=4 cluster=0".into()))?;
    if !(2..=50).contains(&k) {
        return Err(invalid(format!("k must be between 2 and 50, not {k}")));
    }
    if cluster >= k {
        return Err(invalid(format!(
            "cluster {cluster} does not exist: clusters are numbered 0 to {}",
            k - 1
        )));
    }
    if !(1..=100).contains(&restarts) {
        return Err(invalid(format!("restarts must be between 1 and 100, not {restarts}")));
    }
    Ok(ClusterSpec { features, k, seed, restarts, cluster })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_specs_parse_with_defaults_and_name_what_is_wrong() {
        let s = cluster_spec("k=4 cluster=1").unwrap();
        let want = ClusterSpec {
            features: FeatureSet::Behaviour,
            k: 4,
            seed: 0,
            restarts: 10,
            cluster: 1,
        };
        assert_eq!(s, want);
        let s = cluster_spec("features=rfm, k=5 seed=7 restarts=3 cluster=4").unwrap();
        assert_eq!((s.features, s.k, s.seed, s.restarts, s.cluster), (FeatureSet::Rfm, 5, 7, 3, 4));
        let err = |t: &str| cluster_spec(t).unwrap_err().to_string();
        assert!(err("cluster=0").contains("needs k"), "{}", err("cluster=0"));
        assert!(err("k=3").contains("needs cluster"));
        assert!(err("k=3 cluster=3").contains("numbered 0 to 2"));
        assert!(err("k=three cluster=0").contains("k must be a whole number, not 'three'"));
        assert!(err("k=3 colour=0").contains("unknown key 'colour'"));
        assert!(err("k=3 cluster=0 features=x").contains("the sets are rfm, behaviour"));
        assert!(err("k=1 cluster=0").contains("between 2 and 50"));
    }

    #[test]
    fn every_kind_parses_or_says_which_kinds_there_are() {
        assert!(matches!(Source::parse("rfm", "champions").unwrap().select, Select::Filter(_)));
        assert!(matches!(
            Source::parse("cluster", "k=2 cluster=0").unwrap().select,
            Select::Cluster(_)
        ));
        let e = Source::parse("colour", "x").unwrap_err().to_string();
        assert!(e.contains("filter, rfm, segment, cluster"), "{e}");
        assert!(Source::parse("filter", "revenue >").is_err());
    }
}
