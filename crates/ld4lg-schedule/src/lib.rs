//! Noise schedules and the maths of diffusion for ld4lg, with no dependence on any model.
//!
//! - [`NoiseSchedule`]: continuous time `t ∈ [0, 1]` with signal level ᾱ(t), log-SNR λ(t)
//!   and its inverse, for DDPM's linear β, the cosine, LD4LG's scaled cosine, Diffusion-LM's
//!   square root and the sigmoid; [`DiscreteSchedule`] is the N-step view DDPM users know.
//! - [`Coefficients`] and [`add_noise`]: the forward process `z_t = α x₀ + σ ε` with one `t`
//!   per example.
//! - [`PredictionType`]: ε, x₀ and v targets, and conversions between them.
//! - [`TimeSampler`]: uniform, stratified and curriculum draws of training times.
//! - [`LossWeighting`]: uniform or min-SNR-γ loss weights.
//!
//! ```
//! use ld4lg_schedule::NoiseSchedule;
//!
//! let schedule = NoiseSchedule::ScaledCosine { scale: 1.0 }; // LD4LG's default
//! assert!((schedule.alpha_bar(0.5) - 0.5).abs() < 1e-12);   // cos²(π/4)
//! let t = schedule.t_from_log_snr(schedule.log_snr(0.3));
//! assert!((t - 0.3).abs() < 1e-12);
//! ```

#![warn(missing_docs)]

mod coefficients;
mod discrete;
mod loss_weight;
mod prediction;
mod schedule;
mod time_sampler;

pub use coefficients::{Coefficients, add_noise, broadcastable};
pub use discrete::DiscreteSchedule;
pub use loss_weight::LossWeighting;
pub use prediction::PredictionType;
pub use schedule::{
    LOG_SNR_MAX, LOG_SNR_MIN, NoiseSchedule, ScheduleError, alpha_sigma_from_log_snr,
};
pub use time_sampler::TimeSampler;
