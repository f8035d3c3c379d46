//! Recommendations as the server serves them: the stored model's products held in memory
//! (reloaded when a newer training is stored, looked for at most every [`CHECK_EVERY`]), and
//! training in the background when there is no model or it is older than [`RETRAIN_AFTER`].

use rapport_analytics::recommend::AlsParams;
use rapport_reports::ReportResult;
use rapport_reports::recommend::{self, Catalogue};
use rapport_store::Backend;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How often a request looks whether a newer model was stored (by `rapport recommend train`
/// or another server).
pub const CHECK_EVERY: Duration = Duration::from_secs(30);
/// The background job trains again after this long.
pub const RETRAIN_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(24);

#[derive(Default)]
pub struct Models {
    held: Mutex<Option<(Instant, Option<Arc<Catalogue>>)>>,
}

impl Models {
    /// The current model's catalogue, `None` before the first training.
    pub async fn current(&self, db: &dyn Backend) -> ReportResult<Option<Arc<Catalogue>>> {
        let mut held = self.held.lock().await;
        // Without a model, every request looks (one small read) so a first training shows
        // at once.
        if let Some((checked, cat @ Some(_))) = held.as_ref()
            && checked.elapsed() < CHECK_EVERY
        {
            return Ok(cat.clone());
        }
        let stored = db.model_info().await?;
        let unchanged = match (held.as_ref(), &stored) {
            (Some((_, Some(cat))), Some(info)) => cat.info.trained_at == info.trained_at,
            (Some((_, None)), None) => true,
            _ => false,
        };
        let cat = match (unchanged, held.take()) {
            (true, Some((_, cat))) => cat,
            _ => recommend::catalogue(db).await?.map(Arc::new),
        };
        *held = Some((Instant::now(), cat.clone()));
        Ok(cat)
    }

    /// Forgets the held model, so the next request reads the stored one.
    pub async fn reload(&self) {
        *self.held.lock().await = None;
    }
}

/// Trains when there is no model or it is older than [`RETRAIN_AFTER`]; `true` when it did.
pub async fn train_if_due(db: &dyn Backend, models: &Models) -> ReportResult<bool> {
    let now = chrono::Utc::now();
    let due = db.model_info().await?.is_none_or(|i| now - i.trained_at >= RETRAIN_AFTER);
    if !due {
        return Ok(false);
    }
    match recommend::train(db, &AlsParams::default(), now).await {
        Ok(info) => {
            tracing::info!(
                customers = info.customers,
                products = info.products,
                seconds = info.seconds,
                "recommendation model trained"
            );
            models.reload().await;
            Ok(true)
        }
        Err(rapport_reports::ReportError::NoData(_)) => Ok(false),
        Err(e) => Err(e),
    }
}
