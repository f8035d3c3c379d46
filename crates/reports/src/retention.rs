//! Repeat purchase (from the summaries), retention cohorts and churn (from purchase occasions).

use crate::{Dated, ReportError, ReportResult, all_summaries, date, fold_occasions};
use chrono::NaiveDate;
use rapport_analytics::retention::{self, Churn, Cohort, RepeatPurchase, Tally};
use rapport_store::Store;

pub async fn repeat(store: &dyn Store) -> ReportResult<RepeatPurchase> {
    let all = all_summaries(store).await?;
    Ok(retention::repeat_purchase(all.iter().map(|c| &c.summary)))
}

pub async fn cohorts(
    store: &dyn Store,
    as_of: Option<NaiveDate>,
) -> ReportResult<Dated<Vec<Cohort>>> {
    let (tally, as_of) = tally(store, as_of).await?;
    Ok(Dated { as_of, rows: tally.cohorts() })
}

pub async fn churn(store: &dyn Store, as_of: Option<NaiveDate>) -> ReportResult<Dated<Vec<Churn>>> {
    let (tally, as_of) = tally(store, as_of).await?;
    Ok(Dated { as_of, rows: tally.churn() })
}

/// How far past the data an as-of day may lie (about ten years).
const MAX_DAYS_AFTER_DATA: i64 = 3_660;

/// Every customer's purchase months tallied as the occasions stream in, and the as-of day
/// (default: the day of the last purchase, so the last month reported is the last with data).
async fn tally(store: &dyn Store, as_of: Option<NaiveDate>) -> ReportResult<(Tally, NaiveDate)> {
    let last = store.last_purchase_at().await?.ok_or(ReportError::NoData("purchases"))?;
    let last = last.date_naive();
    let as_of = as_of.unwrap_or(last);
    // Every month up to the as-of day is a column: a far-future day would ask for thousands
    // of empty ones.
    if (as_of - last).num_days() > MAX_DAYS_AFTER_DATA {
        return Err(ReportError::Invalid {
            field: "as_of",
            reason: format!("{as_of} is more than ten years after the last purchase ({last})"),
        });
    }
    let parts = fold_occasions(store, None, || MonthFolder::new(as_of), MonthFolder::push).await?;
    let mut whole = Tally::new(as_of);
    for part in parts {
        whole.merge(part.finish());
    }
    Ok((whole, as_of))
}

/// Turns one partition's (customer, day) occasions, in that order, into each customer's
/// distinct months for the tally, holding one customer's months at a time.
struct MonthFolder {
    tally: Tally,
    customer: Option<i64>,
    months: Vec<i32>,
    /// The last day seen and its month: most occasions repeat a customer's day's month.
    day: (i64, i32),
}

impl MonthFolder {
    fn new(as_of: NaiveDate) -> MonthFolder {
        MonthFolder {
            tally: Tally::new(as_of),
            customer: None,
            months: Vec::new(),
            day: (i64::MIN, 0),
        }
    }

    fn push(&mut self, customer: i64, day: i64) {
        if self.customer != Some(customer) {
            self.flush();
            self.customer = Some(customer);
        }
        if self.day.0 != day {
            self.day = (day, retention::month_index(date(day)));
        }
        let month = self.day.1;
        if self.months.last() != Some(&month) {
            self.months.push(month);
        }
    }

    fn flush(&mut self) {
        self.tally.add_customer(&self.months);
        self.months.clear();
    }

    fn finish(mut self) -> Tally {
        self.flush();
        self.tally
    }
}
