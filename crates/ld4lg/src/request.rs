//! One request per task: everything a call of [`LatentDiffusionPipeline`] needs (how many,
//! which seeds, the sampler, what it is conditioned on, how latents are decoded) in one value,
//! so a program does not reconfigure the pipeline between calls.
//!
//! ```no_run
//! use ld4lg::metrics::MbrSimilarity;
//! use ld4lg::pick::CandidatePicker;
//! use ld4lg::pipeline::LatentDiffusionPipeline;
//! use ld4lg::request::{GenerateRequest, InterpolateRequest, InterpolationPath};
//!
//! let device = ld4lg::burn::tensor::Device::flex();
//! let pipeline = LatentDiffusionPipeline::load("models/e2e".as_ref(), &device)?;
//! // 10 texts, each the MBR pick among 4 samples.
//! let request = GenerateRequest::new(10).with_candidates(4).with_seed(7);
//! let texts = pipeline.generate_with(&request, &CandidatePicker::mbr(MbrSimilarity::Bleu))?;
//! // 5 points between two texts, every point noised to t = 0.4 and denoised back.
//! let path = InterpolateRequest::new("The Eagle is cheap.", "The Mill is a pub.", 5)
//!     .with_path(InterpolationPath::Denoised { strength: 0.4, keep_ends: true });
//! let points = pipeline.interpolate_with(&path, &CandidatePicker::first())?;
//! # Ok::<(), ld4lg::Error>(())
//! ```

use crate::Error;
use crate::autoencoder::DecodeStrategy;
use crate::pick::CandidatePicker;
use crate::pipeline::LatentDiffusionPipeline;
use crate::run::consecutive_seeds;
use crate::sampler::{Conditioning, SamplerConfig};

/// What a generation is conditioned on.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum Condition {
    /// Nothing (or the null class or context of a conditional model).
    #[default]
    None,
    /// A class of a class-conditional model, by name.
    Class(String),
    /// Source texts of a source-conditional model, one output per source.
    Sources(Vec<String>),
}

/// A generation: `n` outputs (one per source with [`Condition::Sources`]), each with
/// `candidates` samples. Candidate `j` of output `i` uses the noise stream of
/// `seed + i·candidates + j`, so the samples do not depend on the batch size and any output
/// can be redone alone.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    /// Outputs (ignored with [`Condition::Sources`]: one per source).
    pub n: usize,
    /// Samples per output. Default: 1.
    pub candidates: usize,
    /// Seed of the first sample. Default: 1.
    pub seed: u64,
    /// Sampler and guidance. Default: DPM-Solver++ 2M.
    pub sampler: SamplerConfig,
    /// What the samples are conditioned on. Default: nothing.
    pub condition: Condition,
    /// How latents are decoded; `None`: the pipeline's strategy.
    pub decode: Option<DecodeStrategy>,
    /// Samples per denoiser batch. Default: 100.
    pub batch_size: usize,
}

impl GenerateRequest {
    /// `n` outputs, one sample each, every other setting at its default.
    pub fn new(n: usize) -> Self {
        Self {
            n,
            candidates: 1,
            seed: 1,
            sampler: SamplerConfig::default(),
            condition: Condition::None,
            decode: None,
            batch_size: 100,
        }
    }

    /// One output per source text.
    pub fn for_sources(sources: Vec<String>) -> Self {
        Self {
            n: sources.len(),
            condition: Condition::Sources(sources),
            ..Self::new(0)
        }
    }

    /// `candidates` samples per output.
    pub fn with_candidates(mut self, candidates: usize) -> Self {
        self.candidates = candidates;
        self
    }

    /// The seed of the first sample.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The sampler.
    pub fn with_sampler(mut self, sampler: SamplerConfig) -> Self {
        self.sampler = sampler;
        self
    }

    /// Conditioned on class `name`.
    pub fn with_class(mut self, name: impl Into<String>) -> Self {
        self.condition = Condition::Class(name.into());
        self
    }

    /// Decoded with `strategy` instead of the pipeline's.
    pub fn with_decode(mut self, strategy: DecodeStrategy) -> Self {
        self.decode = Some(strategy);
        self
    }

