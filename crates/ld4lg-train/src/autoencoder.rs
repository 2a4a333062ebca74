//! Training the text autoencoder.

use super::common::step_seed;
use super::data_order::DataOrder;
use super::denoised::{DenoisedLatents, DenoisedLatentsConfig};
use super::progress::{Reporter, RunOptions};
use super::{LrSchedule, TrainingState, atomic_write};
use crate::Error;
use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::{Device, Tensor};
use ld4lg_autoencoder::{Autoencoder, AutoencoderConfig, DecodeStrategy};
use ld4lg_data::{CorpusSpec, Example, OnError};
use ld4lg_eval::{corpus_bleu, exact_match};
use ld4lg_run::{AutoencoderRun, CheckpointWriter, files};
use ld4lg_tokenizer::{EncodeOptions, Tokenizer, TokenizerConfig, special};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Optimisation settings shared by the training loops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingConfig {
    /// Examples per micro-batch. Default: 64.
    pub batch_size: usize,
    /// Micro-batches per optimiser step (gradient accumulation). Default: 1.
    pub accumulation: usize,
    /// Optimiser steps. Default: 3000.
    pub steps: u64,
    /// Learning-rate schedule.
    pub lr: LrSchedule,
    /// AdamW weight decay (Burn's default, 1e-4, is not used). Default: 0.01.
    pub weight_decay: f32,
    /// AdamW ε (Burn's default, 1e-5, is not used). Default: 1e-8.
    pub adam_eps: f32,
    /// AdamW β₂. Default: 0.99.
    pub adam_beta2: f32,
    /// Clip the global gradient norm to this. Default: 1.0.
    pub grad_clip: f32,
    /// Validate every this many steps. Default: 500.
    pub validate_every: u64,
    /// Checkpoint every this many steps. Default: 250.
    pub checkpoint_every: u64,
    /// Validation examples. Default: 512.
    pub validation_size: usize,
    /// Seed of data order and of every random draw. Default: 0.
    pub seed: u64,
    /// Batch texts of similar length (autoencoder training): less padding, so faster steps.
    /// Each epoch's shuffled order is cut into pools of 100 batches, each pool sorted by
    /// length, and the batches shuffled. Default: false.
    pub group_by_length: bool,
    /// Show long texts more often (autoencoder training): the positions near the end of
    /// the longest texts otherwise rarely carry a target. Default: none.
    pub oversample_long: Option<LongTextOversampling>,
}

/// Texts of at least `min_tokens` tokens (`<s>` and `</s>` included) appear `factor` times
/// in every epoch instead of once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LongTextOversampling {
    /// Shortest text counted as long, in tokens.
    pub min_tokens: usize,
    /// Times a long text appears per epoch (at least 1).
    pub factor: usize,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            batch_size: 64,
            accumulation: 1,
            steps: 3000,
            lr: LrSchedule::default(),
            weight_decay: 0.01,
            adam_eps: 1e-8,
            adam_beta2: 0.99,
            grad_clip: 1.0,
            validate_every: 500,
            checkpoint_every: 250,
            validation_size: 512,
            seed: 0,
            group_by_length: false,
            oversample_long: None,
        }
    }
}

/// A complete autoencoder run: data, tokenizer, model and optimisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoencoderRunConfig {
    /// Training corpus.
    pub train: CorpusSpec,
    /// Validation corpus (its first `validation_size` examples are used).
    pub validation: CorpusSpec,
    /// Tokenizer to train (skipped when the run directory already has `tokenizer.json`).
    #[serde(default)]
    pub tokenizer: TokenizerConfig,
    /// Model; its `vocab_size` is set from the tokenizer.
    pub model: AutoencoderConfig,
    /// Optimisation.
    #[serde(default)]
    pub training: TrainingConfig,
    /// Train only a new reconstruction network and decoder on the frozen encoder side
    /// (encoder, Perceiver, latent projection) of this trained autoencoder — a run directory
    /// or an exported model — using its tokenizer. Its latents stay exactly the same, so
    /// denoisers trained on them work with the new decoder (e.g. an autoregressive decoder
    /// for a model shipped with a parallel one). `model` must match it on the encoder side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder_from: Option<PathBuf>,
    /// With `encoder_from`: start the reconstruction network and the decoder from its
    /// weights too (`model` must then match it but for the training-only settings), e.g. to
    /// fine-tune a shipped decoder. Default: false (a new decoder).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub init_decoder: bool,
    /// With `encoder_from`: train the decoder on a denoiser's estimates of the texts'
    /// latents (noised and denoised back) instead of on the latents themselves, so that it
    /// learns to read generated latents. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denoised_latents: Option<DenoisedLatentsConfig>,
}

