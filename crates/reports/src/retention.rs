//! Repeat purchase (from the summaries), retention cohorts and churn (from purchase occasions).

use crate::{Dated, ReportError, ReportResult, all_summaries, date};
use chrono::NaiveDate;
use rapport_analytics::retention::{self, Churn, Cohort, RepeatPurchase};
use rapport_store::Store;

pub async fn repeat(store: &dyn Store) -> ReportResult<RepeatPurchase> {
    let all = all_summaries(store).await?;
    Ok(retention::repeat_purchase(all.iter().map(|c| &c.summary)))
}

pub async fn cohorts(
    store: &dyn Store,
    as_of: Option<NaiveDate>,
) -> ReportResult<Dated<Vec<Cohort>>> {
    let (purchases, as_of) = purchases(store, as_of).await?;
    Ok(Dated { as_of, rows: retention::cohorts(purchases, as_of) })
}

pub async fn churn(store: &dyn Store, as_of: Option<NaiveDate>) -> ReportResult<Dated<Vec<Churn>>> {
    let (purchases, as_of) = purchases(store, as_of).await?;
    Ok(Dated { as_of, rows: retention::churn(purchases, as_of) })
}

/// How far past the data an as-of day may lie (about ten years).
const MAX_DAYS_AFTER_DATA: i64 = 3_660;

/// Purchase months as (customer, month) pairs, and the as-of day (default: the day of the
/// last purchase, so the last month reported is the last with data). Occasions come ordered by
/// customer and day, so a customer's repeated months are adjacent and dropped here.
async fn purchases(
    store: &dyn Store,
    as_of: Option<NaiveDate>,
) -> ReportResult<(Vec<(u64, i32)>, NaiveDate)> {
    let days = store.purchase_occasions(None).await?;
    let last = date(days.iter().map(|p| p.1).max().ok_or(ReportError::NoData("purchases"))?);
    let as_of = as_of.unwrap_or(last);
    // Every month up to the as-of day is a column: a far-future day would ask for thousands
    // of empty ones.
    if (as_of - last).num_days() > MAX_DAYS_AFTER_DATA {
        return Err(ReportError::Invalid {
            field: "as_of",
            reason: format!("{as_of} is more than ten years after the last purchase ({last})"),
        });
    }
    let mut pairs: Vec<(u64, i32)> = Vec::with_capacity(days.len());
    for (customer, day) in days {
        let pair = (customer as u64, retention::month_index(date(day)));
        if pairs.last() != Some(&pair) {
            pairs.push(pair);
        }
    }
    Ok((pairs, as_of))
}
