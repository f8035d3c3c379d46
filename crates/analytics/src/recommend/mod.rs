//! Recommendations from purchases and product usage: implicit-feedback matrix factorisation
//! ([`als`]), the top items of a user without what they already have, items bought together
//! (nearest item factors), the popularity baseline, and the offline evaluation ([`eval`]).

pub mod als;
pub mod eval;
pub mod matrix;

pub use als::{AlsModel, AlsParams, fit};
pub use matrix::Csr;

/// The `n` highest-scored of `scores` (index, score), best first, leaving out `exclude`
/// (ascending, as a matrix row holds them). Ties go to the lower index, so results are stable.
pub fn top_n(scores: &[f32], n: usize, exclude: &[u32]) -> Vec<(u32, f32)> {
    let mut cand: Vec<(u32, f32)> = scores
        .iter()
        .enumerate()
        .filter(|(i, _)| exclude.binary_search(&(*i as u32)).is_err())
        .map(|(i, &s)| (i as u32, s))
        .collect();
    let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if cand.len() > n && n > 0 {
        cand.select_nth_unstable_by(n - 1, order);
        cand.truncate(n);
    }
    cand.sort_unstable_by(order);
    cand.truncate(n);
    cand
}

impl AlsModel {
    pub fn user(&self, u: usize) -> &[f32] {
        &self.users[u * self.factors..(u + 1) * self.factors]
    }

    pub fn item(&self, i: usize) -> &[f32] {
        &self.items[i * self.factors..(i + 1) * self.factors]
    }

    /// Every item's score for a user.
    pub fn scores(&self, u: usize) -> Vec<f32> {
        let x = self.user(u);
        self.items.chunks_exact(self.factors).map(|y| als::dot(x, y)).collect()
    }

    /// A user's `n` best items they do not have (`owned` ascending).
    pub fn recommend(&self, u: usize, n: usize, owned: &[u32]) -> Vec<(u32, f32)> {
        top_n(&self.scores(u), n, owned)
    }

    /// The `n` items whose factors point most the same way as `item`'s (cosine): bought by the
    /// same people.
    pub fn similar_items(&self, item: usize, n: usize) -> Vec<(u32, f32)> {
        let norm = |v: &[f32]| als::dot(v, v).sqrt().max(f32::MIN_POSITIVE);
        let x = self.item(item);
        let nx = norm(x);
        let scores: Vec<f32> = self
            .items
            .chunks_exact(self.factors)
            .map(|y| als::dot(x, y) / (nx * norm(y)))
            .collect();
        top_n(&scores, n, &[item as u32])
    }
}

/// Items by how many users have them, most first (ties: lower index first): the
/// recommendation for a customer without history, and the baseline every model must beat.
pub fn popularity(user_items: &Csr) -> Vec<u32> {
    let mut counts = vec![0u32; user_items.cols];
    for &i in &user_items.indices {
        counts[i as usize] += 1;
    }
    let mut items: Vec<u32> = (0..user_items.cols as u32).collect();
    items.sort_by(|a, b| counts[*b as usize].cmp(&counts[*a as usize]).then(a.cmp(b)));
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_n_is_best_first_without_the_excluded() {
        let scores = [0.1, 0.9, 0.5, 0.9, 0.3];
        assert_eq!(top_n(&scores, 3, &[]), [(1, 0.9), (3, 0.9), (2, 0.5)]);
        assert_eq!(top_n(&scores, 2, &[1, 2]), [(3, 0.9), (4, 0.3)]);
        assert_eq!(top_n(&scores, 9, &[0, 1, 2, 3]).len(), 1);
        assert!(top_n(&scores, 0, &[]).is_empty());
    }

    #[test]
    fn popularity_counts_users() {
        let m = Csr::from_triplets(
            3,
            3,
            &[(0, 2, 5.0), (1, 2, 1.0), (1, 0, 1.0), (2, 1, 1.0), (2, 2, 1.0)],
        );
        assert_eq!(popularity(&m), [2, 0, 1]);
    }
}
