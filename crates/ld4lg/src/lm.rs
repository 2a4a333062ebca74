//! A neural fluency model: a small causal transformer ([`ld4lg_lm::CausalLm`]) trained on a
//! corpus with the autoencoder's tokenizer, which scores texts by their mean log-probability
//! per token. It sees a whole sentence where a word n-gram model
//! ([`crate::metrics::NgramLm`]) sees five words, so it can tell a blend of two sentences
//! from a sentence.
//!
//! Train one with [`crate::train::train_lm`] (`ld4lg train-lm`); the shipped E2E model has
//! one in `models/e2e/lm/`.

use crate::Error;
use crate::tokenizer::{EncodeOptions, Tokenizer};
use crate::train::LmRun;
use burn::tensor::Device;
use std::path::Path;

pub use ld4lg_lm::{CausalLm, CausalLmConfig};

/// Texts scored per forward pass.
const BATCH: usize = 64;

/// A trained language model with its tokenizer, on a device.
#[derive(Debug)]
pub struct LanguageModel {
    tokenizer: Tokenizer,
    model: CausalLm,
    device: Device,
}

impl LanguageModel {
    /// Loads `dir/tokenizer.json` and `dir/lm/` (a run directory or a model).
    pub fn load(dir: &Path, device: &Device) -> Result<Self, Error> {
        let (tokenizer, model) = LmRun {
            dir: dir.to_path_buf(),
        }
        .load(device)?;
        Ok(Self {
            tokenizer,
            model,
            device: device.clone(),
        })
    }

    /// The model.
    pub fn model(&self) -> &CausalLm {
        &self.model
    }

    /// Log-probability (nats) of every predicted token of each text (the tokens after `<s>`,
    /// `</s>` included), each given those before it; texts longer than the model's
    /// `max_len` are truncated (keeping `</s>`).
    pub fn token_log_probs<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f64>>, Error> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(BATCH) {
            let batch = self
                .tokenizer
                .encode_batch(chunk, EncodeOptions::new(self.model.max_len()))?;
            let (ids, padding) = batch.to_tensors(&self.device);
            let width = batch.seq_len.saturating_sub(1);
            let values: Vec<f32> = self
                .model
                .target_log_probs(ids, padding)
                .into_data()
                .try_to_vec()
                .map_err(|e| Error::Checkpoint(format!("language model output: {e:?}")))?;
            for (row, len) in values.chunks(width.max(1)).zip(&batch.lengths) {
                out.push(row[..len - 1].iter().map(|&v| f64::from(v)).collect());
            }
        }
        Ok(out)
    }

    /// Mean log-probability (nats) per predicted token of each text (of
    /// [`token_log_probs`](Self::token_log_probs)).
    pub fn mean_log_probs<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<f64>, Error> {
        Ok(self
            .token_log_probs(texts)?
            .into_iter()
            .map(|row| row.iter().sum::<f64>() / row.len().max(1) as f64)
            .collect())
    }
}
