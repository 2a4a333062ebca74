//! # ld4lg-train — training loops with resumable checkpoints
//!
//! Each stage of a model trains into a run directory (its layout is [`ld4lg_run`]) and
//! resumes from its last checkpoint: the tokenizer and text autoencoder
//! ([`train_autoencoder`]), the latent denoiser on the autoencoder's latents
//! ([`train_diffusion`]), the causal language model used for fluency ([`train_lm`]), or all of
//! a [`RunConfig`] in one call ([`train_run`]). Data order and every random draw are functions
//! of the seed and the step, so a resumed run continues as an uninterrupted one would.
//! [`export_run`] keeps what generation needs, in half precision.
//!
//! The run-directory types are re-exported here, so a training program needs this crate only.

#![warn(missing_docs)]

mod autoencoder;
mod common;
mod condition;
mod data_order;
mod denoised;
mod diffusion;
mod ema;
mod export;
mod lm;
mod lr;
mod objective;
mod progress;
mod run;

pub use autoencoder::{
    AutoencoderRunConfig, LongTextOversampling, ReconstructionMetrics, TrainingConfig,
    evaluate_reconstruction, reconstruction_through, train_autoencoder,
};
pub use condition::{ConditionConfig, SourceEncoderConfig};
pub use denoised::DenoisedLatentsConfig;
pub use diffusion::{DiffusionLoss, DiffusionRunConfig, train_diffusion};
pub use ema::{EmaConfig, update_ema};
pub use export::export_run;
pub use ld4lg_run::{
    AutoencoderRun, DiffusionModel, DiffusionRun, Error, FORMAT_VERSION, LatentStats, LmRun,
    TrainedCondition, TrainingState, atomic_write, encode_sources, load_denoiser,
    load_diffusion_model, load_latent_stats, load_weights, save_half,
};
pub use lm::{LmMetrics, LmRunConfig, evaluate_lm, train_lm};
pub use lr::{Decay, LrSchedule};
pub use objective::DiffusionObjective;
pub use progress::{ProgressCallback, RunOptions, TrainingEvent};
pub use run::{RunConfig, RunReport, read_run_config, train_run};
