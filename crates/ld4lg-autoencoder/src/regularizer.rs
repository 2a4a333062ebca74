use burn::config::Config;
use burn::tensor::{Distribution, Tensor};

/// How the latent space is kept well-behaved for diffusion.
#[derive(Config, Debug, PartialEq, Copy)]
pub enum LatentRegularizer {
    /// LD4LG: every latent vector is normalised to norm √d.
    L2Sphere,
    /// VAE: the encoder gives a mean and a log-variance; training samples by
    /// reparameterisation and adds `weight ×` the KL divergence to N(0, I), averaged over the
    /// latent elements. Encoding returns the mean.
    Kl {
        /// Weight of the KL term.
        weight: f64,
    },
    /// Raw projections.
    None,
}

impl LatentRegularizer {
    /// How many values per latent element the encoder must produce (2 for mean and
    /// log-variance).
    pub fn outputs_per_element(&self) -> usize {
        match self {
            Self::Kl { .. } => 2,
            _ => 1,
        }
    }
}

/// Latents and the regulariser's loss term.
#[derive(Debug, Clone)]
pub struct RegularizedLatents {
    /// The latents, `[batch, l, d]`.
    pub latents: Tensor<3>,
    /// Weighted regularisation loss (the KL term), a scalar, when the regulariser has one.
    pub loss: Option<Tensor<1>>,
    /// Mean and log-variance, for [`LatentRegularizer::Kl`].
    pub mean_logvar: Option<(Tensor<3>, Tensor<3>)>,
}

impl LatentRegularizer {
    /// Applies the regulariser to raw projections.
    ///
    /// # Shapes
    /// - `raw`: `[batch, l, d · outputs_per_element]` → latents `[batch, l, d]`
    pub fn apply(&self, raw: Tensor<3>, training: bool) -> RegularizedLatents {
        match *self {
            Self::L2Sphere => {
                let d = raw.dims()[2] as f64;
                let norm = raw.clone().powi_scalar(2).sum_dim(2).sqrt().clamp_min(1e-6);
                RegularizedLatents {
                    latents: (raw / norm).mul_scalar(d.sqrt()),
                    loss: None,
                    mean_logvar: None,
                }
            }
            Self::Kl { weight } => {
                let [batch, l, two_d] = raw.dims();
                let d = two_d / 2;
                let mean = raw.clone().slice([0..batch, 0..l, 0..d]);
                let logvar = raw.slice([0..batch, 0..l, d..two_d]).clamp(-30.0, 20.0);
                let kl = kl_to_standard_normal(mean.clone(), logvar.clone()).mul_scalar(weight);
                let latents = if training {
                    let eps = Tensor::random(
                        mean.shape(),
                        Distribution::Normal(0.0, 1.0),
                        &mean.device(),
                    );
                    mean.clone() + logvar.clone().mul_scalar(0.5).exp() * eps
                } else {
                    mean.clone()
                };
                RegularizedLatents {
                    latents,
                    loss: Some(kl),
                    mean_logvar: Some((mean, logvar)),
                }
            }
            Self::None => RegularizedLatents {
                latents: raw,
                loss: None,
                mean_logvar: None,
            },
        }
    }
}

/// `KL(N(μ, e^{ℓ}) ‖ N(0, 1))` per element, `½(μ² + e^{ℓ} − 1 − ℓ)`, averaged over all elements.
///
/// # Shapes
/// - `mean`, `logvar`: `[batch, l, d]` → `[1]`
pub fn kl_to_standard_normal(mean: Tensor<3>, logvar: Tensor<3>) -> Tensor<1> {
    (mean.powi_scalar(2) + logvar.clone().exp() - logvar - 1.0)
        .mul_scalar(0.5)
        .mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn kl_matches_hand_computed_values() {
        // Elements (μ, ℓ): (0, 0) → 0; (1, 0) → ½; (0, ln 2) → ½(2 − 1 − ln 2) = 0.1534264;
        // (−2, −1) → ½(4 + e⁻¹ − 1 + 1) = 2.1839397. Mean = 0.7093415.
        let device = Device::flex();
        let mean = Tensor::<3>::from_data(
            TensorData::new(vec![0.0f32, 1.0, 0.0, -2.0], [1, 2, 2]),
            &device,
        );
        let logvar = Tensor::<3>::from_data(
            TensorData::new(vec![0.0f32, 0.0, 2f32.ln(), -1.0], [1, 2, 2]),
            &device,
        );
        let kl = kl_to_standard_normal(mean, logvar).into_scalar::<f32>();
        let expected = (0.0 + 0.5 + 0.5 * (1.0 - 2f64.ln()) + 0.5 * (4.0 + (-1f64).exp())) / 4.0;
        assert!((kl as f64 - expected).abs() < 1e-6, "{kl} vs {expected}");
    }

    #[test]
    fn sphere_latents_have_norm_sqrt_d() {
        let device = Device::flex();
        let raw = Tensor::<3>::random([2, 3, 8], Distribution::Normal(0.0, 5.0), &device);
        let out = LatentRegularizer::L2Sphere.apply(raw, true);
        let norms: Vec<f32> = out
            .latents
            .powi_scalar(2)
            .sum_dim(2)
            .sqrt()
            .into_data()
            .try_to_vec_as()
            .unwrap();
        for n in norms {
            assert!((n - 8f32.sqrt()).abs() < 1e-4);
        }
    }

    #[test]
    fn kl_encodes_the_mean_at_inference() {
        let device = Device::flex();
        let raw = Tensor::<3>::random([2, 3, 8], Distribution::Normal(0.0, 1.0), &device);
        let reg = LatentRegularizer::Kl { weight: 0.1 };
        let out = reg.apply(raw.clone(), false);
        assert_eq!(out.latents.dims(), [2, 3, 4]);
        let diff = (out.latents - raw.slice([0..2, 0..3, 0..4]))
            .abs()
            .max()
            .into_scalar::<f32>();
        assert_eq!(diff, 0.0);
        assert!(out.loss.is_some());
    }
}
