//! The recommendation model (schema v15): purchases by product to learn from, and the factors.

use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use rapport_core::ExternalId;
use rapport_store::{
    Bought, ModelInfo, RecommendStore, StoreError, StoreResult, from_blob, to_blob,
};
use rusqlite::{Connection, OptionalExtension, Transaction};

fn customer_key(c: &Connection, id: &ExternalId) -> StoreResult<i64> {
    c.prepare_cached("SELECT id FROM customers WHERE external_id = ?1")
        .map_err(db_err)?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("customer {}", id.as_str())))
}

fn purchases(c: &Connection) -> StoreResult<Vec<Bought>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT o.customer_id, l.sku, COUNT(DISTINCT o.id) FROM orders o
               JOIN order_lines l ON l.order_id = o.id
              WHERE o.status = 'purchase' AND l.sku IS NOT NULL
              GROUP BY o.customer_id, l.sku",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| Ok(Bought { customer: r.get(0)?, sku: r.get(1)?, orders: r.get(2)? }))
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

fn save(
    tx: &Transaction<'_>,
    info: &str,
    customers: &[(i64, Vec<f32>)],
    products: &[(String, Vec<f32>)],
) -> StoreResult<()> {
    tx.execute_batch("DELETE FROM customer_factors; DELETE FROM product_factors;")
        .map_err(db_err)?;
    tx.execute(
        "INSERT INTO recommendation_model (id, info) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET info = excluded.info",
        [info],
    )
    .map_err(db_err)?;
    // Customers erased while the model trained are skipped.
    let mut ins = tx
        .prepare_cached(
            "INSERT INTO customer_factors (customer_id, factors)
             SELECT id, ?2 FROM customers WHERE id = ?1",
        )
        .map_err(db_err)?;
    for (key, v) in customers {
        ins.execute((key, to_blob(v))).map_err(db_err)?;
    }
    let mut ins = tx
        .prepare_cached("INSERT INTO product_factors (sku, factors) VALUES (?1, ?2)")
        .map_err(db_err)?;
    for (sku, v) in products {
        ins.execute((sku, to_blob(v))).map_err(db_err)?;
    }
    Ok(())
}

fn info(c: &Connection) -> StoreResult<Option<ModelInfo>> {
    let text: Option<String> = c
        .query_row("SELECT info FROM recommendation_model WHERE id = 1", [], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| StoreError::Invalid(format!("stored model: {e}")))
    })
    .transpose()
}

fn products(c: &Connection) -> StoreResult<Vec<(String, Vec<f32>)>> {
    let mut stmt = c
        .prepare_cached("SELECT sku, factors FROM product_factors ORDER BY sku")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, from_blob(&r.get::<_, Vec<u8>>(1)?))))
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

fn customer(c: &Connection, id: &ExternalId) -> StoreResult<Option<Vec<f32>>> {
    let key = customer_key(c, id)?;
    let blob: Option<Vec<u8>> = c
        .prepare_cached("SELECT factors FROM customer_factors WHERE customer_id = ?1")
        .map_err(db_err)?
        .query_row([key], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    Ok(blob.map(|b| from_blob(&b)))
}

fn bought(c: &Connection, id: &ExternalId) -> StoreResult<Vec<String>> {
    let key = customer_key(c, id)?;
    let mut stmt = c
        .prepare_cached(
            "SELECT DISTINCT l.sku FROM orders o JOIN order_lines l ON l.order_id = o.id
              WHERE o.customer_id = ?1 AND o.status = 'purchase' AND l.sku IS NOT NULL
              ORDER BY l.sku",
        )
        .map_err(db_err)?;
    let rows = stmt.query_map([key], |r| r.get(0)).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

#[async_trait]
impl RecommendStore for SqliteStore {
    async fn purchases_by_product(&self) -> StoreResult<Vec<Bought>> {
        self.read(purchases).await
    }

    async fn save_model(
        &self,
        info: &ModelInfo,
        customers: Vec<(i64, Vec<f32>)>,
        products: Vec<(String, Vec<f32>)>,
    ) -> StoreResult<()> {
        let text = serde_json::to_string(info).map_err(StoreError::other)?;
        self.write(false, move |tx| save(tx, &text, &customers, &products)).await
    }

    async fn model_info(&self) -> StoreResult<Option<ModelInfo>> {
        self.read(info).await
    }

    async fn product_factors(&self) -> StoreResult<Vec<(String, Vec<f32>)>> {
        self.read(products).await
    }

    async fn customer_factors(&self, id: &ExternalId) -> StoreResult<Option<Vec<f32>>> {
        let id = id.clone();
        self.read(move |c| customer(c, &id)).await
    }

    async fn bought_skus(&self, id: &ExternalId) -> StoreResult<Vec<String>> {
        let id = id.clone();
        self.read(move |c| bought(c, &id)).await
    }
}
