//! Which vector instructions the CPU kernels use, chosen at run time from what the processor
//! reports: one binary runs AVX-512 on processors that have it, AVX2 with FMA on the others,
//! and plain scalar code anywhere else. An operator (or a test) may hold the kernels to a
//! narrower set, never to one the processor lacks.

use std::fmt;
use std::str::FromStr;

use crate::EmbedError;

/// An instruction set the element-wise kernels are compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum InstructionSet {
    /// Whatever the build's baseline is (SSE2 on x86-64): runs everywhere.
    Scalar,
    /// AVX2 and FMA: 8 lanes of f32.
    Avx2,
    /// AVX-512 (F, BW, DQ, VL) with FMA: 16 lanes of f32.
    Avx512,
}

impl InstructionSet {
    pub const ALL: [Self; 3] = [Self::Scalar, Self::Avx2, Self::Avx512];

    /// The widest set this processor supports.
    pub fn best() -> Self {
        Self::ALL
            .into_iter()
            .rev()
            .find(|set| set.supported())
            .unwrap_or(Self::Scalar)
    }

    pub fn supported(self) -> bool {
        match self {
            Self::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => {
                Self::Avx2.supported()
                    && std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vl")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scalar => "scalar",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
        }
    }
}

impl fmt::Display for InstructionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InstructionSet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|set| set.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not one of scalar, avx2, avx512"))
    }
}

/// Proof that the processor supports an instruction set: the kernels' dispatch runs code
/// compiled for it only through one of these, so it cannot be made for a set the CPU lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Simd(InstructionSet);

impl Simd {
    pub(crate) fn best() -> Self {
        Self(InstructionSet::best())
    }

    pub(crate) fn checked(set: InstructionSet) -> Result<Self, EmbedError> {
        if set.supported() {
            Ok(Self(set))
        } else {
            Err(EmbedError::Config(format!(
                "this processor does not support {set} (it supports up to {})",
                InstructionSet::best()
            )))
        }
    }

    pub(crate) fn set(self) -> InstructionSet {
        self.0
    }
}

/// Defines `name(simd, ...)` so that its body runs compiled for the instruction set `simd`
/// names: the element-wise loops below then vectorise sixteen lanes wide (AVX-512) or eight
/// (AVX2 with FMA) instead of SSE2's four. The arithmetic is the same on every path (Rust never
/// fuses or reorders float operations), so the paths agree to the last bit.
macro_rules! vectorised {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? $body:block) => {
        $(#[$doc])*
        fn $name(simd: $crate::simd::Simd, $($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            match simd.set() {
                #[cfg(target_arch = "x86_64")]
                $crate::simd::InstructionSet::Avx512 => {
                    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
                    unsafe fn avx512($($arg: $ty),*) $(-> $ret)? {
                        body($($arg),*)
                    }
                    // SAFETY: a `Simd` names only a set the processor was found to support.
                    unsafe { avx512($($arg),*) }
                }
                #[cfg(target_arch = "x86_64")]
                $crate::simd::InstructionSet::Avx2 => {
                    #[target_feature(enable = "avx2,fma")]
                    unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                        body($($arg),*)
                    }
                    // SAFETY: as above.
                    unsafe { avx2($($arg),*) }
                }
                #[allow(unreachable_patterns)]
                _ => body($($arg),*),
            }
        }
    };
}

pub(crate) use vectorised;

/// Lanes of the reductions below: as wide as AVX-512's registers.
const LANES: usize = 16;

/// `Σ f(v)` in 16 interleaved partial sums combined pairwise. A running sum must stay
/// sequential (float addition does not reassociate), one add's latency per element; this
/// order is written out, so it vectorises, and it is the same on every instruction set.
#[inline(always)]
pub(crate) fn sum_of(values: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    reduce(values, 0.0, |a, b| a + b, f)
}

/// `max f(v)`, in the same shape as [`sum_of`].
#[inline(always)]
pub(crate) fn max_of(values: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    reduce(values, f32::NEG_INFINITY, f32::max, f)
}

#[inline(always)]
fn reduce(
    values: &[f32],
    identity: f32,
    combine: impl Fn(f32, f32) -> f32,
    f: impl Fn(f32) -> f32,
) -> f32 {
    let mut lanes = [identity; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane = combine(*lane, f(v));
        }
    }
    for (lane, &v) in lanes.iter_mut().zip(rest) {
        *lane = combine(*lane, f(v));
    }
    let mut width = LANES / 2;
    while width > 0 {
        for i in 0..width {
            lanes[i] = combine(lanes[i], lanes[i + width]);
        }
        width /= 2;
    }
    lanes[0]
}

/// The vector features of the host's CPU that matter to inference, as the kernel reports
/// them (`/proc/cpuinfo` flags on Linux), for benchmark tables.
pub fn cpu_features() -> Vec<String> {
    const WORTH_NAMING: [&str; 13] = [
        "sse4_2",
        "avx",
        "avx2",
        "fma",
        "f16c",
        "avx512f",
        "avx512bw",
        "avx512_vnni",
        "avx512_bf16",
        "avx512_fp16",
        "amx_tile",
        "amx_bf16",
        "amx_int8",
    ];
    let flags = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flags: Vec<&str> = flags
        .lines()
        .find_map(|l| l.strip_prefix("flags"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).split(' ').collect())
        .unwrap_or_default();
    WORTH_NAMING
        .into_iter()
        .filter(|f| flags.contains(f))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_the_best_set_is_supported() {
        for set in InstructionSet::ALL {
            assert_eq!(set.as_str().parse::<InstructionSet>(), Ok(set));
        }
        assert!("sse9".parse::<InstructionSet>().is_err());
        assert!(InstructionSet::best().supported());
        assert!(Simd::checked(InstructionSet::Scalar).is_ok());
        // A set the processor lacks is refused, never run.
        if let Some(missing) = InstructionSet::ALL.into_iter().find(|s| !s.supported()) {
            assert!(Simd::checked(missing).is_err());
        }
    }
}
