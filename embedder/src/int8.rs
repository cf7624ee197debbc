//! Int8 projections for the opt-in quantised mode: each weight row is scaled to 8 bits once at
//! load (symmetric, one scale per output), each row of activations when it arrives (one scale
//! per token), and the products are summed exactly in 32-bit integers. Processors with
//! AVX-512 VNNI do 64 of those multiply-adds per instruction, four times f32's rate; the AVX2
//! and scalar paths compute the same integers, so every path gives the same vectors to the bit.
//!
//! Weights are packed in blocks of 16 outputs × 4 inputs (64 bytes, one AVX-512 register), so
//! a kernel broadcasts four bytes of a token and accumulates 16 outputs at once, with no
//! horizontal sums.

use crate::simd::{max_of, vectorised, InstructionSet, Simd};

/// Outputs per packed block, and inputs per group within it.
const BLOCK: usize = 16;
const GROUP: usize = 4;
/// Rows of activations a kernel call works on together, sharing each weight load.
const ROWS: usize = 8;
/// Rows that share each weight block while it is in the first-level cache.
const PANEL: usize = 64;

/// Which integer kernel runs; chosen once from the instruction set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Int8Kernel {
    Scalar,
    /// `vpmaddubsw` and `vpmaddwd`: as many multiply-adds per instruction as f32 FMA, on a
    /// quarter of the memory.
    Avx2,
    /// `vpdpbusd`: unsigned × signed bytes summed into 32-bit lanes in one instruction.
    Avx512Vnni,
}

impl Int8Kernel {
    pub(crate) fn for_simd(simd: Simd) -> Self {
        match simd.set() {
            InstructionSet::Avx512 if vnni_supported() => Self::Avx512Vnni,
            InstructionSet::Avx512 | InstructionSet::Avx2 => Self::Avx2,
            InstructionSet::Scalar => Self::Scalar,
        }
    }
}

fn vnni_supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// `x · Wᵀ + b` with `W` in 8 bits.
pub(crate) struct QuantisedLinear {
    /// `[outputs / 16][inputs / 4][16][4]`, zero-padded to whole blocks and groups.
    packed: Vec<i8>,
    /// Per output: the weight row's scale, and what the kernel's sums carry beyond the true
    /// dot product (the VNNI kernel adds 128 to every activation to make it unsigned, so
    /// `128 × the row's sum of weights`; zero for the others).
    per_block: Vec<PerOutput>,
    inputs: usize,
    outputs: usize,
    kernel: Int8Kernel,
    simd: Simd,
}

impl QuantisedLinear {
    /// From a row-major `[outputs, inputs]` f32 weight.
    pub(crate) fn new(
        weight: &[f32],
        bias: &[f32],
        inputs: usize,
        outputs: usize,
        simd: Simd,
    ) -> Self {
        let kernel = Int8Kernel::for_simd(simd);
        let groups = inputs.div_ceil(GROUP);
        let blocks = outputs.div_ceil(BLOCK);
        let mut packed = vec![0i8; blocks * groups * BLOCK * GROUP];
        let mut per_block = vec![
            PerOutput {
                corrections: [0; BLOCK],
                scales: [0.0; BLOCK],
                bias: [0.0; BLOCK],
            };
            blocks
        ];
        // The weights go through the activations' quantiser: one scale per row, no offset.
        let mut quantised_rows = vec![0i8; outputs * inputs];
        let mut row_scales = vec![0f32; outputs];
        quantise_rows(
            simd,
            weight,
            inputs,
            inputs,
            0,
            &mut quantised_rows,
            &mut row_scales,
        );
        for o in 0..outputs {
            let quantised = quantised_rows[o * inputs..][..inputs].to_vec();
            let scale = row_scales[o];
            let (block, lane) = (o / BLOCK, o % BLOCK);
            let terms = &mut per_block[block];
            terms.scales[lane] = scale;
            terms.bias[lane] = bias[o];
            if kernel == Int8Kernel::Avx512Vnni {
                terms.corrections[lane] = 128 * quantised.iter().map(|&q| q as i32).sum::<i32>();
            }
            for (k, q) in quantised.into_iter().enumerate() {
                let (group, within) = (k / GROUP, k % GROUP);
                packed[((block * groups + group) * BLOCK + lane) * GROUP + within] = q;
            }
        }
        Self {
            packed,
            per_block,
            inputs,
            outputs,
            kernel,
            simd,
        }
    }

