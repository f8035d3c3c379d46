use super::*;
use rand::Rng;

/// Gaussian blobs (Box–Muller), seeded: `sizes[i]` rows around `centres[i]` with unit spread.
fn blobs(centres: &[&[f64]], sizes: &[usize], spread: f64, seed: u64) -> (Vec<f64>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut normal = move || {
        let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    };
    let (mut values, mut truth) = (Vec::new(), Vec::new());
    for (b, (c, &size)) in centres.iter().zip(sizes).enumerate() {
        for _ in 0..size {
            values.extend(c.iter().map(|m| m + spread * normal()));
            truth.push(b);
        }
    }
    (values, truth)
}

fn four_blobs(seed: u64) -> (Vec<f64>, Vec<usize>) {
    let centres: [&[f64]; 4] =
        [&[0.0, 0.0, 0.0], &[10.0, 0.0, 0.0], &[0.0, 10.0, 0.0], &[0.0, 0.0, 10.0]];
    blobs(&centres, &[400, 300, 200, 100], 1.0, seed)
}

fn params(k: usize, restarts: usize, seed: u64) -> ValidParams {
    Params { k, restarts, seed, ..Params::default() }.check().unwrap()
}

/// Plain Lloyd from the same start: the reference the bounded version must equal.
fn plain_lloyd(data: Data, mut centres: Vec<f64>, iterations: usize) -> (Vec<u32>, f64) {
    let (d, k) = (data.d(), centres.len() / data.d());
    let nearest = |x: &[f64], c: &[f64]| {
        (0..k).fold((0, f64::INFINITY), |(b, bd), j| {
            let dist = dist2(x, &c[j * d..(j + 1) * d]);
            if dist < bd { (j, dist) } else { (b, bd) }
        })
    };
    for _ in 0..iterations {
        let mut sums = vec![0.0; k * d];
        let mut counts = vec![0.0; k];
        for i in 0..data.n() {
            let (j, _) = nearest(data.row(i), &centres);
            counts[j] += 1.0;
            sums[j * d..(j + 1) * d].iter_mut().zip(data.row(i)).for_each(|(s, x)| *s += x);
        }
        for j in (0..k).filter(|&j| counts[j] > 0.0) {
            for t in 0..d {
                centres[j * d + t] = sums[j * d + t] / counts[j];
            }
        }
    }
    let assigned: Vec<(usize, f64)> =
        (0..data.n()).map(|i| nearest(data.row(i), &centres)).collect();
    (assigned.iter().map(|a| a.0 as u32).collect(), assigned.iter().map(|a| a.1).sum())
}

#[test]
fn well_separated_blobs_are_recovered_exactly_and_numbered_by_size() {
    let (values, truth) = four_blobs(7);
    let data = Data::new(&values, 3).unwrap();
    let fit = fit(data, &params(4, 5, 0)).unwrap();
    assert_eq!(fit.sizes, [400, 300, 200, 100]);
    // Blob b is the b-th largest, so its label is b.
    let labels: Vec<usize> = fit.labels.iter().map(|&l| l as usize).collect();
    assert_eq!(labels, truth);
    assert!(fit.converged);
    // The centroids are the blob means, within 4 standard errors (1/sqrt(100) = 0.1).
    assert!((fit.centroid(1)[0] - 10.0).abs() < 0.4, "{:?}", fit.centroid(1));
}

#[test]
fn a_seed_gives_the_same_fit_and_restarts_never_do_worse() {
    // 30,000 rows, so every pass runs on parallel chunks.
    let centres: [&[f64]; 3] = [&[0.0, 0.0], &[3.0, 0.0], &[0.0, 3.0]];
    let (values, _) = blobs(&centres, &[10_000, 10_000, 10_000], 1.5, 3);
    let data = Data::new(&values, 2).unwrap();
    let a = fit(data, &params(6, 3, 42)).unwrap();
    let b = fit(data, &params(6, 3, 42)).unwrap();
    assert_eq!(a, b);
    let one = fit(data, &params(6, 1, 42)).unwrap();
    assert!(a.inertia <= one.inertia, "{} > {}", a.inertia, one.inertia);
    let other = fit(data, &params(6, 3, 43)).unwrap();
    assert_ne!(a.centroids, other.centroids, "another seed starts elsewhere");
}

