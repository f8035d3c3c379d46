//! The balanced scorecard over a stored company: every goal with its metric's series over the
//! last periods, the latest measurement and the status against the target.
//!
//! Where the numbers come from (one read each, only for the metrics some goal names, run
//! concurrently):
//! - NPS, CSAT and CES: the ratings of the `nps`, `csat` and `ces` feedback sources, scored
//!   per period by `analytics::satisfaction::trend` (as `report nps --period month`);
//! - retention, churn, repeat purchase, active customers and the buyers behind CLV: every
//!   purchase order's (customer, time) from the `orders_purchase_times` index
//!   (`JourneyStore::purchase_times`), tallied per customer (`analytics::scorecard::measure`
//!   has the definitions);
//! - revenue, orders and CLV's value: purchase orders and value per UTC day, summed in the
//!   database (`ScorecardStore::sales_by_day`);
//! - loyalty liability: the points members hold now, from the loyalty overview. The ledger's
//!   expiries are appended lazily, so past balances cannot be read back from it: the series is
//!   the current value alone.
//!
//! CLV is historical (purchase value per buyer by the end of each period), not predicted: it
//! has a value for every past period without refitting BG/NBD per period, and a goal on it
//! reads as "what an average customer has spent with us".
//!
//! **The latest measurement is the last complete period** as of the as-of day (default: the
//! day of the last purchase, as the retention report), so a running month is never judged on
//! its first days. Loyalty liability, having no history, is judged on its value now.

use crate::{ReportError, ReportResult};
use chrono::{NaiveDate, SubsecRound};
use rapport_analytics::satisfaction::{self, Scale};
use rapport_analytics::scorecard::{
    DaySales, Goal, Metric, Period, Perspective, Point, PurchaseTally, SalesTally, Status, Unit,
    Window, measure,
};
use rapport_core::Timestamp;
use rapport_store::{Backend, CustomerTime, GoalRecord, StoreError};
use serde::Serialize;
use std::collections::HashMap;

/// How many periods a series shows by default: a year of months.
pub const DEFAULT_PERIODS: usize = 12;
/// The most periods a series may show (five years of months).
const MAX_PERIODS: usize = 60;

#[derive(Debug, Clone)]
pub struct Params {
    /// Default: the day of the last purchase (today's date before any).
    pub as_of: Option<NaiveDate>,
    pub periods: usize,
    /// When loyalty liability is read (its points expire by the clock).
    pub now: Timestamp,
}

impl Params {
    pub fn new(now: Timestamp) -> Params {
        Params { as_of: None, periods: DEFAULT_PERIODS, now }
    }
}

/// One goal with its measurements.
#[derive(Debug, Clone, Serialize)]
pub struct GoalStatus {
    #[serde(flatten)]
    pub record: GoalRecord,
    pub label: &'static str,
    pub perspective: Perspective,
    pub unit: Unit,
    /// Oldest first; the last point is the latest measurement.
    pub series: Vec<Point>,
    pub latest: Option<Point>,
    pub status: Status,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scorecard {
    pub as_of: NaiveDate,
    pub goals: Vec<GoalStatus>,
}

impl Scorecard {
    /// The goals of one perspective, in id order.
    pub fn of(&self, p: Perspective) -> impl Iterator<Item = &GoalStatus> {
        self.goals.iter().filter(move |g| g.perspective == p)
    }
}

/// Every goal with its series, latest measurement and status.
pub async fn scorecard(store: &dyn Backend, p: &Params) -> ReportResult<Scorecard> {
    if !(1..=MAX_PERIODS).contains(&p.periods) {
        return Err(ReportError::Invalid {
            field: "periods",
            reason: format!("must be between 1 and {MAX_PERIODS}, not {}", p.periods),
        });
    }
    let goals = store.goals().await?;
    let as_of = match p.as_of {
        Some(d) => d,
        None => store.last_purchase_at().await?.unwrap_or(p.now).date_naive(),
    };
    let data = Data::read(store, &goals, p.now).await?;
    let mut measured: HashMap<Period, HashMap<Metric, Vec<Point>>> = HashMap::new();
    for period in [Period::Month, Period::Quarter] {
        let metrics: Vec<Metric> =
            goals.iter().filter(|g| g.goal.period == period).map(|g| g.goal.metric).collect();
        if !metrics.is_empty() {
            let window = Window::ending(period, as_of, p.periods);
            measured.insert(period, data.measure(window, &metrics, p.now));
        }
    }
    let out = goals
        .into_iter()
        .map(|record| {
            let series = measured[&record.goal.period][&record.goal.metric].clone();
            judge(record, series)
        })
        .collect();
    Ok(Scorecard { as_of, goals: out })
}

fn judge(record: GoalRecord, series: Vec<Point>) -> GoalStatus {
    let goal: &Goal = &record.goal;
    let latest = series.last().cloned();
    let status = goal.status(latest.as_ref().and_then(|p| p.value));
    let (metric, label) = (goal.metric, goal.metric.label());
    GoalStatus {
        label,
        perspective: metric.perspective(),
        unit: metric.unit(),
        series,
        latest,
        status,
        record,
    }
}

/// What the goals' metrics are computed from; `None` where no goal needs it.
struct Data {
    ratings: HashMap<Metric, Vec<(Timestamp, i16)>>,
    purchases: Option<Vec<CustomerTime>>,
    sales: Option<Vec<DaySales>>,
    liability: Option<f64>,
}

const CUSTOMER_TALLY: [Metric; 5] =
    [Metric::Retention, Metric::Churn, Metric::RepeatRate, Metric::Clv, Metric::ActiveCustomers];

impl Data {
    async fn read(store: &dyn Backend, goals: &[GoalRecord], now: Timestamp) -> ReportResult<Data> {
        let needs = |ms: &[Metric]| goals.iter().any(|g| ms.contains(&g.goal.metric));
        let scales =
            [(Metric::Nps, Scale::Nps), (Metric::Csat, Scale::Csat), (Metric::Ces, Scale::Ces)];
        let rated: Vec<(Metric, Scale)> =
            scales.into_iter().filter(|(m, _)| needs(&[*m])).collect();
        let (ratings, purchases, sales, liability) = tokio::try_join!(
            ratings(store, &rated),
            when(needs(&CUSTOMER_TALLY), store.purchase_times()),
            when(needs(&[Metric::Revenue, Metric::Orders, Metric::Clv]), store.sales_by_day()),
            async {
                if needs(&[Metric::LoyaltyLiability]) {
                    liability(store, now).await
                } else {
                    Ok(None)
                }
            },
        )?;
        Ok(Data { ratings, purchases, sales, liability })
    }

