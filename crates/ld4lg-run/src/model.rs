//! A trained latent diffusion model loaded from a run directory, at the level of latents:
//! encode texts, sample latents from noise, noise latents and denoise them back.
//!
//! Decoding latents to text, and the tasks built on it, are the facade's pipeline
//! (`ld4lg::pipeline::LatentDiffusionPipeline`); training uses this level directly (a
//! decoder trained on a denoiser's estimates of its texts' latents).

use crate::condition::{TrainedCondition, encode_sources};
use crate::layout::{AutoencoderRun, check_format_version};
use crate::load::{load_diffusion_model, load_latent_stats};
use crate::{Error, LatentStats};
use burn::tensor::{Device, Int, Tensor, TensorData};
use ld4lg_autoencoder::{Autoencoder, TextEncoder};
use ld4lg_denoiser::LatentDenoiser;
use ld4lg_sampler::{Conditioning, NoiseSource, Sampler, SamplerConfig};
use ld4lg_schedule::{Coefficients, NoiseSchedule, add_noise};
use ld4lg_tokenizer::{EncodeOptions, Tokenizer};
use std::path::Path;

/// The tokenizer, autoencoder, EMA denoiser (with its context encoder), noise schedule and
/// latent statistics of a trained run, on one device.
#[derive(Debug)]
pub struct LatentModel {
    tokenizer: Tokenizer,
    autoencoder: Autoencoder,
    denoiser: LatentDenoiser,
    source_encoder: Option<TextEncoder>,
    condition: TrainedCondition,
    schedule: NoiseSchedule,
    latent_stats: LatentStats,
    device: Device,
}

impl LatentModel {
    /// Loads the tokenizer, the autoencoder and the EMA denoiser of a run directory.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when a file is missing or does not match the others.
    pub fn load(run_dir: &Path, device: &Device) -> Result<Self, Error> {
        // A run trained stage by stage has no config.json; one written by training must
        // have this release's format version.
        check_format_version(run_dir)?;
        let (tokenizer, autoencoder) = AutoencoderRun {
            dir: run_dir.to_path_buf(),
        }
        .load(device)?;
        let (model, schedule, condition) = load_diffusion_model(run_dir, device)?;
        let denoiser = model.denoiser;
        let expected = autoencoder.latent_shape();
        let found = denoiser.latent_shape();
        if expected != found {
            return Err(Error::Checkpoint(format!(
                "the denoiser models latents of shape {found:?}, the autoencoder makes {expected:?}"
            )));
        }
        let latent_stats = load_latent_stats(run_dir, expected)?;
        Ok(Self {
            tokenizer,
            autoencoder,
            denoiser,
            source_encoder: model.source_encoder,
            condition,
            schedule,
            latent_stats,
            device: device.clone(),
        })
    }

    /// What the model is conditioned on.
    pub fn condition(&self) -> &TrainedCondition {
        &self.condition
    }

    /// The class names of a class-conditional model (empty otherwise), in id order.
    pub fn classes(&self) -> &[String] {
        match &self.condition {
            TrainedCondition::Class { classes } => classes,
            _ => &[],
        }
    }

    /// Conditioning on class `name` for a batch of `n`.
    ///
    /// # Errors
    /// [`Error::Config`] when the model is not class-conditional or has no such class.
    pub fn class_conditioning(&self, name: &str, n: usize) -> Result<Conditioning, Error> {
        let id = self.condition.class_id(name)? as i64;
        Ok(Conditioning::classes(Tensor::<1, Int>::from_data(
            TensorData::new(vec![id; n], [n]),
            &self.device,
        )))
    }

    /// Cross-attention conditioning on source texts (one batch row per source).
    ///
    /// # Errors
    /// [`Error::Config`] when the model is not source-conditional.
    pub fn source_conditioning<S: AsRef<str>>(&self, sources: &[S]) -> Result<Conditioning, Error> {
        let encoder = self.source_encoder.as_ref().ok_or_else(|| {
            Error::Config("this model is not conditioned on source texts".to_owned())
        })?;
        encode_sources(encoder, &self.tokenizer, sources, &self.device)
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The autoencoder.
    pub fn autoencoder(&self) -> &Autoencoder {
        &self.autoencoder
    }

    /// The noise schedule the denoiser was trained with.
    pub fn schedule(&self) -> &NoiseSchedule {
        &self.schedule
    }

    /// The statistics that standardise latents for the denoiser.
    pub fn latent_stats(&self) -> &LatentStats {
        &self.latent_stats
    }

    /// The device everything runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The sampler of `config` over this model's denoiser and schedule (with the latent
    /// statistics when `normalize_x0` needs them).
    ///
    /// # Errors
    /// [`Error::Sampler`] when `config` is invalid.
    pub fn sampler(&self, config: &SamplerConfig) -> Result<Sampler<&LatentDenoiser>, Error> {
        let sampler = Sampler::new(&self.denoiser, self.schedule, config.clone())?;
        // A sampler is made per batch: once per process is enough to say it.
        static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if config.guidance_scale.abs() > ld4lg_sampler::LARGE_GUIDANCE_SCALE
            && !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::warn!(
                guidance_scale = config.guidance_scale,
                "guidance weights above {} rarely help and often decode to repeated garbage",
                ld4lg_sampler::LARGE_GUIDANCE_SCALE
            );
        }
        if config.normalize_x0.is_none() || self.latent_stats.is_identity() {
            return Ok(sampler);
        }
        // normalize_x0 rescales the autoencoder's own (sphere) latents, not the standardised
        // ones the denoiser sees; only then does the sampler need the statistics.
        let (mean, std) = self.latent_stats.to_tensor(&self.device);
        Ok(sampler.with_standardisation(mean, std)?)
    }

