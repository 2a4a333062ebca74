//! Diffusion samplers for ld4lg, over a small [`Denoiser`] trait so that any network — ours,
//! a baseline, a closed-form test denoiser — can be sampled.
//!
//! - [`SamplerKind::Ddpm`]: ancestral sampling as LD4LG does it (variance `1 − ᾱ_t/ᾱ_s`, the
//!   last step returns x̂₀), or with the posterior variance.
//! - [`SamplerKind::Ddim`] with stochasticity η.
//! - [`SamplerKind::DpmSolverPlusPlus`]: multistep DPM-Solver++ of order 1, 2 (2M) or 3
//!   (3M), truly of that order (tested on an analytic case), with lower orders on the last
//!   steps of short runs.
//! - Steps uniform in t, quadratic, or uniform in log-SNR ([`Spacing`]).
//! - Classifier-free guidance `w·cond + (1 − w)·uncond` in one batched call, with optional
//!   guidance rescale (Lin et al. 2024) and a guidance interval (Kynkäänniemi et al. 2024)
//!   ([`Sampler::guided_output`]), self-conditioning on the previous x̂₀, optional
//!   renormalisation of x̂₀ to a fixed norm per latent vector.
//! - Deterministic: noise comes from one seeded ChaCha8 stream per example ([`NoiseSource`]),
//!   identical on every backend.
//!
//! The shape is that of diffusers and candle: a [`Scheduler`] per solver (one file each:
//! [`DdpmScheduler`], [`DdimScheduler`], [`DpmSolverPlusPlusScheduler`]) with
//! `set_timesteps` and `step`, separate from the loop ([`Sampler::sample_from_scheduled`])
//! that calls the denoiser, applies guidance, self-conditioning and renormalisation, and
//! reports every step to a callback ([`SamplerStep`]). `add_noise` and the prediction types
//! are in `ld4lg-schedule`.

#![warn(missing_docs)]

mod conditioning;
mod config;
mod ddim;
mod ddpm;
mod denoiser;
mod dpm_solver;
mod noise;
mod sampler;
mod scheduler;

pub use conditioning::Conditioning;
pub use config::{
    DdpmVariance, LARGE_GUIDANCE_SCALE, MAX_GUIDANCE_SCALE, SamplerConfig, SamplerError,
    SamplerKind, Spacing,
};
pub use ddim::DdimScheduler;
pub use ddpm::DdpmScheduler;
pub use denoiser::{Denoiser, DenoiserInput};
pub use dpm_solver::DpmSolverPlusPlusScheduler;
pub use noise::NoiseSource;
pub use sampler::{Sampler, SamplerStep, normalize_vectors};
pub use scheduler::{Scheduler, StepEstimates, scheduler_for};