#[test]
fn inertia_never_increases_across_iterations_and_matches_plain_lloyd() {
    let centres: [&[f64]; 2] = [&[0.0, 0.0, 0.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0, 0.0]];
    let (values, _) = blobs(&centres, &[1500, 1000], 1.0, 11);
    let data = Data::new(&values, 5).unwrap();
    let start = lloyd::init(data, 7, &mut ChaCha8Rng::seed_from_u64(5));
    let mut last = f64::INFINITY;
    for iterations in 1..=25 {
        let run = lloyd::run(data, start.clone(), iterations, 0.0);
        assert!(
            run.inertia <= last * (1.0 + 1e-12),
            "iteration {iterations}: {} > {last}",
            run.inertia
        );
        last = run.inertia;
        let (labels, inertia) = plain_lloyd(data, start.centres.clone(), run.iterations);
        assert_eq!(run.labels, labels, "iteration {iterations}");
        assert!((run.inertia - inertia).abs() <= 1e-9 * inertia);
    }
}

#[test]
fn silhouette_picks_the_true_k_on_blobs() {
    let (values, _) = four_blobs(9);
    let data = Data::new(&values, 3).unwrap();
    // Every row of the 1,000, so the silhouette pass runs on parallel chunks.
    let p = AutoParams { k_max: 8, restarts: 3, sample: 1000, ..AutoParams::default() };
    let auto = choose_k(data, &p.check().unwrap()).unwrap();
    assert_eq!(auto.fit.k, 4, "{:?}", auto.scores);
    assert_eq!(auto.scores.len(), 7);
    assert_eq!(auto.sample, 1000);
    assert!(auto.rule.starts_with("k = 4: highest silhouette 0."), "{}", auto.rule);
    let s4 = silhouette(data, &auto.fit.labels, 4, 1000, 0);
    assert!((s4 - auto.scores[2].silhouette).abs() < 1e-12, "one pass for all k = one at a time");
    let sampled = silhouette(data, &auto.fit.labels, 4, 300, 0);
    assert!((sampled - s4).abs() < 0.05, "a 300-row sample: {sampled} against {s4}");
    assert!(auto.rule.ends_with("over k = 2..8 on all 1,000 rows"), "{}", auto.rule);
}

#[test]
fn silhouette_of_a_small_case_by_hand() {
    // Two clusters on a line: {0, 1} and {10}. Row 0: a = 1, b = 10 -> 0.9; row 1: a = 1,
    // b = 9 -> 8/9; row 2 is alone -> 0.
    let values = [0.0, 1.0, 10.0];
    let data = Data::new(&values, 1).unwrap();
    let s = silhouette(data, &[0, 0, 1], 2, 100, 0);
    let expected = (0.9 + 8.0 / 9.0 + 0.0) / 3.0;
    assert!((s - expected).abs() < 1e-12, "{s}");
}

#[test]
fn standardising_gives_z_scores_and_zeroes_a_constant_column() {
    let values = [1.0, 5.0, 2.0, 5.0, 3.0, 5.0, 4.0, 5.0];
    let s = standardise(Data::new(&values, 2).unwrap());
    assert_eq!(s.mean, [2.5, 5.0]);
    assert_eq!(s.scale[1], 1.0);
    let sd = (1.25f64).sqrt();
    assert!((s.scale[0] - sd).abs() < 1e-12);
    assert!(s.values.iter().skip(1).step_by(2).all(|&v| v == 0.0));
    assert!((s.values[0] + 1.5 / sd).abs() < 1e-12);
    let back = s.unscale(&s.values[0..2]);
    assert!((back[0] - 1.0).abs() < 1e-12 && back[1] == 5.0);
}

