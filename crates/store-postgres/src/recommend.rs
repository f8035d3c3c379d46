//! The recommendation model (schema v15): the [`RecommendStore`] of [`PgStore`]. Saving
//! replaces the factors set-based (`unnest`) in one transaction.

use crate::{PgStore, db_err, finish};
use async_trait::async_trait;
use rapport_core::ExternalId;
use rapport_store::{
    Bought, ModelInfo, RecommendStore, StoreError, StoreResult, from_blob, to_blob,
};
use sqlx::PgPool;

async fn customer_key(pool: &PgPool, id: &ExternalId) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT id FROM customers WHERE external_id = $1")
        .bind(id.as_str())
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("customer {}", id.as_str())))
}

/// Rows per statement when saving factors: bounded memory for the bind arrays.
const CHUNK: usize = 50_000;

#[async_trait]
impl RecommendStore for PgStore {
    async fn purchases_by_product(&self) -> StoreResult<Vec<Bought>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT o.customer_id, l.sku, COUNT(DISTINCT o.id) FROM orders o
               JOIN order_lines l ON l.order_id = o.id
              WHERE o.status = 'purchase' AND l.sku IS NOT NULL
              GROUP BY o.customer_id, l.sku",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(customer, sku, orders)| Bought { customer, sku, orders: orders as u32 })
            .collect())
    }

    async fn save_model(
        &self,
        info: &ModelInfo,
        customers: Vec<(i64, Vec<f32>)>,
        products: Vec<(String, Vec<f32>)>,
    ) -> StoreResult<()> {
        let text = serde_json::to_string(info).map_err(StoreError::other)?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("DELETE FROM customer_factors").execute(&mut *tx).await.map_err(db_err)?;
        sqlx::query("DELETE FROM product_factors").execute(&mut *tx).await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO recommendation_model (id, info) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET info = excluded.info",
        )
        .bind(&text)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        for chunk in customers.chunks(CHUNK) {
            let keys: Vec<i64> = chunk.iter().map(|c| c.0).collect();
            let blobs: Vec<Vec<u8>> = chunk.iter().map(|c| to_blob(&c.1)).collect();
            // Customers erased while the model trained are skipped.
            sqlx::query(
                "INSERT INTO customer_factors (customer_id, factors)
                 SELECT c.id, u.f FROM unnest($1::int8[], $2::bytea[]) AS u(k, f)
                   JOIN customers c ON c.id = u.k",
            )
            .bind(keys)
            .bind(blobs)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        for chunk in products.chunks(CHUNK) {
            let skus: Vec<&str> = chunk.iter().map(|p| p.0.as_str()).collect();
            let blobs: Vec<Vec<u8>> = chunk.iter().map(|p| to_blob(&p.1)).collect();
            sqlx::query(
                "INSERT INTO product_factors (sku, factors)
                 SELECT * FROM unnest($1::text[], $2::bytea[])",
            )
            .bind(skus)
            .bind(blobs)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        finish(tx, false).await
    }

    async fn model_info(&self) -> StoreResult<Option<ModelInfo>> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT info FROM recommendation_model WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| StoreError::Invalid(format!("stored model: {e}")))
        })
        .transpose()
    }

    async fn product_factors(&self) -> StoreResult<Vec<(String, Vec<f32>)>> {
        let rows: Vec<(String, Vec<u8>)> =
            sqlx::query_as("SELECT sku, factors FROM product_factors ORDER BY sku")
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(rows.into_iter().map(|(s, b)| (s, from_blob(&b))).collect())
    }

    async fn customer_factors(&self, id: &ExternalId) -> StoreResult<Option<Vec<f32>>> {
        let key = customer_key(&self.pool, id).await?;
        let blob: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT factors FROM customer_factors WHERE customer_id = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(blob.map(|b| from_blob(&b)))
    }

    async fn bought_skus(&self, id: &ExternalId) -> StoreResult<Vec<String>> {
        let key = customer_key(&self.pool, id).await?;
        sqlx::query_scalar(
            "SELECT DISTINCT l.sku FROM orders o JOIN order_lines l ON l.order_id = o.id
              WHERE o.customer_id = $1 AND o.status = 'purchase' AND l.sku IS NOT NULL
              ORDER BY l.sku",
        )
        .bind(key)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }
}
