use crate::Conditioning;
use burn::tensor::Tensor;
use ld4lg_schedule::PredictionType;

/// One call of a denoiser: noisy latents at their noise levels, plus what it may use.
#[derive(Debug, Clone)]
pub struct DenoiserInput<'a> {
    /// Noisy latents `z_t`, `[batch, l, d]`.
    pub z_t: Tensor<3>,
    /// Diffusion time of each example, `[batch]`.
    pub t: Tensor<1>,
    /// Signal level ᾱ(t) of each example, `[batch]` (LD4LG embeds ᾱ·1000 rather than t).
    pub alpha_bar: Tensor<1>,
    /// The previous step's x̂₀ for self-conditioning, `[batch, l, d]`; `None` on the first step.
    pub self_cond: Option<Tensor<3>>,
    /// Class or context conditioning.
    pub conditioning: &'a Conditioning,
}

/// What a sampler needs of a network: one prediction per call.
///
/// Implemented by ld4lg's transformer denoiser, and by anything else that can be sampled:
/// baselines, or closed-form denoisers in tests.
pub trait Denoiser {
    /// What [`Denoiser::predict`] returns.
    fn prediction_type(&self) -> PredictionType;

    /// The model output for `input`, `[batch, l, d]`.
    fn predict(&self, input: DenoiserInput<'_>) -> Tensor<3>;
}

impl<T: Denoiser + ?Sized> Denoiser for &T {
    fn prediction_type(&self) -> PredictionType {
        (**self).prediction_type()
    }

    fn predict(&self, input: DenoiserInput<'_>) -> Tensor<3> {
        (**self).predict(input)
    }
}
