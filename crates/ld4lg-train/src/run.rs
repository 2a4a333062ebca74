//! A whole run: tokenizer → autoencoder → denoiser, in one run directory.

use super::autoencoder::train_autoencoder_locked;
use super::diffusion::train_diffusion_locked;
use super::{
    AutoencoderRunConfig, DiffusionRunConfig, ReconstructionMetrics, RunOptions, atomic_write,
};
use crate::Error;
use burn::tensor::Device;
use ld4lg_run::FORMAT_VERSION;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Everything needed to train a model from text, saved as `RUN/config.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Layout version; [`FORMAT_VERSION`] when written by this release.
    pub format_version: u32,
    /// Tokenizer and autoencoder stage.
    pub autoencoder: AutoencoderRunConfig,
    /// Denoiser stage.
    pub diffusion: DiffusionRunConfig,
}

/// The outcome of [`train_run`].
#[derive(Debug, Clone, Copy)]
pub struct RunReport {
    /// Reconstruction on the validation texts.
    pub reconstruction: ReconstructionMetrics,
    /// Final mean diffusion loss.
    pub diffusion_loss: f64,
}

/// Reads and checks `RUN/config.json`.
pub fn read_run_config(run_dir: &Path) -> Result<RunConfig, Error> {
    let path = run_dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let config: RunConfig = serde_json::from_str(&text)
        .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?;
    if config.format_version != FORMAT_VERSION {
        return Err(Error::Checkpoint(format!(
            "{} has format version {}, this release reads version {FORMAT_VERSION}",
            path.display(),
            config.format_version
        )));
    }
    Ok(config)
}

/// Trains every stage of `config` in `run_dir`; each stage resumes where it stopped and is
/// skipped when complete.
///
/// # Errors
/// [`Error::Locked`] when another process trains the run or exports into it.
pub fn train_run(
    config: &RunConfig,
    run_dir: &Path,
    device: &Device,
    options: &RunOptions,
) -> Result<RunReport, Error> {
    if config.format_version != FORMAT_VERSION {
        return Err(Error::Config(format!(
            "format_version {} is not {FORMAT_VERSION}",
            config.format_version
        )));
    }
    let _lock = ld4lg_run::RunLock::acquire(run_dir)?;
    let json = serde_json::to_vec_pretty(config).map_err(|e| Error::Checkpoint(e.to_string()))?;
    atomic_write(&run_dir.join("config.json"), &json)?;
    let reconstruction = train_autoencoder_locked(&config.autoencoder, run_dir, device, options)?;
    let diffusion_loss = train_diffusion_locked(&config.diffusion, run_dir, device, options)?;
    Ok(RunReport {
        reconstruction,
        diffusion_loss,
    })
}
