//! Predictive lifetime value: BG/NBD and Gamma-Gamma fitted on a calibration period, expected
//! purchases and discounted value over a horizon, the distribution of predicted value over
//! customers, and with a holdout period actual against predicted purchases.

use crate::{ReportError, ReportResult, date, day_number};
use chrono::NaiveDate;
use rapport_analytics::{bgnbd, clv, gammagamma};
use rapport_store::{PurchaseHistory, Store, SummaryRow};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Day,
    Week,
}

impl Unit {
    pub fn days(self) -> f64 {
        match self {
            Unit::Day => 1.0,
            Unit::Week => 7.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Params {
    pub unit: Unit,
    /// Last day of the calibration period (default: the last purchase day).
    pub calibration_end: Option<NaiveDate>,
    /// Last day of a holdout period after the calibration.
    pub holdout_end: Option<NaiveDate>,
    /// Units ahead to predict.
    pub horizon: u32,
    /// Annual discount rate (0.1 = 10%).
    pub discount: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            unit: Unit::Week,
            calibration_end: None,
            holdout_end: None,
            horizon: 52,
            discount: 0.1,
        }
    }
}

/// Customers per band of predicted value (bands 0–1, 1–2, 2–5, 5–10, 10–20...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueBand {
    pub low: f64,
    pub high: f64,
    pub customers: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub unit: Unit,
    pub calibration_end: NaiveDate,
    pub holdout_end: Option<NaiveDate>,
    pub customers: usize,
    pub model: &'static str,
    /// `params`, `standard_errors`, `log_likelihood`, `iterations` and `converged` at the top
    /// level of the JSON.
    #[serde(flatten)]
    pub bgnbd: bgnbd::Fit,
    pub gamma_gamma: Option<gammagamma::Fit>,
    pub horizon: u32,
    pub discount: f64,
    pub expected_purchases: f64,
    pub expected_value: Option<f64>,
    /// Customers per band of predicted discounted value (empty without a spend model).
    pub value_distribution: Vec<ValueBand>,
    pub holdout: Option<clv::Holdout>,
}

pub async fn report(store: &dyn Store, p: &Params) -> ReportResult<Report> {
    let unit_days = p.unit.days();
    let (customers, calibration_end, holdout_end) = if p.calibration_end.is_none()
        && p.holdout_end.is_none()
    {
        // Calibrating on everything up to the last purchase needs only what the summaries
        // hold: O(customers), not O(orders).
        // A few numbers per buyer in memory, not whole summaries.
        let buyers: Vec<BuyerDays> =
            store.purchase_histories().await?.iter().map(BuyerDays::from_history).collect();
        let end = buyers.iter().map(|b| b.last).max().ok_or(ReportError::NoData("purchases"))?;
        (buyers.iter().map(|b| b.calibrated(end, unit_days)).collect(), end, None)
    } else {
        let last = store.last_purchase_at().await?.ok_or(ReportError::NoData("purchases"))?;
        let calibration_end = p.calibration_end.map_or(day_number(last.date_naive()), day_number);
        let holdout_end = p.holdout_end.map(day_number);
        if holdout_end.is_some_and(|h| h <= calibration_end) {
            return Err(ReportError::Invalid {
                field: "holdout_end",
                reason: "must be after the calibration end".into(),
            });
        }
        (
            calibrated(store, calibration_end, holdout_end, unit_days).await?,
            calibration_end,
            holdout_end,
        )
    };
    let histories: Vec<bgnbd::History> = customers.iter().map(|c| c.history).collect();
    let bg = bgnbd::fit(&histories)
        .ok_or(ReportError::NoData("purchases before the calibration end"))?;
    let gg = gammagamma::fit(&spends(&customers));
    let per_unit = per_unit_discount(p.discount, unit_days);
    let predictions = clv::predictions(
        &bg.params,
        gg.as_ref().map(|g| &g.params),
        &customers,
        p.horizon,
        per_unit,
    );
    let holdout = holdout_end.map(|h| {
        let length = (h - calibration_end) as f64 / unit_days;
        clv::holdout(&bg.params, &customers, length, 7)
    });
    let values: Vec<f64> = predictions.iter().filter_map(|x| x.value).collect();
    Ok(Report {
        unit: p.unit,
        calibration_end: date(calibration_end),
        holdout_end: holdout_end.map(date),
        customers: customers.len(),
        model: "bgnbd",
        bgnbd: bg,
        expected_value: gg.as_ref().map(|_| values.iter().sum()),
        gamma_gamma: gg,
        horizon: p.horizon,
        discount: p.discount,
        expected_purchases: predictions.iter().map(|x| x.purchases).sum(),
        value_distribution: bands(&values),
        holdout,
    })
}

/// What BG/NBD and Gamma-Gamma need of one buyer's summary: first and last purchase day,
/// repeat occasions and their mean value.
#[derive(Debug, Clone, Copy)]
pub struct BuyerDays {
    pub key: i64,
    pub first: i64,
    pub last: i64,
    pub repeats: i64,
    pub repeat_mean: Option<f64>,
}

