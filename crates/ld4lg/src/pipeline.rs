//! Generation with a trained run: noise → denoiser + sampler → latents → decoder → text.

use crate::Error;
use crate::autoencoder::{Autoencoder, DecodeStrategy, slerp};
use crate::run::{LatentModel, LatentStats, TrainedCondition, consecutive_seeds};
use crate::sampler::{Conditioning, NoiseSource, SamplerConfig, SamplerKind};
use crate::schedule::NoiseSchedule;
use crate::tokenizer::{Tokenizer, special};
use burn::tensor::{Device, Tensor};
use std::path::Path;

/// A trained latent diffusion model, ready to generate.
///
/// ```no_run
/// use ld4lg::pipeline::LatentDiffusionPipeline;
/// use ld4lg::sampler::SamplerConfig;
///
/// let device = ld4lg::burn::tensor::Device::flex();
/// let pipeline = LatentDiffusionPipeline::load("runs/e2e".as_ref(), &device)?;
/// for text in pipeline.generate(4, &SamplerConfig::default(), 1)? {
///     println!("{text}");
/// }
/// # Ok::<(), ld4lg::Error>(())
/// ```
#[derive(Debug)]
pub struct LatentDiffusionPipeline {
    model: LatentModel,
    decode_strategy: DecodeStrategy,
}

impl LatentDiffusionPipeline {
    /// Loads the tokenizer, the autoencoder and the EMA denoiser of a run directory.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when a file is missing or does not match the others.
    pub fn load(run_dir: &Path, device: &Device) -> Result<Self, Error> {
        Ok(Self::from_model(LatentModel::load(run_dir, device)?))
    }

    /// The pipeline of a loaded model, decoding greedily.
    pub fn from_model(model: LatentModel) -> Self {
        Self {
            model,
            decode_strategy: DecodeStrategy::Greedy,
        }
    }

    /// The model at the level of latents.
    pub fn model(&self) -> &LatentModel {
        &self.model
    }

    /// Decodes with `strategy` from now on (default: greedy). Beam search only changes
    /// autoregressive autoencoders; parallel ones always decode greedily.
    pub fn with_decode_strategy(mut self, strategy: DecodeStrategy) -> Self {
        self.decode_strategy = strategy;
        self
    }

    /// How latents are decoded.
    pub fn decode_strategy(&self) -> &DecodeStrategy {
        &self.decode_strategy
    }

    /// What the model is conditioned on.
    pub fn condition(&self) -> &TrainedCondition {
        self.model.condition()
    }

    /// The class names of a class-conditional model (empty otherwise), in id order.
    pub fn classes(&self) -> &[String] {
        self.model.classes()
    }

    /// Conditioning on class `name` for a batch of `n`.
    ///
    /// # Errors
    /// [`Error::Config`] when the model is not class-conditional or has no such class.
    pub fn class_conditioning(&self, name: &str, n: usize) -> Result<Conditioning, Error> {
        self.model.class_conditioning(name, n)
    }

    /// Cross-attention conditioning on source texts (one batch row per source).
    ///
    /// # Errors
    /// [`Error::Config`] when the model is not source-conditional.
    pub fn source_conditioning<S: AsRef<str>>(&self, sources: &[S]) -> Result<Conditioning, Error> {
        self.model.source_conditioning(sources)
    }

    /// Generates `n` texts of class `name`; `config.guidance_scale` sets the guidance weight.
    pub fn generate_class(
        &self,
        name: &str,
        n: usize,
        config: &SamplerConfig,
        seed: u64,
    ) -> Result<Vec<String>, Error> {
        let conditioning = self.class_conditioning(name, n)?;
        self.generate_conditioned(n, config, seed, &conditioning)
    }

    /// `candidates` texts for each source; candidate `j` of source `i` uses the noise stream
    /// of `seed + i·candidates + j`. A source that is empty (or only whitespace) gets no
    /// candidates: its entry is an empty list.
    pub fn generate_from_sources<S: AsRef<str>>(
        &self,
        sources: &[S],
        candidates: usize,
        config: &SamplerConfig,
        seed: u64,
    ) -> Result<Vec<Vec<String>>, Error> {
        self.sources_with(sources, candidates, config, seed, &self.decode_strategy)
    }

