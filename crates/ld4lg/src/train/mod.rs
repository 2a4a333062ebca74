//! Training loops, with resumable checkpoints in a run directory.

mod autoencoder;
mod checkpoint;
mod common;
mod condition;
mod data_order;
mod denoised;
mod diffusion;
mod ema;
mod export;
mod latent_stats;
mod lm;
mod lr;
mod run;

pub(crate) use autoencoder::reconstruction_through;
pub use autoencoder::{
    AutoencoderRun, AutoencoderRunConfig, LongTextOversampling, ReconstructionMetrics, RunOptions,
    TrainingConfig, evaluate_reconstruction, train_autoencoder,
};
pub use checkpoint::{TrainingState, atomic_write};
pub use condition::{
    ConditionConfig, DiffusionModel, SourceEncoderConfig, TrainedCondition, encode_sources,
};
pub use denoised::DenoisedLatentsConfig;
pub use diffusion::{
    DiffusionLoss, DiffusionRun, DiffusionRunConfig, load_denoiser, load_diffusion_model,
    load_latent_stats, train_diffusion,
};
pub use ema::{EmaConfig, update_ema};
pub use export::{export_run, load_weights, save_half};
pub use latent_stats::LatentStats;
pub use lm::{LmMetrics, LmRun, LmRunConfig, evaluate_lm, train_lm};
pub use lr::{Decay, LrSchedule};
pub use run::{FORMAT_VERSION, RunConfig, RunReport, read_run_config, train_run};
