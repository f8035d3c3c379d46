//! Personas over a stored company: a source (a filter, or an RFM segment by name) selects the
//! members through the segment frame, [`PersonaStore::persona_facts`] gives every customer's
//! facts aggregated in the database, the ideas give who asked for what, and
//! `rapport_analytics::persona::build` describes the members against everyone.
//!
//! The whole population is read once per regeneration (lifts need it), so regenerating every
//! persona reads it once too ([`regenerate_all`]).

use crate::segments::{Needs, frame};
use crate::{ReportError, ReportResult};
use chrono::Datelike;
use rapport_analytics::persona::{self, CustomerFacts, FeedbackFact, Interner, PersonaProfile};
use rapport_analytics::segment::CustomerFrame;
use rapport_core::Timestamp;
use rapport_core::filter::{Filter, parse};
use rapport_store::{Backend, NewPersona, PersonaFacts, PersonaRecord};
use std::collections::HashMap;

/// The kinds of source a persona may have.
pub const KINDS: [&str; 2] = ["filter", "rfm"];

/// A persona's source, parsed: what selects its members.
#[derive(Debug, Clone)]
pub struct Source {
    pub kind: String,
    pub expression: String,
    filter: Filter,
}

impl Source {
    /// `filter` with a filter expression, or `rfm` with an RFM segment name ("champions").
    pub fn parse(kind: &str, expression: &str) -> ReportResult<Source> {
        let invalid = |reason: String| ReportError::Invalid { field: "source", reason };
        let text = match kind {
            "filter" => expression.to_string(),
            "rfm" => format!("rfm_segment = \"{}\"", expression.trim().replace('"', "")),
            other => return Err(invalid(format!("'{other}' is not one of: filter, rfm"))),
        };
        let filter = parse(&text).map_err(|e| invalid(e.to_string()))?;
        Ok(Source { kind: kind.to_string(), expression: expression.trim().to_string(), filter })
    }
}

/// Everyone's facts, with the frame that selects members: read once, used for any number of
/// personas.
pub struct Population {
    facts: persona::Facts,
    frame: CustomerFrame,
    /// Frame row → index into `facts.customers`.
    rows: Vec<Option<u32>>,
}

impl Population {
    /// Reads everything personas need (`needs`: the events the sources' filters name).
    pub async fn load(store: &dyn Backend, needs: &Needs) -> ReportResult<Population> {
        let (raw, frame, ideas, requests) = tokio::try_join!(
            async { Ok(store.persona_facts().await?) },
            frame(store, needs),
            async { Ok(store.ideas(None).await?) },
            async { Ok(store.idea_requesters(None).await?) },
        )?;
        let titles: HashMap<i64, &str> =
            ideas.iter().map(|i| (i.id, i.idea.title.as_str())).collect();
        let requests = requests.iter().filter_map(|(idea, r)| Some((r.key, *titles.get(idea)?)));
        let facts = intern(raw, requests);
        let rows = frame_rows(&frame, &facts.1);
        Ok(Population { facts: facts.0, frame, rows })
    }

    pub fn customers(&self) -> usize {
        self.facts.customers.len()
    }

    /// The persona of the customers `source` selects at `now`.
    pub fn profile(&self, source: &Source, now: Timestamp) -> PersonaProfile {
        let plan = rapport_analytics::segment::compile(&source.filter, &self.frame.schema());
        let mut member = vec![false; self.facts.customers.len()];
        for row in plan.eval(&self.frame, now).ones() {
            if let Some(i) = self.rows[row] {
                member[i as usize] = true;
            }
        }
        persona::build(&self.facts, &member, now.year())
    }
}

/// The frame's rows matched to the facts' customers by external id.
fn frame_rows(frame: &CustomerFrame, ids: &[String]) -> Vec<Option<u32>> {
    let index: HashMap<&str, u32> =
        ids.iter().enumerate().map(|(i, s)| (s.as_str(), i as u32)).collect();
    (0..frame.len()).map(|row| index.get(frame.id(row)).copied()).collect()
}

