//! Campaign operations shared by the API, the pages, the CLI and the demo: creating a campaign
//! (its templates and segment checked first), and launching it.
//!
//! A launch reads the segment's members from a customer frame read for it (so consents are as
//! of the launch), keeps those whose latest marketing consent is a grant and who can be reached
//! on the campaign's channel, draws the holdout among them (seeded, per customer:
//! `rapport_analytics::campaign::in_holdout`), renders the treatment's personalised messages
//! and hands everything to the store, which records the audience and queues the messages in one
//! transaction. Eligibility is decided before the draw, so both groups are alike.

use crate::error::{ApiError, ApiResult};
use crate::outbox::templates::Templates;
use minijinja::{Value, context};
use rapport_analytics::campaign::in_holdout;
use rapport_analytics::rfm::Segment;
use rapport_core::campaign::{Arm, Campaign, CampaignChannel, CampaignSpec};
use rapport_core::filter::{Field, Filter};
use rapport_core::loyalty::Account;
use rapport_core::{ExternalId, Timestamp};
use rapport_reports::campaigns::topic;
use rapport_reports::recommend::{Catalogue, for_customer};
use rapport_reports::saved_segments;
use rapport_reports::segments::KeyedFrame;
use rapport_store::{
    AudienceCounts, Backend, Launch, NewMessage, NewRecipient, OutboxChannel, RowOutcome,
    StoreError,
};
use serde::Serialize;
use std::collections::HashMap;

/// How many products a message's `recommendations` lists.
const RECOMMENDED: usize = 3;

/// A campaign's templates, compiled (the HTML body is auto-escaped).
pub fn templates(c: &Campaign) -> ApiResult<Templates> {
    Templates::new(&c.subject, &c.text, c.html.as_deref().unwrap_or("")).map_err(|reason| {
        let field = match reason.split(':').next() {
            Some("template subject") => "subject",
            Some("template body.html") => "html",
            _ => "text",
        };
        ApiError::invalid(field, reason)
    })
}

/// Checks a spec (fields, templates, segment) and stores it as a draft; returns its id.
pub async fn create(db: &dyn Backend, spec: &CampaignSpec, now: Timestamp) -> ApiResult<i64> {
    let c = spec.check()?;
    templates(&c)?;
    saved_segments::resolve(db, &c.segment, "segment").await?;
    Ok(db.create_campaign(&c, now).await?)
}

/// What a launch did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Launched {
    #[schema(value_type = Object)]
    pub counts: AudienceCounts,
    /// Messages queued in the outbox now.
    pub queued: usize,
    /// Messages the outbox refused, with the first reason.
    pub refused: usize,
    pub first_refusal: Option<String>,
}

/// Per-customer context a template may use besides the frame's: loyalty and recommendations,
/// computed only when a template names them.
#[derive(Default)]
pub struct Extras {
    /// Balance and tier by customer key.
    pub loyalty: HashMap<i64, (i64, String)>,
    /// Product names (or SKUs) by customer key.
    pub recommendations: HashMap<i64, Vec<String>>,
}

/// Where the treatment's messages go.
enum Route {
    Email,
    Webhook { source: String, url: String },
}

/// What launching campaign `id` over the customers of `kf` at `now` would write: the
/// audience divided and the treatment's messages rendered. Writes nothing.
pub async fn prepare(
    db: &dyn Backend,
    kf: &KeyedFrame,
    catalogue: Option<&Catalogue>,
    id: i64,
    now: Timestamp,
) -> ApiResult<Launch> {
    let stored = db.campaign(id).await?;
    if stored.sent_at.is_some() {
        return Err(StoreError::Conflict(format!("campaign {id} was already sent")).into());
    }
    let c = stored.campaign;
    let t = templates(&c)?;
    let filter = saved_segments::resolve(db, &c.segment, "segment").await?;
    let route = route(db, &c.channel).await?;
    let plan = audience(kf, &filter, &c, id, &route, now);
    let extras = extras(db, &t, kf, &plan, catalogue, now).await?;
    render(&t, &c, id, kf, plan, &route, &extras)
}