/// Reconstruction quality of an autoencoder on held-out texts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReconstructionMetrics {
    /// Share of reference tokens reproduced at their position.
    pub token_accuracy: f64,
    /// Share of texts reproduced exactly.
    pub exact_match: f64,
    /// Corpus BLEU-4 of the decoded texts against the inputs, on whitespace words.
    pub bleu: f64,
}

/// The first `limit` texts of a corpus.
fn texts(spec: &CorpusSpec, limit: usize) -> Result<Vec<String>, Error> {
    Ok(spec
        .open(OnError::Fail)?
        .texts()
        .take(limit)
        .collect::<Result<_, _>>()?)
}

/// Encodes, decodes greedily (or as `strategy` says) and scores reconstruction.
///
/// `latent_noise > 0` adds Gaussian noise of standard deviation `latent_noise × RMS(latents)`
/// before decoding (seeded, reproducible), to measure how robust the latent space is.
pub fn evaluate_reconstruction(
    model: &Autoencoder,
    tokenizer: &Tokenizer,
    texts: &[String],
    strategy: &DecodeStrategy,
    batch_size: usize,
    latent_noise: f64,
    device: &Device,
) -> Result<(ReconstructionMetrics, Vec<String>), Error> {
    device.seed(0);
    reconstruction_through(
        model,
        tokenizer,
        texts,
        strategy,
        batch_size,
        device,
        |_, latents| {
            if latent_noise <= 0.0 {
                return Ok(latents);
            }
            let rms = latents
                .clone()
                .powi_scalar(2)
                .mean()
                .sqrt()
                .into_scalar::<f32>();
            let noise = Tensor::<3>::random(
                latents.shape(),
                burn::tensor::Distribution::Normal(0.0, latent_noise * f64::from(rms)),
                device,
            );
            Ok(latents + noise)
        },
    )
}

/// Encodes, passes the latents through `transform` (given the index of the chunk's first
/// text), decodes and scores the result against the texts.
pub fn reconstruction_through(
    model: &Autoencoder,
    tokenizer: &Tokenizer,
    texts: &[String],
    strategy: &DecodeStrategy,
    batch_size: usize,
    device: &Device,
    mut transform: impl FnMut(usize, Tensor<3>) -> Result<Tensor<3>, Error>,
) -> Result<(ReconstructionMetrics, Vec<String>), Error> {
    let max_len = model.max_len();
    let (mut correct, mut total) = (0usize, 0usize);
    let mut hypotheses: Vec<Vec<u32>> = Vec::new();
    let mut references: Vec<Vec<u32>> = Vec::new();
    let mut decoded_texts = Vec::new();
    let batch_size = batch_size.max(1);
    for (i, chunk) in texts.chunks(batch_size).enumerate() {
        let batch = tokenizer.encode_batch(chunk, EncodeOptions::new(max_len))?;
        let (ids, mask) = batch.to_tensors(device);
        let latents = transform(i * batch_size, model.encode(ids, mask))?;
        let decoded = model.decode(latents, strategy, special::BOS_ID, special::EOS_ID);
        for (row, (reference, &len)) in decoded
            .into_iter()
            .zip(batch.ids.iter().zip(&batch.lengths))
        {
            // Compare the tokens after `<s>`, `</s>` included.
            let reference = reference[1..len].to_vec();
            correct += reference.iter().zip(&row).filter(|(a, b)| a == b).count();
            total += reference.len();
            decoded_texts.push(tokenizer.decode(&row)?);
            hypotheses.push(row);
            references.push(reference);
        }
    }
    let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let hyp_words: Vec<Vec<String>> = decoded_texts.iter().map(|t| words(t)).collect();
    let ref_words: Vec<Vec<Vec<String>>> = texts
        .iter()
        .map(|t| tokenizer.normalize(t).map(|n| vec![words(&n)]))
        .collect::<Result<_, _>>()?;
    let metrics = ReconstructionMetrics {
        token_accuracy: correct as f64 / total.max(1) as f64,
        exact_match: exact_match(&hypotheses, &references),
        bleu: corpus_bleu(&hyp_words, &ref_words),
    };
    Ok((metrics, decoded_texts))
}

