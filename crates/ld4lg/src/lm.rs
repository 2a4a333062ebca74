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
use crate::autoencoder::{PriorState, TokenPrior};
use crate::tokenizer::special::{BOS_ID, PAD_ID, UNK_ID};
use crate::tokenizer::{EncodeOptions, Tokenizer};
use crate::train::LmRun;
use burn::tensor::{Device, Int, Tensor, TensorData};
use ld4lg_lm::BlockCache;
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
                .try_to_vec_as()
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

    /// The model's id for `token`: itself, or `<unk>` beyond its vocabulary.
    fn known(&self, token: u32) -> u32 {
        if (token as usize) < self.tokenizer.vocab_size() {
            token
        } else {
            UNK_ID
        }
    }

    /// Host copy of `[rows, vocab]` log-probabilities. A failed read-back cannot be reported
    /// through [`TokenPrior`]: it gives no prior (0, as weight 0) rather than a panic
    /// mid-search.
    fn host(log_probs: Tensor<2>) -> Vec<f32> {
        log_probs.into_data().try_to_vec_as().unwrap_or_else(|e| {
            tracing::warn!("language model output unreadable, fusion skipped: {e:?}");
            Vec::new()
        })
    }

    /// `next[b]`'s entries of row `b` of host log-probabilities `values`.
    fn pick(&self, values: &[f32], next: &[Vec<u32>]) -> Vec<Vec<f64>> {
        let vocab = self.tokenizer.vocab_size();
        next.iter()
            .enumerate()
            .map(|(b, tokens)| {
                tokens
                    .iter()
                    .map(|&t| {
                        values
                            .get(b * vocab + self.known(t) as usize)
                            .map_or(0.0, |&v| f64::from(v))
                    })
                    .collect()
            })
            .collect()
    }

    fn ids(&self, tokens: &[u32]) -> Tensor<1, Int> {
        let ids = tokens.iter().map(|&t| i64::from(self.known(t))).collect();
        Tensor::from_data(TensorData::new(ids, [tokens.len()]), &self.device)
    }
}

/// Shallow fusion with the neural model: beam search follows its hypotheses with the model's
/// key/value caches ([`TokenPrior::start`]), one position per hypothesis and step; asked with
/// whole contexts, it scores them in one padded forward pass. Contexts longer than the
/// model's `max_len − 1` keep their last tokens; ids beyond its vocabulary (a decoder with
/// another tokenizer) are read and scored as `<unk>`.
impl TokenPrior for LanguageModel {
    fn log_prob(&self, context: &[u32], token: u32) -> f64 {
        self.log_probs(&[context], &[vec![token]])[0][0]
    }

    fn start(&self, rows: usize) -> Option<Box<dyn PriorState + '_>> {
        let mut caches = self.model.start_caches();
        let values = Self::host(
            self.model
                .step_log_probs(self.ids(&vec![BOS_ID; rows]), &mut caches),
        );
        Some(Box::new(LmSearch {
            lm: self,
            caches: Some(caches),
            contexts: vec![Vec::new(); rows],
            values,
        }))
    }

    fn log_probs(&self, contexts: &[&[u32]], tokens: &[Vec<u32>]) -> Vec<Vec<f64>> {
        let mut out = Vec::with_capacity(contexts.len());
        let keep = self.model.max_len() - 1;
        for (contexts, tokens) in contexts.chunks(4 * BATCH).zip(tokens.chunks(4 * BATCH)) {
            let rows: Vec<&[u32]> = contexts
                .iter()
                .map(|c| &c[c.len().saturating_sub(keep)..])
                .collect();
            let seq = 1 + rows.iter().map(|r| r.len()).max().unwrap_or(0);
            let mut ids = Vec::with_capacity(rows.len() * seq);
            for row in &rows {
                ids.push(i64::from(BOS_ID));
                ids.extend(row.iter().map(|&t| i64::from(self.known(t))));
                ids.extend(std::iter::repeat_n(i64::from(PAD_ID), seq - 1 - row.len()));
            }
            let last: Vec<i64> = rows.iter().map(|r| r.len() as i64).collect();
            let n = rows.len();
            let log_probs = self.model.next_log_probs(
                Tensor::<2, Int>::from_data(TensorData::new(ids, [n, seq]), &self.device),
                Tensor::<1, Int>::from_data(TensorData::new(last, [n]), &self.device),
            );
            out.extend(self.pick(&Self::host(log_probs), tokens));
        }
        out
    }
}

/// One beam search's state: the alive hypotheses' contexts and the model's caches of them.
struct LmSearch<'a> {
    lm: &'a LanguageModel,
    /// `None` once the contexts reach the model's `max_len`: from then on every step rereads
    /// their last tokens.
    caches: Option<Vec<BlockCache>>,
    contexts: Vec<Vec<u32>>,
    /// `[rows, vocab]` log-probabilities of the token after each context (with caches).
    values: Vec<f32>,
}

impl PriorState for LmSearch<'_> {
    fn advance(&mut self, parents: &[usize], tokens: &[u32]) {
        self.contexts = parents
            .iter()
            .zip(tokens)
            .map(|(&p, &t)| {
                let mut context = self.contexts.get(p).cloned().unwrap_or_default();
                context.push(t);
                context
            })
            .collect();
        let position = self
            .caches
            .as_ref()
            .and_then(|c| c.first())
            .map_or(0, BlockCache::len);
        if position >= self.lm.model.max_len() {
            self.caches = None;
        }
        if let Some(caches) = self.caches.take() {
            let rows = parents.iter().map(|&p| p as i64).collect();
            let index = Tensor::<1, Int>::from_data(
                TensorData::new(rows, [parents.len()]),
                &self.lm.device,
            );
            let mut caches: Vec<BlockCache> = caches
                .into_iter()
                .map(|c| c.select_rows(index.clone()))
                .collect();
            self.values = LanguageModel::host(
                self.lm
                    .model
                    .step_log_probs(self.lm.ids(tokens), &mut caches),
            );
            self.caches = Some(caches);
        }
    }

    fn log_probs(&mut self, next: &[Vec<u32>]) -> Vec<Vec<f64>> {
        if self.caches.is_some() {
            return self.lm.pick(&self.values, next);
        }
        let contexts: Vec<&[u32]> = self.contexts.iter().map(Vec::as_slice).collect();
        self.lm.log_probs(&contexts, next)
    }
}
