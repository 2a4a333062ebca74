//! Training loops, with resumable checkpoints in a run directory.

mod autoencoder;
mod checkpoint;
mod diffusion;
mod ema;
mod lr;

pub use autoencoder::{
    AutoencoderRun, AutoencoderRunConfig, ReconstructionMetrics, RunOptions, TrainingConfig,
    evaluate_reconstruction, train_autoencoder,
};
pub use checkpoint::{TrainingState, atomic_write};
pub use diffusion::{
    DiffusionLoss, DiffusionRun, DiffusionRunConfig, load_denoiser, train_diffusion,
};
pub use ema::{EmaConfig, update_ema};
pub use lr::{Decay, LrSchedule};