    /// [`Self::generate_from_sources`], decoding with `strategy`.
    pub(crate) fn sources_with<S: AsRef<str>>(
        &self,
        sources: &[S],
        candidates: usize,
        config: &SamplerConfig,
        seed: u64,
        strategy: &DecodeStrategy,
    ) -> Result<Vec<Vec<String>>, Error> {
        if candidates == 0 {
            return Err(Error::Config("candidates must be positive".to_owned()));
        }
        let kept: Vec<usize> = (0..sources.len())
            .filter(|&i| !sources[i].as_ref().trim().is_empty())
            .collect();
        let mut out = vec![Vec::new(); sources.len()];
        if kept.is_empty() {
            return Ok(out);
        }
        let repeated: Vec<&str> = kept
            .iter()
            .flat_map(|&i| std::iter::repeat_n(sources[i].as_ref(), candidates))
            .collect();
        let conditioning = self.source_conditioning(&repeated)?;
        let seeds: Vec<u64> = kept
            .iter()
            .flat_map(|&i| {
                (0..candidates as u64)
                    .map(move |j| seed.wrapping_add(i as u64 * candidates as u64 + j))
            })
            .collect();
        let texts = self.sample_with_seeds(&seeds, config, &conditioning, strategy)?;
        for (k, chunk) in kept.iter().zip(texts.chunks(candidates)) {
            out[*k] = chunk.to_vec();
        }
        Ok(out)
    }

    /// Edits texts towards class `name` (style transfer): noise to `strength`, denoise under
    /// the class.
    pub fn edit_to_class<S: AsRef<str>>(
        &self,
        texts: &[S],
        name: &str,
        strength: f64,
        config: &SamplerConfig,
        seed: u64,
    ) -> Result<Vec<String>, Error> {
        let conditioning = self.class_conditioning(name, texts.len())?;
        self.edit_conditioned(texts, strength, config, seed, &conditioning)
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        self.model.tokenizer()
    }

    /// The autoencoder.
    pub fn autoencoder(&self) -> &Autoencoder {
        self.model.autoencoder()
    }

    /// The noise schedule the denoiser was trained with.
    pub fn schedule(&self) -> &NoiseSchedule {
        self.model.schedule()
    }

    /// The statistics that standardise latents for the denoiser.
    pub fn latent_stats(&self) -> &LatentStats {
        self.model.latent_stats()
    }

    /// The device everything runs on.
    pub fn device(&self) -> &Device {
        self.model.device()
    }

    /// Decodes latents to texts.
    ///
    /// # Shapes
    /// - `latents`: `[batch, l, d]`
    pub fn decode(&self, latents: Tensor<3>) -> Result<Vec<String>, Error> {
        self.decode_with(latents, &self.decode_strategy)
    }

    /// Decodes latents to texts with `strategy` instead of the pipeline's own.
    ///
    /// # Shapes
    /// - `latents`: `[batch, l, d]`
    pub fn decode_with(
        &self,
        latents: Tensor<3>,
        strategy: &DecodeStrategy,
    ) -> Result<Vec<String>, Error> {
        let ids =
            self.model
                .autoencoder()
                .decode(latents, strategy, special::BOS_ID, special::EOS_ID);
        Ok(self.model.tokenizer().decode_batch(&ids)?)
    }

    /// Latents of texts.
    ///
    /// # Shapes
    /// - output: `[texts, l, d]`
    pub fn encode<S: AsRef<str>>(&self, texts: &[S]) -> Result<Tensor<3>, Error> {
        self.model.encode(texts)
    }

    /// Generates `n` texts; example `i` uses the noise stream of `seed + i`, so any subset
    /// can be regenerated alone.
    pub fn generate(
        &self,
        n: usize,
        config: &SamplerConfig,
        seed: u64,
    ) -> Result<Vec<String>, Error> {
        self.generate_conditioned(n, config, seed, &Conditioning::none())
    }

    /// Generates with a conditioning of batch `n`.
    pub fn generate_conditioned(
        &self,
        n: usize,
        config: &SamplerConfig,
        seed: u64,
        conditioning: &Conditioning,
    ) -> Result<Vec<String>, Error> {
        let seeds = consecutive_seeds(seed, n);
        self.sample_with_seeds(&seeds, config, conditioning, &self.decode_strategy)
    }

    /// The autoencoder latents [`Self::generate`] decodes (same seeds, same latents), for
    /// decoding one sample set several ways with [`Self::decode`].
    ///
    /// # Shapes
    /// - output: `[n, l, d]`
    pub fn generate_latents(
        &self,
        n: usize,
        config: &SamplerConfig,
        seed: u64,
    ) -> Result<Tensor<3>, Error> {
        let seeds = consecutive_seeds(seed, n);
        self.model
            .sample_latents(&seeds, config, &Conditioning::none())
    }

