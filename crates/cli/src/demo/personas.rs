//! The demo's personas: four groups the demo company's customers fall into by how they buy
//! (champions, customers slipping away, one-time buyers, sign-ups who never bought), one of the
//! saved segments (unhappy recent buyers) and the smallest of four behavioural k-means clusters, each
//! generated from the data just written, as of the demo's "today".

use super::today;
use anyhow::Context;
use rapport_reports::personas::{self, Source};
use rapport_store::{Backend, NewPersona};

/// (kind, expression, name, notes): most without a name, so they take the name their traits
/// suggest; the slipping-away group is named as a team would (the suggestion reads its median
/// customer, a one-time buyer, and knows no recency yet).
const PERSONAS: &[(&str, &str, Option<&str>, &str)] = &[
    (
        "filter",
        r#"rfm_segment in ("champions", "loyal")"#,
        None,
        "Our best customers: keep them close.",
    ),
    (
        "filter",
        r#"rfm_segment in ("at_risk", "cannot_lose_them", "hibernating")"#,
        Some("Customers slipping away"),
        "Bought often, then stopped. Win-back campaign candidates.",
    ),
    ("filter", "purchases = 1", None, ""),
    ("filter", "orders = 0", None, ""),
    (
        "segment",
        "unhappy-recent-buyers",
        None,
        "The saved segment of the same name: who to close the loop with first.",
    ),
    (
        "cluster",
        "features=behaviour k=4 cluster=3",
        None,
        "The smallest of four behavioural clusters (Reports › Clusters, behaviour, k = 4).",
    ),
];

/// Creates the personas and generates them all from one read of the company; returns how many.
pub async fn build(store: &dyn Backend) -> anyhow::Result<usize> {
    for &(kind, expression, name, notes) in PERSONAS {
        Source::resolve(store, kind, expression).await.context(expression)?;
        let new = NewPersona {
            name: name.map(str::to_string),
            notes: notes.into(),
            source_kind: kind.into(),
            source: expression.into(),
        };
        store.create_persona(&new, today()).await?;
    }
    Ok(personas::regenerate_all(store, today()).await?)
}