    /// Latents of texts.
    ///
    /// # Shapes
    /// - output: `[texts, l, d]`
    pub fn encode<S: AsRef<str>>(&self, texts: &[S]) -> Result<Tensor<3>, Error> {
        let batch = self
            .tokenizer
            .encode_batch(texts, EncodeOptions::new(self.autoencoder.max_len()))?;
        let (ids, mask) = batch.to_tensors(&self.device);
        Ok(self.autoencoder.encode(ids, mask))
    }

    /// One autoencoder latent per noise seed (`seeds` not empty), sampled from noise.
    ///
    /// # Shapes
    /// - output: `[seeds, l, d]`
    pub fn sample_latents(
        &self,
        seeds: &[u64],
        config: &SamplerConfig,
        conditioning: &Conditioning,
    ) -> Result<Tensor<3>, Error> {
        let mut noise = NoiseSource::from_seeds(seeds);
        let latents = self.sampler(config)?.sample(
            self.autoencoder.latent_shape(),
            conditioning,
            &mut noise,
            &self.device,
        )?;
        Ok(self.latent_stats.denormalize(latents))
    }

    /// SDEdit on latents: autoencoder latents are noised to time `strength ∈ (0, 1]` and
    /// denoised back with `config`'s sampler. Latent `i` draws its noise from `seed + i`.
    ///
    /// # Shapes
    /// - `latents`: `[batch, l, d]` → `[batch, l, d]`
    pub fn renoise_latents(
        &self,
        latents: Tensor<3>,
        strength: f64,
        config: &SamplerConfig,
        seed: u64,
        conditioning: &Conditioning,
    ) -> Result<Tensor<3>, Error> {
        let seeds = consecutive_seeds(seed, latents.dims()[0]);
        self.renoise_with_seeds(latents, strength, config, &seeds, conditioning)
    }

    /// [`Self::renoise_latents`] with one noise seed per latent.
    pub fn renoise_with_seeds(
        &self,
        latents: Tensor<3>,
        strength: f64,
        config: &SamplerConfig,
        seeds: &[u64],
        conditioning: &Conditioning,
    ) -> Result<Tensor<3>, Error> {
        let (z, mut noise) = self.add_noise(latents, strength, seeds)?;
        let config = SamplerConfig {
            t_start: strength,
            ..config.clone()
        };
        let latents = self
            .sampler(&config)?
            .sample_from(z, conditioning, &mut noise)?;
        Ok(self.latent_stats.denormalize(latents))
    }

    /// The corruption [`Self::renoise_latents`] starts from, undone without the denoiser:
    /// `z_t / √ᾱ(t)` mapped back to autoencoder latents. Decoding it shows what the decoder
    /// alone makes of the same noise (same seeds).
    ///
    /// # Shapes
    /// - `latents`: `[batch, l, d]` → `[batch, l, d]`
    pub fn noised_latents(
        &self,
        latents: Tensor<3>,
        strength: f64,
        seed: u64,
    ) -> Result<Tensor<3>, Error> {
        let seeds = consecutive_seeds(seed, latents.dims()[0]);
        let (z, _) = self.add_noise(latents, strength, &seeds)?;
        let alpha_bar = self.schedule.alpha_bar(strength);
        Ok(self
            .latent_stats
            .denormalize(z.div_scalar(alpha_bar.sqrt())))
    }

    /// Standardises `latents` and noises them to time `strength`, latent `i` with the noise of
    /// `seeds[i]`; returns the noise source positioned after that draw.
    fn add_noise(
        &self,
        latents: Tensor<3>,
        strength: f64,
        seeds: &[u64],
    ) -> Result<(Tensor<3>, NoiseSource), Error> {
        if !(strength > 0.0 && strength <= 1.0) {
            return Err(Error::Config(format!(
                "edit strength must be in (0, 1], got {strength}"
            )));
        }
        let x0 = self.latent_stats.normalize(latents);
        let [n, l, d] = x0.dims();
        let mut noise = NoiseSource::from_seeds(seeds);
        let eps = noise.normal(l, d, &self.device);
        let coefficients =
            Coefficients::<3>::at_times(&self.schedule, &vec![strength; n], &self.device);
        Ok((add_noise(x0, eps, &coefficients), noise))
    }
}

/// `seed, seed + 1, …`: one noise seed per example, so any example can be redone alone.
pub fn consecutive_seeds(seed: u64, n: usize) -> Vec<u64> {
    (0..n as u64).map(|i| seed.wrapping_add(i)).collect()
}
