//! Teaching a decoder the errors of generated latents: it is trained on a denoiser's
//! estimates of the texts' latents instead of on the latents themselves.
//!
//! Samples decode to repeated or missing words where the denoiser's latents blend several
//! plausible sentences. The same blend appears in its estimate of a real text's latent from
//! a noised copy; a decoder trained to read the real text from such estimates learns to pick
//! one consistent sentence out of them.

use crate::Error;
use crate::pipeline::LatentDiffusionPipeline;
use crate::sampler::{Conditioning, SamplerConfig};
use burn::tensor::{Device, Tensor};
use rand::{RngExt, SeedableRng, rngs::ChaCha8Rng};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where the decoder's training latents come from when they are a denoiser's estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenoisedLatentsConfig {
    /// A trained diffusion run or exported model; its EMA denoiser makes the estimates, with
    /// no conditioning (the null class or context of conditional runs). Its autoencoder must
    /// have the encoder side the decoder is trained for (`encoder_from`).
    pub denoiser_from: PathBuf,
    /// Each batch's noise level (diffusion time) is drawn uniformly in `(0, max_strength]`.
    /// Default: 0.5.
    #[serde(default = "default_max_strength")]
    pub max_strength: f64,
    /// Share of batches trained on the clean latents (with the model's own latent noise), so
    /// the decoder keeps reconstructing them. Default: 0.25.
    #[serde(default = "default_clean_rate")]
    pub clean_rate: f64,
    /// How the noised latents are denoised back. Default: DPM-Solver++ 2M, 4 steps.
    #[serde(default = "default_sampler")]
    pub sampler: SamplerConfig,
}

fn default_max_strength() -> f64 {
    0.5
}

fn default_clean_rate() -> f64 {
    0.25
}

fn default_sampler() -> SamplerConfig {
    SamplerConfig {
        steps: 4,
        ..SamplerConfig::default()
    }
}

impl DenoisedLatentsConfig {
    /// The noise level of the micro-batch drawn with `seed`: `None` (with probability
    /// `clean_rate`) for a clean batch, otherwise uniform in `(0, max_strength]`.
    pub fn strength(&self, seed: u64) -> Option<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        if rng.random::<f64>() < self.clean_rate {
            return None;
        }
        // (0, max]: the strength must stay positive.
        Some((1.0 - rng.random::<f64>()) * self.max_strength)
    }

    /// Estimates of the denoiser in `denoiser_from`, every other setting at its default.
    pub fn new(denoiser_from: PathBuf) -> Self {
        Self {
            denoiser_from,
            max_strength: default_max_strength(),
            clean_rate: default_clean_rate(),
            sampler: default_sampler(),
        }
    }

    /// Why this configuration cannot be used, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if !(self.max_strength > 0.0 && self.max_strength <= 1.0) {
            return Err(format!(
                "denoised_latents.max_strength must be in (0, 1], got {}",
                self.max_strength
            ));
        }
        if !(0.0..=1.0).contains(&self.clean_rate) {
            return Err(format!(
                "denoised_latents.clean_rate must be in [0, 1], got {}",
                self.clean_rate
            ));
        }
        if self.sampler.steps == 0 {
            return Err("denoised_latents.sampler.steps must be positive".into());
        }
        Ok(())
    }
}

/// The denoiser that makes the estimates, loaded.
pub(crate) struct DenoisedLatents {
    config: DenoisedLatentsConfig,
    pipeline: LatentDiffusionPipeline,
}

impl DenoisedLatents {
    /// Loads the denoiser of `config` on `device` and checks that it models latents of
    /// `latent_shape`.
    pub(crate) fn load(
        config: &DenoisedLatentsConfig,
        latent_shape: [usize; 2],
        device: &Device,
    ) -> Result<Self, Error> {
        config.check().map_err(Error::Config)?;
        let pipeline = LatentDiffusionPipeline::load(&config.denoiser_from, device)?;
        let found = pipeline.autoencoder().latent_shape();
        if found != latent_shape {
            return Err(Error::Config(format!(
                "denoised_latents: {} models latents of shape {found:?}, this autoencoder makes {latent_shape:?}",
                config.denoiser_from.display()
            )));
        }
        Ok(Self {
            config: config.clone(),
            pipeline,
        })
    }

    /// The noise level of the micro-batch drawn with `seed`: `None` for a clean batch.
    pub(crate) fn strength(&self, seed: u64) -> Option<f64> {
        self.config.strength(seed)
    }

    /// The denoiser's estimates of `latents` noised to `strength` (example `i` with noise
    /// seed `seed + i`). `latents` live on the device the denoiser was loaded on or on its
    /// autodiff form (the training device); the estimates come back on the same one, as
    /// constants, without leaving the device.
    ///
    /// # Shapes
    /// - `latents`: `[batch, l, d]` → `[batch, l, d]`
    pub(crate) fn estimates(
        &self,
        latents: Tensor<3>,
        strength: f64,
        seed: u64,
    ) -> Result<Tensor<3>, Error> {
        let autodiff = latents.is_autodiff();
        let estimates = self.pipeline.renoise_latents(
            latents.without_autodiff(),
            strength,
            &self.config.sampler,
            seed,
            &Conditioning::none(),
        )?;
        Ok(if autodiff {
            estimates.autodiff()
        } else {
            estimates
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strengths_are_clean_at_the_clean_rate_and_uniform_below_the_maximum() {
        let config = DenoisedLatentsConfig {
            max_strength: 0.4,
            clean_rate: 0.25,
            ..DenoisedLatentsConfig::new("model".into())
        };
        let draws: Vec<Option<f64>> = (0..4000).map(|seed| config.strength(seed)).collect();
        assert_eq!(
            draws,
            (0..4000)
                .map(|seed| config.strength(seed))
                .collect::<Vec<_>>()
        );
        let noised: Vec<f64> = draws.iter().flatten().copied().collect();
        // 4 000 Bernoulli(0.75) draws: standard deviation of the share 0.007.
        let share = noised.len() as f64 / 4000.0;
        assert!((share - 0.75).abs() < 0.03, "noised share {share}");
        assert!(noised.iter().all(|&s| s > 0.0 && s <= 0.4));
        // Uniform on (0, 0.4]: mean 0.2, standard error 0.002.
        let mean = noised.iter().sum::<f64>() / noised.len() as f64;
        assert!((mean - 0.2).abs() < 0.01, "mean strength {mean}");
        let all_clean = DenoisedLatentsConfig {
            clean_rate: 1.0,
            ..config.clone()
        };
        assert!((0..100).all(|seed| all_clean.strength(seed).is_none()));
    }

    #[test]
    fn out_of_range_settings_are_refused() {
        let config = DenoisedLatentsConfig::new("model".into());
        config.check().unwrap();
        for bad in [
            DenoisedLatentsConfig {
                max_strength: 0.0,
                ..config.clone()
            },
            DenoisedLatentsConfig {
                max_strength: 1.5,
                ..config.clone()
            },
            DenoisedLatentsConfig {
                clean_rate: -0.1,
                ..config.clone()
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }
}