/// Launches campaign `id` over the customers of `kf` (read for the launch), at `now`.
pub async fn launch(
    db: &dyn Backend,
    kf: &KeyedFrame,
    catalogue: Option<&Catalogue>,
    id: i64,
    now: Timestamp,
) -> ApiResult<Launched> {
    let launch = prepare(db, kf, catalogue, id, now).await?;
    let counts = launch.counts;
    let outcomes = db.launch_campaign(id, launch, now).await?;
    let refusals: Vec<String> = outcomes
        .iter()
        .filter_map(|o| match o {
            RowOutcome::Rejected(e) => Some(e.to_string()),
            _ => None,
        })
        .collect();
    let queued = outcomes.iter().filter(|o| matches!(o, RowOutcome::Inserted)).count();
    tracing::info!(campaign = id, queued, holdout = counts.holdout, "campaign launched");
    Ok(Launched {
        counts,
        queued,
        refused: refusals.len(),
        first_refusal: refusals.into_iter().next(),
    })
}

async fn route(db: &dyn Backend, channel: &CampaignChannel) -> ApiResult<Route> {
    let CampaignChannel::Webhook { source } = channel else { return Ok(Route::Email) };
    let found = db.webhook_sources().await?.into_iter().find(|s| s.name.as_str() == source);
    match found {
        Some(s) if s.revoked_at.is_none() => match s.notify_url {
            Some(url) => Ok(Route::Webhook { source: source.clone(), url }),
            None => Err(ApiError::invalid(
                "channel",
                format!("webhook source '{source}' has no notify URL to deliver to"),
            )),
        },
        _ => Err(ApiError::invalid("channel", format!("no active webhook source '{source}'"))),
    }
}

/// The audience divided: rows of the frame with their group.
struct Plan {
    counts: AudienceCounts,
    members: Vec<(usize, i64, Arm)>,
}

/// Segment members, consent and reachability, and the holdout draw.
fn audience(
    kf: &KeyedFrame,
    filter: &Filter,
    c: &Campaign,
    id: i64,
    route: &Route,
    now: Timestamp,
) -> Plan {
    let frame = &kf.frame;
    let schema = frame.schema();
    let selected = rapport_analytics::segment::compile(filter, &schema).eval(frame, now);
    let marketing = rapport_core::filter::parse("consent(\"marketing\")").expect("a valid filter");
    let consents = rapport_analytics::segment::compile(&marketing, &schema).eval(frame, now);
    let mut counts = AudienceCounts::default();
    let mut members = Vec::new();
    for row in selected.ones() {
        let Some(key) = kf.keys[row] else { continue };
        counts.segment += 1;
        if !consents.get(row) {
            counts.no_consent += 1;
            continue;
        }
        if matches!(route, Route::Email) && frame.text(Field::Email, row).is_none() {
            counts.no_address += 1;
            continue;
        }
        let arm = match in_holdout(c.seed, id, frame.id(row), c.holdout) {
            true => Arm::Holdout,
            false => Arm::Treatment,
        };
        match arm {
            Arm::Treatment => counts.treatment += 1,
            Arm::Holdout => counts.holdout += 1,
        }
        members.push((row, key, arm));
    }
    Plan { counts, members }
}

