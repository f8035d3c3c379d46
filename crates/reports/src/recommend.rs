//! Recommendations over a stored company: ALS trained on purchases (customer × product,
//! weighted by how many purchase orders held the product) and stored, and a customer's
//! recommendations: only for a customer who consented to personalisation, without what they
//! already bought, from the model when it knows them and the most popular products when not.

use crate::{ReportError, ReportResult};
use rapport_analytics::recommend::{AlsParams, Csr, fit, popularity, top_n};
use rapport_core::{ExternalId, Purpose, Timestamp};
use rapport_store::{Backend, Entity, Kind, ModelInfo, StoreError};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Instant;

/// Products kept as the popular list of a model.
const POPULAR: usize = 100;

/// Trains on every purchase and replaces the stored model.
pub async fn train(
    db: &dyn Backend,
    params: &AlsParams,
    now: Timestamp,
) -> ReportResult<ModelInfo> {
    let bought = db.purchases_by_product().await?;
    if bought.is_empty() {
        return Err(ReportError::NoData("purchases of products"));
    }
    let (mut users, mut items) = (Dense::default(), Dense::default());
    let triplets: Vec<(u32, u32, f32)> = bought
        .iter()
        .map(|b| (users.of(b.customer), items.of(b.sku.clone()), b.orders as f32))
        .collect();
    let m = Csr::from_triplets(users.keys.len(), items.keys.len(), &triplets);
    let p = *params;
    let started = Instant::now();
    let (m, model) = tokio::task::spawn_blocking(move || {
        let model = fit(&m, &p);
        (m, model)
    })
    .await
    .map_err(StoreError::other)?;
    let info = ModelInfo {
        trained_at: now,
        customers: m.rows as i64,
        products: m.cols as i64,
        interactions: m.nnz() as i64,
        factors: p.factors as i64,
        params: serde_json::to_value(p).map_err(StoreError::other)?,
        seconds: started.elapsed().as_secs_f64(),
        popular: popularity(&m)
            .into_iter()
            .take(POPULAR)
            .map(|i| items.keys[i as usize].clone())
            .collect(),
    };
    let customers =
        users.keys.iter().enumerate().map(|(u, &k)| (k, model.user(u).to_vec())).collect();
    let products =
        items.keys.into_iter().enumerate().map(|(i, s)| (s, model.item(i).to_vec())).collect();
    db.save_model(&info, customers, products).await?;
    Ok(info)
}

/// Dense numbers for keys, in order of first appearance.
struct Dense<K> {
    index: HashMap<K, u32>,
    keys: Vec<K>,
}

impl<K> Default for Dense<K> {
    fn default() -> Self {
        Dense { index: HashMap::new(), keys: Vec::new() }
    }
}

impl<K: std::hash::Hash + Eq + Clone> Dense<K> {
    fn of(&mut self, k: K) -> u32 {
        if let Some(&i) = self.index.get(&k) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.index.insert(k.clone(), i);
        self.keys.push(k);
        i
    }
}

/// The stored model's products held in memory, to score a customer against all of them.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub info: ModelInfo,
    /// Ascending.
    pub skus: Vec<String>,
    pub factors: usize,
    /// Row-major, one row per SKU.
    pub items: Vec<f32>,
}

/// The stored model's catalogue; `None` before the first training.
pub async fn catalogue(db: &dyn Backend) -> ReportResult<Option<Catalogue>> {
    let Some(info) = db.model_info().await? else { return Ok(None) };
    let products = db.product_factors().await?;
    let factors = info.factors.max(1) as usize;
    let mut skus = Vec::with_capacity(products.len());
    let mut items = Vec::with_capacity(products.len() * factors);
    for (sku, v) in products {
        if v.len() == factors {
            skus.push(sku);
            items.extend(v);
        }
    }
    Ok(Some(Catalogue { info, skus, factors, items }))
}

/// Why a customer's list is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Scored by the model from their purchases.
    Model,
    /// The model does not know them yet (no purchases when it was trained): the most popular.
    Popular,
    /// They have not consented to personalisation: nothing is recommended.
    NotConsented,
    /// No model has been trained yet.
    NoModel,
}

#[derive(Debug, Clone, Serialize)]
pub struct Recommended {
    pub sku: String,
    pub name: Option<String>,
    /// The model's score (none for popular products).
    pub score: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Recommendations {
    pub customer: String,
    pub basis: Basis,
    pub items: Vec<Recommended>,
    pub trained_at: Option<Timestamp>,
}

/// A customer's `n` recommendations. `NotFound` for an unknown customer.
pub async fn for_customer(
    db: &dyn Backend,
    cat: Option<&Catalogue>,
    id: &ExternalId,
    n: usize,
) -> ReportResult<Recommendations> {
    let view = db.customer(id).await?;
    let mut out = Recommendations {
        customer: id.as_str().to_string(),
        basis: Basis::NoModel,
        items: Vec::new(),
        trained_at: cat.map(|c| c.info.trained_at),
    };
    if !view.consents_to(Purpose::Personalisation) {
        out.basis = Basis::NotConsented;
        return Ok(out);
    }
    let Some(cat) = cat else { return Ok(out) };
    let owned = db.bought_skus(id).await?;
    let picked: Vec<(String, Option<f64>)> = match db.customer_factors(id).await? {
        Some(x) if x.len() == cat.factors => {
            out.basis = Basis::Model;
            let exclude: Vec<u32> = owned
                .iter()
                .filter_map(|s| cat.skus.binary_search(s).ok())
                .map(|i| i as u32)
                .collect();
            let scores: Vec<f32> = cat
                .items
                .chunks_exact(cat.factors)
                .map(|y| x.iter().zip(y).map(|(a, b)| a * b).sum())
                .collect();
            top_n(&scores, n, &exclude)
                .into_iter()
                .map(|(i, s)| (cat.skus[i as usize].clone(), Some(f64::from(s))))
                .collect()
        }
        _ => {
            out.basis = Basis::Popular;
            let popular = cat.info.popular.iter().filter(|s| owned.binary_search(s).is_err());
            popular.take(n).map(|s| (s.clone(), None)).collect()
        }
    };
    for (sku, score) in picked {
        out.items.push(Recommended { name: product_name(db, &sku).await?, sku, score });
    }
    Ok(out)
}

/// A product's name, when the SKU is a stored product with one.
async fn product_name(db: &dyn Backend, sku: &str) -> ReportResult<Option<String>> {
    let Ok(id) = ExternalId::parse(sku) else { return Ok(None) };
    match db.record(Kind::Products, &id).await {
        Ok(Entity::Product(p)) => Ok(p.name),
        Ok(_) | Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
