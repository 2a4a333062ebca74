//! # ld4lg-run — run directories and the models loaded from them
//!
//! Training writes everything of a model into one run directory and resumes from it;
//! generation loads from it, or from an exported model directory of the same layout. This
//! crate is that layout, read and written in one place:
//!
//! - [`AutoencoderRun`], [`DiffusionRun`], [`LmRun`]: where each stage keeps its files, and
//!   loading its model for inference;
//! - [`TrainingState`], [`CheckpointWriter`] and [`atomic_write`]: checkpoints committed as
//!   one unit, which a killed process never leaves half-written; [`load_weights`],
//!   [`save_module`], [`save_half`]: weight files;
//! - [`RunLock`]: one writer per run directory; [`Manifest`]: SHA-256 of every weight file,
//!   checked when it loads;
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
mod config_file;
mod error;
mod latent_stats;
mod layout;
mod load;
mod lock;
mod manifest;
mod model;
mod weights;

pub use checkpoint::{
    CheckpointWriter, MetricWindow, STATE_FILE, TrainingState, atomic_write, checkpoint_dir,
};
pub use condition::{DiffusionModel, TrainedCondition, encode_sources};
pub use config_file::{parse_config, read_config};
pub use error::Error;
pub use latent_stats::LatentStats;
pub use layout::{
    AutoencoderRun, DiffusionRun, FORMAT_VERSION, LmRun, check_format_version, files,
};
pub use load::{load_denoiser, load_diffusion_model, load_latent_stats};
pub use lock::{LOCK_FILE, RunLock};
pub use manifest::{
    FileDigest, MANIFEST_FILE, Manifest, Verification, WEIGHT_EXTENSION, digest_file,
    verify_or_warn, weight_directories,
};
pub use model::{LatentModel, consecutive_seeds};
pub use weights::{load_weights, save_half, save_module, sync_file};
