//! The solver side of sampling: how a latent moves from one time to the next, given the
//! denoiser's estimates. The loop that calls the denoiser (guidance, self-conditioning,
//! renormalisation of x̂₀) is [`Sampler`](crate::Sampler)'s, not a scheduler's.

use crate::{NoiseSource, SamplerConfig, SamplerKind};
use burn::tensor::Tensor;
use ld4lg_schedule::NoiseSchedule;

/// The denoiser's estimates at the current step, as the loop hands them to a scheduler.
#[derive(Debug, Clone)]
pub struct StepEstimates {
    /// x̂₀, the clean latent (after any renormalisation).
    pub x0: Tensor<3>,
    /// ε̂, the noise consistent with x̂₀ and `z_t`.
    pub eps: Tensor<3>,
}

/// A reverse-process solver, in the shape of diffusers' and candle's schedulers: it is
/// given the times of a run ([`set_timesteps`](Self::set_timesteps)), then moves `z` from
/// `timesteps()[i]` to `timesteps()[i + 1]` at each [`step`](Self::step). Multistep solvers
/// keep their history between steps; `set_timesteps` forgets it.
///
/// One implementation per file: [`DdpmScheduler`](crate::DdpmScheduler),
/// [`DdimScheduler`](crate::DdimScheduler), [`DpmSolverPlusPlusScheduler`](crate::DpmSolverPlusPlusScheduler).
pub trait Scheduler {
    /// Prepares a run over `timesteps` (decreasing, `steps + 1` values, first `t_start`, last
    /// `t_end`) of `schedule`, and forgets the history of any earlier run.
    fn set_timesteps(&mut self, timesteps: &[f64], schedule: &NoiseSchedule);

    /// The times of the run, `steps + 1` values.
    fn timesteps(&self) -> &[f64];

    /// Moves `z` (at `timesteps()[step]`) to `timesteps()[step + 1]` given the estimates
    /// there; stochastic solvers draw their noise from `noise`.
    ///
    /// # Shapes
    /// - `z`, `estimates.x0`, `estimates.eps`: `[batch, l, d]` → `[batch, l, d]`
    fn step(
        &mut self,
        step: usize,
        estimates: StepEstimates,
        z: Tensor<3>,
        noise: &mut NoiseSource,
    ) -> Tensor<3>;
}

/// The scheduler of `config.kind`, with `config`'s noise scale and final-step settings.
pub fn scheduler_for(config: &SamplerConfig) -> Box<dyn Scheduler> {
    match config.kind {
        SamplerKind::Ddpm { variance } => {
            Box::new(crate::DdpmScheduler::new(variance, config.noise_scale))
        }
        SamplerKind::Ddim { eta } => Box::new(crate::DdimScheduler::new(eta, config.noise_scale)),
        SamplerKind::DpmSolverPlusPlus { order } => Box::new(
            crate::DpmSolverPlusPlusScheduler::new(order, config.lower_order_final),
        ),
    }
}

/// Times and their log-SNRs, as every scheduler keeps them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Times {
    pub(crate) times: Vec<f64>,
    pub(crate) log_snr: Vec<f64>,
}

impl Times {
    pub(crate) fn new(timesteps: &[f64], schedule: &NoiseSchedule) -> Self {
        Self {
            times: timesteps.to_vec(),
            log_snr: timesteps.iter().map(|&t| schedule.log_snr(t)).collect(),
        }
    }

    /// Number of steps of the run.
    pub(crate) fn steps(&self) -> usize {
        self.times.len().saturating_sub(1)
    }

    /// `(λ_t, λ_s)` of step `i`: from `times[i]` to `times[i + 1]`.
    pub(crate) fn log_snrs(&self, i: usize) -> (f64, f64) {
        (self.log_snr[i], self.log_snr[i + 1])
    }
}

/// Log signal level `ln ᾱ = −softplus(−λ)`.
pub(crate) fn log_alpha_bar(log_snr: f64) -> f64 {
    let x = -log_snr;
    -(if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    })
}
