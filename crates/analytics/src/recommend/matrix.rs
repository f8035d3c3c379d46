//! The interactions as a sparse matrix in compressed rows (users × items, or transposed).

/// A sparse matrix of `f32` values in compressed sparse rows: row `r` holds the columns
/// `indices[indptr[r]..indptr[r + 1]]` (ascending) with their values.
#[derive(Debug, Clone, PartialEq)]
pub struct Csr {
    pub rows: usize,
    pub cols: usize,
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl Csr {
    /// Builds the matrix from (row, column, value) triplets in any order; values of the same
    /// cell are added (two purchases of one product are a stronger signal than one).
    pub fn from_triplets(rows: usize, cols: usize, triplets: &[(u32, u32, f32)]) -> Csr {
        let mut counts = vec![0usize; rows + 1];
        for &(r, _, _) in triplets {
            counts[r as usize + 1] += 1;
        }
        for r in 0..rows {
            counts[r + 1] += counts[r];
        }
        let mut next = counts.clone();
        let mut cells = vec![(0u32, 0f32); triplets.len()];
        for &(r, c, v) in triplets {
            let slot = &mut next[r as usize];
            cells[*slot] = (c, v);
            *slot += 1;
        }
        let (mut indptr, mut indices, mut values) = (
            Vec::with_capacity(rows + 1),
            Vec::with_capacity(cells.len()),
            Vec::with_capacity(cells.len()),
        );
        indptr.push(0);
        for r in 0..rows {
            let row = &mut cells[counts[r]..counts[r + 1]];
            row.sort_unstable_by_key(|c| c.0);
            for &(c, v) in row.iter() {
                if indices.len() > indptr[r] && indices.last() == Some(&c) {
                    *values.last_mut().expect("a value per index") += v;
                } else {
                    indices.push(c);
                    values.push(v);
                }
            }
            indptr.push(indices.len());
        }
        Csr { rows, cols, indptr, indices, values }
    }

    /// The columns and values of one row.
    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[r], self.indptr[r + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }

    /// Stored cells.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    pub fn transpose(&self) -> Csr {
        let mut triplets = Vec::with_capacity(self.nnz());
        for r in 0..self.rows {
            let (cols, vals) = self.row(r);
            triplets.extend(cols.iter().zip(vals).map(|(&c, &v)| (c, r as u32, v)));
        }
        Csr::from_triplets(self.cols, self.rows, &triplets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triplets_become_sorted_rows_with_duplicates_added() {
        let m = Csr::from_triplets(3, 4, &[(2, 1, 1.0), (0, 3, 2.0), (0, 1, 1.0), (0, 3, 0.5)]);
        assert_eq!(m.row(0), (&[1u32, 3][..], &[1.0f32, 2.5][..]));
        assert_eq!(m.row(1), (&[][..], &[][..]));
        assert_eq!(m.row(2), (&[1u32][..], &[1.0f32][..]));
        let t = m.transpose();
        assert_eq!((t.rows, t.cols, t.nnz()), (4, 3, 3));
        assert_eq!(t.row(1), (&[0u32, 2][..], &[1.0f32, 1.0][..]));
        assert_eq!(t.transpose(), m);
    }
}