    /// Samples per denoiser batch.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    fn check(&self) -> Result<(), Error> {
        if self.candidates == 0 {
            return Err(Error::Config("candidates must be positive".into()));
        }
        if self.batch_size == 0 {
            return Err(Error::Config("the batch size must be positive".into()));
        }
        Ok(())
    }
}

/// An edit of texts: each latent noised to `strength ∈ (0, 1]` and denoised back, text `i`
/// with the noise stream of `seed + i`.
#[derive(Debug, Clone)]
pub struct EditRequest {
    /// The texts.
    pub texts: Vec<String>,
    /// Diffusion time to noise to: small keeps the text, 1 ignores it.
    pub strength: f64,
    /// Seed of the first text's noise. Default: 1.
    pub seed: u64,
    /// Sampler and guidance. Default: DPM-Solver++ 2M.
    pub sampler: SamplerConfig,
    /// The class to edit towards, if any (style transfer).
    pub class: Option<String>,
    /// How latents are decoded; `None`: the pipeline's strategy.
    pub decode: Option<DecodeStrategy>,
    /// Texts per denoiser batch. Default: 100.
    pub batch_size: usize,
}

impl EditRequest {
    /// Edits `texts` at `strength`, every other setting at its default.
    pub fn new(texts: Vec<String>, strength: f64) -> Self {
        Self {
            texts,
            strength,
            seed: 1,
            sampler: SamplerConfig::default(),
            class: None,
            decode: None,
            batch_size: 100,
        }
    }

    /// The seed of the first text's noise.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The sampler.
    pub fn with_sampler(mut self, sampler: SamplerConfig) -> Self {
        self.sampler = sampler;
        self
    }

    /// Towards class `name`.
    pub fn with_class(mut self, name: impl Into<String>) -> Self {
        self.class = Some(name.into());
        self
    }

    /// Decoded with `strategy` instead of the pipeline's.
    pub fn with_decode(mut self, strategy: DecodeStrategy) -> Self {
        self.decode = Some(strategy);
        self
    }

    /// Texts per denoiser batch.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }
}

/// How the points between two texts are made.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum InterpolationPath {
    /// The spherical path between the two latents, decoded as it is.
    Latent,
    /// Every point of the spherical path noised to `strength` and denoised back, once per
    /// seed of the request; with `keep_ends`, the ends are the texts' reconstructions and
    /// only the points between them are denoised.
    Denoised {
        /// Diffusion time the points are noised to.
        strength: f64,
        /// Keep the ends as reconstructed.
        keep_ends: bool,
    },
    /// Both latents DDIM-inverted to time `depth` over `steps` steps, interpolated there and
    /// sampled back: every point is a sample of the model. The request's sampler and seeds
    /// are not used.
    Inverted {
        /// Diffusion time of the inversion (1: pure noise).
        depth: f64,
        /// DDIM steps each way.
        steps: usize,
    },
}

/// An interpolation between two texts: `points ≥ 2` texts, both ends included.
#[derive(Debug, Clone)]
pub struct InterpolateRequest {
    /// The start text.
    pub from: String,
    /// The end text.
    pub to: String,
    /// Texts along the path, both ends included.
    pub points: usize,
    /// How the points are made. Default: [`InterpolationPath::Latent`].
    pub path: InterpolationPath,
    /// Sampler of [`InterpolationPath::Denoised`]. Default: DPM-Solver++ 2M, 25 steps.
    pub sampler: SamplerConfig,
    /// One candidate per seed at each denoised point (all points of a candidate share its
    /// noise). Default: `[1]`.
    pub seeds: Vec<u64>,
    /// How latents are decoded; `None`: the pipeline's strategy.
    pub decode: Option<DecodeStrategy>,
    /// How the kept ends are decoded; `None`: the pipeline's strategy (their latents are
    /// exact, so a prior that steers the decoding only pulls them towards the corpus).
    pub ends_decode: Option<DecodeStrategy>,
}

impl InterpolateRequest {
    /// `points` texts from `from` to `to` along the latent path.
    pub fn new(from: impl Into<String>, to: impl Into<String>, points: usize) -> Self {
        Self {
            from: from.into(),
            to: to.into(),
            points,
            path: InterpolationPath::Latent,
            sampler: SamplerConfig {
                steps: 25,
                ..SamplerConfig::default()
            },
            seeds: vec![1],
            decode: None,
            ends_decode: None,
        }
    }

