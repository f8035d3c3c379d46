//! `/api/v1/reports/...`: every report of `rapport report`, as the same JSON the CLI prints
//! with `--format json`. Results are shared for a minute ([`crate::report_cache`]); the `Age`
//! header says how many seconds old they are.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiQuery;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rapport_analytics::health::{Config, Weights};
use rapport_analytics::rfm::Segment;
use rapport_analytics::satisfaction::{Period, Scale};
use rapport_core::access::Permission;
use rapport_reports as reports;
use rapport_reports::{ReportError, ReportResult};
use rapport_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Arc;
use utoipa::IntoParams;

/// Computes (or reuses) a report and answers it as JSON with its age.
pub(crate) async fn cached<T, F, Fut>(
    s: &AppState,
    key: String,
    compute: F,
) -> ApiResult<(Arc<T>, u64)>
where
    T: Send + Sync + 'static,
    F: FnOnce(Arc<dyn crate::Backend>) -> Fut + Send + 'static,
    Fut: Future<Output = ReportResult<T>> + Send + 'static,
{
    let db = s.db.clone();
    // A report is seconds of arithmetic at a million customers: it runs on a blocking thread
    // (driving its store reads from there), so the runtime's workers keep serving requests.
    let on_blocking_thread = move || async move {
        tokio::task::spawn_blocking(move || tokio::runtime::Handle::current().block_on(compute(db)))
            .await
            .map_err(|e| ReportError::Store(StoreError::Other(Box::new(e))))?
    };
    let (value, at) = s.reports.get(key, on_blocking_thread).await?;
    Ok((value, at.elapsed().as_secs()))
}

// One loader per report, shared by the API and the dashboard so they share cached results.

pub(crate) type Loaded<T> = ApiResult<(Arc<T>, u64)>;

pub(crate) async fn load_rfm(
    s: &AppState,
    as_of: Option<NaiveDate>,
) -> Loaded<reports::Dated<Vec<reports::rfm::SegmentRow>>> {
    let key = format!("rfm?{as_of:?}");
    cached(s, key, move |db| async move { reports::rfm::segments(store(&db), as_of).await }).await
}

pub(crate) async fn load_repeat(
    s: &AppState,
) -> Loaded<rapport_analytics::retention::RepeatPurchase> {
    cached(s, "repeat".into(), |db| async move { reports::retention::repeat(store(&db)).await })
        .await
}

pub(crate) async fn load_retention(
    s: &AppState,
    as_of: Option<NaiveDate>,
) -> Loaded<reports::Dated<Vec<rapport_analytics::retention::Cohort>>> {
    let key = format!("retention?{as_of:?}");
    cached(s, key, move |db| async move { reports::retention::cohorts(store(&db), as_of).await })
        .await
}

pub(crate) async fn load_satisfaction(
    s: &AppState,
    params: reports::satisfaction::Params,
) -> Loaded<reports::satisfaction::Report> {
    let key = format!("satisfaction?{params:?}");
    cached(
        s,
        key,
        move |db| async move { reports::satisfaction::report(store(&db), &params).await },
    )
    .await
}

pub(crate) async fn load_clv(
    s: &AppState,
    params: reports::clv::Params,
) -> Loaded<reports::clv::Report> {
    let key = format!("clv?{params:?}");
    cached(s, key, move |db| async move { reports::clv::report(store(&db), &params).await }).await
}

pub(crate) async fn load_health(
    s: &AppState,
    params: reports::health::Params,
) -> Loaded<reports::health::Report> {
    let key = format!("health?{params:?}");
    cached(s, key, move |db| async move { reports::health::report(store(&db), &params).await })
        .await
}

fn answer<T: Serialize>((value, age): (Arc<T>, u64)) -> Response {
    ([(header::AGE, age.to_string())], Json(&*value)).into_response()
}

fn store(db: &Arc<dyn crate::Backend>) -> &dyn Store {
    db.as_ref()
}

