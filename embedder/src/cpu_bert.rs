//! BERT inference on the CPU, written for this one job: packed sequences (no padding at
//! all), one matrix-product call per projection through the `gemm` crate, and the
//! element-wise steps fused into single passes over memory (bias + activation, bias +
//! residual + layer norm, scale + softmax). candle's general-purpose CPU path spends more
//! than half its time allocating and walking intermediate tensors; this does not.
//!
//! The element-wise kernels run compiled for the widest instruction set the processor has
//! (`simd.rs`); the matrix products are `gemm`'s, which chooses its own kernels at run time.
//!
//! It reads the same safetensors weights and gives the same vectors as the candle path
//! (checked in tests) and is used on the CPU; the GPU keeps candle. In the opt-in int8 mode
//! the four projections of each layer run in 8 bits (`int8.rs`); attention, norms and
//! activations stay f32.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_transformers::models::bert::{Config, HiddenAct};
use gemm::Parallelism;

use crate::int8::QuantisedLinear;
use crate::simd::{max_of, sum_of, vectorised, InstructionSet, Simd};
use crate::{EmbedError, Precision};

struct Linear {
    /// Row-major `[out, in]`, as stored.
    weight: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

/// A projection in the precision the model was loaded in.
enum Projection {
    F32(Linear),
    Int8(QuantisedLinear),
}

impl Projection {
    fn new(linear: Linear, precision: Precision, simd: Simd) -> Self {
        match precision {
            Precision::F32 => Self::F32(linear),
            Precision::Int8 => Self::Int8(QuantisedLinear::new(
                &linear.weight,
                &linear.bias,
                linear.inputs,
                linear.outputs,
                simd,
            )),
        }
    }

    fn apply(&self, x: &[f32], rows: usize) -> Vec<f32> {
        match self {
            Self::F32(linear) => self::linear(x, rows, linear),
            Self::Int8(quantised) => quantised.apply(x, rows),
        }
    }
}

struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

struct Layer {
    /// Query, key and value stacked into one `[3h, h]` projection.
    qkv: Projection,
    attention_out: Projection,
    attention_norm: Norm,
    intermediate: Projection,
    output: Projection,
    output_norm: Norm,
}

pub(crate) struct CpuBert {
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    hidden: usize,
    heads: usize,
    eps: f32,
    activation: HiddenAct,
    simd: Simd,
    precision: Precision,
}

struct Weights {
    tensors: HashMap<String, Tensor>,
    prefix: String,
}

impl Weights {
    fn get(&self, name: &str) -> Result<Vec<f32>, EmbedError> {
        let tensor = self
            .tensors
            .get(&format!("{}{name}", self.prefix))
            .ok_or_else(|| EmbedError::Config(format!("weight `{name}` is missing")))?;
        Ok(tensor
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()?)
    }

    fn norm(&self, name: &str) -> Result<Norm, EmbedError> {
        // Some older checkpoints call them gamma and beta.
        let weight = self
            .get(&format!("{name}.weight"))
            .or_else(|_| self.get(&format!("{name}.gamma")))?;
        let bias = self
            .get(&format!("{name}.bias"))
            .or_else(|_| self.get(&format!("{name}.beta")))?;
        Ok(Norm { weight, bias })
    }

