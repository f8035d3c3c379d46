//! The inbox story: newest-first order with every filter, search in that order, paging,
//! triage, merging near-duplicates (kept, and moved with their primary), stored themes and
//! their volumes, materialised segments, and erasure.

use crate::story::{id, ts};
use crate::{Backend, InboxQuery, IngestOptions, SentimentBand, Triage};
use rapport_analytics::themes::{Theme, ThemeId, ThemePhrase};
use rapport_core::record::{CustomerRef, FeedbackRow};

fn row(n: &str, who: &str, source: &str, text: &str, at: &str) -> FeedbackRow {
    FeedbackRow {
        id: id(n),
        customer: CustomerRef::Id(id(who)),
        source: source.into(),
        text: Some(text.into()),
        rating: None,
        created_at: ts(at),
    }
}

fn theme(n: u64, label: &str) -> Theme {
    Theme {
        id: ThemeId(n),
        label: label.into(),
        phrases: vec![ThemePhrase { text: label.into(), weight: 1.0, docs: 2 }],
        size: 2,
        examples: vec![0],
    }
}

fn ids(items: &[crate::InboxItem]) -> Vec<&str> {
    items.iter().map(|i| i.id.as_str()).collect()
}

async fn list(s: &dyn Backend, q: InboxQuery) -> Vec<String> {
    let q = InboxQuery { limit: 50, ..q };
    s.inbox(&q).await.unwrap().items.iter().map(|i| i.id.to_string()).collect()
}