    /// How the points are made.
    pub fn with_path(mut self, path: InterpolationPath) -> Self {
        self.path = path;
        self
    }

    /// The sampler of a denoised path.
    pub fn with_sampler(mut self, sampler: SamplerConfig) -> Self {
        self.sampler = sampler;
        self
    }

    /// One candidate per seed at each denoised point.
    pub fn with_seeds(mut self, seeds: Vec<u64>) -> Self {
        self.seeds = seeds;
        self
    }

    /// Decoded with `strategy` instead of the pipeline's.
    pub fn with_decode(mut self, strategy: DecodeStrategy) -> Self {
        self.decode = Some(strategy);
        self
    }

    /// The kept ends decoded with `strategy`.
    pub fn with_ends_decode(mut self, strategy: DecodeStrategy) -> Self {
        self.ends_decode = Some(strategy);
        self
    }
}

impl LatentDiffusionPipeline {
    /// The samples of `request`: one candidate set per output, `request.candidates` texts
    /// each (an empty set for an empty source).
    ///
    /// # Errors
    /// [`Error::Config`] for zero candidates or batch size, an unknown class, or sources for
    /// a model not conditioned on them; [`Error::Sampler`] for a sampler configuration the
    /// run cannot use.
    pub fn generate_candidates(
        &self,
        request: &GenerateRequest,
    ) -> Result<Vec<Vec<String>>, Error> {
        let mut sets = Vec::new();
        self.generate_candidates_each(request, |chunk| {
            sets.extend(chunk);
            Ok(())
        })?;
        Ok(sets)
    }