/// Loyalty and recommendations for the treatment, when a template names them.
async fn extras(
    db: &dyn Backend,
    t: &Templates,
    kf: &KeyedFrame,
    plan: &Plan,
    catalogue: Option<&Catalogue>,
    now: Timestamp,
) -> ApiResult<Extras> {
    let mut out = Extras::default();
    if t.uses("points") || t.uses("tier") {
        out.loyalty = loyalty(db, now).await?;
    }
    // Without a trained model there is nothing personal to recommend: no per-customer reads.
    if let (true, Some(catalogue)) = (t.uses("recommendations"), catalogue) {
        for &(row, key, arm) in &plan.members {
            if arm != Arm::Treatment {
                continue;
            }
            let Ok(id) = ExternalId::parse(kf.frame.id(row)) else { continue };
            let r = for_customer(db, Some(catalogue), &id, RECOMMENDED).await?;
            let names = r.items.into_iter().map(|i| i.name.unwrap_or(i.sku)).collect();
            out.recommendations.insert(key, names);
        }
    }
    Ok(out)
}

/// Every member's balance and tier at `now`.
async fn loyalty(db: &dyn Backend, now: Timestamp) -> ApiResult<HashMap<i64, (i64, String)>> {
    let Some(programme) = db.loyalty_programme().await? else { return Ok(HashMap::new()) };
    let mut out = HashMap::new();
    for l in db.loyalty_ledgers().await? {
        let mut account = Account::replay(&l.entries).map_err(StoreError::other)?;
        account.expire_due(now, &programme);
        let tier = account.tier_at(now, &programme);
        let name = programme.tiers.get(tier).map(|t| t.name.clone()).unwrap_or_default();
        out.insert(l.customer, (account.balance(), name));
    }
    Ok(out)
}

/// The RFM segment of a frame row, for results per segment.
fn rfm_segment(kf: &KeyedFrame, row: usize) -> Option<String> {
    let r = kf.frame.number(Field::RfmR, row)?;
    let f = kf.frame.number(Field::RfmF, row)?;
    Some(Segment::of(r as u8, f as u8).as_str().to_string())
}

/// The recipients and the treatment's rendered messages.
fn render(
    t: &Templates,
    c: &Campaign,
    id: i64,
    kf: &KeyedFrame,
    plan: Plan,
    route: &Route,
    extras: &Extras,
) -> ApiResult<Launch> {
    let frame = &kf.frame;
    let mut launch = Launch { counts: plan.counts, ..Launch::default() };
    launch.recipients.reserve(plan.members.len());
    for (row, key, arm) in plan.members {
        launch.recipients.push(NewRecipient {
            customer: key,
            arm,
            segment: rfm_segment(kf, row),
            clv_before: frame.number(Field::ClvPredicted, row),
        });
        if arm == Arm::Holdout {
            continue;
        }
        let who = frame.id(row);
        let name = frame.text(Field::Name, row);
        let (points, tier) = match extras.loyalty.get(&key) {
            Some((p, t)) => (Some(*p), Some(t.as_str())),
            None => (None, None),
        };
        let ctx = context! {
            name => name,
            first_name => name.and_then(|n| n.split_whitespace().next()),
            points => points,
            tier => tier,
            recommendations => extras.recommendations.get(&key).cloned().unwrap_or_default(),
            campaign => c.name,
        };
        launch.messages.push(message(t, c, id, who, frame.text(Field::Email, row), route, &ctx)?);
    }
    Ok(launch)
}

fn message(
    t: &Templates,
    c: &Campaign,
    id: i64,
    who: &str,
    email: Option<&str>,
    route: &Route,
    ctx: &Value,
) -> ApiResult<NewMessage> {
    let (subject, text, html) =
        t.render(ctx).map_err(|reason| ApiError::invalid("text", reason))?;
    let customer =
        ExternalId::parse(who).map_err(|m| ApiError::internal(std::io::Error::other(m)))?;
    let (channel, recipient, source, body, html) = match route {
        Route::Email => {
            let html = c.html.is_some().then_some(html);
            (OutboxChannel::Email, email.unwrap_or_default().to_string(), None, text, html)
        }
        Route::Webhook { source, url } => {
            let payload = serde_json::json!({
                "event": "campaign",
                "campaign": { "id": id, "name": c.name },
                "customer": { "id": who },
                "subject": subject,
                "text": text,
            });
            (OutboxChannel::Webhook, url.clone(), Some(source.clone()), payload.to_string(), None)
        }
    };
    Ok(NewMessage {
        dedupe_key: format!("{}:customer:{who}", topic(id)),
        customer,
        channel,
        recipient,
        source,
        subject,
        body,
        html,
        topic: topic(id),
    })
}

