//! Clustered segments on a real SQLite file with three kinds of buyer planted.

use rapport_analytics::kmeans::Criterion;
use rapport_reports::clusters::{self, FeatureSet, Params};
use rapport_store::story::{group, line_row};
use rapport_store::{IngestOptions, Store};
use rapport_store_sqlite::SqliteStore;

/// Six of each, as of 2024-07-01: `champ` bought five times in June, last on the 22nd, for about 200 each;
/// `mid` twice in February and March for about 50; `gone` once in July 2023 for about 10.
async fn company(s: &dyn Store) {
    let mut rows = Vec::new();
    for i in 0..6 {
        for o in 0..5 {
            let at = format!("2024-06-{:02} 10:00", 2 + 5 * o);
            rows.push(line_row(
                &format!("c{i}-{o}"),
                &format!("champ{i}"),
                &at,
                "p",
                1,
                &format!("{}", 200 + i),
            ));
        }
        for o in 0..2 {
            let at = format!("2024-0{}-1{i} 10:00", 2 + o);
            rows.push(line_row(
                &format!("m{i}-{o}"),
                &format!("mid{i}"),
                &at,
                "p",
                1,
                &format!("{}", 50 + i),
            ));
        }
        let at = format!("2023-07-1{i} 10:00");
        rows.push(line_row(
            &format!("g{i}"),
            &format!("gone{i}"),
            &at,
            "p",
            1,
            &format!("{}", 10 + i),
        ));
    }
    s.ingest_orders(group(rows), &IngestOptions::default()).await.unwrap();
}

async fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("rapport.db")).unwrap();
    company(&store).await;
    (dir, store)
}

#[tokio::test]
async fn three_planted_kinds_of_buyer_are_three_clusters_named_by_their_centroids() {
    let (_d, s) = fresh().await;
    let p = Params { k: Some(3), restarts: 5, ..Params::default() };
    let r = clusters::report(&s, &p).await.unwrap();
    assert_eq!(r.as_of.to_string(), "2024-06-23", "the day after the last purchase");
    assert_eq!((r.customers, r.k, r.sizes.clone()), (18, 3, vec![6, 6, 6]));
    assert_eq!(r.features, ["log_recency", "log_frequency", "log_monetary"]);
    assert!(r.chosen.is_none());
    let labels: Vec<&str> = r.clusters.iter().map(|c| c.label.as_str()).collect();
    assert!(labels.contains(&"recent, frequent, high spend"), "{labels:?}");
    assert!(labels.contains(&"lapsed, infrequent, low spend"), "{labels:?}");
    // Raw centroids are in days, orders and money: the champions' mean frequency is 5 orders.
    let champ = labels.iter().position(|l| l.starts_with("recent")).unwrap();
    assert!((r.centroids_raw[champ][1] - 5.0).abs() < 1e-9, "{:?}", r.centroids_raw[champ]);
    let again = clusters::report(&s, &p).await.unwrap();
    assert_eq!(serde_json::to_string(&r).unwrap(), serde_json::to_string(&again).unwrap());
}

#[tokio::test]
async fn without_k_the_silhouette_finds_the_three_kinds_and_says_how() {
    let (_d, s) = fresh().await;
    let r = clusters::report(&s, &Params { restarts: 3, ..Params::default() }).await.unwrap();
    assert_eq!(r.k, 3);
    let chosen = r.chosen.unwrap();
    assert_eq!(chosen.method, "silhouette");
    assert_eq!(chosen.scores.len(), 9, "k = 2..10");
    assert!(chosen.rule.starts_with("k = 3: highest silhouette"), "{}", chosen.rule);
    assert!(chosen.rule.ends_with("over k = 2..10 on all 18 rows"), "{}", chosen.rule);
}

#[tokio::test]
async fn with_the_gap_statistic_k_follows_the_rule_on_the_reported_gaps() {
    let (_d, s) = fresh().await;
    let criterion = Criterion::Gap { references: 20 };
    let p = Params { restarts: 3, k_max: 6, criterion, ..Params::default() };
    let r = clusters::report(&s, &p).await.unwrap();
    let chosen = r.chosen.unwrap();
    assert_eq!(chosen.method, "gap");
    // The rule recomputed from what is reported: the first k whose gap is within one standard
    // error of the next k's, else the largest gap. (Three groups of near-identical rows: splitting them further still
    // shrinks log W faster than on noise, so the rule may go past 3; the blobs test in the
    // analytics crate checks the rule finds a true k.)
    let g: Vec<(usize, f64, f64)> =
        chosen.scores.iter().map(|s| (s.k, s.gap.unwrap(), s.gap_se.unwrap())).collect();
    let largest = g.iter().fold(g[0], |b, x| if x.1 > b.1 { *x } else { b }).0;
    let expected = g.windows(2).find(|w| w[0].1 >= w[1].1 - w[1].2).map_or(largest, |w| w[0].0);
    assert_eq!(r.k, expected, "{g:?}");
    assert!(chosen.rule.starts_with(&format!("k = {expected}: ")), "{}", chosen.rule);
    assert!(g[1].1 > g[0].1 + 1.0, "three groups beat two by far: {g:?}");
}

#[tokio::test]
async fn behaviour_features_are_eight_finite_columns_and_bad_parameters_are_named() {
    let (_d, s) = fresh().await;
    let f = clusters::features(&s, FeatureSet::Behaviour, None).await.unwrap();
    assert_eq!(f.names().len(), 8);
    assert_eq!(f.values.len(), 18 * 8);
    assert!(f.values.iter().all(|v| v.is_finite()));
    let p = Params { k: Some(0), ..Params::default() };
    let e = clusters::report(&s, &p).await.unwrap_err();
    assert!(e.to_string().starts_with("k: "), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let empty = SqliteStore::open(dir.path().join("e.db")).unwrap();
    let e = clusters::report(&empty, &Params::default()).await.unwrap_err();
    assert_eq!(e.to_string(), "no purchases to report on");
}