/// Trains (or resumes) the tokenizer and the autoencoder of `config` in `run_dir`.
///
/// Stages already done are skipped: an existing `tokenizer.json` is reused, and training
/// resumes from the last checkpoint (model, optimiser, step; data order and random draws are
/// functions of the seed and the step, so a resumed run continues exactly).
///
/// # Errors
/// [`Error::Locked`] when another process trains the run or exports into it.
pub fn train_autoencoder(
    config: &AutoencoderRunConfig,
    run_dir: &Path,
    device: &Device,
    options: &RunOptions,
) -> Result<ReconstructionMetrics, Error> {
    let _lock = ld4lg_run::RunLock::acquire(run_dir)?;
    train_autoencoder_locked(config, run_dir, device, options)
}

/// [`train_autoencoder`] for a caller that holds the run's lock.
pub(crate) fn train_autoencoder_locked(
    config: &AutoencoderRunConfig,
    run_dir: &Path,
    device: &Device,
    options: &RunOptions,
) -> Result<ReconstructionMetrics, Error> {
    let run = AutoencoderRun {
        dir: run_dir.to_path_buf(),
    };
    std::fs::create_dir_all(run.stage()).map_err(|e| Error::io(run.stage(), e))?;
    let t = &config.training;
    if t.batch_size == 0 || t.accumulation == 0 || t.steps == 0 {
        return Err(Error::Config(
            "batch_size, accumulation and steps must be positive".into(),
        ));
    }
    if t.oversample_long.is_some_and(|long| long.factor == 0) {
        return Err(Error::Config(
            "oversample_long.factor must be at least 1".into(),
        ));
    }
    config.model.check().map_err(Error::Config)?;
    if config.encoder_from.is_none() && (config.init_decoder || config.denoised_latents.is_some()) {
        return Err(Error::Config(
            "init_decoder and denoised_latents train the decoder of a trained encoder: set encoder_from".into(),
        ));
    }

    let source = config
        .encoder_from
        .as_ref()
        .map(|dir| AutoencoderRun { dir: dir.clone() });
    if let Some(source) = &source
        && !run.tokenizer().exists()
    {
        let bytes =
            std::fs::read(source.tokenizer()).map_err(|e| Error::io(source.tokenizer(), e))?;
        atomic_write(&run.tokenizer(), &bytes)?;
    }
    let tokenizer = if run.tokenizer().exists() {
        Tokenizer::from_file(run.tokenizer())?
    } else {
        let texts = config
            .train
            .open(OnError::Fail)?
            .texts()
            .map(|t| t.map_err(Error::from));
        let tokenizer = Tokenizer::try_train(&config.tokenizer, texts)?;
        tokenizer.save(run.tokenizer())?;
        tokenizer
    };
    let model_config = config.model.clone().with_vocab_size(tokenizer.vocab_size());
    // The source run and its configuration, checked against this run's.
    let source = match source {
        Some(source) => {
            let source_config = source.read_model_config()?;
            if config.init_decoder {
                model_config.check_decoder_matches(&source_config)
            } else {
                model_config.check_encoder_matches(&source_config)
            }
            .map_err(|m| Error::Config(format!("encoder_from: {m}")))?;
            if std::fs::read(source.tokenizer()).ok() != std::fs::read(run.tokenizer()).ok() {
                return Err(Error::Config(format!(
                    "encoder_from: {} differs from the source's tokenizer",
                    run.tokenizer().display()
                )));
            }
            Some((source, source_config))
        }
        None => None,
    };
    atomic_write(&run.model_config(), model_config.to_string().as_bytes())?;

    let max_len = model_config.max_len;
    // Read once: the texts to train on and, for conditioned estimates, their labels or sources.
    let train_examples: Vec<Example> = config
        .train
        .open(OnError::Fail)?
        .collect::<Result<_, _>>()?;
    let train_texts: Vec<String> = train_examples.iter().map(|e| e.text.clone()).collect();
    let encoded = tokenizer.encode_batch(&train_texts, EncodeOptions::new(max_len))?;
    let train_ids: Vec<Vec<u32>> = encoded
        .ids
        .iter()
        .zip(&encoded.lengths)
        .map(|(row, &len)| row[..len].to_vec())
        .collect();
    let validation = texts(&config.validation, t.validation_size)?;
    if train_ids.is_empty() || validation.is_empty() {
        return Err(Error::Config(
            "training and validation corpora must not be empty".into(),
        ));
    }

    let train_device = device.clone().autodiff();
    let mut state = TrainingState::resume(&run.stage())?;
    train_device.seed(t.seed);
    let mut model = model_config.init(&train_device);
    // A fresh run takes the source's encoder; a resumed one has it in its own checkpoint.
    if let Some((source, source_config)) = &source
        && state.step == 0
    {
        model = if config.init_decoder {
            ld4lg_run::load_weights(model, &source.weights())?.freeze_encoder()
        } else {
            let encoder =
                ld4lg_run::load_weights(source_config.init(&train_device), &source.weights())?;
            model.with_encoder_of(encoder)
        };
    }
    let mut optimizer = super::common::adamw(t);
    if state.step > 0 {
        model = ld4lg_run::load_weights(model, &run.weights())?;
        if source.is_some() {
            model = model.freeze_encoder();
        }
        optimizer = super::common::load_optimizer(optimizer, &run.optimizer())?;
    }
    let params = model.num_params();
    let [l, d] = model.latent_shape();
    let denoised = match &config.denoised_latents {
        Some(denoised) => {
            // Conditioned estimates take each text's label or source, in corpus order.
            let examples: &[Example] = if denoised.conditioned {
                &train_examples
            } else {
                &[]
            };
            Some(DenoisedLatents::load(denoised, [l, d], examples, device)?)
        }
        None => None,
    };
    if let Some(denoised) = &denoised {
        // A few training texts suffice to tell one encoder from another.
        let probe = &train_texts[..train_texts.len().min(8)];
        let (ids, mask) = tokenizer
            .encode_batch(probe, EncodeOptions::new(max_len))?
            .to_tensors(device);
        denoised.check_same_encoder(probe, model.valid().encode(ids, mask))?;
    }
    let frozen = match &config.encoder_from {
        Some(dir) => format!(" (encoder frozen, from {})", dir.display()),
        None => String::new(),
    };
    let intro = format!(
        "autoencoder: {params} parameters{frozen}, latents {l}×{d}, from step {}",
        state.step
    );
    let progress = Reporter::new(options);
    progress.started(intro, state.step, t.steps);
    let mut csv = super::common::open_metrics(
        &run.metrics(),
        "step,seconds,lr,train_loss,train_token_accuracy,val_token_accuracy,val_exact_match,val_bleu",
        state.step,
    )?;

    let session_start = Instant::now();
    let base_elapsed = state.elapsed_seconds;
    let save = |model: &Autoencoder,
                optimizer: &burn::optim::ModuleOptimizer,
                state: &mut TrainingState|
     -> Result<(), Error> {
        let checkpoint = CheckpointWriter::begin(&run.stage(), state.step)?;
        ld4lg_run::save_module(model, &checkpoint.dir().join(files::WEIGHTS))?;
        super::common::save_optimizer(optimizer, &checkpoint.dir().join(files::OPTIMIZER))?;
        checkpoint.commit(state)
    };
    let mut order = DataOrder::new(train_ids.len(), t.seed);
    if let Some(long) = t.oversample_long {
        let repeats: Vec<usize> = train_ids
            .iter()
            .map(|ids| {
                if ids.len() >= long.min_tokens {
                    long.factor
                } else {
                    1
                }
            })
            .collect();
        order = order.with_repeats(&repeats);
    }
    if t.group_by_length {
        order = order.grouped_by_length(train_ids.iter().map(Vec::len).collect());
    }
    let mut last = None;
    let stop = options.stop_after.map_or(t.steps, |s| s.min(t.steps));
    while state.step < stop {
        let step = state.step;
        let lr = t.lr.at(step, t.steps);
        let mut accumulator = GradientsAccumulator::<Autoencoder>::new();
        for micro in 0..t.accumulation {
            let global = step * t.accumulation as u64 + micro as u64;
            let indices = order.batch(t.batch_size, global);
            let rows: Vec<&[u32]> = indices.iter().map(|&i| train_ids[i].as_slice()).collect();
            let (ids, mask) = super::common::pad_rows(&rows, &train_device);
            let seed = step_seed(t.seed, step, micro);
            train_device.seed(seed);
            let corruption = denoised
                .as_ref()
                .and_then(|denoised| denoised.strength(seed).map(|s| (denoised, s)));
            let output = match corruption {
                Some((source, strength)) => {
                    let latents = model.encode(ids.clone(), mask.clone()).detach();
                    let estimates = source.estimates(latents, &indices, strength, seed)?;
                    model.forward_loss_on_latents(estimates, ids, mask, true)
                }
                None => model.forward_loss(ids, mask, true),
            };
            let valid = output.target_padding.clone().bool_not();
            let correct = output
                .predictions
                .clone()
                .equal(output.targets.clone())
                .bool_and(valid.clone())
                .int()
                .sum()
                .into_scalar::<i64>();
            state.window.add("correct_tokens", correct as f64);
            state
                .window
                .add("tokens", valid.int().sum().into_scalar::<i64>() as f64);
            let loss = f64::from(output.cross_entropy.clone().into_scalar::<f32>());
            if !loss.is_finite() {
                return Err(Error::Diverged { step, loss });
            }
            state.window.add("loss", loss);
            state.window.add("batches", 1.0);
            let grads = GradientsParams::from_grads(
                output.loss.div_scalar(t.accumulation as f64).backward(),
                &model,
            );
            accumulator.accumulate(&model, grads);
        }
        model = optimizer.step(lr, model, accumulator.grads());
        state.step += 1;
        state.elapsed_seconds = base_elapsed + session_start.elapsed().as_secs_f64();
        let train_loss = state.window.ratio("loss", "batches");
        let train_acc = state.window.ratio("correct_tokens", "tokens");
        progress.step(
            state.step,
            Some(format!(
                "loss {train_loss:.4} acc {train_acc:.4} lr {lr:.2e}"
            )),
        );

        let finished = state.step == stop;
        if state.step % t.validate_every == 0 || finished {
            let inference = model.valid();
            let (metrics, samples) = evaluate_reconstruction(
                &inference,
                &tokenizer,
                &validation,
                &DecodeStrategy::Greedy,
                t.batch_size * 2,
                0.0,
                device,
            )?;
            writeln!(
                csv,
                "{},{:.1},{lr:.3e},{train_loss:.5},{train_acc:.5},{:.5},{:.5},{:.3}",
                state.step,
                state.elapsed_seconds,
                metrics.token_accuracy,
                metrics.exact_match,
                metrics.bleu
            )
            .map_err(|e| Error::io(run.metrics(), e))?;
            let line = format!(
                "step {}: val token acc {:.4}, exact {:.4}, BLEU {:.2} | {} -> {}",
                state.step,
                metrics.token_accuracy,
                metrics.exact_match,
                metrics.bleu,
                validation[0],
                samples[0]
            );
            progress.line(line);
            state.window.clear();
            last = Some(metrics);
        }
        if state.step % t.checkpoint_every == 0 || finished {
            save(&model, &optimizer, &mut state)?;
        }
    }
    progress.finished();
    match last {
        Some(metrics) => Ok(metrics),
        None => {
            let (inference_tok, inference) = run.load(device)?;
            let (metrics, _) = evaluate_reconstruction(
                &inference,
                &inference_tok,
                &validation,
                &DecodeStrategy::Greedy,
                t.batch_size * 2,
                0.0,
                device,
            )?;
            Ok(metrics)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_dropout_writes_the_tokenizers_mask_token() {
        assert_eq!(ld4lg_autoencoder::MASK_ID, i64::from(special::MASK_ID));
    }
}