    fn linear(&self, name: &str, inputs: usize, outputs: usize) -> Result<Linear, EmbedError> {
        let weight = self.get(&format!("{name}.weight"))?;
        let bias = self.get(&format!("{name}.bias"))?;
        if weight.len() != inputs * outputs || bias.len() != outputs {
            return Err(EmbedError::Config(format!(
                "weight `{name}` has the wrong shape"
            )));
        }
        Ok(Linear {
            weight,
            bias,
            inputs,
            outputs,
        })
    }
}

impl CpuBert {
    pub(crate) fn load(
        path: &Path,
        config: &Config,
        simd: Simd,
        precision: Precision,
    ) -> Result<Self, EmbedError> {
        let tensors = candle_core::safetensors::load(path, &Device::Cpu)?;
        let prefix = ["", "bert.", "model."]
            .into_iter()
            .find(|p| tensors.contains_key(&format!("{p}embeddings.word_embeddings.weight")))
            .ok_or_else(|| EmbedError::Config("no BERT embeddings in the weights".into()))?
            .to_owned();
        let w = Weights { tensors, prefix };
        let h = config.hidden_size;
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let at = |part: &str| format!("encoder.layer.{i}.{part}");
                let (q, k, v) = (
                    w.linear(&at("attention.self.query"), h, h)?,
                    w.linear(&at("attention.self.key"), h, h)?,
                    w.linear(&at("attention.self.value"), h, h)?,
                );
                let qkv = Linear {
                    weight: [q.weight, k.weight, v.weight].concat(),
                    bias: [q.bias, k.bias, v.bias].concat(),
                    inputs: h,
                    outputs: 3 * h,
                };
                let project = |linear| Projection::new(linear, precision, simd);
                Ok(Layer {
                    qkv: project(qkv),
                    attention_out: project(w.linear(&at("attention.output.dense"), h, h)?),
                    attention_norm: w.norm(&at("attention.output.LayerNorm"))?,
                    intermediate: project(w.linear(
                        &at("intermediate.dense"),
                        h,
                        config.intermediate_size,
                    )?),
                    output: project(w.linear(&at("output.dense"), config.intermediate_size, h)?),
                    output_norm: w.norm(&at("output.LayerNorm"))?,
                })
            })
            .collect::<Result<Vec<_>, EmbedError>>()?;
        if h % config.num_attention_heads != 0 {
            return Err(EmbedError::Config(
                "hidden size is not a multiple of the head count".into(),
            ));
        }
        Ok(Self {
            word: w.get("embeddings.word_embeddings.weight")?,
            position: w.get("embeddings.position_embeddings.weight")?,
            token_type: w.get("embeddings.token_type_embeddings.weight")?,
            embedding_norm: w.norm("embeddings.LayerNorm")?,
            layers,
            hidden: h,
            heads: config.num_attention_heads,
            eps: config.layer_norm_eps as f32,
            activation: config.hidden_act,
            simd,
            precision,
        })
    }

    pub(crate) fn instructions(&self) -> InstructionSet {
        self.simd.set()
    }

    pub(crate) fn precision(&self) -> Precision {
        self.precision
    }

    /// The last hidden states of each sequence, packed: `[sum of lengths, hidden]`.
    pub(crate) fn forward(&self, sequences: &[&[u32]]) -> Result<Vec<f32>, EmbedError> {
        let h = self.hidden;
        let total: usize = sequences.iter().map(|s| s.len()).sum();
        let vocab = self.word.len() / h;
        let positions = self.position.len() / h;
        let mut x = Vec::with_capacity(total * h);
        for sequence in sequences {
            if sequence.len() > positions {
                return Err(EmbedError::Inference(format!(
                    "sequence of {} tokens exceeds {positions} positions",
                    sequence.len()
                )));
            }
            for (position, &id) in sequence.iter().enumerate() {
                let id = id as usize;
                if id >= vocab {
                    return Err(EmbedError::Inference(format!(
                        "token id {id} is outside the vocabulary"
                    )));
                }
                let (word, pos, kind) = (
                    &self.word[id * h..][..h],
                    &self.position[position * h..][..h],
                    &self.token_type[..h],
                );
                x.extend((0..h).map(|i| word[i] + pos[i] + kind[i]));
            }
        }
        layer_norm(self.simd, &mut x, &self.embedding_norm, self.eps, h);
        for layer in &self.layers {
            x = self.layer(layer, &x, sequences, total);
        }
        Ok(x)
    }

    fn layer(&self, layer: &Layer, x: &[f32], sequences: &[&[u32]], total: usize) -> Vec<f32> {
        let h = self.hidden;
        let head = h / self.heads;
        let qkv = layer.qkv.apply(x, total);
        let mut context = vec![0f32; total * h];
        let scale = 1.0 / (head as f32).sqrt();
        let mut scores = Vec::new();
        let mut offset = 0;
        for sequence in sequences {
            let len = sequence.len();
            scores.resize(len * len, 0.0);
            for hd in 0..self.heads {
                let q = qkv[offset * 3 * h + hd * head..].as_ptr();
                let k = qkv[offset * 3 * h + h + hd * head..].as_ptr();
                let v = qkv[offset * 3 * h + 2 * h + hd * head..].as_ptr();
                // SAFETY: every pointer and stride stays inside `qkv`, `scores` and `context`,
                // whose lengths are fixed above; the regions written do not overlap the read ones.
                unsafe {
                    // scores[len, len] = scale * Q[len, head] · Kᵀ[head, len]
                    gemm::gemm(
                        len,
                        len,
                        head,
                        scores.as_mut_ptr(),
                        1,
                        len as isize,
                        false,
                        q,
                        1,
                        (3 * h) as isize,
                        k,
                        (3 * h) as isize,
                        1,
                        0.0,
                        scale,
                        false,
                        false,
                        false,
                        Parallelism::None,
                    );
                }
                softmax_rows(self.simd, &mut scores, len);
                unsafe {
                    // context[len, head] = P[len, len] · V[len, head]
                    gemm::gemm(
                        len,
                        head,
                        len,
                        context[offset * h + hd * head..].as_mut_ptr(),
                        1,
                        h as isize,
                        false,
                        scores.as_ptr(),
                        1,
                        len as isize,
                        v,
                        1,
                        (3 * h) as isize,
                        0.0,
                        1.0,
                        false,
                        false,
                        false,
                        Parallelism::None,
                    );
                }
            }
            offset += len;
        }
        let mut attended = layer.attention_out.apply(&context, total);
        add_assign(self.simd, &mut attended, x);
        layer_norm(self.simd, &mut attended, &layer.attention_norm, self.eps, h);

        let mut intermediate = layer.intermediate.apply(&attended, total);
        activate(self.simd, &mut intermediate, self.activation);
        let mut out = layer.output.apply(&intermediate, total);
        add_assign(self.simd, &mut out, &attended);
        layer_norm(self.simd, &mut out, &layer.output_norm, self.eps, h);
        out
    }
}

