//! How latents become text: the decoding options shared by every command that decodes.

use anyhow::Context;
use clap::Args;
use ld4lg::autoencoder::{BeamSearchConfig, DecodeStrategy, Fusion};
use ld4lg::burn::tensor::Device;
use ld4lg::fusion::NgramTokenPrior;
use ld4lg::lm::LanguageModel;
use ld4lg::tokenizer::Tokenizer;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// `--fusion-weight` with an n-gram model of `--fusion-corpus`: a light touch (the documented
/// settings are 2 for interpolation and 8 for unconditional samples).
const DEFAULT_NGRAM_FUSION_WEIGHT: f64 = 0.3;
/// `--fusion-weight` with the language model of `--fusion-lm` (the measured interpolation
/// setting; weights from 3 on drift to venues neither end names).
const DEFAULT_LM_FUSION_WEIGHT: f64 = 2.0;

/// How latents become text, shared by the commands that decode.
#[derive(Debug, Clone, Args)]
pub struct DecodeArgs {
    /// Beam size for autoregressive decoders (1: greedy; parallel decoders are always greedy).
    #[arg(long, default_value_t = 1)]
    beam: usize,
    /// Beam search ranks finished texts by log p / length^this.
    #[arg(long, default_value_t = 1.0)]
    length_penalty: f64,
    /// Beam search never repeats an n-gram of this size (0: allowed).
    #[arg(long, default_value_t = 0)]
    no_repeat_ngram: usize,
    /// Never emit a token right after itself ("restaurant restaurant").
    #[arg(long)]
    no_adjacent_repeat: bool,
    /// Shallow fusion: beam search adds the log-probabilities of a token n-gram model
    /// (Kneser–Ney, the checkpoint's tokenizer, order --fusion-order) trained at start-up
    /// on these texts to the decoder's (autoregressive decoders). Files as for
    /// --fluency-corpus: an E2E CSV or one text per line. Use the training corpus.
    #[arg(
        long = "fusion-corpus",
        value_name = "PATH",
        conflicts_with = "fusion_lm"
    )]
    fusion_corpus: Vec<PathBuf>,
    /// Shallow fusion with a trained neural language model instead (a directory with
    /// `tokenizer.json` and `lm/`, e.g. models/e2e; `ld4lg train-lm`): it sees the whole
    /// text decoded so far. Its tokenizer must be the checkpoint's.
    #[arg(long = "fusion-lm", value_name = "DIR")]
    fusion_lm: Option<PathBuf>,
    /// Weight of the fused log-probabilities [default: 0.3 with --fusion-corpus, 2 with
    /// --fusion-lm; docs/RESULTS.md gives the weights measured for each use].
    #[arg(long)]
    fusion_weight: Option<f64>,
    /// Order n of the fusion model (3: trigrams over tokens).
    #[arg(long, default_value_t = 3)]
    fusion_order: usize,
}

impl DecodeArgs {
    /// [`Self::strategy`] with the fusion model of --fusion-corpus (trained with the
    /// tokenizer of the run directory `checkpoint`) or of --fusion-lm (loaded on `device`).
    pub fn strategy_for(
        &self,
        checkpoint: &Path,
        device: &Device,
    ) -> anyhow::Result<DecodeStrategy> {
        let strategy = self.strategy()?;
        if self.fusion_corpus.is_empty() && self.fusion_lm.is_none() {
            return Ok(strategy);
        }
        let weight = self.fusion_weight.unwrap_or(if self.fusion_lm.is_some() {
            DEFAULT_LM_FUSION_WEIGHT
        } else {
            DEFAULT_NGRAM_FUSION_WEIGHT
        });
        super::fluency::check_weight("--fusion-weight", weight)?;
        let start = Instant::now();
        let tokenizer = Tokenizer::from_file(checkpoint.join("tokenizer.json"))?;
        let beam = match strategy {
            DecodeStrategy::Beam(config) => config,
            _ => BeamSearchConfig::new().with_beam_size(1),
        };
        if let Some(dir) = &self.fusion_lm {
            let lm = LanguageModel::load(dir, device)
                .with_context(|| format!("--fusion-lm {}", dir.display()))?;
            anyhow::ensure!(
                lm.tokenizer().to_json()? == tokenizer.to_json()?,
                "--fusion-lm {}: its tokenizer is not {}'s; fusion adds scores of the same token ids",
                dir.display(),
                checkpoint.display()
            );
            eprintln!(
                "fusion model: the language model of {} ({:.1}s)",
                dir.display(),
                start.elapsed().as_secs_f64()
            );
            return Ok(DecodeStrategy::FusedBeam(
                beam,
                Fusion::new(Arc::new(lm), weight),
            ));
        }
        let texts = super::fluency::corpus_texts(&self.fusion_corpus)?;
        anyhow::ensure!(self.fusion_order > 0, "--fusion-order must be at least 1");
        let prior = NgramTokenPrior::train(&tokenizer, &texts, self.fusion_order)?;
        eprintln!(
            "fusion model: token {}-grams of {} texts in {:.1}s",
            self.fusion_order,
            texts.len(),
            start.elapsed().as_secs_f64()
        );
        Ok(prior.into_fused_beam(beam, weight))
    }

    pub fn strategy(&self) -> anyhow::Result<DecodeStrategy> {
        anyhow::ensure!(self.beam > 0, "--beam must be at least 1");
        anyhow::ensure!(
            self.length_penalty.is_finite(),
            "--length-penalty must be finite"
        );
        if self.beam == 1 && self.no_repeat_ngram == 0 && !self.no_adjacent_repeat {
            return Ok(DecodeStrategy::Greedy);
        }
        // Beam 1 with a ban is constrained greedy search, which beam search does.
        Ok(DecodeStrategy::Beam(
            BeamSearchConfig::new()
                .with_beam_size(self.beam)
                .with_length_penalty(self.length_penalty)
                .with_no_repeat_ngram(self.no_repeat_ngram)
                .with_no_adjacent_repeat(self.no_adjacent_repeat),
        ))
    }
}
