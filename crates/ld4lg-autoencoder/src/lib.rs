//! The text autoencoder of ld4lg: text ⇄ a short, fixed-size sequence of continuous latents.
//!
//! [`Autoencoder`] = [`TextEncoder`] (bidirectional pre-LN transformer) →
//! [`PerceiverResampler`] (`l` learned queries with query-key RMSNorm) → projection to `d` and
//! a [`LatentRegularizer`] (LD4LG's √d sphere, a VAE's KL, or none) → [`LatentExpander`]
//! (the reconstruction network) → a [`ParallelDecoder`] or an [`AutoregressiveDecoder`]
//! (greedy and beam search, optionally fused with a [`TokenPrior`]). [`lerp`] and [`slerp`] interpolate between latents.

#![warn(missing_docs)]

mod autoencoder;
mod autoregressive;
mod encoder;
mod expander;
mod interpolate;
mod output;
mod parallel;
mod perceiver;
mod prior;
mod regularizer;

pub use autoencoder::{
    Autoencoder, AutoencoderConfig, AutoencoderOutput, DecodeStrategy, DecoderKind, MASK_ID,
};
pub use autoregressive::{AutoregressiveDecoder, AutoregressiveDecoderConfig, BeamSearchConfig};
pub use encoder::{TextEncoder, TextEncoderConfig};
pub use expander::{LatentExpander, LatentExpanderConfig};
pub use interpolate::{lerp, slerp};
pub use parallel::{ParallelDecoder, ParallelDecoderConfig};
pub use perceiver::{PerceiverConfig, PerceiverResampler};
pub use prior::{Fusion, PriorState, TokenPrior};
pub use regularizer::{LatentRegularizer, RegularizedLatents, kl_to_standard_normal};
