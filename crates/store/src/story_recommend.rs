//! The recommendation story: purchases by product (returns and cancellations left out), a
//! model saved and read back, replaced whole by the next, and erasure.

use crate::story::{group, id, line_row};
use crate::{Backend, Bought, IngestOptions, ModelInfo, StoreError};
use rapport_core::*;

fn info(at: &str, products: &[&str]) -> ModelInfo {
    ModelInfo {
        trained_at: crate::story::ts(at),
        customers: 2,
        products: products.len() as i64,
        interactions: 3,
        factors: 2,
        params: serde_json::json!({"factors": 2}),
        seconds: 0.5,
        popular: products.iter().map(|s| s.to_string()).collect(),
    }
}

pub async fn recommendation_model(s: &dyn Backend) {
    let o = IngestOptions::default();
    let people = ["r1", "r2", "r3"].iter().map(|c| Customer::bare(id(c))).collect();
    s.upsert_customers(people, &o).await.unwrap();
    let mut rows = vec![
        line_row("ro1", "r1", "2024-01-01", "mug", 1, "5"),
        line_row("ro1", "r1", "2024-01-01", "tea", 2, "3"),
        line_row("ro2", "r1", "2024-02-01", "mug", 1, "5"),
        line_row("ro3", "r2", "2024-02-01", "tea", 1, "3"),
        line_row("ro4", "r3", "2024-02-02", "lamp", 1, "40"),
    ];
    rows[4].status = Some(OrderStatus::Return);
    s.ingest_orders(group(rows), &o).await.unwrap();
    let keys: std::collections::HashMap<String, i64> = s
        .summaries(None, 10)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| (r.id.as_str().to_string(), r.key))
        .collect();
    let mut got = s.purchases_by_product().await.unwrap();
    got.sort_by(|a, b| (a.customer, &a.sku).cmp(&(b.customer, &b.sku)));
    let bought = |c: &str, sku: &str, orders| Bought { customer: keys[c], sku: sku.into(), orders };
    assert_eq!(got, [bought("r1", "mug", 2), bought("r1", "tea", 1), bought("r2", "tea", 1)]);
    assert_eq!(s.bought_skus(&id("r1")).await.unwrap(), ["mug", "tea"]);
    assert!(s.bought_skus(&id("r3")).await.unwrap().is_empty(), "a return is not a purchase");
    assert!(matches!(s.bought_skus(&id("nobody")).await, Err(StoreError::NotFound(_))));

    assert_eq!(s.model_info().await.unwrap(), None);
    assert_eq!(s.customer_factors(&id("r1")).await.unwrap(), None);
    let first = info("2024-03-01T00:00:00Z", &["tea", "mug"]);
    let customers = vec![
        (keys["r1"], vec![0.5, -1.25]),
        (keys["r2"], vec![1.0, 0.0]),
        (999_999, vec![1.0, 1.0]),
    ];
    let products = vec![("mug".into(), vec![0.25, 2.0]), ("tea".into(), vec![-0.5, 0.75])];
    s.save_model(&first, customers, products.clone()).await.unwrap();
    assert_eq!(s.model_info().await.unwrap(), Some(first));
    assert_eq!(s.customer_factors(&id("r1")).await.unwrap(), Some(vec![0.5, -1.25]));
    assert_eq!(s.customer_factors(&id("r3")).await.unwrap(), None);
    assert_eq!(s.product_factors().await.unwrap(), products);

    // The next training replaces everything.
    let second = info("2024-04-01T00:00:00Z", &["mug"]);
    s.save_model(&second, vec![(keys["r2"], vec![3.0, 4.0])], vec![("mug".into(), vec![1.0, 1.0])])
        .await
        .unwrap();
    assert_eq!(s.model_info().await.unwrap(), Some(second));
    assert_eq!(s.customer_factors(&id("r1")).await.unwrap(), None);
    assert_eq!(s.product_factors().await.unwrap().len(), 1);

    // Erasure takes the customer's factors with them.
    s.delete_customer(&id("r2")).await.unwrap();
    assert!(matches!(s.customer_factors(&id("r2")).await, Err(StoreError::NotFound(_))));
}
