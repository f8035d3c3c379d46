//! The Campaigns pages: the list with a form for a new campaign, and a campaign's page with its
//! audience, delivery and results (treatment against holdout, overall and per RFM segment,
//! with charts and the numbers beside them).

use super::charts::{self, Bar, Interval};
use super::{Layout, Viewer, page_error, render};
use crate::AppState;
use crate::campaigns;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use rapport_analytics::campaign::Lift;
use rapport_core::access::Permission;
use rapport_core::campaign::{CampaignSpec, GoalMetric};
use rapport_reports::campaigns::{Comparison, Results, Stage, results};
use rapport_store::StoredCampaign;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "campaigns.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    can_write: bool,
    form: NewCampaign,
    error: Option<String>,
    segments: Vec<String>,
    goals: Vec<(&'static str, &'static str)>,
}

struct Row {
    c: StoredCampaign,
    stage: &'static str,
    sent: String,
}

/// The new-campaign form, as submitted (kept to show again with an error).
#[derive(Debug, Deserialize)]
pub struct NewCampaign {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    segment: String,
    #[serde(default = "email")]
    channel: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    html: String,
    #[serde(default = "purchase")]
    goal: String,
    #[serde(default = "thirty")]
    goal_days: String,
    #[serde(default = "ten")]
    holdout_pct: String,
    #[serde(default)]
    seed: String,
}

fn email() -> String {
    "email".into()
}
fn purchase() -> String {
    "purchase".into()
}
fn thirty() -> String {
    "30".into()
}
fn ten() -> String {
    "10".into()
}

impl Default for NewCampaign {
    fn default() -> Self {
        NewCampaign {
            csrf: String::new(),
            name: String::new(),
            segment: String::new(),
            channel: email(),
            subject: "{{ first_name or \"Hello\" }}, something for you".into(),
            text: "Hello {{ name or \"there\" }},\n\n{% if points %}You have {{ points }} points ({{ tier }}).\n{% endif %}\nThank you for being a customer.\n".into(),
            html: String::new(),
            goal: purchase(),
            goal_days: thirty(),
            holdout_pct: ten(),
            seed: "1".into(),
        }
    }
}

impl NewCampaign {
    /// The spec the form describes; a number that does not parse is named.
    fn spec(&self) -> Result<CampaignSpec, String> {
        let number = |field: &str, v: &str| -> Result<f64, String> {
            v.trim().parse::<f64>().map_err(|_| format!("{field}: '{}' is not a number", v.trim()))
        };
        let days = number("goal_days", &self.goal_days)?;
        let seed = if self.seed.trim().is_empty() { 0.0 } else { number("seed", &self.seed)? };
        Ok(CampaignSpec {
            name: self.name.clone(),
            segment: self.segment.clone(),
            channel: self.channel.clone(),
            subject: self.subject.clone(),
            text: self.text.clone(),
            html: Some(self.html.clone()),
            goal: self.goal.clone(),
            goal_days: days.clamp(0.0, u32::MAX as f64) as u32,
            holdout: number("holdout", &self.holdout_pct)? / 100.0,
            seed: seed.max(0.0) as u64,
        })
    }
}

pub async fn list(viewer: Viewer, State(s): State<AppState>) -> Response {
    list_page(&s, &viewer, NewCampaign::default(), None).await
}

async fn list_page(
    s: &AppState,
    viewer: &Viewer,
    form: NewCampaign,
    error: Option<String>,
) -> Response {
    if let Err(e) = viewer.require(Permission::Read) {
        return page_error(e);
    }
    let (all, saved) = match tokio::try_join!(s.db.campaigns(), s.db.saved_segments()) {
        Ok(x) => x,
        Err(e) => return page_error(e.into()),
    };
    let now = Utc::now();
    let rows = all
        .into_iter()
        .map(|c| Row {
            stage: Stage::of(&c, now).label(),
            sent: c.sent_at.map_or("–".into(), |t| t.format("%Y-%m-%d").to_string()),
            c,
        })
        .collect();
    render(&ListPage {
        layout: viewer.layout("Campaigns"),
        rows,
        can_write: viewer.require(Permission::Write).is_ok(),
        form,
        error,
        segments: saved.into_iter().map(|s| s.slug).collect(),
        goals: GoalMetric::ALL.iter().map(|g| (g.as_str(), g.label())).collect(),
    })
}

pub async fn create(
    State(s): State<AppState>,
    viewer: Viewer,
    Form(f): Form<NewCampaign>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&f.csrf).and_then(|_| viewer.require(Permission::Write)) {
        return page_error(e);
    }
    let spec = match f.spec() {
        Ok(spec) => spec,
        Err(e) => return list_page(&s, &viewer, f, Some(e)).await,
    };
    match campaigns::create(s.db.as_ref(), &spec, Utc::now()).await {
        Ok(id) => Redirect::to(&format!("/campaigns/{id}")).into_response(),
        Err(e) => list_page(&s, &viewer, f, Some(e.to_string())).await,
    }
}

#[derive(Template)]
#[template(path = "campaign.html")]
struct CampaignPage {
    layout: Layout,
    r: Results,
    stage: &'static str,
    goal: &'static str,
    can_write: bool,
    headline: Option<String>,
    arms_chart: String,
    lift_chart: String,
    table: Vec<TableRow>,
    notice: Option<String>,
}

