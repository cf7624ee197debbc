//! Exact nearest neighbours by blocked matrix products, for a whole catalogue at once: the
//! vectors stay resident on the device (a GPU in f16 when there is one, else the CPU), a
//! block of queries is multiplied with a block of the catalogue, and only each row's best
//! `k` of that block leave it, so the full score matrix never exists. Uses: all-pairs
//! "similar products" for a catalogue in one job, scoring many session vectors at once, and
//! the exact answer the ANN index's recall is measured against.
//!
//! On a GPU the per-block selection is a sort on the device (`arg_sort`), so only `k`
//! scores per row cross to the host; on the CPU the block is read once and each row's best
//! `k` are picked by partial selection, which is linear in the block.

use candle_core::{DType, Device, Tensor};

use crate::RetrieverError;

/// Rows of a block: queries per pass and catalogue vectors per pass. A GPU sort handles a
/// catalogue block of this width in shared memory.
#[derive(Debug, Clone, Copy)]
pub struct BlockSizes {
    pub queries: usize,
    pub catalogue: usize,
}

impl Default for BlockSizes {
    fn default() -> Self {
        Self {
            queries: 1024,
            catalogue: 4096,
        }
    }
}

/// A catalogue's vectors, unit length, resident on one device.
pub struct ResidentVectors {
    ids: Vec<u64>,
    matrix: Tensor,
    blocks: BlockSizes,
}

/// Where exact search runs. The server chooses it once, by the same policy as the model's
/// device (`KINDRED_DEVICE`), so the model and the all-pairs job never disagree.
#[derive(Debug, Clone)]
pub struct ExactDevice(Device);

impl ExactDevice {
    pub fn cpu() -> Self {
        Self(Device::Cpu)
    }

    pub fn new(device: Device) -> Self {
        Self(device)
    }
}

/// One neighbour: the product and its cosine similarity.
pub type Neighbour = (u64, f32);

impl ResidentVectors {
    /// Normalises the vectors and moves them to `device` as `dtype` (f16 on a GPU halves the
    /// bytes every pass reads).
    pub fn new(
        device: &Device,
        dtype: DType,
        ids: Vec<u64>,
        vectors: &[Vec<f32>],
    ) -> Result<Self, RetrieverError> {
        if ids.len() != vectors.len() {
            return Err(RetrieverError::InvalidInput(format!(
                "{} ids for {} vectors",
                ids.len(),
                vectors.len()
            )));
        }
        let matrix = to_device(device, dtype, vectors)?;
        Ok(Self {
            ids,
            matrix,
            blocks: BlockSizes::default(),
        })
    }

    /// On the server's exact-search device: f16 on a GPU, f32 on the CPU.
    pub fn on(
        device: &ExactDevice,
        ids: Vec<u64>,
        vectors: &[Vec<f32>],
    ) -> Result<Self, RetrieverError> {
        let dtype = if device.0.is_cuda() {
            DType::F16
        } else {
            DType::F32
        };
        Self::new(&device.0, dtype, ids, vectors)
    }

    /// `cuda` or `cpu`: where the vectors live.
    pub fn device_name(&self) -> &'static str {
        if self.matrix.device().is_cuda() {
            "cuda"
        } else {
            "cpu"
        }
    }

    pub fn with_blocks(mut self, blocks: BlockSizes) -> Self {
        self.blocks = BlockSizes {
            queries: blocks.queries.max(1),
            catalogue: blocks.catalogue.max(1),
        };
        self
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// For each query vector, the `k` most similar catalogue vectors, best first (ties go
    /// to the earlier catalogue entry).
    pub fn top_k(
        &self,
        queries: &[Vec<f32>],
        k: usize,
    ) -> Result<Vec<Vec<Neighbour>>, RetrieverError> {
        if queries.is_empty() || self.is_empty() || k == 0 {
            return Ok(vec![Vec::new(); queries.len()]);
        }
        let queries = to_device(self.matrix.device(), self.matrix.dtype(), queries)?;
        self.search(&queries, k, None)
    }

    /// Every catalogue vector's `k` most similar others (itself left out): "similar
    /// products" for a whole shop in one job.
    pub fn all_pairs(&self, k: usize) -> Result<Vec<Vec<Neighbour>>, RetrieverError> {
        if self.is_empty() || k == 0 {
            return Ok(vec![Vec::new(); self.len()]);
        }
        self.search(&self.matrix, k, Some(0))
    }

    /// `own_offset`: the queries are the catalogue itself starting at this row, so each
    /// query's own row is skipped.
    fn search(
        &self,
        queries: &Tensor,
        k: usize,
        own_offset: Option<usize>,
    ) -> Result<Vec<Vec<Neighbour>>, RetrieverError> {
        let total_queries = queries.dim(0).map_err(backend)?;
        let n = self.len();
        // One more than asked when the query's own row may be among the best.
        let keep = (k + usize::from(own_offset.is_some())).min(n);
        let mut answers = Vec::with_capacity(total_queries);
        for q_start in (0..total_queries).step_by(self.blocks.queries) {
            let rows = self.blocks.queries.min(total_queries - q_start);
            let block = queries.narrow(0, q_start, rows).map_err(backend)?;
            let mut best: Vec<Vec<(f32, usize)>> = vec![Vec::with_capacity(2 * keep); rows];
            for c_start in (0..n).step_by(self.blocks.catalogue) {
                let width = self.blocks.catalogue.min(n - c_start);
                let part = self.matrix.narrow(0, c_start, width).map_err(backend)?;
                let scores = block.matmul(&part.t().map_err(backend)?).map_err(backend)?;
                let picked = pick_best(&scores, keep.min(width))?;
                for (row, candidates) in picked.into_iter().enumerate() {
                    let list = &mut best[row];
                    list.extend(candidates.into_iter().map(|(s, i)| (s, c_start + i)));
                    shrink(list, keep);
                }
            }
            for (row, list) in best.into_iter().enumerate() {
                let own = own_offset.map(|offset| offset + q_start + row);
                answers.push(
                    list.into_iter()
                        .filter(|(_, index)| Some(*index) != own)
                        .take(k)
                        .map(|(score, index)| (self.ids[index], score))
                        .collect(),
                );
            }
        }
        Ok(answers)
    }
}

