//! Offline evaluation: each user's items split at random into training (80%) and test (20%)
//! with a seed, a model fitted on the training part, and its top 10 (without the training
//! items) compared with the test items.
//!
//! - precision@k = hits / k, averaged over the users with a test item;
//! - recall@k = hits / (the user's test items);
//! - nDCG@k = Σ over hits at rank r (1-based) of 1 / log2(r + 1), divided by the same sum for
//!   a perfect list (min(k, test items) hits at the top).

use super::matrix::Csr;
use crate::in_ranges;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// A split: the training matrix and each user's test items (ascending).
#[derive(Debug, Clone)]
pub struct Split {
    pub train: Csr,
    pub test: Vec<Vec<u32>>,
}

/// Splits each user's distinct items: `round(share × n)` of them to test, chosen at random
/// with `seed` (a user with one item keeps it for training).
pub fn split(user_items: &Csr, share: f64, seed: u64) -> Split {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut train = Vec::with_capacity(user_items.nnz());
    let mut test = Vec::with_capacity(user_items.rows);
    for u in 0..user_items.rows {
        let (cols, vals) = user_items.row(u);
        let mut order: Vec<usize> = (0..cols.len()).collect();
        order.shuffle(&mut rng);
        let n_test =
            ((share * cols.len() as f64).round() as usize).min(cols.len().saturating_sub(1));
        let mut held: Vec<u32> = order[..n_test].iter().map(|&k| cols[k]).collect();
        held.sort_unstable();
        train.extend(order[n_test..].iter().map(|&k| (u as u32, cols[k], vals[k])));
        test.push(held);
    }
    Split { train: Csr::from_triplets(user_items.rows, user_items.cols, &train), test }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Metrics {
    pub precision_at_10: f64,
    pub recall_at_10: f64,
    pub ndcg_at_10: f64,
    /// Users with at least one test item (those averaged over).
    pub users: usize,
}

/// Scores a recommender (`user, training items → ranked items`) against the test items.
pub fn evaluate(
    split: &Split,
    k: usize,
    recommend: impl Fn(usize, &[u32]) -> Vec<u32> + Sync,
) -> Metrics {
    let parts = in_ranges(split.test.len(), |range| {
        let mut sums = (0.0, 0.0, 0.0, 0usize);
        for u in range {
            let test = &split.test[u];
            if test.is_empty() {
                continue;
            }
            let list = recommend(u, split.train.row(u).0);
            let (p, r, n) = score(&list[..list.len().min(k)], test, k);
            sums = (sums.0 + p, sums.1 + r, sums.2 + n, sums.3 + 1);
        }
        sums
    });
    let (p, r, n, users) = parts
        .into_iter()
        .fold((0.0, 0.0, 0.0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3));
    let m = users.max(1) as f64;
    Metrics { precision_at_10: p / m, recall_at_10: r / m, ndcg_at_10: n / m, users }
}

/// (precision, recall, nDCG) of one ranked list against the test items (ascending).
fn score(list: &[u32], test: &[u32], k: usize) -> (f64, f64, f64) {
    let gain = |rank: usize| 1.0 / ((rank + 2) as f64).log2();
    let mut hits = 0usize;
    let mut dcg = 0.0;
    for (rank, item) in list.iter().enumerate() {
        if test.binary_search(item).is_ok() {
            hits += 1;
            dcg += gain(rank);
        }
    }
    let ideal: f64 = (0..k.min(test.len())).map(gain).sum();
    (hits as f64 / k as f64, hits as f64 / test.len() as f64, dcg / ideal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_of_one_list() {
        // Hits at ranks 1 and 3 of 10, three test items.
        let (p, r, n) = score(&[5, 1, 7, 2], &[5, 7, 9], 10);
        assert_eq!((p, r), (0.2, 2.0 / 3.0));
        let dcg = 1.0 + 1.0 / 4f64.log2();
        let ideal = 1.0 + 1.0 / 3f64.log2() + 1.0 / 4f64.log2();
        assert!((n - dcg / ideal).abs() < 1e-12);
    }

    #[test]
    fn the_split_holds_out_a_fifth_of_each_user_and_is_seeded() {
        let t: Vec<(u32, u32, f32)> = (0..3u32)
            .flat_map(|u| (0..10u32).map(move |i| (u, i, 1.0)))
            .chain([(3, 4, 1.0)])
            .collect();
        let m = Csr::from_triplets(4, 10, &t);
        let s = split(&m, 0.2, 7);
        for u in 0..3 {
            assert_eq!((s.test[u].len(), s.train.row(u).0.len()), (2, 8));
            for i in &s.test[u] {
                assert!(
                    s.train.row(u).0.binary_search(i).is_err(),
                    "test items are not trained on"
                );
            }
        }
        assert!(s.test[3].is_empty(), "one item stays in training");
        assert_eq!(split(&m, 0.2, 7).test, s.test);
        assert_ne!(split(&m, 0.2, 8).test, s.test);
    }

    #[test]
    fn a_perfect_recommender_scores_one_and_a_useless_one_zero() {
        let t: Vec<(u32, u32, f32)> =
            (0..5u32).flat_map(|u| (0..20u32).map(move |i| (u, i, 1.0))).collect();
        let s = split(&Csr::from_triplets(5, 40, &t), 0.5, 1);
        let perfect = evaluate(&s, 10, |u, _| s.test[u].clone());
        assert_eq!((perfect.precision_at_10, perfect.recall_at_10, perfect.users), (1.0, 1.0, 5));
        assert!((perfect.ndcg_at_10 - 1.0).abs() < 1e-12);
        let useless = evaluate(&s, 10, |_, _| (20..30).collect());
        assert_eq!((useless.precision_at_10, useless.ndcg_at_10), (0.0, 0.0));
    }
}
