//! The shared story suite on a real SQLite file.

use proptest::prelude::*;
use rapport_store::{story, story_idempotency, story_records, story_views};
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
