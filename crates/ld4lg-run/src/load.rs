//! Loading the diffusion stage of a trained run for generation.

use crate::condition::{DiffusionModel, TrainedCondition};
use crate::config_file::read_config;
use crate::layout::DiffusionRun;
use crate::weights::load_weights;
use crate::{Error, LatentStats};
use burn::tensor::Device;
use ld4lg_denoiser::{LatentDenoiser, LatentDenoiserConfig};
use ld4lg_schedule::NoiseSchedule;
use std::path::Path;

/// Loads a trained denoiser (EMA weights) and its schedule for generation.
pub fn load_denoiser(
    run_dir: &Path,
    device: &Device,
) -> Result<(LatentDenoiser, NoiseSchedule), Error> {
    let run = DiffusionRun {
        dir: run_dir.to_path_buf(),
    };
    let config: LatentDenoiserConfig = read_config(&run.model_config())?;
    let schedule: NoiseSchedule = read_config(&run.diffusion_config())?;
    let model = load_weights(config.init(device), &run.ema_weights())?;
    Ok((model, schedule))
}

/// The latent statistics of a trained run (the identity for runs trained before latent
/// standardisation, which have no statistics file).
pub fn load_latent_stats(run_dir: &Path, shape: [usize; 2]) -> Result<LatentStats, Error> {
    let run = DiffusionRun {
        dir: run_dir.to_path_buf(),
    };
    LatentStats::load_or_identity(&run.latent_stats(), shape)
}

/// Loads a trained run's EMA denoiser (and context encoder), its schedule and what it is
/// conditioned on, for generation.
pub fn load_diffusion_model(
    run_dir: &Path,
    device: &Device,
) -> Result<(DiffusionModel, NoiseSchedule, TrainedCondition), Error> {
    let run = DiffusionRun {
        dir: run_dir.to_path_buf(),
    };
    let (denoiser, schedule) = load_denoiser(run_dir, device)?;
    let condition = TrainedCondition::load(&run.condition())?;
    let source_encoder = match &condition {
        TrainedCondition::Source { encoder } => Some(load_weights(
            encoder.init(device),
            &run.source_encoder_ema_weights(),
        )?),
        _ => None,
    };
    Ok((
        DiffusionModel {
            denoiser,
            source_encoder,
        },
        schedule,
        condition,
    ))
}
