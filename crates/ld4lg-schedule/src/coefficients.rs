use crate::NoiseSchedule;
use crate::schedule::alpha_sigma_from_log_snr;
use burn::tensor::{Device, Tensor, TensorData};

/// Per-example diffusion coefficients at times `t`, shaped `[batch, 1, …, 1]` to broadcast
/// against `[batch, …]` tensors.
#[derive(Debug, Clone)]
pub struct Coefficients<const D: usize> {
    /// `α = √ᾱ(t)`, the scale of the data in `z_t`.
    pub alpha: Tensor<D>,
    /// `σ = √(1 − ᾱ(t))`, the scale of the noise in `z_t`.
    pub sigma: Tensor<D>,
}

impl<const D: usize> Coefficients<D> {
    /// Coefficients for one time per example.
    ///
    /// # Shapes
    /// - `t`: `batch` values → `alpha`, `sigma`: `[batch, 1, …, 1]` (rank `D`)
    pub fn at_times(schedule: &NoiseSchedule, t: &[f64], device: &Device) -> Self {
        let log_snr: Vec<f64> = t.iter().map(|&t| schedule.log_snr(t)).collect();
        Self::from_log_snr(&log_snr, device)
    }

    /// Coefficients for one log-SNR per example.
    pub fn from_log_snr(log_snr: &[f64], device: &Device) -> Self {
        let (alpha, sigma): (Vec<f32>, Vec<f32>) = log_snr
            .iter()
            .map(|&l| {
                let (a, s) = alpha_sigma_from_log_snr(l);
                (a as f32, s as f32)
            })
            .unzip();
        Self {
            alpha: broadcastable(alpha, device),
            sigma: broadcastable(sigma, device),
        }
    }
}

/// `batch` values as a `[batch, 1, …, 1]` tensor of rank `D`.
pub fn broadcastable<const D: usize>(values: Vec<f32>, device: &Device) -> Tensor<D> {
    let mut shape = [1usize; D];
    shape[0] = values.len();
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// The forward process: `z_t = α·x₀ + σ·ε`, each example at its own time.
///
/// # Shapes
/// - `x0`, `noise`: `[batch, …]`; coefficients `[batch, 1, …]` → `[batch, …]`
pub fn add_noise<const D: usize>(
    x0: Tensor<D>,
    noise: Tensor<D>,
    coefficients: &Coefficients<D>,
) -> Tensor<D> {
    x0 * coefficients.alpha.clone() + noise * coefficients.sigma.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_noise_uses_each_examples_time() {
        let device = Device::flex();
        let schedule = NoiseSchedule::default();
        let t = [0.0, 0.5, 1.0];
        let coefficients = Coefficients::<3>::at_times(&schedule, &t, &device);
        assert_eq!(coefficients.alpha.dims(), [3, 1, 1]);
        let x0 = Tensor::<3>::ones([3, 2, 4], &device);
        let noise = Tensor::<3>::ones([3, 2, 4], &device).mul_scalar(-2.0);
        let z = add_noise(x0, noise, &coefficients)
            .into_data()
            .try_to_vec_as::<f32>()
            .unwrap();
        for (b, &t) in t.iter().enumerate() {
            let (alpha, sigma) = schedule.alpha_sigma(t);
            let expected = (alpha - 2.0 * sigma) as f32;
            for v in &z[b * 8..(b + 1) * 8] {
                assert!((v - expected).abs() < 1e-6, "t = {t}: {v} vs {expected}");
            }
        }
        // cos²(π/4) = 1/2 at t = 0.5: equal parts signal and noise.
        assert!((z[8] - (0.5f32.sqrt() * (1.0 - 2.0))).abs() < 1e-6);
    }
}