pub async fn inbox_triage_merge_and_themes(s: &dyn Backend) {
    let rows = vec![
        row("f1", "a", "email", "Delivery was late again, very bad", "2024-03-01 10:00"),
        row("f2", "a", "review", "Great product, love the delivery speed", "2024-03-02 10:00"),
        row("f3", "b", "review", "The delivery was late again, very bad!", "2024-03-03 10:00"),
        row("f4", "b", "nps", "Export to PDF", "2024-03-03 10:00"),
        row("f5", "c", "email", "Where is the invoice", "2024-03-04 09:30"),
    ];
    s.ingest_feedback(rows, &IngestOptions::default()).await.unwrap();
    let all = |q: InboxQuery| list(s, q);

    // Newest first; f3 and f4 share a minute and come latest stored first.
    assert_eq!(all(InboxQuery::default()).await, ["f5", "f4", "f3", "f2", "f1"]);
    let page = s.inbox(&InboxQuery { limit: 2, ..Default::default() }).await.unwrap();
    assert_eq!(ids(&page.items), ["f5", "f4"]);
    let rest = InboxQuery { limit: 10, after: page.next.clone(), ..Default::default() };
    assert_eq!(ids(&s.inbox(&rest).await.unwrap().items), ["f3", "f2", "f1"]);
    let bad = InboxQuery { limit: 10, after: Some("x".into()), ..Default::default() };
    assert!(s.inbox(&bad).await.is_err(), "a cursor not from this list is refused");

    // Search returns matches in the same order, with the other filters.
    let words = |w: &[&str]| w.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    let q = InboxQuery { words: words(&["delivery"]), ..Default::default() };
    assert_eq!(all(q.clone()).await, ["f3", "f2", "f1"]);
    let q2 = InboxQuery { sources: vec!["review".into()], ..q.clone() };
    assert_eq!(all(q2).await, ["f3", "f2"]);
    let late = InboxQuery { words: words(&["late", "bad"]), ..Default::default() };
    assert_eq!(all(late).await, ["f3", "f1"], "every word must occur");
    let page = s.inbox(&InboxQuery { limit: 1, ..q.clone() }).await.unwrap();
    let after = InboxQuery { limit: 5, after: page.next, ..q.clone() };
    assert_eq!(ids(&s.inbox(&after).await.unwrap().items), ["f2", "f1"], "search pages");
    let neg = InboxQuery { sentiment: Some(SentimentBand::Negative), ..Default::default() };
    assert_eq!(all(neg).await, ["f3", "f1"]);
    let pos = InboxQuery { sentiment: Some(SentimentBand::Positive), ..Default::default() };
    assert_eq!(all(pos).await, ["f2"]);
    let period = InboxQuery {
        from: Some(ts("2024-03-02 00:00")),
        to: Some(ts("2024-03-03 10:00")),
        ..Default::default()
    };
    assert_eq!(all(period).await, ["f2"], "from inclusive, to exclusive");
    let of_b = InboxQuery { customer: Some(id("b")), ..Default::default() };
    assert_eq!(all(of_b).await, ["f4", "f3"]);

    // Triage: unknown ids change nothing.
    assert_eq!(s.set_triage(&[id("f1"), id("f2")], Triage::Reviewed).await.unwrap(), 2);
    assert_eq!(s.set_triage(&[id("f1")], Triage::Reviewed).await.unwrap(), 0, "already");
    assert!(s.set_triage(&[id("f5"), id("nope")], Triage::Closed).await.is_err());
    let new = InboxQuery { status: Some(Triage::New), ..Default::default() };
    assert_eq!(all(new).await, ["f5", "f4", "f3"], "f5 was not closed");

    // Merging keeps the item; merged items leave the list and show on their primary.
    assert_eq!(s.merge_feedback(&[id("f1")], &id("f3")).await.unwrap(), 1);
    assert_eq!(all(InboxQuery::default()).await, ["f5", "f4", "f3", "f2"]);
    let with = InboxQuery { include_merged: true, ..Default::default() };
    assert_eq!(all(with).await.len(), 5);
    let d = s.inbox_item(&id("f3")).await.unwrap();
    assert_eq!((d.item.merged, ids(&d.merged)), (1, vec!["f1"]));
    let f1 = s.inbox_item(&id("f1")).await.unwrap().item;
    assert_eq!(f1.duplicate_of, Some(id("f3")));
    assert_eq!(f1.text.as_deref(), Some("Delivery was late again, very bad"));
    assert!(s.merge_feedback(&[id("f3")], &id("f1")).await.is_err(), "into itself via f1");
    // Merging the primary elsewhere takes its duplicates along.
    assert_eq!(s.merge_feedback(&[id("f3")], &id("f4")).await.unwrap(), 1);
    let d = s.inbox_item(&id("f4")).await.unwrap();
    assert_eq!(ids(&d.merged), ["f3", "f1"]);
    s.unmerge_feedback(&id("f3")).await.unwrap();
    assert_eq!(all(InboxQuery::default()).await, ["f5", "f4", "f3", "f2"]);

    // Themes: stored with the run, assigned per item, filtered on, counted per week.
    let texts = s.feedback_texts(0, 100).await.unwrap();
    assert_eq!(texts.len(), 5);
    let key = |n: &str| texts.iter().find(|t| t.id == id(n)).unwrap().key;
    let late_theme = theme(0xabc, "late delivery");
    let assignments = vec![
        (key("f1"), Some(late_theme.id.to_string())),
        (key("f3"), Some(late_theme.id.to_string())),
        (key("f2"), None),
    ];
    let at = ts("2024-03-05 00:00");
    s.save_themes(Some(vec![late_theme.clone(), theme(0xdef, "pdf")]), assignments, key("f5"), at)
        .await
        .unwrap();
    let stored = s.stored_themes().await.unwrap();
    assert_eq!(stored.themes[0], late_theme);
    assert_eq!((stored.themes.len(), stored.computed_at, stored.through), (2, Some(at), key("f5")));
    let of_theme = InboxQuery { theme: Some("0000000000000abc".into()), ..Default::default() };
    let items = s.inbox(&InboxQuery { limit: 10, ..of_theme.clone() }).await.unwrap().items;
    assert_eq!(ids(&items), ["f3"], "f1 is merged into f4");
    assert_eq!(items[0].theme_label.as_deref(), Some("late delivery"));
    let v = s.theme_volumes(ts("2024-01-01 00:00")).await.unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!((v[0].items, v[0].negative), (1, 1), "merged f1 is not counted: {v:?}");
    let monday = ts("2024-02-26 00:00").timestamp() / 86_400;
    assert_eq!(v[0].weeks, [(monday, 1)]);
    // A later incremental run sets only its items and keeps the themes.
    s.save_themes(None, vec![(key("f4"), Some("0000000000000def".into()))], key("f5"), at)
        .await
        .unwrap();
    assert_eq!(s.stored_themes().await.unwrap().themes.len(), 2);

    // Segments: materialised membership filters the inbox.
    let summaries = s.summaries(None, 10).await.unwrap().items;
    let ck = |n: &str| summaries.iter().find(|r| r.id == id(n)).unwrap().key;
    s.set_segment_members("rfm:champions", vec![ck("b"), ck("c")]).await.unwrap();
    s.set_segment_members("rfm:champions", vec![ck("b")]).await.unwrap();
    assert_eq!(s.segments().await.unwrap(), [("rfm:champions".to_string(), 1)]);
    let seg = InboxQuery { segment: Some("rfm:champions".into()), ..Default::default() };
    assert_eq!(all(seg).await, ["f4", "f3"]);

    // Erasure takes the customer's items, memberships and search entries; what was merged
    // into an erased item becomes an item of its own again.
    s.merge_feedback(&[id("f2")], &id("f4")).await.unwrap();
    s.delete_customer(&id("b")).await.unwrap();
    assert_eq!(all(InboxQuery::default()).await, ["f5", "f2", "f1"]);
    assert_eq!(s.inbox_item(&id("f2")).await.unwrap().item.duplicate_of, None);
    assert!(s.segments().await.unwrap().is_empty());
    let q = InboxQuery { words: words(&["pdf"]), ..Default::default() };
    assert!(all(q).await.is_empty());
    let items = s.inbox_items(&[key("f3"), key("f2")]).await.unwrap();
    assert_eq!(ids(&items), ["f2"], "erased keys are left out");
}