/// `x[rows, in] · Wᵀ + b`, bias folded into the output before the product accumulates.
fn linear(x: &[f32], rows: usize, layer: &Linear) -> Vec<f32> {
    let mut out: Vec<f32> = Vec::with_capacity(rows * layer.outputs);
    for _ in 0..rows {
        out.extend_from_slice(&layer.bias);
    }
    // SAFETY: `x` is `[rows, inputs]`, the weight `[outputs, inputs]` read transposed, and
    // `out` `[rows, outputs]`, all row-major and fully allocated.
    unsafe {
        gemm::gemm(
            rows,
            layer.outputs,
            layer.inputs,
            out.as_mut_ptr(),
            1,
            layer.outputs as isize,
            true,
            x.as_ptr(),
            1,
            layer.inputs as isize,
            layer.weight.as_ptr(),
            layer.inputs as isize,
            1,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
    out
}

vectorised! {
    fn add_assign(x: &mut [f32], y: &[f32]) {
        x.iter_mut().zip(y).for_each(|(a, b)| *a += b);
    }
}

vectorised! {
    fn layer_norm(x: &mut [f32], norm: &Norm, eps: f32, width: usize) {
        for row in x.chunks_exact_mut(width) {
            let mean = sum_of(row, |v| v) / width as f32;
            let variance = sum_of(row, |v| (v - mean) * (v - mean)) / width as f32;
            let inv = 1.0 / (variance + eps).sqrt();
            for ((v, w), b) in row.iter_mut().zip(&norm.weight).zip(&norm.bias) {
                *v = (*v - mean) * inv * w + b;
            }
        }
    }
}

vectorised! {
    /// Row-wise softmax of a `[rows, width]` block of scores.
    fn softmax_rows(scores: &mut [f32], width: usize) {
        for row in scores.chunks_exact_mut(width) {
            let max = max_of(row, |v| v);
            row.iter_mut().for_each(|v| *v = exp(*v - max));
            let inv = 1.0 / sum_of(row, |v| v);
            row.iter_mut().for_each(|v| *v *= inv);
        }
    }
}

vectorised! {
    fn activate(x: &mut [f32], activation: HiddenAct) {
        const SQRT_2_OVER_PI: f32 = 0.797_884_6;
        match activation {
            HiddenAct::Gelu => x.iter_mut().for_each(|v| *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2))),
            HiddenAct::GeluApproximate => {
                x.iter_mut().for_each(|v| *v = 0.5 * *v * (1.0 + (SQRT_2_OVER_PI * (*v + 0.044_715 * *v * *v * *v)).tanh()))
            }
            HiddenAct::Relu => x.iter_mut().for_each(|v| *v = v.max(0.0)),
        }
    }
}

/// `e^x` by range reduction to `2^n · e^r`, |r| ≤ ln 2 / 2, and a degree-6 polynomial:
/// relative error about 2e-7, and plain arithmetic that the compiler vectorises, unlike
/// a call into the C library per element.
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E).round();
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (0.166_666_67 + r * (0.041_666_5 + r * (0.008_333_6 + r * 0.001_394_6)))));
    // 2^n built in the float's exponent bits. Adding 2^23 puts the integer n + 127 (1..=254
    // after the clamp) in the low bits of the mantissa, and the shift moves it to the
    // exponent: no float-to-integer conversion, whose saturating form does not vectorise.
    let biased = (n + (127.0 + 8_388_608.0)).to_bits();
    p * f32::from_bits(biased << 23)
}

#[inline(always)]
/// Abramowitz and Stegun 7.1.26: absolute error under 1.5e-7, below f32's own resolution near
/// 1, and several times faster than a general-purpose `erff`.
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = ((((1.061_405_4 * t - 1.453_152_1) * t + 1.421_413_8) * t - 0.284_496_74) * t
        + 0.254_829_6)
        * t;
    (1.0 - poly * exp(-a * a)).copysign(x)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fast_exp_is_accurate() {
        let mut worst = 0f32;
        for i in -8700..=8800 {
            let x = i as f32 / 100.0;
            let exact = (x as f64).exp();
            worst = worst.max(((super::exp(x) as f64 - exact) / exact).abs() as f32);
        }
        assert!(worst < 1e-6, "max relative error {worst}");
    }

    #[test]
    fn fast_erf_is_accurate() {
        let mut worst = 0f32;
        for i in -6000..=6000 {
            let x = i as f32 / 1000.0;
            worst = worst.max((super::erf(x) - libm::erff(x)).abs());
        }
        assert!(worst < 5e-7, "max error {worst}");
    }
}
