//! The latent denoiser of ld4lg: a transformer over the `l` latent vectors, conditioned on
//! the noise level by adaptive layer norm, with self-conditioning, class conditioning and
//! cross-attention to a context; it implements the sampler's [`ld4lg_sampler::Denoiser`].

#![warn(missing_docs)]

mod block;
mod denoiser;
mod time;

pub use block::{AdaLnBlock, AdaLnBlockConfig};
pub use denoiser::{LatentDenoiser, LatentDenoiserConfig};
pub use time::{NoiseLevelEmbedding, NoiseLevelEmbeddingConfig, sinusoidal};
