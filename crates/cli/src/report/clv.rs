//! `rapport report clv`: BG/NBD and Gamma-Gamma on a calibration period, predictions over a
//! horizon, and the holdout evaluation.

use super::{ReportFormat, emit, parse_day};
use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use rapport_reports::clv::{Params, Unit};
use rapport_store::Store;

#[derive(Args)]
pub struct ClvArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: ReportFormat,
    /// The model's only choice today (BG/NBD for purchases, Gamma-Gamma for spend).
    #[arg(long, value_enum, default_value = "bgnbd")]
    model: ClvModel,
    /// The time unit of the model and of `--horizon`.
    #[arg(long, value_enum, default_value = "week")]
    unit: UnitArg,
    /// Last day of the calibration period (YYYY-MM-DD); default: the last purchase day.
    #[arg(long, value_parser = parse_day)]
    calibration_end: Option<NaiveDate>,
    /// Last day of a holdout period after the calibration: adds actual against predicted.
    #[arg(long, value_parser = parse_day)]
    holdout_end: Option<NaiveDate>,
    /// How many units ahead to predict.
    #[arg(long, default_value_t = 52)]
    horizon: u32,
    /// Annual discount rate for future value (0.1 = 10%).
    #[arg(long, default_value_t = 0.1)]
    discount: f64,
}

#[derive(Clone, Copy, ValueEnum)]
enum ClvModel {
    Bgnbd,
}

#[derive(Clone, Copy, ValueEnum)]
enum UnitArg {
    Day,
    Week,
}

pub async fn report(store: &dyn Store, o: &ClvArgs) -> Result<()> {
    let ClvModel::Bgnbd = o.model;
    let unit = match o.unit {
        UnitArg::Day => Unit::Day,
        UnitArg::Week => Unit::Week,
    };
    let params = Params {
        unit,
        calibration_end: o.calibration_end,
        holdout_end: o.holdout_end,
        horizon: o.horizon,
        discount: o.discount,
    };
    let out = rapport_reports::clv::report(store, &params).await?;
    if o.format == ReportFormat::Json {
        println!("{}", serde_json::to_string(&out)?);
        return Ok(());
    }
    print_clv(&out.bgnbd, out.gamma_gamma.as_ref(), o.format)?;
    let unit = if unit == Unit::Day { "days" } else { "weeks" };
    let mut rows = vec![
        vec!["customers".to_string(), out.customers.to_string()],
        vec!["calibration end".into(), out.calibration_end.to_string()],
        vec![
            format!("expected purchases, next {} {unit}", o.horizon),
            format!("{:.1}", out.expected_purchases),
        ],
    ];
    if let Some(v) = out.expected_value {
        rows.push(vec![
            format!("expected value, discounted {:.0}%/year", 100.0 * o.discount),
            format!("{v:.2}"),
        ]);
    }
    emit(o.format, &(), &["", "value"], rows)?;
    if let Some(h) = &out.holdout {
        let rows = h
            .rows
            .iter()
            .map(|r| {
                let x = if r.and_more { format!("{}+", r.x) } else { r.x.to_string() };
                vec![
                    x,
                    r.customers.to_string(),
                    format!("{:.3}", r.actual_mean),
                    format!("{:.3}", r.predicted_mean),
                ]
            })
            .collect();
        println!(
            "holdout to {}: actual against predicted repeat purchases per customer",
            out.holdout_end.expect("a holdout end")
        );
        emit(o.format, &(), &["calibration x", "customers", "actual", "predicted"], rows)?;
        println!(
            "total: actual {:.0}, predicted {:.1} ({:+.1}%); mean absolute error per customer {:.3}",
            h.actual_total,
            h.predicted_total,
            100.0 * h.relative_error,
            h.mean_absolute_error
        );
    }
    Ok(())
}
/// The fitted parameters with their standard errors.
fn print_clv(
    bg: &rapport_analytics::bgnbd::Fit,
    gg: Option<&rapport_analytics::gammagamma::Fit>,
    format: ReportFormat,
) -> Result<()> {
    let (p, se) = (&bg.params, &bg.std_errors);
    let mut rows = vec![
        vec!["BG/NBD r".to_string(), format!("{:.4}", p.r), format!("{:.4}", se.r)],
        vec!["BG/NBD alpha".into(), format!("{:.4}", p.alpha), format!("{:.4}", se.alpha)],
        vec!["BG/NBD a".into(), format!("{:.4}", p.a), format!("{:.4}", se.a)],
        vec!["BG/NBD b".into(), format!("{:.4}", p.b), format!("{:.4}", se.b)],
        vec!["BG/NBD log-likelihood".into(), format!("{:.2}", bg.log_likelihood), String::new()],
    ];
    if let Some(g) = gg {
        let (p, se) = (&g.params, &g.std_errors);
        rows.extend([
            vec!["Gamma-Gamma p".to_string(), format!("{:.4}", p.p), format!("{:.4}", se.p)],
            vec!["Gamma-Gamma q".into(), format!("{:.4}", p.q), format!("{:.4}", se.q)],
            vec!["Gamma-Gamma v".into(), format!("{:.4}", p.gamma), format!("{:.4}", se.gamma)],
            vec![
                "Gamma-Gamma log-likelihood".into(),
                format!("{:.2}", g.log_likelihood),
                String::new(),
            ],
        ]);
    }
    if !bg.converged {
        eprintln!("warning: the BG/NBD fit did not converge in {} iterations", bg.iterations);
    }
    emit(format, &(), &["parameter", "estimate", "std. error"], rows)
}
