//! The shared story suite on a real SQLite file.

use proptest::prelude::*;
use rapport_store::story_scorecard;
use rapport_store::{
    story, story_ideas, story_idempotency, story_inbox, story_journeys, story_outbox,
    story_recommend, story_records, story_segments, story_surveys, story_views,
};
use rapport_store::{story_campaigns, story_loyalty, story_personas};
use rapport_store_sqlite::SqliteStore;
use tempfile::TempDir;

fn fresh() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("rapport.db")).unwrap();
    (dir, store)
}

#[tokio::test]
async fn customers_upsert_and_merge() {
    let (_d, s) = fresh();
    story::customers_upsert_and_merge(&s).await;
}

#[tokio::test]
async fn orders_and_summaries() {
    let (_d, s) = fresh();
    story::orders_and_summaries(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ratings() {
    let (_d, s) = fresh();
    story::ratings(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn purchase_days() {
    let (_d, s) = fresh();
    story::purchase_days(&s).await;
}

#[tokio::test]
async fn reappearing_order_reimports_unchanged() {
    let (_d, s) = fresh();
    story::reappearing_order_reimports_unchanged(&s).await;
}

#[tokio::test]
async fn dry_run_stores_nothing() {
    let (_d, s) = fresh();
    story::dry_run_stores_nothing(&s).await;
}

#[tokio::test]
async fn activity_streams() {
    let (_d, s) = fresh();
    story::activity_streams(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn customers_list() {
    let (_d, s) = fresh();
    story_views::customers_list(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn customer_view_timeline_erasure() {
    let (_d, s) = fresh();
    story_views::customer_view_timeline_erasure(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn access() {
    let (_d, s) = fresh();
    story_views::access(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn webhook_sources() {
    let (_d, s) = fresh();
    story_views::webhook_sources(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn customer_by_email() {
    let (_d, s) = fresh();
    story_views::customer_by_email(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn idempotency_keys() {
    let (_d, s) = fresh();
    story_idempotency::idempotency_keys(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn idempotency_keys_expire() {
    let (_d, s) = fresh();
    story_idempotency::idempotency_keys_expire(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn idempotency_keys_concurrent_claims() {
    let (_d, s) = fresh();
    story_idempotency::idempotency_keys_concurrent_claims(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn record_lists() {
    let (_d, s) = fresh();
    story_records::record_lists(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn feedback_search() {
    let (_d, s) = fresh();
    story_records::feedback_search(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn record_get() {
    let (_d, s) = fresh();
    story_records::record_get(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn record_delete() {
    let (_d, s) = fresh();
    story_records::record_delete(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn create_only() {
    let (_d, s) = fresh();
    story_records::create_only(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn order_replacement() {
    let (_d, s) = fresh();
    story_records::order_replacement(&s).await;
}

#[tokio::test]
async fn export_round_trips() {
    let (_d, a) = fresh();
    story::customers_upsert_and_merge(&a).await;
    story::orders_and_summaries(&a).await;
    story::activity_streams(&a).await;
    let (_e, b) = fresh();
    story::export_round_trips(&a, &b).await;
}

#[test]
fn reopening_keeps_data_and_skips_applied_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rapport.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(story::dry_run_stores_nothing(&SqliteStore::open(&path).unwrap()));
    rt.block_on(story::activity_streams(&SqliteStore::open(&path).unwrap()));
    let again = SqliteStore::open(&path).unwrap();
    let counts = rt.block_on(rapport_store::Store::counts(&again)).unwrap();
    assert_eq!(counts.events, 1);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn summaries_equal_recomputation_after_random_interleaved_imports(ops in story::ops()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (_d, s) = fresh();
        rt.block_on(async {
            story::apply(&s, &ops).await;
            story::summaries_equal_recomputation(&s).await;
        });
    }
}

/// The customers list answers a search led by the search index (id order, few matches) or by
/// the sort's index (many matches: more than 5,000 here). Every sort, both directions, walked
/// page by page, gives exactly the matches in (key, id) order.
#[tokio::test(flavor = "multi_thread")]
async fn customer_search_pages_in_order_whichever_index_leads() {
    use rapport_core::record::OrderRow;
    use rapport_core::{Customer, Money, OrderLine};
    use rapport_store::story::{id, ts};
    use rapport_store::{CustomerQuery, CustomerSort, IngestOptions, OrderGroup, Store};

    let (_d, s) = fresh();
    let n = 6_600usize;
    let names = ["Ann Smith", "Anna Lee", "Annika Berg", "Zed Ray", "Bob Jones"];
    let mut customers = Vec::new();
    let mut groups = Vec::new();
    // (external id, name, signup micros or MIN, purchase value e4, last purchase or MIN)
    let mut truth: Vec<(String, String, i64, i64, i64)> = Vec::new();
    for i in 0..n {
        let ext = format!("C{i:05}");
        let name = if i % 50 == 0 {
            names[3]
        } else if i % 13 == 0 {
            names[4]
        } else {
            names[i % 3]
        };
        let mut c = Customer::bare(id(&ext));
        c.name = Some(name.to_string());
        let signup = (i % 5 != 0)
            .then(|| ts("2024-01-01T00:00:00Z") + chrono::Duration::days((i * 7919 % 900) as i64));
        c.signup_at = signup;
        customers.push(c);
        let (mut value, mut last) = (0, i64::MIN);
        if i % 3 != 1 {
            let price = Money::parse(&format!("{}", (i * 31) % 500 + 1)).unwrap();
            let at =
                ts("2024-06-01T00:00:00Z") + chrono::Duration::hours((i * 104_729 % 5000) as i64);
            let row = OrderRow {
                order: id(&format!("O{i}")),
                customer: Some(id(&ext)),
                placed_at: Some(at),
                currency: None,
                status: None,
                line: Some(OrderLine { sku: None, quantity: 1, unit_price: price, amount: price }),
            };
            groups.push(OrderGroup {
                order: id(&format!("O{i}")),
                first_line_no: 1,
                rows: vec![row],
            });
            (value, last) = (price.e4(), at.timestamp_micros());
        }
        truth.push((
            ext,
            name.to_string(),
            signup.map_or(i64::MIN, |t| t.timestamp_micros()),
            value,
            last,
        ));
    }
    let o = IngestOptions::default();
    s.upsert_customers(customers, &o).await.unwrap();
    s.ingest_orders(groups, &o).await.unwrap();

    for search in ["ann", "zed"] {
        let matching: Vec<_> = truth
            .iter()
            .filter(|t| t.1.split(' ').any(|w| w.to_lowercase().starts_with(search)))
            .collect();
        assert!(
            search != "ann" || matching.len() > 5_000,
            "the broad search must lead by the sort index"
        );
        for (sort_name, sort) in CustomerSort::ALL {
            for descending in [false, true] {
                let mut want: Vec<_> = matching.clone();
                want.sort_by(|a, b| {
                    let key = |t: &(String, String, i64, i64, i64)| match sort {
                        CustomerSort::Id => (String::new(), 0),
                        CustomerSort::Name => (t.1.clone(), 0),
                        CustomerSort::SignupAt => (String::new(), t.2),
                        CustomerSort::PurchaseValue => (String::new(), t.3),
                        CustomerSort::LastPurchaseAt => (String::new(), t.4),
                    };
                    (key(a), &a.0).cmp(&(key(b), &b.0))
                });
                if descending {
                    want.reverse();
                }
                let want: Vec<&str> = want.iter().map(|t| t.0.as_str()).collect();
                let mut got = Vec::new();
                let mut after = None;
                loop {
                    let q = CustomerQuery {
                        search: Some(search.into()),
                        sort: *sort,
                        descending,
                        after: after.clone(),
                        limit: 997,
                        ..CustomerQuery::default()
                    };
                    let page = s.customers(&q).await.unwrap();
                    got.extend(page.items.into_iter().map(|i| i.customer.id.to_string()));
                    match page.next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
                assert_eq!(got.len(), want.len(), "{search} by {sort_name} desc={descending}");
                assert!(got == want, "{search} by {sort_name} desc={descending}: order differs");
            }
        }
    }
}

/// Feedback stored before sentiment was kept (schema v5) is scored when the store opens.
#[tokio::test(flavor = "multi_thread")]
async fn feedback_without_sentiment_is_scored_at_open() {
    use rapport_core::record::{CustomerRef, FeedbackRow};
    use rapport_core::{ExternalId, value::parse_timestamp};
    use rapport_store::{IngestOptions, Store};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rapport.db");
    let row = |n: &str, text: &str| FeedbackRow {
        id: ExternalId::parse(n).unwrap(),
        customer: CustomerRef::Id(ExternalId::parse("c").unwrap()),
        source: "email".into(),
        text: Some(text.into()),
        rating: None,
        created_at: parse_timestamp("2024-03-05 10:00", None).unwrap(),
    };
    let since = parse_timestamp("2024-01-01 00:00", None).unwrap();
    {
        let s = SqliteStore::open(&path).unwrap();
        let rows = vec![row("f1", "The book was good."), row("f2", "Today SUX!")];
        s.ingest_feedback(rows, &IngestOptions::default()).await.unwrap();
    }
    // As an older version left them: no sentiment.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("UPDATE feedback SET sentiment_e4 = NULL", []).unwrap();
    drop(raw);
    let s = SqliteStore::open(&path).unwrap();
    let mood = s.feedback_sentiment(since).await.unwrap();
    assert_eq!(mood.len(), 1);
    assert!((mood[0].1 - (0.4404 - 0.5461) / 2.0).abs() < 1e-12, "{mood:?}");
    assert_eq!(mood[0].2, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn surveys_invitations_and_responses() {
    let (_d, s) = fresh();
    story_surveys::surveys_invitations_and_responses(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn inbox_triage_merge_and_themes() {
    let (_d, s) = fresh();
    story_inbox::inbox_triage_merge_and_themes(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ideas_evidence_requesters_and_status() {
    let (_d, s) = fresh();
    story_ideas::ideas_evidence_requesters_and_status(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn outbox_enqueue_claim_send() {
    let (_d, s) = fresh();
    story_outbox::outbox_enqueue_claim_send(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn outbox_concurrent_claims() {
    let (_d, s) = fresh();
    story_outbox::outbox_concurrent_claims(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_segments_refresh_and_history() {
    let (_d, s) = fresh();
    story_segments::saved_segments_refresh_and_history(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn events_read_by_name() {
    let (_d, s) = fresh();
    story_segments::events_read_by_name(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn recommendation_model() {
    let (_d, s) = fresh();
    story_recommend::recommendation_model(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn personas_edit_and_regenerate() {
    let (_d, s) = fresh();
    story_personas::personas_edit_and_regenerate(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn persona_facts() {
    let (_d, s) = fresh();
    story_personas::persona_facts(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn journeys_definitions_and_reads() {
    let (_d, s) = fresh();
    story_journeys::journeys_definitions_and_reads(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn loyalty_ledger() {
    let (_d, s) = fresh();
    story_loyalty::loyalty_ledger(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn scorecard_goals() {
    let (_d, s) = fresh();
    story_scorecard::scorecard_goals(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn scorecard_sales_by_day() {
    let (_d, s) = fresh();
    story_scorecard::scorecard_sales_by_day(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn campaigns_launch_and_outcomes() {
    let (_d, s) = fresh();
    story_campaigns::campaigns_launch_and_outcomes(&s).await;
}
