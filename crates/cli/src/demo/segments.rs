//! The demo company's saved segments: groups a team would keep an eye on, materialised at
//! once (the server refreshes them from then on, so their history grows while it runs).

use rapport_reports::saved_segments;
use rapport_store::{Backend, SegmentSpec};

/// (name, filter, what it is for)
const SEGMENTS: &[(&str, &str, &str)] = &[
    (
        "High-value DACH",
        r#"country in ("Germany", "Austria") and clv_predicted > 150"#,
        "German-speaking customers worth the most over the next year: the account team's list.",
    ),
    (
        "Valuable but slipping",
        r#"revenue > 500 and (health < 40 or p_alive < 0.5)"#,
        "Customers who spent a lot and are drifting away: call them before they churn.",
    ),
    (
        "Unhappy recent buyers",
        r#"last_purchase_days < 120 and feedback_sentiment < -0.2"#,
        "Bought recently and said something negative: close the loop with them.",
    ),
    (
        "Dashboard power users",
        r#"events("dashboard_viewed", within=90d) >= 3"#,
        "Use the dashboards every month: beta testers for the new reporting.",
    ),
    (
        "Marketing audience",
        r#"consent("marketing") and last_purchase_days < 365"#,
        "Bought this year and agreed to marketing: who a campaign may reach.",
    ),
];

/// Saves the segments; returns how many.
pub async fn build(store: &dyn Backend) -> anyhow::Result<usize> {
    let now = chrono::Utc::now();
    for (name, expression, description) in SEGMENTS {
        let spec = SegmentSpec {
            name: name.to_string(),
            expression: expression.to_string(),
            description: description.to_string(),
        };
        saved_segments::create(store, None, &spec, Some("demo"), now).await?;
    }
    Ok(SEGMENTS.len())
}
