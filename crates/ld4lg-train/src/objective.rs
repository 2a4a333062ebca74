//! The denoiser's training loss, apart from the loop around it, so that benchmarks and custom
//! loops compute exactly what [`train_diffusion`](crate::train_diffusion) optimises.

use super::diffusion::{DiffusionLoss, DiffusionRunConfig};
use burn::tensor::{Device, Tensor, TensorData};
use ld4lg_denoiser::LatentDenoiser;
use ld4lg_sampler::Conditioning;
use ld4lg_schedule::{
    Coefficients, LossWeighting, NoiseSchedule, PredictionType, add_noise, broadcastable,
};

/// The diffusion objective of a run: schedule, regression loss and per-example weights.
#[derive(Debug, Clone, Copy)]
pub struct DiffusionObjective {
    /// Noise schedule of the forward process.
    pub schedule: NoiseSchedule,
    /// Regression loss on the prediction target.
    pub loss: DiffusionLoss,
    /// Per-example loss weights, by log-SNR.
    pub loss_weighting: LossWeighting,
    /// What the denoiser predicts (its target).
    pub prediction: PredictionType,
}

impl DiffusionObjective {
    /// The objective `config` trains a denoiser predicting `prediction` with.
    pub fn of(config: &DiffusionRunConfig, prediction: PredictionType) -> Self {
        Self {
            schedule: config.schedule,
            loss: config.loss,
            loss_weighting: config.loss_weighting,
            prediction,
        }
    }

    /// The weighted loss of `denoiser` on clean latents `x0` noised with `noise` to `times`.
    /// With `self_condition`, a first pass without gradients gives the estimate of x₀ that
    /// the second pass is conditioned on (self-conditioning, Chen et al. 2022).
    ///
    /// # Shapes
    /// - `x0`, `noise`: `[batch, l, d]`; `times`: `batch` values in [0, 1]
    /// - output: `[1]`
    pub fn loss(
        &self,
        denoiser: &LatentDenoiser,
        x0: Tensor<3>,
        noise: Tensor<3>,
        times: &[f64],
        conditioning: &Conditioning,
        self_condition: bool,
    ) -> Tensor<1> {
        let device: Device = x0.device();
        let batch = times.len();
        let coefficients = Coefficients::<3>::at_times(&self.schedule, times, &device);
        let alpha_bar: Vec<f32> = times
            .iter()
            .map(|&t| self.schedule.alpha_bar(t) as f32)
            .collect();
        let alpha_bar = Tensor::<1>::from_data(TensorData::new(alpha_bar, [batch]), &device);
        let z = add_noise(x0.clone(), noise.clone(), &coefficients);
        let self_cond = self_condition.then(|| {
            let output =
                denoiser.forward(z.clone().detach(), alpha_bar.clone(), None, conditioning);
            self.prediction
                .to_sample(output, z.clone(), &coefficients)
                .detach()
        });
        let output = denoiser.forward(z, alpha_bar, self_cond, conditioning);
        let target = self.prediction.target(x0, noise, &coefficients);
        let error = output - target;
        let per_example = match self.loss {
            DiffusionLoss::Mse => error.powi_scalar(2),
            DiffusionLoss::L1 => error.abs(),
        }
        .mean_dim(2)
        .mean_dim(1);
        let log_snr: Vec<f64> = times.iter().map(|&t| self.schedule.log_snr(t)).collect();
        let weights: Vec<f32> = self
            .loss_weighting
            .weights(&log_snr, self.prediction)
            .into_iter()
            .map(|w| w as f32)
            .collect();
        (per_example * broadcastable::<3>(weights, &device)).mean()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use ld4lg_denoiser::LatentDenoiserConfig;

    #[test]
    fn the_loss_is_the_mean_squared_error_of_the_target_at_zero_output() {
        // The output layer starts at zero, so the untrained denoiser predicts v = 0 and the
        // loss is mean(v²) with v = α ε − σ x₀ (uniform weights).
        let device = Device::flex();
        let denoiser = LatentDenoiserConfig::new()
            .with_num_latents(4)
            .with_d_latent(3)
            .with_d_model(16)
            .with_n_layers(2)
            .with_n_heads(2)
            .init(&device);
        let objective = DiffusionObjective {
            schedule: NoiseSchedule::default(),
            loss: DiffusionLoss::Mse,
            loss_weighting: LossWeighting::default(),
            prediction: PredictionType::VPrediction,
        };
        let x0 = Tensor::<3>::random([2, 4, 3], Distribution::Normal(0.0, 1.0), &device);
        let noise = Tensor::<3>::random([2, 4, 3], Distribution::Normal(0.0, 1.0), &device);
        let times = [0.25, 0.75];
        let coefficients = Coefficients::<3>::at_times(&objective.schedule, &times, &device);
        let v = PredictionType::VPrediction.target(x0.clone(), noise.clone(), &coefficients);
        let expected = v.powi_scalar(2).mean().into_scalar::<f32>();
        for self_condition in [false, true] {
            let loss = objective
                .loss(
                    &denoiser,
                    x0.clone(),
                    noise.clone(),
                    &times,
                    &Conditioning::none(),
                    self_condition,
                )
                .into_scalar::<f32>();
            assert!((loss - expected).abs() < 1e-6, "{loss} vs {expected}");
        }
    }
}