    pub(crate) fn apply(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let width = self.inputs.div_ceil(GROUP) * GROUP;
        let mut activations = vec![0i8; rows * width];
        let mut row_scales = vec![0f32; rows];
        // The VNNI kernel multiplies unsigned bytes: its activations are offset by 128 (and
        // the padding with them, against zero weights).
        let offset = if self.kernel == Int8Kernel::Avx512Vnni {
            0x80
        } else {
            0
        };
        quantise_rows(
            self.simd,
            x,
            self.inputs,
            width,
            offset,
            &mut activations,
            &mut row_scales,
        );
        let mut out = vec![0f32; rows * self.outputs];
        let mut dots = [[0i32; BLOCK]; ROWS];
        let block_len = (width / GROUP) * BLOCK * GROUP;
        // A panel of rows meets every weight block in turn: the block (16 outputs) stays in
        // the first-level cache across the panel, the panel in the second.
        for panel in (0..rows).step_by(PANEL) {
            let panel_rows = PANEL.min(rows - panel);
            for block in 0..self.outputs.div_ceil(BLOCK) {
                let weights = &self.packed[block * block_len..][..block_len];
                let first_column = block * BLOCK;
                let lanes = BLOCK.min(self.outputs - first_column);
                for first in (panel..panel + panel_rows).step_by(ROWS) {
                    let count = ROWS.min(panel + panel_rows - first);
                    self.dot_block(
                        &activations[first * width..],
                        width,
                        count,
                        weights,
                        &mut dots,
                    );
                    dequantise(
                        self.simd,
                        &dots[..count],
                        &row_scales[first..first + count],
                        &self.per_block[block],
                        &mut out[first * self.outputs + first_column..],
                        self.outputs,
                        lanes,
                    );
                }
            }
        }
        out
    }

    /// Integer dot products of `count` (≤ `ROWS`) activation rows with one block of 16
    /// outputs. Whole tiles run with their row count known at compile time, so the
    /// accumulators stay in registers; the last rows go one at a time.
    fn dot_block(
        &self,
        activations: &[i8],
        width: usize,
        count: usize,
        weights: &[i8],
        dots: &mut [[i32; BLOCK]; ROWS],
    ) {
        if count == ROWS {
            self.dot_rows::<ROWS>(activations, width, weights, dots);
        } else {
            for r in 0..count {
                self.dot_rows::<1>(&activations[r * width..], width, weights, &mut dots[r..]);
            }
        }
    }

    fn dot_rows<const R: usize>(
        &self,
        activations: &[i8],
        width: usize,
        weights: &[i8],
        dots: &mut [[i32; BLOCK]],
    ) {
        match self.kernel {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the kernel was chosen from the features the processor reports, and every
            // read stays inside `activations` (`R` rows of `width`) and `weights` (one block).
            Int8Kernel::Avx512Vnni => unsafe {
                x86::dot_vnni::<R>(activations, width, weights, dots)
            },
            // AVX2 has half the registers: eight rows would spill, so they go four at a time.
            #[cfg(target_arch = "x86_64")]
            Int8Kernel::Avx2 if R == ROWS => {
                for half in [0, ROWS / 2] {
                    let (rows, dots) = (&activations[half * width..], &mut dots[half..]);
                    // SAFETY: as above.
                    unsafe { x86::dot_avx2::<{ ROWS / 2 }>(rows, width, weights, dots) }
                }
            }
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Int8Kernel::Avx2 => unsafe { x86::dot_avx2::<R>(activations, width, weights, dots) },
            _ => dot_scalar(activations, width, R, weights, dots),
        }
    }
}

/// The per-output terms of one block's dequantisation, zero past the last output.
#[derive(Clone)]
struct PerOutput {
    corrections: [i32; BLOCK],
    scales: [f32; BLOCK],
    bias: [f32; BLOCK],
}

vectorised! {
    /// Each row of `x` (`inputs` wide) to 8 bits in `activations` (`width` wide, padded with
    /// zeros), its scale in `scales`; `offset` (0 or 0x80) is XORed into every byte.
    fn quantise_rows(x: &[f32], inputs: usize, width: usize, offset: u8, activations: &mut [i8], scales: &mut [f32]) {
        for ((row, out), scale) in x.chunks_exact(inputs).zip(activations.chunks_exact_mut(width)).zip(scales.iter_mut()) {
            let largest = max_of(row, f32::abs);
            *scale = if largest > 0.0 { largest / 127.0 } else { 1.0 };
            let inverse = 1.0 / *scale;
            for (q, v) in out.iter_mut().zip(row) {
                *q = (((v * inverse).round().clamp(-127.0, 127.0) as i8) as u8 ^ offset) as i8;
            }
            out[inputs..].iter_mut().for_each(|q| *q = offset as i8);
        }
    }
}

vectorised! {
    /// `out[r][o] = (dot − correction) × row scale × output scale + bias` for a tile of rows.
    /// Computed over the whole block (one register's width), stored for its `lanes` outputs.
    fn dequantise(dots: &[[i32; BLOCK]], row_scales: &[f32], terms: &PerOutput, out: &mut [f32], stride: usize, lanes: usize) {
        for (r, (row_dots, row_scale)) in dots.iter().zip(row_scales).enumerate() {
            let mut values = [0f32; BLOCK];
            for lane in 0..BLOCK {
                let dot = (row_dots[lane] - terms.corrections[lane]) as f32;
                values[lane] = dot * row_scale * terms.scales[lane] + terms.bias[lane];
            }
            out[r * stride..][..lanes].copy_from_slice(&values[..lanes]);
        }
    }
}