/// Launches campaign `id` from the server: the customers read afresh (consents as of now, not
/// as of the frame the previews hold), the recommendation model as held.
pub async fn launch_now(s: &crate::AppState, id: i64) -> ApiResult<Launched> {
    let db = s.db.as_ref();
    let c = db.campaign(id).await?;
    let filter = saved_segments::resolve(db, &c.campaign.segment, "segment").await?;
    s.segment_frames.invalidate();
    let (kf, _) = s.segment_frames.get(db, &rapport_reports::segments::Needs::of(&filter)).await?;
    let catalogue = s.models.current(db).await?;
    launch(db, &kf, catalogue.as_deref(), id, chrono::Utc::now()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign(channel: &str, html: Option<&str>) -> Campaign {
        let spec = CampaignSpec {
            name: "Spring".into(),
            segment: "orders >= 1".into(),
            channel: channel.into(),
            subject: "Hi {{ first_name }}".into(),
            text: "{{ name }} has {{ points }} points".into(),
            html: html.map(str::to_string),
            goal: "purchase".into(),
            goal_days: 14,
            holdout: 0.1,
            seed: 1,
        };
        spec.check().unwrap()
    }

    fn ctx() -> Value {
        context! { name => "Ann <b> Lee", first_name => "Ann", points => 120, campaign => "Spring" }
    }

    #[test]
    fn webhook_messages_carry_the_rendered_text_as_json() {
        let c = campaign("webhook:crm", None);
        let t = templates(&c).unwrap();
        let route = Route::Webhook { source: "crm".into(), url: "http://h.example/in".into() };
        let m = message(&t, &c, 7, "c-9", None, &route, &ctx()).unwrap();
        assert_eq!((m.channel, m.source.as_deref()), (OutboxChannel::Webhook, Some("crm")));
        assert_eq!((m.recipient.as_str(), m.html), ("http://h.example/in", None));
        assert_eq!(
            (m.dedupe_key.as_str(), m.topic.as_str()),
            ("campaign:7:customer:c-9", "campaign:7")
        );
        let v: serde_json::Value = serde_json::from_str(&m.body).unwrap();
        assert_eq!(v["campaign"]["id"], 7);
        assert_eq!(v["customer"]["id"], "c-9");
        assert_eq!(v["subject"], "Hi Ann");
        assert_eq!(v["text"], "Ann <b> Lee has 120 points");
    }

    #[test]
    fn emails_have_html_only_when_the_campaign_does_and_it_is_escaped() {
        let plain = campaign("email", None);
        let route = Route::Email;
        let m = message(
            &templates(&plain).unwrap(),
            &plain,
            1,
            "c1",
            Some("a@x.example"),
            &route,
            &ctx(),
        );
        let m = m.unwrap();
        assert_eq!((m.recipient.as_str(), m.html), ("a@x.example", None));
        let rich = campaign("email", Some("<p>{{ name }}</p>"));
        let m = message(
            &templates(&rich).unwrap(),
            &rich,
            1,
            "c1",
            Some("a@x.example"),
            &route,
            &ctx(),
        );
        assert_eq!(m.unwrap().html.as_deref(), Some("<p>Ann &lt;b&gt; Lee</p>"));
        let broken = CampaignSpec { html: Some("{% if %}".into()), ..Default::default() };
        let c = Campaign { html: broken.html, ..plain };
        let err = templates(&c).unwrap_err().to_string();
        assert!(err.contains("html"), "the HTML template is named: {err}");
    }
}
