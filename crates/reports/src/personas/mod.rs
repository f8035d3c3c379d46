//! Personas over a stored company: a [`Source`] (a filter, an RFM segment, a saved segment or
//! a k-means cluster) selects the members, through the segment frame or a clustering;
//! [`PersonaStore::persona_facts`] gives every customer's facts aggregated in the database, the
//! ideas give who asked for what, and `rapport_analytics::persona::build` describes the members
//! against everyone.
//!
//! The whole population is read once per regeneration (lifts need it), so regenerating every
//! persona reads it once too ([`regenerate_all`]); the server passes the segment frame it
//! already holds ([`Population::on_frame`]), so only the facts are read.

mod source;

pub use source::{KINDS, Source, segment_text};

use crate::segments::{KeyedFrame, Needs, keyed_frame};
use crate::{ReportError, ReportResult, clusters};
use chrono::Datelike;
use rapport_analytics::persona::{self, CustomerFacts, FeedbackFact, Interner, PersonaProfile};
use rapport_core::Timestamp;
use rapport_store::{Backend, NewPersona, PersonaFacts, PersonaRecord, StoreError};
use source::{ClusterSpec, Select};
use std::collections::HashMap;
use std::sync::Arc;

/// One clustering: its members and the words for each cluster ("infrequent, returns often").
struct Fitted {
    spec: ClusterSpec,
    members: Vec<Vec<u32>>,
    labels: Vec<String>,
}

/// Everyone's facts, with the frame that selects members and the clusterings the sources
/// name: read once, used for any number of personas.
pub struct Population {
    facts: persona::Facts,
    frame: Arc<KeyedFrame>,
    /// Frame row → index into `facts.customers`.
    rows: Vec<Option<u32>>,
    /// Customer key → index into `facts.customers`.
    by_key: HashMap<i64, u32>,
    /// Each clustering's members per cluster (indices into `facts.customers`).
    clusterings: Vec<Fitted>,
}

impl Population {
    /// Reads everything these sources need: the facts and the frame at once.
    pub async fn load(store: &dyn Backend, sources: &[&Source]) -> ReportResult<Population> {
        let needs = sources.iter().fold(Needs::default(), |n, s| n.union(s.needs()));
        let (facts, frame) = tokio::try_join!(read_facts(store), keyed_frame(store, &needs))?;
        Population::assemble(store, facts, Arc::new(frame), sources).await
    }

    /// Reads the facts (and fits the clusterings the sources name) beside a frame read with
    /// at least the sources' needs.
    pub async fn on_frame(
        store: &dyn Backend,
        frame: Arc<KeyedFrame>,
        sources: &[&Source],
    ) -> ReportResult<Population> {
        let facts = read_facts(store).await?;
        Population::assemble(store, facts, frame, sources).await
    }

    async fn assemble(
        store: &dyn Backend,
        (facts, by_key): (persona::Facts, HashMap<i64, u32>),
        frame: Arc<KeyedFrame>,
        sources: &[&Source],
    ) -> ReportResult<Population> {
        let rows = frame.keys.iter().map(|k| k.and_then(|k| by_key.get(&k).copied())).collect();
        let mut population = Population { facts, frame, rows, by_key, clusterings: Vec::new() };
        for s in sources {
            if let Select::Cluster(spec) = &s.select {
                population.fit(store, spec).await?;
            }
        }
        Ok(population)
    }

    /// Fits `spec`'s clustering unless an equal one is fitted.
    async fn fit(&mut self, store: &dyn Backend, spec: &ClusterSpec) -> ReportResult<()> {
        let params = spec.params();
        if self.clusterings.iter().any(|f| f.spec.params() == params) {
            return Ok(());
        }
        let features = clusters::features(store, spec.features, None).await?;
        let (keys, labels, words) = tokio::task::spawn_blocking(move || {
            let (described, labels) = clusters::cluster_labelled(&features, &params)?;
            let words = described.clusters.into_iter().map(|c| c.label).collect();
            Ok::<_, ReportError>((features.keys, labels, words))
        })
        .await
        .map_err(|e| ReportError::Store(StoreError::other(e)))??;
        let mut members = vec![Vec::new(); spec.k];
        for (key, label) in keys.into_iter().zip(labels) {
            if let Some(&i) = self.by_key.get(&key) {
                members[label as usize].push(i);
            }
        }
        self.clusterings.push(Fitted { spec: spec.clone(), members, labels: words });
        Ok(())
    }

    pub fn customers(&self) -> usize {
        self.facts.customers.len()
    }