impl BuyerDays {
    /// None for a customer who never purchased.
    pub fn of(row: &SummaryRow) -> Option<BuyerDays> {
        let s = &row.summary;
        let repeats = s.repeat_occasions();
        Some(BuyerDays {
            key: row.key,
            first: day_number(s.first_purchase_at?.date_naive()),
            last: day_number(s.last_purchase_at?.date_naive()),
            repeats,
            repeat_mean: (repeats > 0)
                .then(|| (s.purchase_value - s.first_day_value).to_f64() / repeats as f64),
        })
    }

    pub fn from_history(h: &PurchaseHistory) -> BuyerDays {
        let repeats = (h.purchase_occasions - 1).max(0);
        BuyerDays {
            key: h.key,
            first: day_number(h.first_purchase_at.date_naive()),
            last: day_number(h.last_purchase_at.date_naive()),
            repeats,
            repeat_mean: (repeats > 0)
                .then(|| (h.purchase_value - h.first_day_value).to_f64() / repeats as f64),
        }
    }

    /// The history with the calibration ending on day `end` (T from the first purchase day to
    /// it), in units of `unit_days`: what [`clv::calibrate`] gives from the purchase days when
    /// nothing after `end` is stored.
    pub fn calibrated(&self, end: i64, unit_days: f64) -> clv::Calibrated {
        clv::Calibrated {
            customer: self.key as u64,
            history: bgnbd::History {
                x: self.repeats as f64,
                t_x: (self.last - self.first) as f64 / unit_days,
                t: (end - self.first).max(0) as f64 / unit_days,
            },
            repeat_mean: self.repeat_mean,
            holdout: None,
        }
    }
}

/// Every customer's calibration history and holdout count, folded from the purchase days as
/// they stream in, one customer's days at a time.
async fn calibrated(
    store: &dyn Store,
    calibration_end: i64,
    holdout_end: Option<i64>,
    unit_days: f64,
) -> ReportResult<Vec<clv::Calibrated>> {
    #[derive(Default)]
    struct Fold {
        customer: Option<i64>,
        days: Vec<(i64, f64)>,
        out: Vec<clv::Calibrated>,
    }
    let flush = |f: &mut Fold| {
        if let Some(customer) = f.customer {
            let c = clv::calibrate_customer(
                customer as u64,
                &f.days,
                calibration_end,
                holdout_end,
                unit_days,
            );
            f.out.extend(c);
        }
        f.days.clear();
    };
    let partitions = store.purchase_day_chunks().await?;
    let folds = crate::fold_chunks(partitions, Fold::default, |f, d| {
        if f.customer != Some(d.customer) {
            flush(f);
            f.customer = Some(d.customer);
        }
        f.days.push((d.day, d.value.to_f64()));
    })
    .await?;
    Ok(folds
        .into_iter()
        .flat_map(|mut f| {
            flush(&mut f);
            f.out
        })
        .collect())
}

/// Gamma-Gamma's data: customers with repeat occasions and their mean repeat value.
pub fn spends(customers: &[clv::Calibrated]) -> Vec<gammagamma::Spend> {
    customers
        .iter()
        .filter_map(|c| Some(gammagamma::Spend { x: c.history.x, mean: c.repeat_mean? }))
        .collect()
}

/// The discount rate per model unit from an annual one.
pub fn per_unit_discount(annual: f64, unit_days: f64) -> f64 {
    (1.0 + annual).powf(unit_days / 365.0) - 1.0
}

/// Counts values in bands with 1-2-5 edges (0–1, 1–2, 2–5, 5–10, ...) up to the largest.
pub fn bands(values: &[f64]) -> Vec<ValueBand> {
    let max = values.iter().copied().fold(0.0f64, f64::max);
    let mut edges = vec![0.0, 1.0];
    let mut decade = 1.0;
    while *edges.last().expect("edges") <= max {
        for m in [2.0, 5.0, 10.0] {
            edges.push(decade * m);
        }
        decade *= 10.0;
    }
    let mut out: Vec<ValueBand> =
        edges.windows(2).map(|w| ValueBand { low: w[0], high: w[1], customers: 0 }).collect();
    for v in values {
        let i = edges.partition_point(|e| e <= v).saturating_sub(1).min(out.len() - 1);
        out[i].customers += 1;
    }
    while out.last().is_some_and(|b| b.customers == 0) && out.len() > 1 {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_have_1_2_5_edges_and_count_every_value_once() {
        let b = bands(&[0.0, 0.5, 1.0, 3.0, 4.99, 17.0, 17.0]);
        let edges: Vec<(f64, f64)> = b.iter().map(|b| (b.low, b.high)).collect();
        assert_eq!(edges, [(0.0, 1.0), (1.0, 2.0), (2.0, 5.0), (5.0, 10.0), (10.0, 20.0)]);
        assert_eq!(b.iter().map(|b| b.customers).collect::<Vec<_>>(), [2, 1, 2, 0, 2]);
        assert_eq!(bands(&[]).len(), 1);
    }
}
