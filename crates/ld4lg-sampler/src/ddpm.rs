//! Ancestral DDPM (Ho et al. 2020), with LD4LG's step variance or the posterior one.

use crate::scheduler::{Times, log_alpha_bar};
use crate::{DdpmVariance, NoiseSource, Scheduler, StepEstimates};
use burn::tensor::Tensor;
use ld4lg_schedule::{NoiseSchedule, alpha_sigma_from_log_snr};

/// DDPM: `z_s = (z_t − (1 − α)/σ_t · ε̂)/√α + √var · noise` with `α = ᾱ_t/ᾱ_s`; the last step
/// returns x̂₀, as LD4LG's sampler does.
#[derive(Debug, Clone)]
pub struct DdpmScheduler {
    variance: DdpmVariance,
    noise_scale: f64,
    times: Times,
}

impl DdpmScheduler {
    /// A DDPM scheduler whose added noise is multiplied by `noise_scale` (the temperature).
    pub fn new(variance: DdpmVariance, noise_scale: f64) -> Self {
        Self {
            variance,
            noise_scale,
            times: Times::default(),
        }
    }
}

impl Scheduler for DdpmScheduler {
    fn set_timesteps(&mut self, timesteps: &[f64], schedule: &NoiseSchedule) {
        self.times = Times::new(timesteps, schedule);
    }

    fn timesteps(&self) -> &[f64] {
        &self.times.times
    }

    fn step(
        &mut self,
        step: usize,
        estimates: StepEstimates,
        z: Tensor<3>,
        noise: &mut NoiseSource,
    ) -> Tensor<3> {
        if step + 1 == self.times.steps() {
            return estimates.x0;
        }
        let (lambda_t, lambda_s) = self.times.log_snrs(step);
        let (_, sigma_t) = alpha_sigma_from_log_snr(lambda_t);
        let (_, sigma_s) = alpha_sigma_from_log_snr(lambda_s);
        // α_now = ᾱ_t/ᾱ_s; 1 − α_now computed without cancellation.
        let log_ratio = log_alpha_bar(lambda_t) - log_alpha_bar(lambda_s);
        let alpha_now = log_ratio.exp();
        let one_minus = -log_ratio.exp_m1();
        let mean = (z - estimates.eps.mul_scalar(one_minus / sigma_t)).div_scalar(alpha_now.sqrt());
        let var = match self.variance {
            DdpmVariance::Large => one_minus,
            DdpmVariance::Posterior => (sigma_s * sigma_s) / (sigma_t * sigma_t) * one_minus,
        };
        let [_, l, d] = mean.dims();
        let device = mean.device();
        mean + noise
            .normal(l, d, &device)
            .mul_scalar(var.sqrt() * self.noise_scale)
    }
}
