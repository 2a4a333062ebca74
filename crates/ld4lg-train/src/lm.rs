//! Training the causal language model that scores fluency (`ld4lg::lm`).

use super::data_order::DataOrder;
use super::progress::Reporter;
use super::{RunOptions, TrainingConfig, TrainingState, atomic_write};
use crate::Error;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Device;
use ld4lg_data::{CorpusSpec, OnError};
use ld4lg_lm::{CausalLm, CausalLmConfig};
use ld4lg_run::{CheckpointWriter, LmRun, files};
use ld4lg_tokenizer::{EncodeOptions, Tokenizer};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A language-model run: data, the tokenizer to reuse, model and optimisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LmRunConfig {
    /// Training corpus.
    pub train: CorpusSpec,
    /// Validation corpus (its first `validation_size` texts are scored).
    pub validation: CorpusSpec,
    /// A run directory or model whose `tokenizer.json` the model uses (the autoencoder's,
    /// so that both read the same tokens).
    pub tokenizer_from: PathBuf,
    /// Model; its `vocab_size` is set from the tokenizer.
    pub model: CausalLmConfig,
    /// Optimisation.
    #[serde(default)]
    pub training: TrainingConfig,
}

/// Validation of a language model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LmMetrics {
    /// Mean negative log-likelihood per token (nats), `</s>` included.
    pub nll: f64,
    /// `exp(nll)`.
    pub perplexity: f64,
}

/// The token ids (`<s>` … `</s>`) of every text of a corpus, truncated to `max_len`.
fn corpus_ids(
    spec: &CorpusSpec,
    tokenizer: &Tokenizer,
    max_len: usize,
    limit: usize,
) -> Result<Vec<Vec<u32>>, Error> {
    let texts: Vec<String> = spec
        .open(OnError::Fail)?
        .texts()
        .take(limit)
        .collect::<Result<_, _>>()?;
    let batch = tokenizer.encode_batch(&texts, EncodeOptions::new(max_len))?;
    Ok(batch
        .ids
        .iter()
        .zip(&batch.lengths)
        .map(|(row, &len)| row[..len].to_vec())
        .collect())
}

/// Mean negative log-likelihood per token of `rows` under `model`.
pub fn evaluate_lm(
    model: &CausalLm,
    rows: &[Vec<u32>],
    batch_size: usize,
    device: &Device,
) -> Result<LmMetrics, Error> {
    let (mut total, mut count) = (0.0f64, 0usize);
    for chunk in rows.chunks(batch_size.max(1)) {
        let refs: Vec<&[u32]> = chunk.iter().map(Vec::as_slice).collect();
        let (ids, padding) = super::common::pad_rows(&refs, device);
        let sum = model
            .target_log_probs(ids, padding)
            .sum()
            .into_scalar::<f32>();
        total -= f64::from(sum);
        count += chunk
            .iter()
            .map(|r| r.len().saturating_sub(1))
            .sum::<usize>();
    }
    if count == 0 {
        return Err(Error::Config(
            "no tokens to evaluate the language model on".into(),
        ));
    }
    let nll = total / count as f64;
    Ok(LmMetrics {
        nll,
        perplexity: nll.exp(),
    })
}

/// Trains (or resumes) the language model of `config` in `run_dir`: the tokenizer is copied
/// from `tokenizer_from`; training resumes from the last checkpoint exactly (model,
/// optimiser, step; the data order is a function of the seed and the step).
///
/// # Errors
/// [`Error::Locked`] when another process trains the run or exports into it.
pub fn train_lm(
    config: &LmRunConfig,
    run_dir: &Path,
    device: &Device,
    options: &RunOptions,
) -> Result<LmMetrics, Error> {
    let _lock = ld4lg_run::RunLock::acquire(run_dir)?;
    train_lm_locked(config, run_dir, device, options)
}