    /// One text per noise seed.
    pub(crate) fn sample_with_seeds(
        &self,
        seeds: &[u64],
        config: &SamplerConfig,
        conditioning: &Conditioning,
        strategy: &DecodeStrategy,
    ) -> Result<Vec<String>, Error> {
        if seeds.is_empty() {
            return Ok(Vec::new());
        }
        self.decode_with(
            self.model.sample_latents(seeds, config, conditioning)?,
            strategy,
        )
    }

    /// `k ≥ 2` texts along the spherical path between the latents of `a` and `b`, both ends
    /// included.
    pub fn interpolate(&self, a: &str, b: &str, k: usize) -> Result<Vec<String>, Error> {
        self.decode(self.slerp_path(a, b, k)?)
    }

    /// Like [`Self::interpolate`], but every point of the path is noised to time `strength`
    /// with the same noise (`seed`) and denoised back before decoding, so the denoiser pulls
    /// the in-between latents, which the autoencoder alone decodes poorly, towards latents of
    /// real text. The ends come back unchanged when `strength` is small enough for editing
    /// to keep a text.
    pub fn interpolate_denoised(
        &self,
        a: &str,
        b: &str,
        k: usize,
        strength: f64,
        config: &SamplerConfig,
        seed: u64,
    ) -> Result<Vec<String>, Error> {
        // One batch, every point with the same noise stream.
        let path = self.slerp_path(a, b, k)?;
        let texts =
            self.denoised_candidates(path, strength, config, &[seed], &self.decode_strategy)?;
        Ok(texts.into_iter().flatten().collect())
    }

    /// [`Self::interpolate_denoised`] once per seed: for each of the `k` points, one text
    /// per seed (`result[point][j]` from `seeds[j]`), for picking the best at each point,
    /// e.g. with [`crate::metrics::rerank`].
    pub fn interpolate_denoised_candidates(
        &self,
        a: &str,
        b: &str,
        k: usize,
        strength: f64,
        config: &SamplerConfig,
        seeds: &[u64],
    ) -> Result<Vec<Vec<String>>, Error> {
        self.denoised_candidates(
            self.slerp_path(a, b, k)?,
            strength,
            config,
            seeds,
            &self.decode_strategy,
        )
    }

    /// [`Self::interpolate_denoised_candidates`] for the `k − 2` points strictly between
    /// the ends only (`result[i]` is point `i + 1`): the ends are neither noised nor
    /// decoded, for callers that keep them as they are, e.g. as their reconstructions.
    pub fn interpolate_denoised_interior_candidates(
        &self,
        a: &str,
        b: &str,
        k: usize,
        strength: f64,
        config: &SamplerConfig,
        seeds: &[u64],
    ) -> Result<Vec<Vec<String>>, Error> {
        let path = self.slerp_path(a, b, k)?;
        if k == 2 {
            return Ok(Vec::new());
        }
        self.denoised_candidates(
            path.narrow(0, 1, k - 2),
            strength,
            config,
            seeds,
            &self.decode_strategy,
        )
    }

    /// Every row of `path` noised to `strength` and denoised back once per seed (all rows
    /// with that seed's noise), decoded: `result[row][j]` from `seeds[j]`.
    ///
    /// # Shapes
    /// - `path`: `[k, l, d]`
    pub(crate) fn denoised_candidates(
        &self,
        path: Tensor<3>,
        strength: f64,
        config: &SamplerConfig,
        seeds: &[u64],
        strategy: &DecodeStrategy,
    ) -> Result<Vec<Vec<String>>, Error> {
        let k = path.dims()[0];
        let mut points = vec![Vec::with_capacity(seeds.len()); k];
        for &seed in seeds {
            let denoised = self.model.renoise_with_seeds(
                path.clone(),
                strength,
                config,
                &vec![seed; k],
                &Conditioning::none(),
            )?;
            for (point, text) in points.iter_mut().zip(self.decode_with(denoised, strategy)?) {
                point.push(text);
            }
        }
        Ok(points)
    }