    /// [`Self::generate_candidates`] handing the candidate sets to `on_sets` as each batch
    /// completes them, in order, so that a long generation holds one batch in memory and
    /// its output can be written as it goes. The sets are the same as those of
    /// [`Self::generate_candidates`] whatever the batch size.
    ///
    /// # Errors
    /// As [`Self::generate_candidates`], and the first error `on_sets` returns (which stops
    /// the generation).
    pub fn generate_candidates_each(
        &self,
        request: &GenerateRequest,
        mut on_sets: impl FnMut(Vec<Vec<String>>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        request.check()?;
        let strategy = request.decode.as_ref().unwrap_or(self.decode_strategy());
        let k = request.candidates;
        if let Condition::Sources(sources) = &request.condition {
            let per_batch = (request.batch_size / k).max(1);
            for (b, chunk) in sources.chunks(per_batch).enumerate() {
                // Source i's candidates use seed + i·k + j, whatever the batch.
                let seed = request.seed.wrapping_add((b * per_batch * k) as u64);
                on_sets(self.sources_with(chunk, k, &request.sampler, seed, strategy)?)?;
            }
            return Ok(());
        }
        let class = match &request.condition {
            Condition::Class(name) => {
                // Fail before any work on an unknown class.
                self.condition().class_id(name)?;
                Some(name.as_str())
            }
            _ => None,
        };
        let total = request
            .n
            .checked_mul(k)
            .ok_or_else(|| Error::Config("outputs × candidates is too large".into()))?;
        // Samples of a set can straddle two batches: the incomplete set waits here.
        let mut pending: Vec<String> = Vec::new();
        let mut done = 0;
        while done < total {
            let batch = request.batch_size.min(total - done);
            let seeds = consecutive_seeds(request.seed.wrapping_add(done as u64), batch);
            let conditioning = match class {
                Some(name) => self.class_conditioning(name, batch)?,
                None => Conditioning::none(),
            };
            pending.extend(self.sample_with_seeds(
                &seeds,
                &request.sampler,
                &conditioning,
                strategy,
            )?);
            done += batch;
            let complete = pending.len() / k * k;
            let rest = pending.split_off(complete);
            let sets = pending.chunks(k).map(<[String]>::to_vec).collect();
            pending = rest;
            on_sets(sets)?;
        }
        Ok(())
    }

    /// One text per output of `request`, picked among its candidates by `picker`.
    ///
    /// # Errors
    /// As [`Self::generate_candidates`], and from the picker's fluency model.
    pub fn generate_with(
        &self,
        request: &GenerateRequest,
        picker: &CandidatePicker,
    ) -> Result<Vec<String>, Error> {
        picker.pick_each(&self.generate_candidates(request)?)
    }

    /// The edited texts of `request`, in order.
    ///
    /// # Errors
    /// [`Error::Config`] for a strength outside (0, 1], a zero batch size or an unknown class.
    pub fn edit_with(&self, request: &EditRequest) -> Result<Vec<String>, Error> {
        if request.batch_size == 0 {
            return Err(Error::Config("the batch size must be positive".into()));
        }
        if let Some(name) = &request.class {
            self.condition().class_id(name)?;
        }
        let strategy = request.decode.as_ref().unwrap_or(self.decode_strategy());
        let mut edited = Vec::with_capacity(request.texts.len());
        for (b, chunk) in request.texts.chunks(request.batch_size).enumerate() {
            // Text i uses the noise stream seed + i, whatever the batch size.
            let seed = request.seed.wrapping_add((b * request.batch_size) as u64);
            let conditioning = match &request.class {
                Some(name) => self.class_conditioning(name, chunk.len())?,
                None => Conditioning::none(),
            };
            let latents = self.renoise_latents(
                self.encode(chunk)?,
                request.strength,
                &request.sampler,
                seed,
                &conditioning,
            )?;
            edited.extend(self.decode_with(latents, strategy)?);
        }
        Ok(edited)
    }

    /// The candidates of every point of `request`, from `from` to `to`: one per seed at the
    /// denoised points, one at the ends when they are kept and along undenoised paths.
    ///
    /// # Errors
    /// [`Error::Config`] for fewer than 2 points, no seeds on a denoised path, or a strength
    /// outside (0, 1]; [`Error::Sampler`] for a sampler configuration (or inversion depth) the
    /// run cannot use.
    pub fn interpolate_candidates(
        &self,
        request: &InterpolateRequest,
    ) -> Result<Vec<Vec<String>>, Error> {
        let strategy = request.decode.as_ref().unwrap_or(self.decode_strategy());
        let (a, b, k) = (request.from.as_str(), request.to.as_str(), request.points);
        let single = |texts: Vec<String>| texts.into_iter().map(|t| vec![t]).collect();
        match request.path {
            InterpolationPath::Latent => Ok(single(
                self.decode_with(self.slerp_path(a, b, k)?, strategy)?,
            )),
            InterpolationPath::Inverted { depth, steps } => Ok(single(
                self.decode_with(self.inverted_path(a, b, k, depth, steps)?, strategy)?,
            )),
            InterpolationPath::Denoised {
                strength,
                keep_ends,
            } => {
                if request.seeds.is_empty() {
                    return Err(Error::Config(
                        "a denoised interpolation needs at least one seed".into(),
                    ));
                }
                let path = self.slerp_path(a, b, k)?;
                if !keep_ends {
                    return self.denoised_candidates(
                        path,
                        strength,
                        &request.sampler,
                        &request.seeds,
                        strategy,
                    );
                }
                let interior = if k > 2 {
                    self.denoised_candidates(
                        path.narrow(0, 1, k - 2),
                        strength,
                        &request.sampler,
                        &request.seeds,
                        strategy,
                    )?
                } else {
                    Vec::new()
                };
                let ends_strategy = request
                    .ends_decode
                    .as_ref()
                    .unwrap_or(self.decode_strategy());
                let mut ends = self.decode_with(self.encode(&[a, b])?, ends_strategy)?;
                let last = ends.pop().expect("two ends");
                let first = ends.pop().expect("two ends");
                let mut points = vec![vec![first]];
                points.extend(interior);
                points.push(vec![last]);
                Ok(points)
            }
        }
    }

    /// The `points` texts of `request`, each picked among its candidates by `picker`.
    ///
    /// # Errors
    /// As [`Self::interpolate_candidates`], and from the picker's fluency model.
    pub fn interpolate_with(
        &self,
        request: &InterpolateRequest,
        picker: &CandidatePicker,
    ) -> Result<Vec<String>, Error> {
        picker.pick_each(&self.interpolate_candidates(request)?)
    }
}
