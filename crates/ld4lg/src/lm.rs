//! A neural fluency model: a small causal transformer ([`ld4lg_lm::CausalLm`]) trained on a
//! corpus with the autoencoder's tokenizer, which scores texts by their mean log-probability
//! per token. It sees a whole sentence where a word n-gram model
//! ([`crate::metrics::NgramLm`]) sees five words, so it can tell a blend of two sentences
//! from a sentence. As a [`TokenPrior`] it is fused into beam search
//! (`DecodeStrategy::FusedBeam`, the CLI's `--fusion-lm`), steering each decoding as it goes.
//!
//! ```no_run
//! use std::sync::Arc;
//! use ld4lg::autoencoder::{BeamSearchConfig, DecodeStrategy, Fusion};
//! use ld4lg::lm::LanguageModel;
//! use ld4lg::pipeline::LatentDiffusionPipeline;
//! # fn main() -> Result<(), ld4lg::Error> {
//! let device = ld4lg::burn::tensor::Device::flex();
//! let lm = Arc::new(LanguageModel::load("models/e2e".as_ref(), &device)?);
//! let beam = BeamSearchConfig::new().with_no_adjacent_repeat(true);
//! let pipeline = LatentDiffusionPipeline::load("models/e2e".as_ref(), &device)?
//!     .with_decode_strategy(DecodeStrategy::FusedBeam(beam, Fusion::new(lm.clone(), 2.0)));
//! let texts = pipeline.interpolate("The Eagle is cheap.", "The Mill is a pub.", 5)?;
//! let fluency = lm.mean_log_probs(&texts)?; // per text, nats per token
//! # Ok(())
//! # }
//! ```
//!
//! Train one with [`crate::train::train_lm`] (`ld4lg train-lm`); the shipped E2E model has
//! one in `models/e2e/lm/`.

use crate::Error;
use crate::autoencoder::TokenPrior;
use crate::tokenizer::special::{BOS_ID, PAD_ID, UNK_ID};
use crate::tokenizer::{EncodeOptions, Tokenizer};
use crate::train::LmRun;
use burn::tensor::{Device, Int, Tensor, TensorData};
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

    /// The tokenizer it reads; as a [`TokenPrior`] it must be the decoder's.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
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

/// Shallow fusion with the neural model: every beam-search step scores all hypotheses in one
/// forward pass (no cache: the model is small and the texts short). Contexts longer than the
/// model's `max_len − 1` keep their last tokens; ids beyond its vocabulary (a decoder with
/// another tokenizer) are read and scored as `<unk>`.
impl TokenPrior for LanguageModel {
    fn log_prob(&self, context: &[u32], token: u32) -> f64 {
        self.log_probs(&[context], &[vec![token]])[0][0]
    }

    fn log_probs(&self, contexts: &[&[u32]], tokens: &[Vec<u32>]) -> Vec<Vec<f64>> {
        let mut out = Vec::with_capacity(contexts.len());
        let keep = self.model.max_len() - 1;
        let vocab = self.tokenizer.vocab_size();
        let known = |t: u32| if (t as usize) < vocab { t } else { UNK_ID };
        for (contexts, tokens) in contexts.chunks(4 * BATCH).zip(tokens.chunks(4 * BATCH)) {
            let rows: Vec<&[u32]> = contexts
                .iter()
                .map(|c| &c[c.len().saturating_sub(keep)..])
                .collect();
            let seq = 1 + rows.iter().map(|r| r.len()).max().unwrap_or(0);
            let mut ids = Vec::with_capacity(rows.len() * seq);
            for row in &rows {
                ids.push(i64::from(BOS_ID));
                ids.extend(row.iter().map(|&t| i64::from(known(t))));
                ids.extend(std::iter::repeat_n(i64::from(PAD_ID), seq - 1 - row.len()));
            }
            let last: Vec<i64> = rows.iter().map(|r| r.len() as i64).collect();
            let n = rows.len();
            let log_probs = self.model.next_log_probs(
                Tensor::<2, Int>::from_data(TensorData::new(ids, [n, seq]), &self.device),
                Tensor::<1, Int>::from_data(TensorData::new(last, [n]), &self.device),
            );
            // A failed read-back cannot be reported through the trait: those hypotheses get
            // no prior (0, as weight 0) rather than a panic mid-search.
            let values: Vec<f32> = log_probs.into_data().try_to_vec_as().unwrap_or_else(|e| {
                tracing::warn!("language model output unreadable, fusion skipped: {e:?}");
                Vec::new()
            });
            for (b, next) in tokens.iter().enumerate() {
                out.push(
                    next.iter()
                        .map(|&t| {
                            values
                                .get(b * vocab + known(t) as usize)
                                .map_or(0.0, |&v| f64::from(v))
                        })
                        .collect(),
                );
            }
        }
        out
    }
}
