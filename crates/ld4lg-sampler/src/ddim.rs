//! DDIM (Song et al. 2021) with stochasticity η.

use crate::scheduler::{Times, log_alpha_bar};
use crate::{NoiseSource, Scheduler, StepEstimates};
use burn::tensor::Tensor;
use ld4lg_schedule::{NoiseSchedule, alpha_sigma_from_log_snr};

/// DDIM: `z_s = α_s x̂₀ + √(σ_s² − std²) ε̂ + std · noise`, `std = η σ_s/σ_t √(1 − ᾱ_t/ᾱ_s)`;
/// η = 0 is deterministic.
#[derive(Debug, Clone)]
pub struct DdimScheduler {
    eta: f64,
    noise_scale: f64,
    times: Times,
}

impl DdimScheduler {
    /// A DDIM scheduler of stochasticity `eta`, its added noise multiplied by `noise_scale`.
    pub fn new(eta: f64, noise_scale: f64) -> Self {
        Self {
            eta,
            noise_scale,
            times: Times::default(),
        }
    }
}

impl Scheduler for DdimScheduler {
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
        _z: Tensor<3>,
        noise: &mut NoiseSource,
    ) -> Tensor<3> {
        let (lambda_t, lambda_s) = self.times.log_snrs(step);
        let (_, sigma_t) = alpha_sigma_from_log_snr(lambda_t);
        let (alpha_s, sigma_s) = alpha_sigma_from_log_snr(lambda_s);
        let log_ratio = log_alpha_bar(lambda_t) - log_alpha_bar(lambda_s);
        let one_minus = -log_ratio.exp_m1();
        let std = self.eta * (sigma_s / sigma_t) * one_minus.sqrt();
        let direction = (sigma_s * sigma_s - std * std).max(0.0).sqrt();
        let mut next = estimates.x0.mul_scalar(alpha_s) + estimates.eps.mul_scalar(direction);
        if std > 0.0 {
            let [_, l, d] = next.dims();
            let device = next.device();
            next = next
                + noise
                    .normal(l, d, &device)
                    .mul_scalar(std * self.noise_scale);
        }
        next
    }
}