/// Each row's `keep` highest scores of one block, as (score, column), best first.
fn pick_best(scores: &Tensor, keep: usize) -> Result<Vec<Vec<(f32, usize)>>, RetrieverError> {
    if scores.device().is_cpu() {
        let rows = scores
            .to_dtype(DType::F32)
            .and_then(|s| s.to_vec2::<f32>())
            .map_err(backend)?;
        return Ok(rows
            .into_iter()
            .map(|row| {
                let mut indexed: Vec<(f32, usize)> =
                    row.into_iter().enumerate().map(|(i, s)| (s, i)).collect();
                shrink(&mut indexed, keep);
                indexed
            })
            .collect());
    }
    // On the device: sort each row there and bring back only the first `keep`.
    let order = scores
        .arg_sort_last_dim(false)
        .and_then(|o| o.narrow(1, 0, keep))
        .and_then(|o| o.contiguous())
        .map_err(backend)?;
    let top = scores
        .gather(&order, 1)
        .and_then(|t| t.to_dtype(DType::F32))
        .and_then(|t| t.to_vec2::<f32>())
        .map_err(backend)?;
    let order = order.to_vec2::<u32>().map_err(backend)?;
    Ok(top
        .into_iter()
        .zip(order)
        .map(|(scores, columns)| {
            scores
                .into_iter()
                .zip(columns)
                .map(|(s, c)| (s, c as usize))
                .collect()
        })
        .collect())
}

/// Keeps the `keep` best (score, index), best first; ties go to the lower index.
fn shrink(list: &mut Vec<(f32, usize)>, keep: usize) {
    let better = |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    if list.len() > keep && keep > 0 {
        list.select_nth_unstable_by(keep - 1, better);
        list.truncate(keep);
    } else if keep == 0 {
        list.clear();
    }
    list.sort_by(better);
}

/// Unit-length rows on the device, in `dtype`.
fn to_device(
    device: &Device,
    dtype: DType,
    vectors: &[Vec<f32>],
) -> Result<Tensor, RetrieverError> {
    let dimension = vectors.first().map_or(0, Vec::len);
    let mut flat = Vec::with_capacity(vectors.len() * dimension);
    for vector in vectors {
        if vector.len() != dimension {
            return Err(RetrieverError::DimensionMismatch {
                expected: dimension,
                got: vector.len(),
            });
        }
        if vector.iter().any(|x| !x.is_finite()) {
            return Err(RetrieverError::InvalidInput(
                "a vector holds NaN or infinity".into(),
            ));
        }
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
        flat.extend(vector.iter().map(|x| x * scale));
    }
    Tensor::from_vec(flat, (vectors.len(), dimension), &Device::Cpu)
        .and_then(|t| t.to_dtype(dtype))
        .and_then(|t| t.to_device(device))
        .map_err(backend)
}

/// Deterministic pseudo-random vectors (a linear congruential generator, components in
/// [-0.5, 0.5)): synthetic catalogues for benchmarks and recall measurements, the same for a
/// given seed on every machine.
pub fn synthetic_vectors(n: usize, dimension: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            (0..dimension)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
                })
                .collect()
        })
        .collect()
}

