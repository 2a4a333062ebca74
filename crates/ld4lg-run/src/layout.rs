//! The layout of run and model directories: where each stage keeps its files.

use crate::Error;
use crate::checkpoint::{STATE_FILE, checkpoint_dir};
use crate::config_file::read_config;
use crate::weights::load_weights;
use burn::tensor::Device;
use ld4lg_autoencoder::{Autoencoder, AutoencoderConfig};
use ld4lg_lm::{CausalLm, CausalLmConfig};
use ld4lg_tokenizer::Tokenizer;
use std::path::{Path, PathBuf};

/// Version of the run-directory layout this release writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Checks the format version of `RUN/config.json`, when the directory has one (runs trained
/// stage by stage do not).
///
/// # Errors
/// [`Error::Checkpoint`] when the file is unreadable, has no version or another version.
pub fn check_format_version(run_dir: &Path) -> Result<(), Error> {
    #[derive(serde::Deserialize)]
    struct Versioned {
        format_version: u32,
    }
    let path = run_dir.join("config.json");
    if !path.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let found: Versioned = serde_json::from_str(&text)
        .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?;
    if found.format_version != FORMAT_VERSION {
        return Err(Error::Checkpoint(format!(
            "{} has format version {}, this release reads version {FORMAT_VERSION}",
            path.display(),
            found.format_version
        )));
    }
    Ok(())
}

/// File names inside a checkpoint directory (see [`CheckpointWriter`](crate::CheckpointWriter)).
pub mod files {
    /// Trained weights (raw, not averaged).
    pub const WEIGHTS: &str = "model.bpk";
    /// Exponential moving average of the denoiser's weights.
    pub const EMA_WEIGHTS: &str = "ema.bpk";
    /// Optimiser state.
    pub const OPTIMIZER: &str = "optimizer.bpk";
    /// Raw weights of the context encoder of source-conditioned runs.
    pub const SOURCE_ENCODER_WEIGHTS: &str = "source_encoder.bpk";
    /// Averaged weights of the context encoder.
    pub const SOURCE_ENCODER_EMA_WEIGHTS: &str = "source_encoder_ema.bpk";
}

/// The files of an autoencoder run inside a run directory.
#[derive(Debug, Clone)]
pub struct AutoencoderRun {
    /// The run directory.
    pub dir: PathBuf,
}

impl AutoencoderRun {
    /// `dir/tokenizer.json`.
    pub fn tokenizer(&self) -> PathBuf {
        self.dir.join("tokenizer.json")
    }
    /// `dir/autoencoder/`.
    pub fn stage(&self) -> PathBuf {
        self.dir.join("autoencoder")
    }
    /// The model configuration (with its vocabulary size).
    pub fn model_config(&self) -> PathBuf {
        self.stage().join("model.json")
    }
    /// The directory of the current checkpoint (see [`checkpoint_dir`](crate::checkpoint_dir)).
    pub fn checkpoint_dir(&self) -> PathBuf {
        checkpoint_dir(&self.stage())
    }
    /// The weights, in the current checkpoint.
    pub fn weights(&self) -> PathBuf {
        self.checkpoint_dir().join(files::WEIGHTS)
    }
    /// The optimiser state (AdamW moments), in the current checkpoint.
    pub fn optimizer(&self) -> PathBuf {
        self.checkpoint_dir().join(files::OPTIMIZER)
    }
    /// The training state: step, elapsed time, current checkpoint.
    pub fn state(&self) -> PathBuf {
        self.stage().join(STATE_FILE)
    }
    /// Metrics CSV, one row per validation.
    pub fn metrics(&self) -> PathBuf {
        self.stage().join("metrics.csv")
    }

    /// Reads the model configuration.
    pub fn read_model_config(&self) -> Result<AutoencoderConfig, Error> {
        read_config(&self.model_config())
    }

    /// Loads the trained tokenizer and autoencoder for inference (no autodiff).
    pub fn load(&self, device: &Device) -> Result<(Tokenizer, Autoencoder), Error> {
        let tokenizer = Tokenizer::from_file(self.tokenizer())?;
        let config = self.read_model_config()?;
        if config.vocab_size != tokenizer.vocab_size() {
            return Err(Error::Checkpoint(format!(
                "model vocabulary {} does not match the tokenizer's {}",
                config.vocab_size,
                tokenizer.vocab_size()
            )));
        }
        config.check().map_err(|message| {
            Error::Checkpoint(format!("{}: {message}", self.model_config().display()))
        })?;
        let model = load_weights(config.init(device), &self.weights())?;
        Ok((tokenizer, model))
    }
}

/// The files of the diffusion stage inside a run directory.
#[derive(Debug, Clone)]
pub struct DiffusionRun {
    /// The run directory (it also holds the autoencoder stage).
    pub dir: PathBuf,
}

