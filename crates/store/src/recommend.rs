//! The recommendation model as stored: what it learns from (who bought which product, how
//! often), and its factors (a vector per customer and per product, as little-endian `f32`
//! BLOBs), replaced whole by each training so readers never see half a model.

use crate::StoreResult;
use async_trait::async_trait;
use rapport_core::{ExternalId, Timestamp};
use serde::{Deserialize, Serialize};

/// One customer's purchases of one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bought {
    pub customer: i64,
    pub sku: String,
    /// Purchase orders that held the product.
    pub orders: u32,
}

/// What a training produced, for the model's readers and the pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub trained_at: Timestamp,
    pub customers: i64,
    pub products: i64,
    pub interactions: i64,
    pub factors: i64,
    /// The training's parameters, as JSON.
    pub params: serde_json::Value,
    pub seconds: f64,
    /// Products by how many customers bought them, most first (at most 100): what a customer
    /// without history is offered.
    pub popular: Vec<String>,
}

/// A vector as stored.
pub fn to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn from_blob(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

#[async_trait]
pub trait RecommendStore: Send + Sync {
    /// Every (customer, product) of purchase orders with how many orders held it, by
    /// customer key.
    async fn purchases_by_product(&self) -> StoreResult<Vec<Bought>>;

    /// Replaces the model with these factors (customer keys and SKUs), in one transaction.
    async fn save_model(
        &self,
        info: &ModelInfo,
        customers: Vec<(i64, Vec<f32>)>,
        products: Vec<(String, Vec<f32>)>,
    ) -> StoreResult<()>;

    /// The stored model's description; `None` before the first training.
    async fn model_info(&self) -> StoreResult<Option<ModelInfo>>;

    /// Every product's factors.
    async fn product_factors(&self) -> StoreResult<Vec<(String, Vec<f32>)>>;

    /// One customer's factors; `None` when the model has none for them (no purchases when it
    /// was trained). `NotFound` for an unknown customer.
    async fn customer_factors(&self, customer: &ExternalId) -> StoreResult<Option<Vec<f32>>>;

    /// The SKUs of a customer's purchase orders, ascending. `NotFound` for an unknown customer.
    async fn bought_skus(&self, customer: &ExternalId) -> StoreResult<Vec<String>>;
}
