//! # ld4lg-run — run directories and the models loaded from them
//!
//! Training writes everything of a model into one run directory and resumes from it;
//! generation loads from it, or from an exported model directory of the same layout. This
//! crate is that layout, read and written in one place:
//!
//! - [`AutoencoderRun`], [`DiffusionRun`], [`LmRun`]: where each stage keeps its files, and
//!   loading its model for inference;
//! - [`TrainingState`] and [`atomic_write`]: checkpoints that a crash never leaves
//!   half-written; [`load_weights`], [`save_module`], [`save_half`]: weight files;
//! - [`LatentStats`], [`TrainedCondition`], [`DiffusionModel`]: what the diffusion stage
//!   records besides its weights;
//! - [`LatentModel`]: a trained model at the level of latents (encode, sample, renoise),
//!   which both the generation pipeline and training build on.
//!
//! ```no_run
//! use ld4lg_run::LatentModel;
//! use ld4lg_sampler::{Conditioning, SamplerConfig};
//!
//! let device = burn::tensor::Device::flex();
//! let model = LatentModel::load("models/e2e".as_ref(), &device)?;
//! let latents = model.sample_latents(&[1, 2], &SamplerConfig::default(), &Conditioning::none())?;
//! assert_eq!(latents.dims()[0], 2);
//! # Ok::<(), ld4lg_run::Error>(())
//! ```

#![warn(missing_docs)]

mod checkpoint;
mod condition;
mod error;
mod latent_stats;
mod layout;
mod load;
mod model;
mod weights;

pub use checkpoint::{TrainingState, atomic_write};
pub use condition::{DiffusionModel, TrainedCondition, encode_sources};
pub use error::Error;
pub use latent_stats::LatentStats;
pub use layout::{AutoencoderRun, DiffusionRun, FORMAT_VERSION, LmRun, check_format_version};
pub use load::{load_denoiser, load_diffusion_model, load_latent_stats};
pub use model::{LatentModel, consecutive_seeds};
pub use weights::{load_weights, save_half, save_module};
