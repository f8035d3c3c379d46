//! The personas story: create, name, edit, regenerate (the edited name and the notes
//! survive), delete; and the per-customer facts personas are computed from.

use crate::story::{group, id, line_row, ts};
use crate::{Backend, IngestOptions, NewPersona, PersonaEdit, StoreError};
use rapport_analytics::persona::{Facts, PersonaProfile, build};
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::*;

fn profile(name: &str, size: usize) -> PersonaProfile {
    let mut p = build(&Facts::default(), &[], 2026);
    (p.suggested_name, p.size) = (name.to_string(), size);
    p
}

fn source(expr: &str) -> NewPersona {
    NewPersona { source_kind: "filter".into(), source: expr.into(), ..NewPersona::default() }
}

pub async fn personas_edit_and_regenerate(s: &dyn Backend) {
    let at = ts("2026-01-02T10:00:00Z");
    let plain = s.create_persona(&source(r#"country = "DE""#), at).await.unwrap();
    let named = NewPersona { name: Some("Weekend gardeners".into()), ..source("orders > 3") };
    let named = s.create_persona(&named, at).await.unwrap();

    let p = s.persona(plain).await.unwrap();
    assert_eq!(p.name, format!("Persona {plain}"), "no name before the first generation");
    assert!(!p.name_edited && p.profile.is_none() && p.generated_at.is_none());
    assert_eq!((p.source_kind.as_str(), p.source.as_str()), ("filter", r#"country = "DE""#));

    let later = ts("2026-01-03T10:00:00Z");
    s.save_persona_profile(plain, &profile("Loyal Books buyers", 7), later).await.unwrap();
    s.save_persona_profile(named, &profile("Steady Garden buyers", 3), later).await.unwrap();
    let edit = PersonaEdit { notes: Some("Call them first.".into()), ..PersonaEdit::default() };
    s.edit_persona(named, &edit, later).await.unwrap();

    let p = s.persona(plain).await.unwrap();
    assert_eq!((p.name.as_str(), p.name_edited), ("Loyal Books buyers", false));
    assert_eq!(p.profile.as_ref().map(|p| p.size), Some(7));
    assert_eq!(p.generated_at, Some(later));

    // Regeneration replaces the profile and the suggestion, not the chosen name or notes.
    let again = ts("2026-01-04T10:00:00Z");
    s.save_persona_profile(named, &profile("Frustrated Garden buyers", 5), again).await.unwrap();
    let n = s.persona(named).await.unwrap();
    assert_eq!((n.name.as_str(), n.name_edited), ("Weekend gardeners", true));
    assert_eq!(n.generated_name.as_deref(), Some("Frustrated Garden buyers"));
    assert_eq!(n.notes, "Call them first.");
    assert_eq!(n.profile.as_ref().map(|p| p.size), Some(5));
    assert_eq!((n.generated_at, n.updated_at), (Some(again), again));

    // An empty name hands the name back to generation.
    let clear = PersonaEdit { name: Some("  ".into()), ..PersonaEdit::default() };
    s.edit_persona(named, &clear, again).await.unwrap();
    let n = s.persona(named).await.unwrap();
    assert_eq!((n.name.as_str(), n.name_edited), ("Frustrated Garden buyers", false));
    assert_eq!(n.notes, "Call them first.", "a name edit leaves the notes");

    let all: Vec<i64> = s.personas().await.unwrap().iter().map(|p| p.id).collect();
    assert_eq!(all, [plain, named]);
    s.delete_persona(plain).await.unwrap();
    assert!(matches!(s.persona(plain).await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.delete_persona(plain).await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.edit_persona(plain, &edit, again).await, Err(StoreError::NotFound(_))));
    assert!(matches!(
        s.save_persona_profile(plain, &profile("x", 1), again).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.personas().await.unwrap().len(), 1);
}

async fn setup_facts(s: &dyn Backend) {
    let o = IngestOptions::default();
    let acme = Company {
        id: id("acme"),
        name: None,
        industry: None,
        size: Some("11-50".into()),
        plan: None,
        mrr: None,
    };
    s.upsert_companies(vec![acme], &o).await.unwrap();
    let mut ann = Customer::bare(id("c1"));
    (ann.country, ann.birth_year, ann.gender) =
        (Some("DE".into()), Some(1990), Some(Gender::Female));
    ann.company = Some(id("acme"));
    s.upsert_customers(vec![ann, Customer::bare(id("c2"))], &o).await.unwrap();
    let product = |sku: &str, cat: &str| Product {
        sku: id(sku),
        name: None,
        category: Some(cat.into()),
        price: None,
    };
    s.upsert_products(vec![product("b1", "Books"), product("g1", "Garden")], &o).await.unwrap();
    let rows = vec![
        line_row("o1", "c1", "2025-03-01T10:00:00Z", "b1", 2, "10"),
        line_row("o1", "c1", "2025-03-01T10:00:00Z", "g1", 1, "5"),
        line_row("o2", "c1", "2025-04-01T10:00:00Z", "b1", 1, "10"),
        line_row("o3", "c2", "2025-04-01T10:00:00Z", "x9", 1, "8"),
    ];
    s.ingest_orders(group(rows), &o).await.unwrap();
    let event = |e: &str, name: &str| Event {
        id: id(e),
        customer: id("c1"),
        name: name.into(),
        at: ts("2025-03-02T10:00:00Z"),
        properties: Default::default(),
    };
    let events = vec![event("e1", "login"), event("e2", "login"), event("e3", "report_exported")];
    s.ingest_events(events, &o).await.unwrap();
    let call = Interaction {
        id: id("i1"),
        customer: id("c2"),
        channel: Channel::Call,
        direction: Direction::Inbound,
        subject: None,
        body: None,
        at: ts("2025-03-02T10:00:00Z"),
    };
    s.ingest_interactions(vec![call], &o).await.unwrap();
    let fb = |f: &str, text: Option<&str>| FeedbackRow {
        id: id(f),
        customer: CustomerRef::Id(id("c1")),
        source: "review".into(),
        text: text.map(Into::into),
        rating: Some(1),
        created_at: ts("2025-03-05T10:00:00Z"),
    };
    let items = vec![fb("f1", Some("The parcel was late and the box was broken.")), fb("f2", None)];
    s.ingest_feedback(items, &o).await.unwrap();
}

pub async fn persona_facts(s: &dyn Backend) {
    setup_facts(s).await;
    let f = s.persona_facts().await.unwrap();
    let ids: Vec<&str> = f.customers.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["c1", "c2"]);
    let (c1, c2) = (&f.customers[0], &f.customers[1]);
    assert_eq!(
        (c1.country.as_deref(), c1.birth_year, c1.gender.as_deref()),
        (Some("DE"), Some(1990), Some("female"))
    );
    assert_eq!((c1.company_size.as_deref(), c2.company_size.as_deref()), (Some("11-50"), None));
    assert_eq!((c1.purchase_orders, c1.purchase_value), (2, Money::parse("35").unwrap()));
    let mut cats: Vec<(i64, String, Money)> = f.categories.clone();
    cats.sort();
    let want =
        |c: &PersonaCustomerKey, n: &str, v: &str| (c.0, n.to_string(), Money::parse(v).unwrap());
    let (k1, k2) = (PersonaCustomerKey(c1.key), PersonaCustomerKey(c2.key));
    assert_eq!(cats, [want(&k1, "Books", "30"), want(&k1, "Garden", "5")], "x9 has no category");
    let mut events = f.events.clone();
    events.sort();
    assert_eq!(events, [(k1.0, "login".into(), 2), (k1.0, "report_exported".into(), 1)]);
    assert_eq!(f.channels, [(k2.0, "call".to_string(), 1)]);
    assert_eq!(f.feedback.len(), 1, "only items with text");
    let item = &f.feedback[0];
    assert_eq!((item.customer, item.theme.as_deref()), (k1.0, None));
    assert!(item.text.contains("parcel") && item.sentiment < 0.0, "{item:?}");
}

struct PersonaCustomerKey(i64);