/// The store's facts with names interned; also the customers' external ids, in fact order.
fn intern<'a>(
    raw: PersonaFacts,
    requests: impl Iterator<Item = (i64, &'a str)>,
) -> (persona::Facts, Vec<String>) {
    let mut f = persona::Facts::default();
    let mut by_key: HashMap<i64, u32> = HashMap::with_capacity(raw.customers.len());
    let [
        mut countries,
        mut genders,
        mut sizes,
        mut cats,
        mut chans,
        mut events,
        mut themes,
        mut ideas,
    ] = std::array::from_fn::<Interner, 8, _>(|_| Interner::default());
    let mut ids = Vec::with_capacity(raw.customers.len());
    for c in raw.customers {
        by_key.insert(c.key, f.customers.len() as u32);
        let l = &mut f.labels;
        f.customers.push(CustomerFacts {
            birth_year: c.birth_year,
            gender: c.gender.map(|g| genders.id(&mut l.genders, &g)),
            country: c.country.map(|g| countries.id(&mut l.countries, &g)),
            company_size: c.company_size.map(|g| sizes.id(&mut l.sizes, &g)),
            orders: c.purchase_orders.max(0) as u32,
            revenue: c.purchase_value.to_f64(),
            ..CustomerFacts::default()
        });
        ids.push(c.id.as_str().to_string());
    }
    for (key, name, value) in raw.categories {
        let Some(&i) = by_key.get(&key) else { continue };
        let id = cats.id(&mut f.labels.categories, &name);
        f.customers[i as usize].categories.push((id, value.to_f64()));
    }
    for (key, name, n) in raw.channels {
        let Some(&i) = by_key.get(&key) else { continue };
        let id = chans.id(&mut f.labels.channels, &name);
        f.customers[i as usize].channels.push((id, n as u32));
    }
    for (key, name, n) in raw.events {
        let Some(&i) = by_key.get(&key) else { continue };
        let id = events.id(&mut f.labels.events, &name);
        f.customers[i as usize].events.push((id, n as u32));
    }
    for item in raw.feedback {
        let Some(&customer) = by_key.get(&item.customer) else { continue };
        let theme = item.theme.map(|t| themes.id(&mut f.labels.themes, &t));
        f.feedback.push(FeedbackFact {
            customer,
            text: item.text,
            sentiment: item.sentiment,
            theme,
        });
    }
    for (key, title) in requests {
        let Some(&i) = by_key.get(&key) else { continue };
        f.requests.push((i, ideas.id(&mut f.labels.ideas, title)));
    }
    (f, ids)
}

/// Generates one persona's profile and stores it; returns the stored persona.
pub async fn regenerate(
    store: &dyn Backend,
    id: i64,
    now: Timestamp,
) -> ReportResult<PersonaRecord> {
    let record = store.persona(id).await?;
    let source = Source::parse(&record.source_kind, &record.source)?;
    let population = Population::load(store, &Needs::of(&source.filter)).await?;
    store.save_persona_profile(id, &population.profile(&source, now), now).await?;
    Ok(store.persona(id).await?)
}

/// Regenerates every persona from one read of the population; returns how many.
pub async fn regenerate_all(store: &dyn Backend, now: Timestamp) -> ReportResult<usize> {
    let personas = store.personas().await?;
    let sources: Vec<(i64, Source)> = personas
        .iter()
        .map(|p| Ok((p.id, Source::parse(&p.source_kind, &p.source)?)))
        .collect::<ReportResult<_>>()?;
    let mut needs = Needs::default();
    for (_, s) in &sources {
        needs.events.extend(Needs::of(&s.filter).events);
    }
    let population = Population::load(store, &needs).await?;
    for (id, source) in &sources {
        store.save_persona_profile(*id, &population.profile(source, now), now).await?;
    }
    Ok(sources.len())
}

/// Creates a persona from a checked source and generates it.
pub async fn create(
    store: &dyn Backend,
    name: Option<String>,
    notes: String,
    source: &Source,
    now: Timestamp,
) -> ReportResult<PersonaRecord> {
    let new = NewPersona {
        name,
        notes,
        source_kind: source.kind.clone(),
        source: source.expression.clone(),
    };
    let id = store.create_persona(&new, now).await?;
    regenerate(store, id, now).await
}