/// [`train_lm`] for a caller that holds the run's lock.
pub(crate) fn train_lm_locked(
    config: &LmRunConfig,
    run_dir: &Path,
    device: &Device,
    options: &RunOptions,
) -> Result<LmMetrics, Error> {
    let t = &config.training;
    if t.batch_size == 0 || t.steps == 0 || t.accumulation != 1 {
        return Err(Error::Config(
            "language model: batch_size and steps must be positive, accumulation 1".into(),
        ));
    }
    let run = LmRun {
        dir: run_dir.to_path_buf(),
    };
    std::fs::create_dir_all(run.stage()).map_err(|e| Error::io(run.stage(), e))?;
    let source = config.tokenizer_from.join("tokenizer.json");
    let bytes = std::fs::read(&source).map_err(|e| Error::io(&source, e))?;
    match std::fs::read(run.tokenizer()) {
        Ok(existing) if existing != bytes => {
            return Err(Error::Config(format!(
                "{} differs from {}: a run keeps one tokenizer",
                run.tokenizer().display(),
                source.display()
            )));
        }
        Ok(_) => {}
        Err(_) => atomic_write(&run.tokenizer(), &bytes)?,
    }
    let tokenizer = Tokenizer::from_file(run.tokenizer())?;
    let mut model_config = config.model.clone();
    model_config.vocab_size = tokenizer.vocab_size();
    model_config.check().map_err(Error::Config)?;
    atomic_write(&run.model_config(), model_config.to_string().as_bytes())?;

    let max_len = model_config.max_len;
    let train = corpus_ids(&config.train, &tokenizer, max_len, usize::MAX)?;
    let validation = corpus_ids(&config.validation, &tokenizer, max_len, t.validation_size)?;
    if train.is_empty() || validation.is_empty() {
        return Err(Error::Config(
            "training and validation corpora must not be empty".into(),
        ));
    }

    let train_device = device.clone().autodiff();
    let mut state = TrainingState::resume(&run.stage())?;
    train_device.seed(t.seed);
    let mut model = model_config.init(&train_device);
    let mut optimizer = super::common::adamw(t);
    if state.step > 0 {
        model = ld4lg_run::load_weights(model, &run.weights())?;
        optimizer = super::common::load_optimizer(optimizer, &run.optimizer())?;
    }
    let intro = format!(
        "language model: {} parameters over {} texts, from step {}",
        model.num_params(),
        train.len(),
        state.step
    );
    let progress = Reporter::new(options);
    progress.started(intro, state.step, t.steps);
    let mut csv = super::common::open_metrics(
        &run.metrics(),
        "step,seconds,lr,train_loss,val_nll,val_perplexity",
        state.step,
    )?;
    let session_start = Instant::now();
    let base_elapsed = state.elapsed_seconds;
    let mut order = DataOrder::new(train.len(), t.seed);
    let mut last = None;
    let stop = options.stop_after.map_or(t.steps, |s| s.min(t.steps));
    while state.step < stop {
        let step = state.step;
        let lr = t.lr.at(step, t.steps);
        let rows: Vec<&[u32]> = order
            .batch(t.batch_size, step)
            .into_iter()
            .map(|i| train[i].as_slice())
            .collect();
        let (ids, padding) = super::common::pad_rows(&rows, &train_device);
        let loss = model.loss(ids, padding);
        let value = f64::from(loss.clone().into_scalar::<f32>());
        if !value.is_finite() {
            return Err(Error::Diverged { step, loss: value });
        }
        state.window.add("loss", value);
        state.window.add("batches", 1.0);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(lr, model, grads);
        state.step += 1;
        state.elapsed_seconds = base_elapsed + session_start.elapsed().as_secs_f64();
        let train_loss = state.window.ratio("loss", "batches");
        progress.step(
            state.step,
            Some(format!("loss {train_loss:.4} lr {lr:.2e}")),
        );

        let finished = state.step == stop;
        if state.step % t.validate_every == 0 || finished {
            let metrics = evaluate_lm(&model.valid(), &validation, t.batch_size * 2, device)?;
            writeln!(
                csv,
                "{},{:.1},{lr:.3e},{train_loss:.5},{:.5},{:.3}",
                state.step, state.elapsed_seconds, metrics.nll, metrics.perplexity
            )
            .map_err(|e| Error::io(run.metrics(), e))?;
            progress.line(format!(
                "step {}: train loss {train_loss:.4}, validation NLL {:.4} (perplexity {:.2})",
                state.step, metrics.nll, metrics.perplexity
            ));
            state.window.clear();
            last = Some(metrics);
        }
        if state.step % t.checkpoint_every == 0 || finished {
            let checkpoint = CheckpointWriter::begin(&run.stage(), state.step)?;
            ld4lg_run::save_module(&model, &checkpoint.dir().join(files::WEIGHTS))?;
            super::common::save_optimizer(&optimizer, &checkpoint.dir().join(files::OPTIMIZER))?;
            checkpoint.commit(&mut state)?;
        }
    }
    progress.finished();
    match last {
        Some(metrics) => Ok(metrics),
        None => {
            let (_, model) = run.load(device)?;
            evaluate_lm(&model, &validation, t.batch_size * 2, device)
        }
    }
}