struct TableRow {
    group: String,
    treatment: String,
    holdout: String,
    lift: String,
    ci: String,
    relative: String,
    p: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct Shown {
    #[serde(default)]
    sent: Option<String>,
}

pub async fn show(
    viewer: Viewer,
    State(s): State<AppState>,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<Shown>,
) -> Response {
    if let Err(e) = viewer.require(Permission::Read) {
        return page_error(e);
    }
    let r = match results(s.db.as_ref(), id, Utc::now()).await {
        Ok(r) => r,
        Err(e) => return page_error(e.into()),
    };
    let goal = r.campaign.campaign.goal;
    let overall = r.overall.as_ref().and_then(|c| c.lift.as_ref());
    let mut all: Vec<&Comparison> = r.overall.iter().collect();
    all.extend(r.by_segment.iter());
    render(&CampaignPage {
        layout: viewer.layout("Campaigns"),
        stage: r.stage.label(),
        goal: goal.label(),
        can_write: viewer.require(Permission::Write).is_ok(),
        headline: overall.map(|l| headline(goal, l)),
        arms_chart: overall.map_or_else(String::new, |l| arms_chart(goal, l)),
        lift_chart: lift_chart(goal, &all),
        table: all.iter().map(|c| table_row(goal, c)).collect(),
        notice: q.sent,
        r,
    })
}

pub async fn send(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<super::settings::CsrfOnly>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&f.csrf).and_then(|_| viewer.require(Permission::Write)) {
        return page_error(e);
    }
    match campaigns::launch_now(&s, id).await {
        Ok(l) => {
            let note = format!(
                "Sent: {} messages queued, {} in the holdout, {} without marketing consent, {} without an address.",
                l.queued, l.counts.holdout, l.counts.no_consent, l.counts.no_address
            );
            let to = format!("/campaigns/{id}?sent={}", super::urlencode(&note));
            Redirect::to(&to).into_response()
        }
        Err(e) => page_error(e),
    }
}

pub async fn delete(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<super::settings::CsrfOnly>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&f.csrf).and_then(|_| viewer.require(Permission::Write)) {
        return page_error(e);
    }
    match s.db.delete_campaign(id).await {
        Ok(()) => Redirect::to("/campaigns").into_response(),
        Err(e) => page_error(e.into()),
    }
}

/// A value on the goal's scale: a rate in percent, an amount with two decimals.
fn value(goal: GoalMetric, v: f64) -> String {
    if goal.is_proportion() { format!("{:.1}%", v * 100.0) } else { format!("{v:.2}") }
}

/// A difference on the goal's scale: percentage points for rates.
fn diff(goal: GoalMetric, v: f64) -> String {
    if goal.is_proportion() { format!("{:+.1} pts", v * 100.0) } else { format!("{v:+.2}") }
}

fn p_value(p: f64) -> String {
    if p < 0.001 { "< 0.001".into() } else { format!("{p:.3}") }
}

fn headline(goal: GoalMetric, l: &Lift) -> String {
    let relative = l.relative.map_or(String::new(), |r| format!(" ({:+.1}% relative)", r * 100.0));
    let verdict = if l.p_value < 0.05 {
        "a difference unlikely to be chance (p < 0.05)"
    } else {
        "not distinguishable from chance at 95%"
    };
    format!(
        "{}: treatment {} against holdout {}, a lift of {}{relative}, 95% interval {} to {}, p = {}: {verdict}.",
        goal.label(),
        value(goal, l.treatment.value),
        value(goal, l.control.value),
        diff(goal, l.absolute),
        diff(goal, l.ci_low),
        diff(goal, l.ci_high),
        p_value(l.p_value)
    )
}

fn arms_chart(goal: GoalMetric, l: &Lift) -> String {
    let bar = |label: &str, v: f64, n: u64| Bar {
        label: format!("{label} (n = {n})"),
        value: v.max(0.0),
        text: value(goal, v),
    };
    charts::bars(
        "campaign-arms",
        &format!("{} by group", goal.label()),
        "The goal metric of the customers sent the campaign and of the holdout.",
        &[
            bar("Treatment", l.treatment.value, l.treatment.n),
            bar("Holdout", l.control.value, l.control.n),
        ],
    )
}

fn lift_chart(goal: GoalMetric, all: &[&Comparison]) -> String {
    let rows: Vec<Interval> = all
        .iter()
        .filter_map(|c| {
            let l = c.lift.as_ref()?;
            Some(Interval {
                label: c.segment.clone().unwrap_or_else(|| "All recipients".into()),
                estimate: l.absolute,
                low: l.ci_low,
                high: l.ci_high,
                text: format!(
                    "{} [{}, {}]",
                    diff(goal, l.absolute),
                    diff(goal, l.ci_low),
                    diff(goal, l.ci_high)
                ),
            })
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    charts::intervals(
        "campaign-lift",
        "Lift with its 95% interval, overall and per segment",
        "Treatment minus holdout on the goal metric; a bar that does not cross zero is a difference at 95% confidence.",
        &rows,
    )
}

fn table_row(goal: GoalMetric, c: &Comparison) -> TableRow {
    let group = c.segment.clone().unwrap_or_else(|| "All recipients".into());
    let dash = || "–".to_string();
    match &c.lift {
        Some(l) => TableRow {
            group,
            treatment: format!("{} (n = {})", value(goal, l.treatment.value), c.treatment),
            holdout: format!("{} (n = {})", value(goal, l.control.value), c.holdout),
            lift: diff(goal, l.absolute),
            ci: format!("{} to {}", diff(goal, l.ci_low), diff(goal, l.ci_high)),
            relative: l.relative.map_or_else(dash, |r| format!("{:+.1}%", r * 100.0)),
            p: p_value(l.p_value),
        },
        None => TableRow {
            group,
            treatment: format!("n = {}", c.treatment),
            holdout: format!("n = {}", c.holdout),
            lift: dash(),
            ci: "too few to compare".into(),
            relative: dash(),
            p: dash(),
        },
    }
}
