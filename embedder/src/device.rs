//! Where the model runs.

use candle_core::Device;

use crate::EmbedError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DevicePreference {
    /// CUDA when this build has it and a GPU answers; the CPU otherwise.
    #[default]
    Auto,
    Cpu,
    /// CUDA or an error.
    Cuda,
}

impl DevicePreference {
    pub fn select(self) -> Result<Device, EmbedError> {
        let device = match self {
            Self::Cpu => Device::Cpu,
            Self::Cuda => cuda()?,
            Self::Auto => match cuda() {
                Ok(device) => device,
                Err(reason) => {
                    tracing::info!(%reason, "CUDA not used");
                    Device::Cpu
                }
            },
        };
        tracing::info!(
            device = if device.is_cuda() { "cuda" } else { "cpu" },
            "embedding device selected"
        );
        Ok(device)
    }
}

#[cfg(feature = "cuda")]
fn cuda() -> Result<Device, EmbedError> {
    Device::new_cuda(0).map_err(|err| EmbedError::Config(format!("no CUDA device: {err}")))
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Result<Device, EmbedError> {
    Err(EmbedError::Config(
        "this build has no CUDA support (build with --features cuda)".into(),
    ))
}

/// The host's CPU as benchmarks report it: `2 cores, <model name>`.
pub fn host_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{cores} cores, {cpu}")
}