#[test]
fn bad_inputs_are_named() {
    assert_eq!(Data::new(&[1.0, 2.0, 3.0], 2).unwrap_err().field, "data");
    assert_eq!(Data::new(&[1.0, f64::NAN], 2).unwrap_err().field, "data");
    assert_eq!(Data::new(&[], 2).unwrap_err().field, "data");
    assert_eq!(Params { k: 0, ..Params::default() }.check().unwrap_err().field, "k");
    assert_eq!(Params { restarts: 0, ..Params::default() }.check().unwrap_err().field, "restarts");
    let data = Data::new(&[1.0, 2.0], 1).unwrap();
    assert_eq!(fit(data, &params(3, 1, 0)).unwrap_err().field, "k");
    assert_eq!(
        AutoParams { k_min: 1, ..AutoParams::default() }.check().unwrap_err().field,
        "k_min"
    );
    let auto = AutoParams::default().check().unwrap();
    assert_eq!(choose_k(data, &auto).unwrap_err().field, "k_min");
}

#[test]
fn duplicate_rows_fewer_than_k_still_fit() {
    // Three distinct points, k = 5: seeding picks duplicates, clusters empty out, no panic.
    let values: Vec<f64> = (0..30).map(|i| (i % 3) as f64).collect();
    let fit = fit(Data::new(&values, 1).unwrap(), &params(5, 2, 1)).unwrap();
    assert_eq!(fit.sizes.iter().sum::<u64>(), 30);
    assert!(fit.inertia.abs() < 1e-12);
}

#[test]
fn the_gap_statistic_picks_the_true_k_on_blobs_and_says_why() {
    let (values, _) = four_blobs(5);
    let data = Data::new(&values, 3).unwrap();
    let p = AutoParams {
        k_max: 7,
        restarts: 3,
        sample: 1000,
        criterion: Criterion::Gap { references: 10 },
        ..AutoParams::default()
    };
    let auto = choose_k(data, &p.clone().check().unwrap()).unwrap();
    assert_eq!(auto.fit.k, 4, "{:?}", auto.scores);
    assert!(auto.rule.starts_with("k = 4: smallest k with Gap(k)"), "{}", auto.rule);
    assert!(auto.rule.contains("10 uniform reference sets"), "{}", auto.rule);
    let gaps: Vec<f64> = auto.scores.iter().map(|s| s.gap.unwrap()).collect();
    // Real structure: clustering the blobs beats clustering noise by far at the true k.
    assert!(gaps[2] > gaps[0] + 0.5, "{gaps:?}");
    assert!(auto.scores.iter().all(|s| s.gap_se.unwrap() > 0.0));
    let again = choose_k(data, &p.check().unwrap()).unwrap();
    assert_eq!(again.scores, auto.scores, "deterministic for a seed");
}

#[test]
fn on_structureless_data_the_gap_takes_the_smallest_k() {
    // Uniform noise: no k beats the reference, so the first k of the range is taken.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let values: Vec<f64> = (0..1200).map(|_| rng.random::<f64>()).collect();
    let data = Data::new(&values, 2).unwrap();
    let p = AutoParams {
        k_max: 6,
        restarts: 2,
        sample: 600,
        criterion: Criterion::Gap { references: 10 },
        ..AutoParams::default()
    };
    let auto = choose_k(data, &p.check().unwrap()).unwrap();
    assert_eq!(auto.fit.k, 2, "{:?}", auto.scores);
    assert!(auto.rule.ends_with("over k = 2..6 on all 600 rows"), "{}", auto.rule);
    let bad = AutoParams { criterion: Criterion::Gap { references: 0 }, ..AutoParams::default() };
    assert_eq!(bad.check().unwrap_err().field, "references");
    assert_eq!(Criterion::parse("gap"), Ok(Criterion::Gap { references: 10 }));
    assert!(Criterion::parse("elbow").unwrap_err().contains("silhouette or gap"));
}