    /// `k ≥ 2` texts between `a` and `b` through the denoiser's noise space: both latents
    /// are mapped to time `depth ∈ (0, 1]` (1: pure noise) by deterministic DDIM inversion
    /// over `steps` steps, the results are interpolated (slerp), and every point is sampled
    /// back with DDIM (η = 0) over the same steps. Each point is then a sample of the model,
    /// so the path stays among texts the model finds likely; the ends come back as `a` and
    /// `b` when the inversion is accurate (more steps: closer).
    pub fn interpolate_inverted(
        &self,
        a: &str,
        b: &str,
        k: usize,
        depth: f64,
        steps: usize,
    ) -> Result<Vec<String>, Error> {
        self.decode(self.inverted_path(a, b, k, depth, steps)?)
    }

    /// The latents [`Self::interpolate_inverted`] decodes.
    ///
    /// # Shapes
    /// - output: `[k, l, d]`
    pub(crate) fn inverted_path(
        &self,
        a: &str,
        b: &str,
        k: usize,
        depth: f64,
        steps: usize,
    ) -> Result<Tensor<3>, Error> {
        check_points(k)?;
        // Without self-conditioning both directions see the same inputs; with it, inversion
        // feeds the model near-exact estimates that sampling from noise never has, and the
        // ends no longer come back (measured on models/e2e: docs/RESULTS.md).
        let config = SamplerConfig {
            kind: SamplerKind::Ddim { eta: 0.0 },
            steps,
            t_start: depth,
            self_conditioning: false,
            ..SamplerConfig::default()
        };
        let sampler = self.model.sampler(&config)?;
        let ends = self.model.latent_stats().normalize(self.encode(&[a, b])?);
        let noise = sampler.invert(ends, &Conditioning::none())?;
        // DDIM with η = 0 draws no noise; the source only has to match the batch.
        let mut unused = NoiseSource::from_seeds(&vec![0; k]);
        let latents = sampler.sample_from(
            slerp_between_rows(noise, k),
            &Conditioning::none(),
            &mut unused,
        )?;
        Ok(self.model.latent_stats().denormalize(latents))
    }

    /// `k ≥ 2` latents along the spherical path between the latents of `a` and `b`.
    ///
    /// # Shapes
    /// - output: `[k, l, d]`
    pub(crate) fn slerp_path(&self, a: &str, b: &str, k: usize) -> Result<Tensor<3>, Error> {
        check_points(k)?;
        Ok(slerp_between_rows(self.encode(&[a, b])?, k))
    }

    /// Edits `text`: its latent is noised to time `strength ∈ (0, 1]` and denoised back
    /// (SDEdit). Small strengths keep the text, 1 ignores it.
    pub fn edit(
        &self,
        text: &str,
        strength: f64,
        config: &SamplerConfig,
        seed: u64,
    ) -> Result<String, Error> {
        self.edit_conditioned(&[text], strength, config, seed, &Conditioning::none())
            .map(|mut texts| texts.remove(0))
    }

    /// Edits a batch under a conditioning (e.g. a target class).
    pub fn edit_conditioned<S: AsRef<str>>(
        &self,
        texts: &[S],
        strength: f64,
        config: &SamplerConfig,
        seed: u64,
        conditioning: &Conditioning,
    ) -> Result<Vec<String>, Error> {
        let latents = self.encode(texts)?;
        self.decode(self.renoise_latents(latents, strength, config, seed, conditioning)?)
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
        self.model
            .renoise_latents(latents, strength, config, seed, conditioning)
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
        self.model.noised_latents(latents, strength, seed)
    }

    /// Encodes and decodes texts (the autoencoder alone).
    pub fn reconstruct<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<String>, Error> {
        let latents = self.encode(texts)?;
        self.decode(latents)
    }
}

fn check_points(k: usize) -> Result<(), Error> {
    if k < 2 {
        return Err(Error::Config(
            "interpolation needs at least 2 points".into(),
        ));
    }
    Ok(())
}

/// `k` points along the spherical path from row 0 of `ends` to row 1, both included.
///
/// # Shapes
/// - `ends`: `[2, l, d]` → `[k, l, d]`
fn slerp_between_rows(ends: Tensor<3>, k: usize) -> Tensor<3> {
    let (start, end) = (ends.clone().narrow(0, 0, 1), ends.narrow(0, 1, 1));
    let path: Vec<Tensor<3>> = (0..k)
        .map(|i| slerp(start.clone(), end.clone(), i as f64 / (k - 1) as f64))
        .collect();
    Tensor::cat(path, 0)
}
