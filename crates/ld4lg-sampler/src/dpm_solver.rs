//! Multistep DPM-Solver++ (Lu et al. 2022) in its data-prediction form, of order 1, 2 (2M)
//! or 3 (3M).

use crate::scheduler::Times;
use crate::{NoiseSource, Scheduler, StepEstimates};
use burn::tensor::Tensor;
use ld4lg_schedule::{NoiseSchedule, alpha_sigma_from_log_snr};

/// DPM-Solver++ multistep: each step extrapolates x̂₀ from the last `order` estimates in
/// half-log-SNR. The first steps lower the order to the history they have, and runs of fewer
/// than 15 steps lower it on their last steps (`lower_order_final`), as diffusers does.
#[derive(Debug, Clone)]
pub struct DpmSolverPlusPlusScheduler {
    order: usize,
    lower_order_final: bool,
    times: Times,
    /// `(λ, x̂₀)` of the previous steps, newest last, at most two.
    history: Vec<(f64, Tensor<3>)>,
}

impl DpmSolverPlusPlusScheduler {
    /// A solver of `order` (1 to 3; checked by [`SamplerConfig`](crate::SamplerConfig)).
    pub fn new(order: usize, lower_order_final: bool) -> Self {
        Self {
            order,
            lower_order_final,
            times: Times::default(),
            history: Vec::with_capacity(3),
        }
    }
}

impl Scheduler for DpmSolverPlusPlusScheduler {
    fn set_timesteps(&mut self, timesteps: &[f64], schedule: &NoiseSchedule) {
        self.times = Times::new(timesteps, schedule);
        self.history.clear();
    }

    fn timesteps(&self) -> &[f64] {
        &self.times.times
    }

    fn step(
        &mut self,
        step: usize,
        estimates: StepEstimates,
        z: Tensor<3>,
        _noise: &mut NoiseSource,
    ) -> Tensor<3> {
        let steps = self.times.steps();
        let (lambda_t, lambda_s) = self.times.log_snrs(step);
        let (_, sigma_t) = alpha_sigma_from_log_snr(lambda_t);
        let (alpha_s, sigma_s) = alpha_sigma_from_log_snr(lambda_s);
        let mut order = self.order.min(self.history.len() + 1);
        if self.lower_order_final && steps < 15 {
            order = order.min(steps - step);
        }
        let x0 = estimates.x0;
        let next = dpm_solver_pp_update(
            z,
            &x0,
            &self.history,
            order,
            (lambda_t, lambda_s),
            (sigma_t, alpha_s, sigma_s),
        );
        self.history.push((lambda_t, x0));
        if self.history.len() > 2 {
            self.history.remove(0);
        }
        next
    }
}

/// One DPM-Solver++ multistep update of order 1, 2 or 3 from `t` to `s` (Lu et al. 2022,
/// data-prediction form), in half-log-SNR steps `h = (λ_s − λ_t)/2`.
fn dpm_solver_pp_update(
    z: Tensor<3>,
    x0: &Tensor<3>,
    history: &[(f64, Tensor<3>)],
    order: usize,
    (lambda_t, lambda_s): (f64, f64),
    (sigma_t, alpha_s, sigma_s): (f64, f64, f64),
) -> Tensor<3> {
    let h = (lambda_s - lambda_t) / 2.0;
    let phi1 = -(-h).exp_m1(); // 1 − e^{−h}
    let base = z.mul_scalar(sigma_s / sigma_t);
    // Steps of zero length happen where λ is clamped (editing from t ≈ 1e-4, where every
    // timestep sits at λ = 15): the update is then the identity, and a zero-length previous
    // step gives no slope to extrapolate. Divide by neither: lower the order instead.
    let h0 = history
        .last()
        .map(|(lambda_1, _)| (lambda_t - lambda_1) / 2.0);
    let h1 = match history {
        [.., (lambda_2, _), (lambda_1, _)] => Some((lambda_1 - lambda_2) / 2.0),
        _ => None,
    };
    let order = if h == 0.0 || h0.is_none_or(|h0| h0 == 0.0) {
        1
    } else if h1.is_some_and(|h1| h1 == 0.0) {
        order.min(2)
    } else {
        order
    };
    match (order, history) {
        (1, _) | (_, []) => base + x0.clone().mul_scalar(alpha_s * phi1),
        (2, [.., (lambda_1, m1)]) | (_, [(lambda_1, m1)]) => {
            let r0 = (lambda_t - lambda_1) / 2.0 / h;
            let d1 = (x0.clone() - m1.clone()).div_scalar(r0);
            base + x0.clone().mul_scalar(alpha_s * phi1) + d1.mul_scalar(0.5 * alpha_s * phi1)
        }
        (_, [(lambda_2, m2), (lambda_1, m1), ..]) => {
            let h0 = (lambda_t - lambda_1) / 2.0;
            let h1 = (lambda_1 - lambda_2) / 2.0;
            let (r0, r1) = (h0 / h, h1 / h);
            let d1_0 = (x0.clone() - m1.clone()).div_scalar(r0);
            let d1_1 = (m1.clone() - m2.clone()).div_scalar(r1);
            let d1 = d1_0.clone() + (d1_0.clone() - d1_1.clone()).mul_scalar(r0 / (r0 + r1));
            let d2 = (d1_0 - d1_1).div_scalar(r0 + r1);
            // e^{−h} − 1 = −φ₁; coefficients of D1 and D2 in the data-prediction form.
            let c1 = alpha_s * (phi1 / h - 1.0);
            let c2 = alpha_s * ((h - phi1) / (h * h) - 0.5);
            base + x0.clone().mul_scalar(alpha_s * phi1) - d1.mul_scalar(c1) - d2.mul_scalar(c2)
        }
    }
}
