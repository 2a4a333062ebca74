//! Training loops, with resumable checkpoints in a run directory.

mod autoencoder;
mod checkpoint;
mod lr;

pub use autoencoder::{
    AutoencoderRun, AutoencoderRunConfig, ReconstructionMetrics, RunOptions, TrainingConfig,
    evaluate_reconstruction, train_autoencoder,
};
pub use checkpoint::{TrainingState, atomic_write};
pub use lr::{Decay, LrSchedule};
