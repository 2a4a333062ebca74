//! How much of a text survives noise: the denoiser against the decoder alone.
//!
//! Texts are encoded, noised to a time `t`, and either denoised back by the sampler (the
//! denoiser's estimate) or simply rescaled by `1/√ᾱ(t)` (what the decoder alone makes of the
//! same corruption, with the same noise). Both are decoded and scored against the texts. A
//! denoiser that has learnt the latent distribution recovers far more than the decoder alone;
//! one that has not stays close to it. Sample quality follows the denoised column at the
//! middle noise levels, so this is a cheap check of a run long before a full evaluation.

use crate::Error;
use crate::autoencoder::DecodeStrategy;
use crate::pipeline::LatentDiffusionPipeline;
use crate::sampler::{Conditioning, SamplerConfig, SamplerKind};
use crate::train::{ReconstructionMetrics, reconstruction_through};

/// Reconstruction through noise at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeRow {
    /// Diffusion time the latents were noised to.
    pub strength: f64,
    /// Signal level ᾱ at that time.
    pub alpha_bar: f64,
    /// Decoding `z_t / √ᾱ` directly.
    pub decoder_alone: ReconstructionMetrics,
    /// Decoding the sampler's estimate started from `z_t`.
    pub denoised: ReconstructionMetrics,
}

/// The sampler the probe uses by default: one deterministic DDIM step, i.e. the denoiser's
/// x̂₀ estimate itself.
pub fn one_step() -> SamplerConfig {
    SamplerConfig {
        kind: SamplerKind::Ddim { eta: 0.0 },
        steps: 1,
        ..SamplerConfig::default()
    }
}

/// Probes `pipeline` at each of `strengths` on `texts` (text `k` draws its noise from
/// `seed + k`), without conditioning (the null class or context of conditional runs).
///
/// # Errors
/// [`Error::Config`] for a strength outside (0, 1], [`Error::Sampler`] for a sampler
/// configuration the run refuses; tokenizer errors for texts that cannot be encoded.
pub fn probe_denoiser(
    pipeline: &LatentDiffusionPipeline,
    texts: &[String],
    strengths: &[f64],
    config: &SamplerConfig,
    batch_size: usize,
    seed: u64,
) -> Result<Vec<ProbeRow>, Error> {
    let score = |transform: &dyn Fn(usize, _) -> Result<_, Error>| {
        reconstruction_through(
            pipeline.autoencoder(),
            pipeline.tokenizer(),
            texts,
            &DecodeStrategy::Greedy,
            batch_size,
            pipeline.device(),
            transform,
        )
        .map(|(metrics, _)| metrics)
    };
    strengths
        .iter()
        .map(|&strength| {
            let chunk_seed = |start: usize| seed.wrapping_add(start as u64);
            let decoder_alone = score(&|start, latents| {
                pipeline.noised_latents(latents, strength, chunk_seed(start))
            })?;
            let denoised = score(&|start, latents| {
                pipeline.renoise_latents(
                    latents,
                    strength,
                    config,
                    chunk_seed(start),
                    &Conditioning::none(),
                )
            })?;
            Ok(ProbeRow {
                strength,
                alpha_bar: pipeline.schedule().alpha_bar(strength),
                decoder_alone,
                denoised,
            })
        })
        .collect()
}