impl DiffusionRun {
    /// `dir/diffusion/`.
    pub fn stage(&self) -> PathBuf {
        self.dir.join("diffusion")
    }
    /// The denoiser configuration (latent shape filled in).
    pub fn model_config(&self) -> PathBuf {
        self.stage().join("model.json")
    }
    /// The directory of the current checkpoint (see [`checkpoint_dir`](crate::checkpoint_dir)).
    pub fn checkpoint_dir(&self) -> PathBuf {
        checkpoint_dir(&self.stage())
    }
    /// The raw (not averaged) weights, in the current checkpoint.
    pub fn weights(&self) -> PathBuf {
        self.checkpoint_dir().join(files::WEIGHTS)
    }
    /// The EMA weights, used for generation, in the current checkpoint.
    pub fn ema_weights(&self) -> PathBuf {
        self.checkpoint_dir().join(files::EMA_WEIGHTS)
    }
    /// The schedule and other settings generation needs.
    pub fn diffusion_config(&self) -> PathBuf {
        self.stage().join("diffusion.json")
    }
    /// What the run is conditioned on ([`TrainedCondition`](crate::TrainedCondition)); absent for unconditional runs.
    pub fn condition(&self) -> PathBuf {
        self.stage().join("condition.json")
    }
    /// The raw weights of the context encoder (source-conditioned runs).
    pub fn source_encoder_weights(&self) -> PathBuf {
        self.checkpoint_dir().join(files::SOURCE_ENCODER_WEIGHTS)
    }
    /// The EMA weights of the context encoder, used for generation.
    pub fn source_encoder_ema_weights(&self) -> PathBuf {
        self.checkpoint_dir()
            .join(files::SOURCE_ENCODER_EMA_WEIGHTS)
    }
    /// The optimiser state (AdamW moments), in the current checkpoint.
    pub fn optimizer(&self) -> PathBuf {
        self.checkpoint_dir().join(files::OPTIMIZER)
    }
    /// The training state: step, elapsed time, current checkpoint.
    pub fn state(&self) -> PathBuf {
        self.stage().join(STATE_FILE)
    }
    /// Metrics CSV.
    pub fn metrics(&self) -> PathBuf {
        self.stage().join("metrics.csv")
    }
    /// Statistics that standardise the autoencoder's latents for the denoiser.
    pub fn latent_stats(&self) -> PathBuf {
        self.stage().join("latent_stats.json")
    }
    /// The cache of the training texts' latents (raw little-endian f32).
    pub fn latents(&self) -> PathBuf {
        self.stage().join("latents.f32")
    }
}

/// The files of a language model inside a run or model directory.
#[derive(Debug, Clone)]
pub struct LmRun {
    /// The directory.
    pub dir: PathBuf,
}

impl LmRun {
    /// `dir/tokenizer.json`.
    pub fn tokenizer(&self) -> PathBuf {
        self.dir.join("tokenizer.json")
    }
    /// `dir/lm/`.
    pub fn stage(&self) -> PathBuf {
        self.dir.join("lm")
    }
    /// The model configuration (with its vocabulary size).
    pub fn model_config(&self) -> PathBuf {
        self.stage().join("model.json")
    }
    /// The directory of the current checkpoint (see [`checkpoint_dir`](crate::checkpoint_dir)).
    pub fn checkpoint_dir(&self) -> PathBuf {
        checkpoint_dir(&self.stage())
    }
    /// The weights, in the current checkpoint.
    pub fn weights(&self) -> PathBuf {
        self.checkpoint_dir().join(files::WEIGHTS)
    }
    /// The optimiser state (AdamW moments), in the current checkpoint.
    pub fn optimizer(&self) -> PathBuf {
        self.checkpoint_dir().join(files::OPTIMIZER)
    }
    /// The training state: step, elapsed time, current checkpoint.
    pub fn state(&self) -> PathBuf {
        self.stage().join(STATE_FILE)
    }
    /// Metrics CSV, one row per validation.
    pub fn metrics(&self) -> PathBuf {
        self.stage().join("metrics.csv")
    }

    /// Whether the directory holds a language model.
    pub fn exists(&self) -> bool {
        self.model_config().is_file()
    }

    /// Loads the tokenizer and the model for inference, checking that they match.
    pub fn load(&self, device: &Device) -> Result<(Tokenizer, CausalLm), Error> {
        if !self.exists() {
            return Err(Error::Checkpoint(format!(
                "{}: no language model (train one with `ld4lg train-lm`)",
                self.model_config().display()
            )));
        }
        let tokenizer = Tokenizer::from_file(self.tokenizer())?;
        let config: CausalLmConfig = read_config(&self.model_config())?;
        config
            .check()
            .map_err(|m| Error::Checkpoint(format!("{}: {m}", self.model_config().display())))?;
        if config.vocab_size != tokenizer.vocab_size() {
            return Err(Error::Checkpoint(format!(
                "language model vocabulary {} does not match the tokenizer's {}",
                config.vocab_size,
                tokenizer.vocab_size()
            )));
        }
        let model = load_weights(config.init(device), &self.weights())?;
        Ok((tokenizer, model))
    }
}
