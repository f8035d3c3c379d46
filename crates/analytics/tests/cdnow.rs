//! BG/NBD against the paper: Fader, Hardie & Lee (2005) fit the 2,357-customer CDNOW sample
//! (39-week calibration, weeks) and report r = 0.243, α = 4.414, a = 0.793, b = 2.426 and a
//! log-likelihood of −9,582.4. The calibration summary is `../shared/data/cdnow`'s
//! `cdnow_customers_summary.csv` (recomputed from the raw sample by the data set's README).

use rapport_analytics::bgnbd::{History, fit};
use std::path::Path;

#[test]
fn bgnbd_reproduces_the_papers_cdnow_estimates() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cdnow/cdnow_customers_summary.csv");
    let Ok(text) = std::fs::read_to_string(&file) else {
        eprintln!("SKIPPED: {} not found; the CDNOW check needs ../shared/data", file.display());
        return;
    };
    let data: Vec<History> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<f64> = l.split(',').skip(1).map(|v| v.parse().unwrap()).collect();
            History { x: f[0], t_x: f[1], t: f[2] }
        })
        .collect();
    assert_eq!(data.len(), 2_357);
    let fit = fit(&data).unwrap();
    assert!(fit.converged, "{fit:?}");
    let p = fit.params;
    let near = |got: f64, want: f64, tol: f64| (got - want).abs() <= tol;
    assert!(near(p.r, 0.243, 0.0006), "r {fit:?}");
    assert!(near(p.alpha, 4.414, 0.006), "alpha {fit:?}");
    assert!(near(p.a, 0.793, 0.0006), "a {fit:?}");
    assert!(near(p.b, 2.426, 0.006), "b {fit:?}");
    assert!(near(fit.log_likelihood, -9_582.4, 0.1), "LL {fit:?}");
    println!("{fit:?}");
}