fn backend(err: candle_core::Error) -> RetrieverError {
    RetrieverError::Backend(format!("tensor operation failed: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exact_top_k;

    fn vectors(n: usize, dimension: usize, seed: u64) -> Vec<Vec<f32>> {
        synthetic_vectors(n, dimension, seed)
    }

    fn reference(catalogue: &[(u64, Vec<f32>)], query: &[f32], k: usize) -> Vec<u64> {
        exact_top_k(catalogue, query, k)
            .into_iter()
            .map(|s| s.product_id)
            .collect()
    }

    #[test]
    fn blocked_top_k_equals_brute_force_across_block_edges() {
        let data = vectors(1_000, 24, 7);
        let ids: Vec<u64> = (0..1_000).map(|i| 10_000 + i).collect();
        let catalogue: Vec<(u64, Vec<f32>)> = ids.iter().copied().zip(data.clone()).collect();
        // Blocks that do not divide the sizes, so rows and columns cross block edges.
        let resident = ResidentVectors::new(&Device::Cpu, DType::F32, ids, &data)
            .unwrap()
            .with_blocks(BlockSizes {
                queries: 7,
                catalogue: 97,
            });
        let queries = vectors(40, 24, 99);
        let answers = resident.top_k(&queries, 10).unwrap();
        for (query, answer) in queries.iter().zip(&answers) {
            let got: Vec<u64> = answer.iter().map(|(id, _)| *id).collect();
            assert_eq!(got, reference(&catalogue, query, 10));
            assert!(answer.windows(2).all(|w| w[0].1 >= w[1].1));
        }
    }

    #[test]
    fn all_pairs_leaves_each_product_out_of_its_own_list() {
        let data = vectors(300, 16, 3);
        let ids: Vec<u64> = (1..=300).collect();
        let catalogue: Vec<(u64, Vec<f32>)> = ids.iter().copied().zip(data.clone()).collect();
        let resident = ResidentVectors::new(&Device::Cpu, DType::F32, ids.clone(), &data)
            .unwrap()
            .with_blocks(BlockSizes {
                queries: 64,
                catalogue: 50,
            });
        let all = resident.all_pairs(5).unwrap();
        assert_eq!(all.len(), 300);
        for (id, (vector, answer)) in ids.iter().zip(data.iter().zip(&all)) {
            let mut expected = reference(&catalogue, vector, 6);
            expected.retain(|other| other != id);
            expected.truncate(5);
            let got: Vec<u64> = answer.iter().map(|(other, _)| *other).collect();
            assert_eq!(got, expected, "product {id}");
        }
    }

    #[test]
    fn half_precision_keeps_the_exact_answer_but_for_near_ties() {
        let data = vectors(2_000, 64, 11);
        let ids: Vec<u64> = (0..2_000).collect();
        let catalogue: Vec<(u64, Vec<f32>)> = ids.iter().copied().zip(data.clone()).collect();
        let resident = ResidentVectors::new(&Device::Cpu, DType::F16, ids, &data).unwrap();
        let queries = vectors(50, 64, 5);
        let answers = resident.top_k(&queries, 10).unwrap();
        let (mut found, mut wanted) = (0, 0);
        for (query, answer) in queries.iter().zip(&answers) {
            let expected = reference(&catalogue, query, 10);
            wanted += expected.len();
            found += answer
                .iter()
                .filter(|(id, _)| expected.contains(id))
                .count();
        }
        let recall = found as f64 / wanted as f64;
        assert!(recall >= 0.98, "f16 recall@10 {recall}");
    }

    #[test]
    fn bad_input_is_a_clear_error_and_empty_input_an_empty_answer() {
        let ragged = vec![vec![1.0, 0.0], vec![1.0]];
        assert!(matches!(
            ResidentVectors::new(&Device::Cpu, DType::F32, vec![1, 2], &ragged),
            Err(RetrieverError::DimensionMismatch { .. })
        ));
        assert!(
            ResidentVectors::new(&Device::Cpu, DType::F32, vec![1], &[vec![f32::NAN]]).is_err()
        );
        assert!(ResidentVectors::new(&Device::Cpu, DType::F32, vec![1, 2], &[vec![1.0]]).is_err());
        let one =
            ResidentVectors::new(&Device::Cpu, DType::F32, vec![1], &[vec![1.0, 0.0]]).unwrap();
        assert_eq!(one.all_pairs(3).unwrap(), vec![Vec::<Neighbour>::new()]);
        assert!(one.top_k(&[], 3).unwrap().is_empty());
        assert_eq!(one.top_k(&[vec![0.0, 2.0]], 3).unwrap()[0].len(), 1);
    }
}
