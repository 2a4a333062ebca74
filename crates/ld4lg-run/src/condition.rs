//! What a trained denoiser is conditioned on, and the denoiser with its context encoder.

use crate::Error;
use burn::module::Module;
use burn::tensor::Device;
use ld4lg_autoencoder::{TextEncoder, TextEncoderConfig};
use ld4lg_denoiser::{LatentDenoiser, LatentDenoiserConfig};
use ld4lg_sampler::Conditioning;
use ld4lg_tokenizer::{EncodeOptions, Tokenizer};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What a trained run is conditioned on, saved as `diffusion/condition.json` (runs without
/// the file are unconditional).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TrainedCondition {
    /// Unconditional.
    #[default]
    None,
    /// Class-conditional; class `i` is `classes[i]`.
    Class {
        /// Class names in id order.
        classes: Vec<String>,
    },
    /// Source-conditional, with this context encoder.
    Source {
        /// The context encoder's configuration.
        encoder: TextEncoderConfig,
    },
}

impl TrainedCondition {
    /// Reads `path`, or `None` when it does not exist.
    pub fn load(path: &Path) -> Result<Self, Error> {
        if !path.exists() {
            return Ok(Self::None);
        }
        crate::read_config(path)
    }

    /// The denoiser configuration with its class count or context width set.
    pub fn configure(&self, denoiser: LatentDenoiserConfig) -> LatentDenoiserConfig {
        match self {
            Self::None => denoiser.with_num_classes(None).with_d_context(None),
            Self::Class { classes } => denoiser
                .with_num_classes(Some(classes.len()))
                .with_d_context(None),
            Self::Source { encoder } => denoiser
                .with_num_classes(None)
                .with_d_context(Some(encoder.d_model)),
        }
    }

    /// The class id of `name`.
    ///
    /// # Errors
    /// [`Error::Config`] when the run has no classes or none of that name.
    pub fn class_id(&self, name: &str) -> Result<usize, Error> {
        match self {
            Self::Class { classes } => classes.iter().position(|c| c == name).ok_or_else(|| {
                Error::Config(format!(
                    "unknown class `{name}`; this model knows {}",
                    classes.join(", ")
                ))
            }),
            _ => Err(Error::Config(
                "this model is not class-conditional".to_owned(),
            )),
        }
    }
}

/// The denoiser and, for source-conditioned runs, its context encoder: what diffusion
/// training optimises.
#[derive(Module, Debug)]
pub struct DiffusionModel {
    /// The latent denoiser.
    pub denoiser: LatentDenoiser,
    /// The context encoder of source-conditioned runs.
    pub source_encoder: Option<TextEncoder>,
}

impl DiffusionModel {
    /// Builds both parts.
    pub fn init(
        denoiser: &LatentDenoiserConfig,
        condition: &TrainedCondition,
        device: &Device,
    ) -> Self {
        Self {
            denoiser: denoiser.init(device),
            source_encoder: match condition {
                TrainedCondition::Source { encoder } => Some(encoder.init(device)),
                _ => None,
            },
        }
    }
}

/// Cross-attention conditioning on `sources`, read by `encoder`.
pub fn encode_sources<S: AsRef<str>>(
    encoder: &TextEncoder,
    tokenizer: &Tokenizer,
    sources: &[S],
    device: &Device,
) -> Result<Conditioning, Error> {
    let batch = tokenizer.encode_batch(sources, EncodeOptions::new(encoder.max_len()))?;
    let (ids, padding) = batch.to_tensors(device);
    let context = encoder.forward(ids, padding.clone());
    Ok(Conditioning::context(context, padding))
}