fn dot_scalar(
    activations: &[i8],
    width: usize,
    count: usize,
    weights: &[i8],
    dots: &mut [[i32; BLOCK]],
) {
    for (r, row_dots) in dots.iter_mut().enumerate().take(count) {
        let row = &activations[r * width..][..width];
        row_dots.fill(0);
        for (group, four) in row.chunks_exact(GROUP).enumerate() {
            let block = &weights[group * BLOCK * GROUP..][..BLOCK * GROUP];
            for (lane, dot) in row_dots.iter_mut().enumerate() {
                let w = &block[lane * GROUP..][..GROUP];
                *dot += (0..GROUP)
                    .map(|i| four[i] as i32 * w[i] as i32)
                    .sum::<i32>();
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{BLOCK, GROUP};

    /// Four bytes of row `r` at `group`, as one 32-bit lane to broadcast.
    #[inline(always)]
    unsafe fn four_bytes(activations: &[i8], width: usize, r: usize, group: usize) -> i32 {
        std::ptr::read_unaligned(
            activations
                .as_ptr()
                .add(r * width + group * GROUP)
                .cast::<i32>(),
        )
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn dot_vnni<const R: usize>(
        activations: &[i8],
        width: usize,
        weights: &[i8],
        dots: &mut [[i32; BLOCK]],
    ) {
        let mut acc = [_mm512_setzero_si512(); R];
        for group in 0..width / GROUP {
            let w = _mm512_loadu_si512(weights.as_ptr().add(group * BLOCK * GROUP).cast());
            for (r, acc) in acc.iter_mut().enumerate() {
                let x = _mm512_set1_epi32(four_bytes(activations, width, r, group));
                *acc = _mm512_dpbusd_epi32(*acc, x, w);
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            _mm512_storeu_si512(dots[r].as_mut_ptr().cast(), *acc);
        }
    }

    /// The sign trick: |x| is unsigned and w takes x's sign, so `vpmaddubsw` multiplies
    /// signed bytes; pairs of products (at most 2 × 127 × 127) fit its 16-bit sums.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn dot_avx2<const R: usize>(
        activations: &[i8],
        width: usize,
        weights: &[i8],
        dots: &mut [[i32; BLOCK]],
    ) {
        let ones = _mm256_set1_epi16(1);
        let mut acc = [[_mm256_setzero_si256(); 2]; R];
        for group in 0..width / GROUP {
            let at = weights.as_ptr().add(group * BLOCK * GROUP);
            let w = [
                _mm256_loadu_si256(at.cast()),
                _mm256_loadu_si256(at.add(32).cast()),
            ];
            for (r, acc) in acc.iter_mut().enumerate() {
                let x = _mm256_set1_epi32(four_bytes(activations, width, r, group));
                let magnitude = _mm256_sign_epi8(x, x);
                for half in 0..2 {
                    let signed = _mm256_sign_epi8(w[half], x);
                    let pairs = _mm256_maddubs_epi16(magnitude, signed);
                    acc[half] = _mm256_add_epi32(acc[half], _mm256_madd_epi16(pairs, ones));
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            _mm256_storeu_si256(dots[r].as_mut_ptr().cast(), acc[0]);
            _mm256_storeu_si256(dots[r][8..].as_mut_ptr().cast(), acc[1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random(n: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn every_kernel_gives_the_same_integers_and_tracks_f32() {
        // Shapes that leave partial blocks, groups and row tiles.
        let (inputs, outputs, rows) = (37, 21, 7);
        let weight = pseudo_random(inputs * outputs, 1);
        let bias = pseudo_random(outputs, 2);
        let x = pseudo_random(rows * inputs, 3);
        let exact: Vec<f32> = (0..rows * outputs)
            .map(|i| {
                let (r, o) = (i / outputs, i % outputs);
                bias[o]
                    + (0..inputs)
                        .map(|k| x[r * inputs + k] * weight[o * inputs + k])
                        .sum::<f32>()
            })
            .collect();
        let scalar_simd = Simd::checked(InstructionSet::Scalar).unwrap();
        let scalar =
            QuantisedLinear::new(&weight, &bias, inputs, outputs, scalar_simd).apply(&x, rows);
        for (got, want) in scalar.iter().zip(&exact) {
            assert!((got - want).abs() < 0.05, "int8 {got} against f32 {want}");
        }
        for set in InstructionSet::ALL.into_iter().filter(|s| s.supported()) {
            let simd = Simd::checked(set).unwrap();
            let kernel = Int8Kernel::for_simd(simd);
            let got = QuantisedLinear::new(&weight, &bias, inputs, outputs, simd).apply(&x, rows);
            assert_eq!(got, scalar, "{kernel:?} differs from the scalar kernel");
        }
    }
}
