//! Teaching a decoder the errors of generated latents: it is trained on a denoiser's
//! estimates of the texts' latents instead of on the latents themselves.
//!
//! Samples decode to repeated or missing words where the denoiser's latents blend several
//! plausible sentences. The same blend appears in its estimate of a real text's latent from
//! a noised copy; a decoder trained to read the real text from such estimates learns to pick
//! one consistent sentence out of them.

use crate::Error;
use burn::tensor::{Device, Int, Tensor, TensorData};
use ld4lg_data::Example;
use ld4lg_run::{LatentModel, TrainedCondition};
use ld4lg_sampler::{Conditioning, SamplerConfig};
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
    /// How the noised latents are denoised back. Default: DPM-Solver++ 2M, 4 steps. Its
    /// `guidance_scale` applies to conditioned estimates.
    #[serde(default = "default_sampler")]
    pub sampler: SamplerConfig,
    /// Condition each estimate on its own text's class label or source, as the denoiser
    /// generates (a class- or source-conditional denoiser, and a training corpus that gives
    /// every text its label or source). Default: false, the null class or context.
    #[serde(default)]
    pub conditioned: bool,
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
            conditioned: false,
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
    model: LatentModel,
    conditions: TextConditions,
}

/// Each training text's own condition, in the form the denoiser takes it.
enum TextConditions {
    /// The null class or context for every text.
    None,
    /// Class ids of the denoiser, one per text.
    Classes(Vec<i64>),
    /// Source texts, one per text.
    Sources(Vec<String>),
}

impl DenoisedLatents {
    /// Loads the denoiser of `config` on `device` and checks that it models latents of
    /// `latent_shape`. `examples` are the training corpus, in the order of its texts; with
    /// `conditioned`, their labels or sources become the estimates' conditions.
    pub(crate) fn load(
        config: &DenoisedLatentsConfig,
        latent_shape: [usize; 2],
        examples: &[Example],
        device: &Device,
    ) -> Result<Self, Error> {
        config.check().map_err(Error::Config)?;
        let model = LatentModel::load(&config.denoiser_from, device)?;
        let found = model.autoencoder().latent_shape();
        if found != latent_shape {
            return Err(Error::Config(format!(
                "denoised_latents: {} models latents of shape {found:?}, this autoencoder makes {latent_shape:?}",
                config.denoiser_from.display()
            )));
        }
        let conditions = if config.conditioned {
            text_conditions(&model, examples).map_err(|m| {
                Error::Config(format!(
                    "denoised_latents.conditioned ({}): {m}",
                    config.denoiser_from.display()
                ))
            })?
        } else {
            TextConditions::None
        };
        Ok(Self {
            config: config.clone(),
            model,
            conditions,
        })
    }

    /// The noise level of the micro-batch drawn with `seed`: `None` for a clean batch.
    pub(crate) fn strength(&self, seed: u64) -> Option<f64> {
        self.config.strength(seed)
    }

    /// Checks that the denoiser's own autoencoder (with its own tokenizer) encodes `texts` to
    /// `latents`, the latents of the encoder being trained for. Estimates made for another
    /// encoder's latents would teach the decoder blends it never meets.
    ///
    /// The tolerance allows for half-precision copies of the same weights (an exported
    /// model), while two different encoders on the same √d sphere differ by about √2.
    ///
    /// # Shapes
    /// - `latents`: `[texts, l, d]`, on the device the denoiser was loaded on
    pub(crate) fn check_same_encoder(
        &self,
        texts: &[String],
        latents: Tensor<3>,
    ) -> Result<(), Error> {
        let theirs = self.model.encode(texts)?;
        let difference = relative_rms_difference(latents, theirs);
        tracing::debug!("denoised_latents: encoders differ by {difference:.2e} (relative RMS)");
        if difference <= SAME_ENCODER_TOLERANCE {
            return Ok(());
        }
        Err(Error::Config(format!(
            "denoised_latents: {} encodes the training texts differently from encoder_from \
             (relative RMS difference {difference:.3}, at most {SAME_ENCODER_TOLERANCE} allowed): \
             its denoiser models another encoder's latents",
            self.config.denoiser_from.display()
        )))
    }

    /// The denoiser's estimates of `latents`, the latents of the training texts `texts`,
    /// noised to `strength` (example `i` with noise seed `seed + i`). `latents` live on the
    /// device the denoiser was loaded on or on its autodiff form (the training device); the
    /// estimates come back on the same one, as constants, without leaving the device.
    ///
    /// # Shapes
    /// - `latents`: `[texts, l, d]` → `[texts, l, d]`
    pub(crate) fn estimates(
        &self,
        latents: Tensor<3>,
        texts: &[usize],
        strength: f64,
        seed: u64,
    ) -> Result<Tensor<3>, Error> {
        let autodiff = latents.is_autodiff();
        let conditioning = match &self.conditions {
            TextConditions::None => Conditioning::none(),
            TextConditions::Classes(ids) => {
                let ids: Vec<i64> = texts.iter().map(|&i| ids[i]).collect();
                Conditioning::classes(Tensor::<1, Int>::from_data(
                    TensorData::new(ids, [texts.len()]),
                    self.model.device(),
                ))
            }
            TextConditions::Sources(sources) => {
                let sources: Vec<&str> = texts.iter().map(|&i| sources[i].as_str()).collect();
                self.model.source_conditioning(&sources)?
            }
        };
        let estimates = self.model.renoise_latents(
            latents.without_autodiff(),
            strength,
            &self.config.sampler,
            seed,
            &conditioning,
        )?;
        Ok(if autodiff {
            estimates.autodiff()
        } else {
            estimates
        })
    }
}

/// The condition of each of `examples` as `model`'s denoiser takes it, or why there is none.
fn text_conditions(model: &LatentModel, examples: &[Example]) -> Result<TextConditions, String> {
    let missing = |row: usize, what: &str| format!("training example {} has no {what}", row + 1);
    match model.condition() {
        TrainedCondition::None => Err("the denoiser is unconditional".into()),
        TrainedCondition::Class { .. } => examples
            .iter()
            .enumerate()
            .map(|(row, example)| {
                let label = example
                    .label
                    .as_deref()
                    .ok_or_else(|| missing(row, "label"))?;
                let id = model
                    .condition()
                    .class_id(label)
                    .map_err(|e| e.to_string())?;
                Ok(id as i64)
            })
            .collect::<Result<_, String>>()
            .map(TextConditions::Classes),
        TrainedCondition::Source { .. } => examples
            .iter()
            .enumerate()
            .map(|(row, example)| example.source.clone().ok_or_else(|| missing(row, "source")))
            .collect::<Result<_, String>>()
            .map(TextConditions::Sources),
    }
}

/// Largest relative RMS difference between two encoders' latents still taken as the same
/// encoder (see [`DenoisedLatents::check_same_encoder`]).
const SAME_ENCODER_TOLERANCE: f64 = 0.05;

/// `‖a − b‖ / ‖a‖` over all elements; infinite when `a` is zero and `b` is not.
fn relative_rms_difference(a: Tensor<3>, b: Tensor<3>) -> f64 {
    let difference = f64::from((a.clone() - b).powi_scalar(2).sum().into_scalar::<f32>());
    let norm = f64::from(a.powi_scalar(2).sum().into_scalar::<f32>());
    if difference == 0.0 {
        0.0
    } else if norm == 0.0 {
        f64::INFINITY
    } else {
        (difference / norm).sqrt()
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
