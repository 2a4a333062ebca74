//! Choosing a Burn device by name, at run time.

use burn::tensor::Device;
use std::fmt;
use std::str::FromStr;

/// A compute backend that ld4lg can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// Burn Flex: pure-Rust CPU backend (feature `flex`).
    Flex,
    /// Burn NdArray CPU backend, with OpenBLAS under feature `openblas` (feature `ndarray`).
    Ndarray,
    /// WGPU: Vulkan, Metal or DX12; Mesa lavapipe on machines without a GPU (feature `wgpu`).
    Wgpu,
    /// CUDA GPU 0 (feature `cuda`).
    Cuda,
    /// LibTorch on the CPU, PyTorch's own kernels (feature `tch`; deprecated upstream).
    Tch,
}

/// A device was asked for whose backend is not compiled in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The backend's Cargo feature is off.
    #[error(
        "the {choice} backend is not compiled in: rebuild with `--features {feature}` (compiled in: {available})"
    )]
    NotCompiled {
        /// The backend asked for.
        choice: DeviceChoice,
        /// The Cargo feature that enables it.
        feature: &'static str,
        /// The backends of this build.
        available: String,
    },
    /// The name is not a backend.
    #[error("unknown device '{0}': expected one of flex, ndarray, wgpu, cuda, tch")]
    Unknown(String),
}

impl DeviceChoice {
    /// Every backend, in the order of preference for CPU-only machines.
    pub const ALL: [DeviceChoice; 5] =
        [Self::Flex, Self::Ndarray, Self::Wgpu, Self::Cuda, Self::Tch];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Flex => "flex",
            Self::Ndarray => "ndarray",
            Self::Wgpu => "wgpu",
            Self::Cuda => "cuda",
            Self::Tch => "tch",
        }
    }

    /// The Cargo feature that compiles this backend in.
    pub fn feature(self) -> &'static str {
        self.name()
    }

    /// Whether this build has the backend.
    pub fn is_compiled(self) -> bool {
        match self {
            Self::Flex => cfg!(feature = "flex"),
            Self::Ndarray => cfg!(feature = "ndarray"),
            Self::Wgpu => cfg!(feature = "wgpu"),
            Self::Cuda => cfg!(feature = "cuda"),
            Self::Tch => cfg!(feature = "tch"),
        }
    }

    /// The backends of this build.
    pub fn compiled() -> Vec<DeviceChoice> {
        Self::ALL.into_iter().filter(|c| c.is_compiled()).collect()
    }

    /// The first compiled backend in the order of [`DeviceChoice::ALL`], if any.
    pub fn default_compiled() -> Option<DeviceChoice> {
        Self::compiled().into_iter().next()
    }

    /// The Burn device (without autodiff; call `.autodiff()` on it to train).
    ///
    /// # Errors
    /// [`BackendError::NotCompiled`] when the backend's feature is off.
    pub fn device(self) -> Result<Device, BackendError> {
        match self {
            #[cfg(feature = "flex")]
            Self::Flex => Ok(Device::flex()),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)] // NdArray stays selectable for its BLAS speed.
            Self::Ndarray => Ok(Device::ndarray()),
            #[cfg(feature = "wgpu")]
            Self::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
            #[cfg(feature = "cuda")]
            Self::Cuda => Ok(Device::cuda(0)),
            #[cfg(feature = "tch")]
            #[allow(deprecated)] // LibTorch stays selectable: PyTorch's CPU kernels.
            Self::Tch => Ok(Device::from(burn::backend::LibTorchDevice::Cpu)),
            #[allow(unreachable_patterns)] // reached only for backends compiled out
            other => Err(BackendError::NotCompiled {
                choice: other,
                feature: other.feature(),
                available: {
                    let names: Vec<&str> = Self::compiled().into_iter().map(Self::name).collect();
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                },
            }),
        }
    }
}

/// Lets the process keep large freed buffers for reuse instead of returning them to the
/// operating system (glibc on Linux; elsewhere it does nothing). A binary calls it once at
/// start, before heavy work.
///
/// glibc serves each allocation over 32 MiB with a fresh `mmap` and unmaps it when freed, and
/// trims the heap's top as soon as 128 KiB are free. Training allocates and frees buffers of
/// that size every step (the language model's logits alone are 49 MB at batch 64), which
/// then cost page faults and zeroing each time (`docs/PERFORMANCE.md` has the figures).
pub fn reuse_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before other threads
    // allocate and returns 0 on a value it refuses, which leaves the defaults in place.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DeviceChoice {
    type Err = BackendError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| BackendError::Unknown(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for choice in DeviceChoice::ALL {
            assert_eq!(choice.name().parse::<DeviceChoice>(), Ok(choice));
        }
        assert_eq!("WGPU".parse::<DeviceChoice>(), Ok(DeviceChoice::Wgpu));
        assert!(matches!(
            "tpu".parse::<DeviceChoice>(),
            Err(BackendError::Unknown(name)) if name == "tpu"
        ));
    }

    #[test]
    fn compiled_backends_give_devices_and_others_name_their_feature() {
        for choice in DeviceChoice::ALL {
            if choice.is_compiled() {
                // Creating the handle is lazy: it needs no hardware.
                assert!(choice.device().is_ok(), "{choice}");
            } else {
                let err = choice.device().unwrap_err();
                let message = err.to_string();
                assert!(
                    message.contains(&format!("--features {}", choice.feature())),
                    "{message}"
                );
            }
        }
    }
}