/// A `YYYY-MM-DD` parameter; empty is none.
pub fn day(field: &'static str, v: &Option<String>) -> ApiResult<Option<NaiveDate>> {
    match v.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::parameter(field, format!("'{s}' is not a YYYY-MM-DD date"))),
    }
}

fn bounded<T: PartialOrd + std::fmt::Display + Copy>(
    field: &'static str,
    v: Option<T>,
    default: T,
    (lo, hi): (T, T),
) -> ApiResult<T> {
    match v.unwrap_or(default) {
        n if n >= lo && n <= hi => Ok(n),
        n => Err(ApiError::parameter(field, format!("{n} is not between {lo} and {hi}"))),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AsOf {
    /// The day the report is as of (YYYY-MM-DD); default: from the data.
    pub as_of: Option<String>,
}

/// RFM segments: buyers, share, mean recency and frequency, and value per named segment.
#[utoipa::path(get, path = "/api/v1/reports/rfm", tag = "reports", params(AsOf),
    responses((status = 200, body = serde_json::Value, description = "`{as_of, rows: [{segment, customers, share, mean_recency_days, mean_frequency, monetary}]}`"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn rfm(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<AsOf>,
) -> ApiResult<Response> {
    who.require(Permission::Read)?;
    Ok(answer(load_rfm(&s, day("as_of", &p.as_of)?).await?))
}

/// Repeat purchase: buyers, buyers with two or more purchase orders, and their share.
#[utoipa::path(get, path = "/api/v1/reports/repeat", tag = "reports",
    responses((status = 200, body = serde_json::Value, description = "`{buyers, repeat_buyers, rate}`"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn repeat(State(s): State<AppState>, Auth(who): Auth) -> ApiResult<Response> {
    who.require(Permission::Read)?;
    Ok(answer(load_repeat(&s).await?))
}

/// Retention cohorts: per first-purchase month, its customers and how many bought k months later.
#[utoipa::path(get, path = "/api/v1/reports/retention", tag = "reports", params(AsOf),
    responses((status = 200, body = serde_json::Value, description = "`{as_of, rows: [{month, customers, active: [..]}]}`"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn retention(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<AsOf>,
) -> ApiResult<Response> {
    who.require(Permission::Read)?;
    Ok(answer(load_retention(&s, day("as_of", &p.as_of)?).await?))
}

/// Monthly churn: customers active the month before, how many of them did not buy, the rate.
#[utoipa::path(get, path = "/api/v1/reports/churn", tag = "reports", params(AsOf),
    responses((status = 200, body = serde_json::Value, description = "`{as_of, rows: [{month, active_at_start, churned, rate}]}`"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn churn(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<AsOf>,
) -> ApiResult<Response> {
    who.require(Permission::Read)?;
    let as_of = day("as_of", &p.as_of)?;
    let key = format!("churn?{as_of:?}");
    let r = cached(
        &s,
        key,
        move |db| async move { reports::retention::churn(store(&db), as_of).await },
    )
    .await?;
    Ok(answer(r))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SatisfactionParams {
    /// day, week, month (default) or quarter.
    pub period: Option<String>,
    /// The feedback source whose ratings count (default: the report's name).
    pub source: Option<String>,
    /// Only the customers of one RFM segment (champions, loyal, at_risk, ...).
    pub segment: Option<String>,
    /// Adds the score of each RFM segment.
    pub by_segment: Option<bool>,
}

impl SatisfactionParams {
    fn params(&self, scale: Scale) -> ApiResult<reports::satisfaction::Params> {
        // Empty is the default; anything else must be valid as sent.
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        let period = match nonempty(&self.period).as_deref() {
            None | Some("month") => Period::Month,
            Some("day") => Period::Day,
            Some("week") => Period::Week,
            Some("quarter") => Period::Quarter,
            Some(other) => {
                return Err(ApiError::parameter(
                    "period",
                    format!("'{other}' is not one of day, week, month, quarter"),
                ));
            }
        };
        let segment = nonempty(&self.segment)
            .map(|s| Segment::parse(&s).map_err(|r| ApiError::parameter("segment", r)))
            .transpose()?;
        Ok(reports::satisfaction::Params {
            scale,
            source: nonempty(&self.source),
            period,
            segment,
            by_segment: self.by_segment.unwrap_or(false),
        })
    }
}

async fn satisfaction(s: AppState, scale: Scale, p: SatisfactionParams) -> ApiResult<Response> {
    Ok(answer(load_satisfaction(&s, p.params(scale)?).await?))
}

/// One satisfaction endpoint: the same handler and document for each scale.
macro_rules! satisfaction_endpoint {
    ($name:ident, $path:literal, $scale:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(get, path = $path, tag = "reports", params(SatisfactionParams),
            responses((status = 200, body = serde_json::Value, description = "`{scale, source, segment, outside_scale, overall, periods: [{start, estimate}], by_segment?}`; an estimate is `{score, low, high, responses, distribution}`"),
                (status = "4XX", body = Problem, content_type = "application/problem+json")))]
        pub async fn $name(
            State(s): State<AppState>,
            Auth(who): Auth,
            ApiQuery(p): ApiQuery<SatisfactionParams>,
        ) -> ApiResult<Response> {
            who.require(Permission::Read)?;
            satisfaction(s, $scale, p).await
        }
    };
}

satisfaction_endpoint!(
    nps,
    "/api/v1/reports/nps",
    Scale::Nps,
    "Net Promoter Score (ratings 0–10 of source `nps`): overall and per period with 95% intervals."
);
satisfaction_endpoint!(
    csat,
    "/api/v1/reports/csat",
    Scale::Csat,
    "Customer satisfaction (ratings 1–5 of source `csat`): % of 4s and 5s, per period."
);
satisfaction_endpoint!(
    ces,
    "/api/v1/reports/ces",
    Scale::Ces,
    "Customer effort (ratings 1–7 of source `ces`, higher = easier): the mean, per period."
);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClvParams {
    /// day or week (default).
    pub unit: Option<String>,
    /// Last day of the calibration period (YYYY-MM-DD); default: the last purchase day.
    pub calibration_end: Option<String>,
    /// Last day of a holdout period: adds actual against predicted.
    pub holdout_end: Option<String>,
    /// Units ahead to predict, 1 to 520 (default 52).
    pub horizon: Option<u32>,
    /// Annual discount rate, 0 to 1 (default 0.1).
    pub discount: Option<f64>,
}

/// Predictive lifetime value: BG/NBD and Gamma-Gamma fits with standard errors, expected
/// purchases and discounted value over the horizon, the value distribution, the holdout table.
#[utoipa::path(get, path = "/api/v1/reports/clv", tag = "reports", params(ClvParams),
    responses((status = 200, body = serde_json::Value, description = "As `rapport report clv --format json`: `params` {r, alpha, a, b}, `standard_errors`, `log_likelihood`, `gamma_gamma` {p, q, v, ...}, `expected_purchases`, `expected_value`, `value_distribution`, `holdout`"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn clv(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<ClvParams>,
) -> ApiResult<Response> {
    who.require(Permission::Read)?;
    let unit = match p.unit.as_deref() {
        None | Some("") | Some("week") => reports::clv::Unit::Week,
        Some("day") => reports::clv::Unit::Day,
        Some(other) => {
            return Err(ApiError::parameter("unit", format!("'{other}' is not day or week")));
        }
    };
    let params = reports::clv::Params {
        unit,
        calibration_end: day("calibration_end", &p.calibration_end)?,
        holdout_end: day("holdout_end", &p.holdout_end)?,
        horizon: bounded("horizon", p.horizon, 52, (1, 520))?,
        discount: bounded("discount", p.discount, 0.1, (0.0, 1.0))?,
    };
    Ok(answer(load_clv(&s, params).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HealthParams {
    /// The day health is computed for (YYYY-MM-DD); default: the day after the last purchase.
    pub as_of: Option<String>,
    /// How many at-risk customers to list by value at risk, 1 to 500 (default 25).
    pub top: Option<usize>,
    /// The window in days for support load and purchase trend, 1 to 3650 (default 90).
    pub window_days: Option<i64>,
    /// Weeks of predicted value at risk, 1 to 520 (default 52).
    pub horizon: Option<u32>,
    pub weight_recency: Option<f64>,
    pub weight_p_alive: Option<f64>,
    pub weight_satisfaction: Option<f64>,
    pub weight_sentiment: Option<f64>,
    pub weight_support: Option<f64>,
    pub weight_usage: Option<f64>,
    pub weight_trend: Option<f64>,
}

impl HealthParams {
    pub fn params(&self) -> ApiResult<reports::health::Params> {
        let mut weights = Weights::default();
        let given = [
            self.weight_recency,
            self.weight_p_alive,
            self.weight_satisfaction,
            self.weight_sentiment,
            self.weight_support,
            self.weight_usage,
            self.weight_trend,
        ];
        for (name, value) in Weights::NAMES.into_iter().zip(given) {
            if let Some(v) = value {
                weights
                    .set(name, v)
                    .map_err(|r| ApiError::parameter(format!("weight_{name}"), r))?;
            }
        }
        let config = Config {
            weights,
            window_days: bounded("window_days", self.window_days, 90, (1, 3650))?,
            ..Config::default()
        };
        Ok(reports::health::Params {
            as_of: day("as_of", &self.as_of)?,
            config,
            horizon_weeks: bounded("horizon", self.horizon, 52, (1, 520))?,
            discount: 0.1,
            top: Some(bounded("top", self.top, 25, (1, 500))?),
        })
    }
}

/// Customer health (0–100) and the at-risk customers ordered by value at risk (predicted
/// value × churn risk). Every weight can be set; see ARCHITECTURE.md for the formula.
#[utoipa::path(get, path = "/api/v1/reports/health", tag = "reports", params(HealthParams),
    responses((status = 200, body = serde_json::Value, description = "`{as_of, config, scored, mean_score, bands, histogram, value_at_risk, customers: [{customer, name, score, band, churn_risk, predicted_value, value_at_risk, last_purchase, components}]}`"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn health(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<HealthParams>,
) -> ApiResult<Response> {
    who.require(Permission::Read)?;
    Ok(answer(load_health(&s, p.params()?).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ThemesQuery {
    /// Only feedback of this source (`review`, `nps`...).
    pub source: Option<String>,
    /// Only feedback created on or after this day (YYYY-MM-DD).
    pub since: Option<String>,
    /// Themes listed, largest first (1 to 500; default 10).
    pub top: Option<usize>,
}

/// Recurring themes of the feedback texts, found without supervision: per theme its stable id,
/// label, top phrases, items, share, mean sentiment, share negative, weekly counts and quotes.
#[utoipa::path(get, path = "/api/v1/reports/themes", tag = "reports", params(ThemesQuery),
    responses((status = 200, body = serde_json::Value, description = "`{items, assigned, weeks, themes: [{id, label, phrases, items, share, sentiment, negative, weekly, examples}]}`"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn themes(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<ThemesQuery>,
) -> ApiResult<Response> {
    who.require(Permission::Read)?;
    let source = match q.source.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => {
            Some(rapport_core::parse_source(v).map_err(|r| ApiError::parameter("source", r))?)
        }
        None => None,
    };
    let since = day("since", &q.since)?;
    let top = q.top.unwrap_or(10);
    if !(1..=500).contains(&top) {
        return Err(ApiError::parameter("top", "must be from 1 to 500"));
    }
    let key = format!("themes?{source:?}&{since:?}&{top}");
    let params = reports::themes::Params {
        source,
        since: since.map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()),
        top,
        ..Default::default()
    };
    let loaded =
        cached(
            &s,
            key,
            move |db| async move { reports::themes::report(store(&db), &params).await },
        )
        .await?;
    Ok(answer(loaded))
}