    /// The series of `metrics` over `window`, each computed once; the purchase tally, which
    /// five of them share, is built once too.
    fn measure(
        &self,
        window: Window,
        metrics: &[Metric],
        now: Timestamp,
    ) -> HashMap<Metric, Vec<Point>> {
        let tally = metrics.iter().any(|m| CUSTOMER_TALLY.contains(m)).then(|| self.tally(window));
        let sales = SalesTally::new(window, self.sales.as_deref().unwrap_or_default());
        let mut out = HashMap::new();
        for &metric in metrics {
            if out.contains_key(&metric) {
                continue;
            }
            let t = || tally.as_ref().expect("a tally for a customer metric");
            let series = match metric {
                Metric::Nps => self.satisfaction(metric, Scale::Nps, window),
                Metric::Csat => self.satisfaction(metric, Scale::Csat, window),
                Metric::Ces => self.satisfaction(metric, Scale::Ces, window),
                Metric::Retention => t().retention(),
                Metric::Churn => t().churn(),
                Metric::RepeatRate => t().repeat_rate(),
                Metric::ActiveCustomers => t().active_customers(),
                Metric::Clv => sales.clv(&t().buyers_through()),
                Metric::Revenue => sales.revenue(),
                Metric::Orders => sales.orders(),
                Metric::LoyaltyLiability => {
                    vec![Point {
                        start: now.date_naive(),
                        label: "now".into(),
                        value: self.liability,
                    }]
                }
            };
            out.insert(metric, series);
        }
        out
    }

    fn satisfaction(&self, metric: Metric, scale: Scale, window: Window) -> Vec<Point> {
        let ratings = self.ratings.get(&metric).map_or(&[][..], Vec::as_slice);
        let period = match window.period {
            Period::Month => satisfaction::Period::Month,
            Period::Quarter => satisfaction::Period::Quarter,
        };
        let from = window.period.start(window.first());
        let to = window.period.start(window.latest + 1);
        let within: Vec<(Timestamp, i16)> = ratings
            .iter()
            .filter(|(at, _)| (from..to).contains(&at.date_naive()))
            .copied()
            .collect();
        let scores: HashMap<NaiveDate, f64> = satisfaction::trend(scale, &within, period)
            .into_iter()
            .filter_map(|p| Some((p.start, p.estimate?.score)))
            .collect();
        window.points(|i| scores.get(&window.period.start(i)).copied())
    }

    /// Tallies every customer's purchase orders (in (customer, time) order) for `window`.
    fn tally(&self, window: Window) -> PurchaseTally {
        let mut t = PurchaseTally::new(window);
        let purchases = self.purchases.as_deref().unwrap_or_default();
        let mut days: Vec<i64> = Vec::new();
        let mut current = None;
        for &(customer, at) in purchases {
            if current != Some(customer) {
                t.add_customer(&days);
                days.clear();
                current = Some(customer);
            }
            days.push(measure::day_of_micros(at));
        }
        t.add_customer(&days);
        t
    }
}

/// `read` when `wanted`, else nothing.
async fn when<T>(
    wanted: bool,
    read: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<Option<T>, StoreError> {
    if wanted { read.await.map(Some) } else { Ok(None) }
}

/// The ratings of each scale's default source, as (time, rating).
async fn ratings(
    store: &dyn Backend,
    scales: &[(Metric, Scale)],
) -> Result<HashMap<Metric, Vec<(Timestamp, i16)>>, StoreError> {
    let mut out = HashMap::new();
    for (m, scale) in scales {
        let rated = store.ratings(crate::satisfaction::default_source(*scale)).await?;
        out.insert(*m, rated.into_iter().map(|r| (r.at, r.rating)).collect());
    }
    Ok(out)
}

/// The points members hold now; `None` before a programme exists.
async fn liability(store: &dyn Backend, now: Timestamp) -> Result<Option<f64>, StoreError> {
    match crate::loyalty::overview(store, now).await {
        Ok(o) => Ok(Some(o.figures.liability as f64)),
        Err(ReportError::Store(StoreError::NotFound(_))) => Ok(None),
        Err(ReportError::Store(e)) => Err(e),
        Err(e) => Err(StoreError::other(e)),
    }
}

/// Stores a new goal (checked by the caller), its times to the microsecond.
pub async fn create_goal(
    store: &dyn Backend,
    goal: &Goal,
    by: Option<&str>,
    now: Timestamp,
) -> ReportResult<GoalRecord> {
    Ok(store.create_goal(goal, by, now.trunc_subsecs(6)).await?)
}

/// Replaces a goal (checked by the caller); `NotFound` when absent.
pub async fn update_goal(
    store: &dyn Backend,
    id: i64,
    goal: &Goal,
    now: Timestamp,
) -> ReportResult<GoalRecord> {
    Ok(store.update_goal(id, goal, now.trunc_subsecs(6)).await?)
}