    /// The persona of the customers `source` selects at `now`.
    pub fn profile(&self, source: &Source, now: Timestamp) -> PersonaProfile {
        let mut member = vec![false; self.facts.customers.len()];
        match &source.select {
            Select::Filter(f) => {
                let plan = rapport_analytics::segment::compile(f, &self.frame.frame.schema());
                for row in plan.eval(&self.frame.frame, now).ones() {
                    if let Some(i) = self.rows[row] {
                        member[i as usize] = true;
                    }
                }
            }
            Select::Cluster(spec) => {
                let fitted = self.clusterings.iter().find(|f| f.spec.params() == spec.params());
                let members = fitted.and_then(|f| f.members.get(spec.cluster));
                for &i in members.into_iter().flatten() {
                    member[i as usize] = true;
                }
                // The cluster's own words tell it from personas of similar buying habits.
                let words = fitted.and_then(|f| f.labels.get(spec.cluster));
                let mut profile = persona::build(&self.facts, &member, now.year());
                if let Some(w) = words.filter(|w| *w != "typical") {
                    profile.suggested_name = format!("{}: {w}", profile.suggested_name);
                }
                return profile;
            }
        }
        persona::build(&self.facts, &member, now.year())
    }
}

/// Every customer's facts, with who asked for which idea; and each customer key's index.
async fn read_facts(store: &dyn Backend) -> ReportResult<(persona::Facts, HashMap<i64, u32>)> {
    let (raw, ideas, requests) = tokio::try_join!(
        async { Ok::<_, ReportError>(store.persona_facts().await?) },
        async { Ok(store.ideas(None).await?) },
        async { Ok(store.idea_requesters(None).await?) },
    )?;
    let titles: HashMap<i64, &str> = ideas.iter().map(|i| (i.id, i.idea.title.as_str())).collect();
    let requests = requests.iter().filter_map(|(idea, r)| Some((r.key, *titles.get(idea)?)));
    Ok(intern(raw, requests))
}

/// The store's facts with names interned; also each customer key's index in the facts.
fn intern<'a>(
    raw: PersonaFacts,
    requests: impl Iterator<Item = (i64, &'a str)>,
) -> (persona::Facts, HashMap<i64, u32>) {
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
    (f, by_key)
}

/// Generates one persona's profile and stores it; returns the stored persona.
pub async fn regenerate(
    store: &dyn Backend,
    id: i64,
    now: Timestamp,
) -> ReportResult<PersonaRecord> {
    let record = store.persona(id).await?;
    let source = Source::resolve(store, &record.source_kind, &record.source).await?;
    let population = Population::load(store, &[&source]).await?;
    store.save_persona_profile(id, &population.profile(&source, now), now).await?;
    Ok(store.persona(id).await?)
}

/// Every stored persona's source, resolved; a persona whose source no longer resolves (its
/// saved segment deleted, say) is returned apart with the reason.
pub async fn sources(
    store: &dyn Backend,
) -> ReportResult<(Vec<(i64, Source)>, Vec<(i64, ReportError)>)> {
    let (mut ok, mut failed) = (Vec::new(), Vec::new());
    for p in store.personas().await? {
        match Source::resolve(store, &p.source_kind, &p.source).await {
            Ok(s) => ok.push((p.id, s)),
            Err(e) => failed.push((p.id, e)),
        }
    }
    Ok((ok, failed))
}

/// What a frame must hold for these sources.
pub fn needs(sources: &[(i64, Source)]) -> Needs {
    sources.iter().fold(Needs::default(), |n, (_, s)| n.union(s.needs()))
}

/// Regenerates these personas on one population; returns how many.
pub async fn regenerate_on(
    store: &dyn Backend,
    population: &Population,
    sources: &[(i64, Source)],
    now: Timestamp,
) -> ReportResult<usize> {
    for (id, source) in sources {
        store.save_persona_profile(*id, &population.profile(source, now), now).await?;
    }
    Ok(sources.len())
}

/// Regenerates every persona from one read of the population; returns how many. The first
/// persona whose source no longer resolves is the error.
pub async fn regenerate_all(store: &dyn Backend, now: Timestamp) -> ReportResult<usize> {
    let (sources, failed) = self::sources(store).await?;
    if let Some((_, e)) = failed.into_iter().next() {
        return Err(e);
    }
    let refs: Vec<&Source> = sources.iter().map(|(_, s)| s).collect();
    let population = Population::load(store, &refs).await?;
    regenerate_on(store, &population, &sources, now).await
}

/// Creates a persona from a checked source and generates it.
pub async fn create(
    store: &dyn Backend,
    name: Option<String>,
    notes: String,
    source: &Source,
    now: Timestamp,
) -> ReportResult<PersonaRecord> {
    let id = store_new(store, name, notes, source, now).await?;
    regenerate(store, id, now).await
}

/// Stores a persona from a checked source, not yet generated; returns its id.
pub async fn store_new(
    store: &dyn Backend,
    name: Option<String>,
    notes: String,
    source: &Source,
    now: Timestamp,
) -> ReportResult<i64> {
    let new = NewPersona {
        name,
        notes,
        source_kind: source.kind.clone(),
        source: source.expression.clone(),
    };
    Ok(store.create_persona(&new, now).await?)
}
