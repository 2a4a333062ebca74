//! Training the latent denoiser on the latents of a trained, frozen autoencoder.

use super::common::step_seed;
use super::condition::{ConditionConfig, condition_data};
use super::data_order::DataOrder;
use super::objective::DiffusionObjective;
use super::progress::Reporter;
use super::{
    AutoencoderRun, EmaConfig, LatentStats, RunOptions, TrainingConfig, TrainingState,
    atomic_write, update_ema,
};
use crate::Error;
use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use ld4lg_autoencoder::{Autoencoder, DecodeStrategy};
use ld4lg_data::{CorpusSpec, OnError};
use ld4lg_denoiser::LatentDenoiserConfig;
use ld4lg_run::{
    CheckpointWriter, DiffusionModel, DiffusionRun, TrainedCondition, files, save_module,
};
use ld4lg_sampler::Conditioning;
use ld4lg_sampler::{NoiseSource, Sampler, SamplerConfig, SamplerKind};
use ld4lg_schedule::{LossWeighting, NoiseSchedule, TimeSampler};
use ld4lg_tokenizer::EncodeOptions;
use ld4lg_tokenizer::{Tokenizer, special};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The regression loss on the prediction target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffusionLoss {
    /// Mean squared error.
    #[default]
    Mse,
    /// Mean absolute error.
    L1,
}

/// Steps between reads of the training loss from the device (for the progress summary).
const LOSS_READ_EVERY: u64 = 25;

/// Everything the diffusion stage needs besides the autoencoder run it builds on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffusionRunConfig {
    /// Texts whose latents are modelled.
    pub train: CorpusSpec,
    /// The denoiser; `num_latents` and `d_latent` are set from the autoencoder.
    pub denoiser: LatentDenoiserConfig,
    /// Noise schedule.
    #[serde(default)]
    pub schedule: NoiseSchedule,
    /// How training times are drawn.
    #[serde(default)]
    pub time_sampler: TimeSampler,
    /// Regression loss.
    #[serde(default)]
    pub loss: DiffusionLoss,
    /// Per-example loss weights.
    #[serde(default)]
    pub loss_weighting: LossWeighting,
    /// Probability that a batch is trained with self-conditioning. Default: 0.5.
    #[serde(default = "half")]
    pub self_conditioning_rate: f64,
    /// Weight averaging.
    #[serde(default)]
    pub ema: EmaConfig,
    /// Optimisation.
    #[serde(default)]
    pub training: TrainingConfig,
    /// What the denoiser is conditioned on. Default: nothing.
    #[serde(default)]
    pub condition: ConditionConfig,
    /// Samples generated and printed at each validation (with the EMA weights). Default: 3.
    #[serde(default = "three")]
    pub preview_samples: usize,
    /// Standardise the latents before diffusion (per-element mean, one overall standard
    /// deviation, see [`LatentStats`]). Default: true.
    #[serde(default = "yes")]
    pub normalize_latents: bool,
    /// Start from the EMA weights and latent statistics of another diffusion run (or of a
    /// model directory written by `ld4lg export`) with the same denoiser configuration and
    /// condition, to train it further under new settings (batch size, learning rate, steps,
    /// another device). Read on a fresh start only; a resumed run continues from its own
    /// checkpoint. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_from: Option<PathBuf>,
}

impl DiffusionRunConfig {
    /// A run on `train` with `denoiser` and every other setting at its default.
    pub fn new(train: CorpusSpec, denoiser: LatentDenoiserConfig) -> Self {
        Self {
            train,
            denoiser,
            schedule: NoiseSchedule::default(),
            time_sampler: TimeSampler::default(),
            loss: DiffusionLoss::default(),
            loss_weighting: LossWeighting::default(),
            self_conditioning_rate: half(),
            ema: EmaConfig::default(),
            training: TrainingConfig::default(),
            condition: ConditionConfig::default(),
            preview_samples: three(),
            normalize_latents: true,
            init_from: None,
        }
    }
}

fn three() -> usize {
    3
}

fn yes() -> bool {
    true
}

fn half() -> f64 {
    0.5
}

/// Latents of every training text, `[n, l, d]` row-major, cached on disk as raw little-endian
/// f32 next to the run (they are recomputed when the cache is missing or of another size).
fn cached_latents(
    run: &DiffusionRun,
    config: &DiffusionRunConfig,
    tokenizer: &Tokenizer,
    autoencoder: &Autoencoder,
    device: &Device,
) -> Result<(Vec<f32>, usize, [usize; 2]), Error> {
    let shape = autoencoder.latent_shape();
    let per = shape[0] * shape[1];
    let texts: Vec<String> = config
        .train
        .open(OnError::Fail)?
        .texts()
        .collect::<Result<_, _>>()?;
    if texts.is_empty() {
        return Err(Error::Config(
            "the diffusion training corpus is empty".into(),
        ));
    }
    if let Ok(bytes) = std::fs::read(run.latents())
        && bytes.len() == texts.len() * per * 4
    {
        let values = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        return Ok((values, texts.len(), shape));
    }
    let mut values = Vec::with_capacity(texts.len() * per);
    for chunk in texts.chunks(256) {
        let batch = tokenizer.encode_batch(chunk, EncodeOptions::new(autoencoder.max_len()))?;
        let (ids, mask) = batch.to_tensors(device);
        let latents: Vec<f32> = autoencoder
            .encode(ids, mask)
            .into_data()
            .try_to_vec_as()
            .map_err(|e| Error::Checkpoint(format!("reading latents: {e:?}")))?;
        values.extend(latents);
    }
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    atomic_write(&run.latents(), &bytes)?;
    Ok((values, texts.len(), shape))
}

/// Trains (or resumes) the denoiser of `config` on the autoencoder of `run_dir`.
/// Returns the mean training loss of the last validation window.
///
/// # Errors
/// [`Error::Locked`] when another process trains the run or exports into it.
pub fn train_diffusion(
    config: &DiffusionRunConfig,
    run_dir: &Path,
    device: &Device,
    options: &RunOptions,
) -> Result<f64, Error> {
    let _lock = ld4lg_run::RunLock::acquire(run_dir)?;
    train_diffusion_locked(config, run_dir, device, options)
}

/// [`train_diffusion`] for a caller that holds the run's lock.
pub(crate) fn train_diffusion_locked(
    config: &DiffusionRunConfig,
    run_dir: &Path,
    device: &Device,
    options: &RunOptions,
) -> Result<f64, Error> {
    let run = DiffusionRun {
        dir: run_dir.to_path_buf(),
    };
    std::fs::create_dir_all(run.stage()).map_err(|e| Error::io(run.stage(), e))?;
    let t = &config.training;
    if t.batch_size == 0 || t.accumulation == 0 || t.steps == 0 {
        return Err(Error::Config(
            "batch_size, accumulation and steps must be positive".into(),
        ));
    }
    config
        .schedule
        .validate()
        .map_err(|e| Error::Config(e.to_string()))?;
    let (tokenizer, autoencoder) = AutoencoderRun {
        dir: run.dir.clone(),
    }
    .load(device)?;
    let [l, d] = autoencoder.latent_shape();
    let (condition, trained_condition) =
        condition_data(&config.condition, &config.train, tokenizer.vocab_size())?;
    let model_config = trained_condition
        .configure(config.denoiser.clone())
        .with_num_latents(l)
        .with_d_latent(d);
    let source = config
        .init_from
        .as_ref()
        .map(|dir| DiffusionRun { dir: dir.clone() });
    if let Some(source) = &source {
        // Before encoding the corpus, so that a mismatch fails at once.
        check_init_source(source, &model_config, &trained_condition)?;
    }
    let (mut latents, n, _) = cached_latents(&run, config, &tokenizer, &autoencoder, device)?;
    // A continued denoiser must see its latents standardised as it was trained to.
    let latent_stats = match &source {
        Some(source) => LatentStats::load_or_identity(&source.latent_stats(), [l, d])?,
        None if config.normalize_latents => LatentStats::fit(&latents, [l, d])?,
        None => LatentStats::identity([l, d]),
    };
    latent_stats.save(&run.latent_stats())?;
    latent_stats.normalize_values(&mut latents);
    atomic_write(&run.model_config(), model_config.to_string().as_bytes())?;
    let condition_json = serde_json::to_vec_pretty(&trained_condition)
        .map_err(|e| Error::Checkpoint(e.to_string()))?;
    atomic_write(&run.condition(), &condition_json)?;
    let settings = serde_json::to_vec_pretty(&config.schedule)
        .map_err(|e| Error::Checkpoint(e.to_string()))?;
    atomic_write(&run.diffusion_config(), &settings)?;

    let train_device = device.clone().autodiff();
    train_device.seed(t.seed);
    let mut model = DiffusionModel::init(&model_config, &trained_condition, &train_device);
    let mut ema = DiffusionModel::init(&model_config, &trained_condition, device);
    let mut optimizer = super::common::adamw(t);
    let mut state = TrainingState::resume(&run.stage())?;
    if state.step > 0 {
        model = load_parts(model, &run, false)?;
        ema = load_parts(ema, &run, true)?;
        optimizer = super::common::load_optimizer(optimizer, &run.optimizer())?;
    } else {
        if let Some(source) = &source {
            // The source's averaged weights are its best; its raw ones may be absent (export).
            model = load_parts(model, source, true)?;
        }
        ema = model.valid();
    }

    let intro = format!(
        "denoiser: {} parameters over {n} cached latents of {l}×{d}, from step {}",
        model.num_params(),
        state.step
    );
    let progress = Reporter::new(options);
    progress.started(intro, state.step, t.steps);
    let mut csv =
        super::common::open_metrics(&run.metrics(), "step,seconds,lr,train_loss", state.step)?;
    let objective = DiffusionObjective::of(config, model_config.prediction_type);
    let mut order = DataOrder::new(n, t.seed);
    let session_start = Instant::now();
    let base_elapsed = state.elapsed_seconds;
    let mut pending_loss: Option<Tensor<1>> = None;
    let mut last_loss = f64::NAN;
    let stop = options.stop_after.map_or(t.steps, |s| s.min(t.steps));
    while state.step < stop {
        let step = state.step;
        let lr = t.lr.at(step, t.steps);
        let mut accumulator = GradientsAccumulator::<DiffusionModel>::new();
        for micro in 0..t.accumulation {
            let global = step * t.accumulation as u64 + micro as u64;
            let indices = order.batch(t.batch_size, global);
            let mut rows = Vec::with_capacity(t.batch_size * l * d);
            for &i in &indices {
                rows.extend_from_slice(&latents[i * l * d..(i + 1) * l * d]);
            }
            let x0 =
                Tensor::<3>::from_data(TensorData::new(rows, [t.batch_size, l, d]), &train_device);
            let seed = step_seed(t.seed, step, micro);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            train_device.seed(seed);
            let times = config.time_sampler.sample(t.batch_size, step, &mut rng);
            let noise = Tensor::<3>::random(
                [t.batch_size, l, d],
                Distribution::Normal(0.0, 1.0),
                &train_device,
            );
            let conditioning =
                condition.batch(&model, &tokenizer, &indices, &mut rng, &train_device)?;
            let self_condition = rng.random::<f64>() < config.self_conditioning_rate;
            let loss = objective.loss(
                &model.denoiser,
                x0,
                noise,
                &times,
                &conditioning,
                self_condition,
            );
            // Summed on the device and read back rarely: a read each step would make every
            // step wait for the accelerator.
            let detached = loss.clone().detach().inner();
            pending_loss = Some(match pending_loss {
                Some(sum) => sum + detached,
                None => detached,
            });
            state.window.add("batches", 1.0);
            let grads = GradientsParams::from_grads(
                loss.div_scalar(t.accumulation as f64).backward(),
                &model,
            );
            accumulator.accumulate(&model, grads);
        }
        model = optimizer.step(lr, model, accumulator.grads());
        state.step += 1;
        ema = update_ema(ema, &model, &config.ema, state.step);
        state.elapsed_seconds = base_elapsed + session_start.elapsed().as_secs_f64();
        let finished = state.step == stop;
        let validate = state.step % t.validate_every == 0 || finished;
        let checkpoint = state.step % t.checkpoint_every == 0 || finished;
        if validate || checkpoint || state.step % LOSS_READ_EVERY == 0 {
            if let Some(sum) = pending_loss.take() {
                let sum = f64::from(sum.into_scalar::<f32>());
                // Read at every checkpoint step, so diverged weights are never saved.
                if !sum.is_finite() {
                    return Err(Error::Diverged {
                        step: state.step,
                        loss: sum,
                    });
                }
                state.window.add("loss", sum);
            }
            let mean_loss = state.window.ratio("loss", "batches");
            progress.step(state.step, Some(format!("loss {mean_loss:.4} lr {lr:.2e}")));
        } else {
            progress.step(state.step, None);
        }
        if validate {
            // The pending sum was read just above.
            let mean_loss = state.window.ratio("loss", "batches");
            writeln!(
                csv,
                "{},{:.1},{lr:.3e},{mean_loss:.5}",
                state.step, state.elapsed_seconds
            )
            .map_err(|e| Error::io(run.metrics(), e))?;
            let line = format!("step {}: diffusion loss {mean_loss:.4}", state.step);
            progress.line(line);
            let preview = Preview {
                model: &ema,
                condition: &trained_condition,
                sources: condition.sources(),
                tokenizer: &tokenizer,
                autoencoder: &autoencoder,
                latent_stats: &latent_stats,
                schedule: config.schedule,
                device,
            };
            for line in preview.samples(config.preview_samples)? {
                progress.line(format!("  {line}"));
            }
            last_loss = mean_loss;
            state.window.clear();
        }
        if checkpoint {
            let checkpoint = CheckpointWriter::begin(&run.stage(), state.step)?;
            save_parts(&model, &checkpoint.dir(), false)?;
            save_parts(&ema, &checkpoint.dir(), true)?;
            super::common::save_optimizer(&optimizer, &checkpoint.dir().join(files::OPTIMIZER))?;
            checkpoint.commit(&mut state)?;
        }
    }
    progress.finished();
    Ok(last_loss)
}

/// Refuses an `init_from` source whose denoiser or condition differs from this run's, naming
/// the first differing field.
fn check_init_source(
    source: &DiffusionRun,
    model_config: &LatentDenoiserConfig,
    condition: &TrainedCondition,
) -> Result<(), Error> {
    // Through the loaders generation uses, so files of older versions read as they do there.
    let theirs: LatentDenoiserConfig = ld4lg_run::read_config(&source.model_config())?;
    if let Some(field) = first_difference(&to_json(model_config)?, &to_json(&theirs)?) {
        return Err(Error::Config(format!(
            "init_from: the denoiser of {} differs from this run's in `{field}`",
            source.dir.display()
        )));
    }
    let theirs = TrainedCondition::load(&source.condition())?;
    let (ours, theirs) = (to_json(condition)?, to_json(&theirs)?);
    if let Some(field) = first_difference(&ours, &theirs) {
        return Err(Error::Config(format!(
            "init_from: the condition of {} differs from this run's in `{field}`",
            source.dir.display()
        )));
    }
    Ok(())
}

/// `value` as JSON, for field-by-field comparison.
fn to_json<T: Serialize>(value: &T) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::Checkpoint(e.to_string()))
}

/// The first top-level key (or `value`) on which two JSON values differ; a missing key equals
/// `null` (files written before an optional field existed).
fn first_difference(a: &serde_json::Value, b: &serde_json::Value) -> Option<String> {
    let null = serde_json::Value::Null;
    match (a, b) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => a
            .keys()
            .chain(b.keys())
            .find(|key| a.get(*key).unwrap_or(&null) != b.get(*key).unwrap_or(&null))
            .cloned(),
        _ => (a != b).then(|| "value".to_string()),
    }
}

/// The files of the denoiser and of the context encoder: EMA or raw weights.
fn part_paths(checkpoint: &Path, ema: bool) -> (PathBuf, PathBuf) {
    let (denoiser, encoder) = if ema {
        (files::EMA_WEIGHTS, files::SOURCE_ENCODER_EMA_WEIGHTS)
    } else {
        (files::WEIGHTS, files::SOURCE_ENCODER_WEIGHTS)
    };
    (checkpoint.join(denoiser), checkpoint.join(encoder))
}

/// Saves the denoiser (and context encoder) of `model` into a checkpoint directory: EMA or
/// raw files.
fn save_parts(model: &DiffusionModel, checkpoint: &Path, ema: bool) -> Result<(), Error> {
    let (denoiser, encoder) = part_paths(checkpoint, ema);
    save_module(&model.denoiser, &denoiser)?;
    if let Some(source_encoder) = &model.source_encoder {
        save_module(source_encoder, &encoder)?;
    }
    Ok(())
}

/// Loads the parts saved by [`save_parts`] into `model` (casting half-precision files).
fn load_parts(
    mut model: DiffusionModel,
    run: &DiffusionRun,
    ema: bool,
) -> Result<DiffusionModel, Error> {
    let (denoiser, encoder) = part_paths(&run.checkpoint_dir(), ema);
    model.denoiser = ld4lg_run::load_weights(model.denoiser, &denoiser)?;
    model.source_encoder = match model.source_encoder {
        Some(source_encoder) => Some(ld4lg_run::load_weights(source_encoder, &encoder)?),
        None => None,
    };
    Ok(model)
}

/// A few samples of the EMA model, printed at each validation.
struct Preview<'a> {
    model: &'a DiffusionModel,
    condition: &'a TrainedCondition,
    sources: Option<&'a [String]>,
    tokenizer: &'a Tokenizer,
    autoencoder: &'a Autoencoder,
    latent_stats: &'a LatentStats,
    schedule: NoiseSchedule,
    device: &'a Device,
}

impl Preview<'_> {
    /// `preview_samples` texts from fixed seeds (so validations compare), each labelled with
    /// its condition.
    fn samples(&self, n: usize) -> Result<Vec<String>, Error> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let (labels, conditioning): (Vec<String>, Conditioning) = match self.condition {
            TrainedCondition::None => (vec![String::new(); n], Conditioning::none()),
            TrainedCondition::Class { classes } => {
                let ids: Vec<i64> = (0..n).map(|i| (i % classes.len()) as i64).collect();
                let labels = ids
                    .iter()
                    .map(|&i| format!("[{}] ", classes[i as usize]))
                    .collect();
                let ids = Tensor::<1, burn::tensor::Int>::from_data(
                    TensorData::new(ids, [n]),
                    self.device,
                );
                (labels, Conditioning::classes(ids))
            }
            TrainedCondition::Source { .. } => {
                let sources = self.sources.unwrap_or_default();
                let picked: Vec<&str> = (0..n)
                    .map(|i| sources.get(i).map_or("", String::as_str))
                    .collect();
                let encoder = self
                    .model
                    .source_encoder
                    .as_ref()
                    .expect("source runs build a context encoder");
                let conditioning =
                    ld4lg_run::encode_sources(encoder, self.tokenizer, &picked, self.device)?;
                let labels = picked.iter().map(|s| format!("[{s}] ")).collect();
                (labels, conditioning)
            }
        };
        let config = SamplerConfig {
            kind: SamplerKind::Ddim { eta: 0.0 },
            steps: 25,
            ..SamplerConfig::default()
        };
        let sampler = Sampler::new(&self.model.denoiser, self.schedule, config)?;
        let seeds: Vec<u64> = (0..n as u64).collect();
        let latents = sampler.sample(
            self.autoencoder.latent_shape(),
            &conditioning,
            &mut NoiseSource::from_seeds(&seeds),
            self.device,
        )?;
        let ids = self.autoencoder.decode(
            self.latent_stats.denormalize(latents),
            &DecodeStrategy::Greedy,
            special::BOS_ID,
            special::EOS_ID,
        );
        let texts = self.tokenizer.decode_batch(&ids)?;
        Ok(labels
            .into_iter()
            .zip(texts)
            .map(|(label, text)| format!("{label}{text}"))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::first_difference;
    use serde_json::json;

    #[test]
    fn first_difference_names_the_field_and_treats_missing_as_null() {
        let ours = json!({ "d_model": 192, "num_classes": null, "n_layers": 6 });
        assert_eq!(first_difference(&ours, &ours), None);
        let older = json!({ "d_model": 192, "n_layers": 6 });
        assert_eq!(first_difference(&ours, &older), None);
        let wider = json!({ "d_model": 256, "num_classes": null, "n_layers": 6 });
        assert_eq!(first_difference(&ours, &wider).as_deref(), Some("d_model"));
        let classes = json!({ "d_model": 192, "n_layers": 6, "num_classes": 2 });
        assert_eq!(
            first_difference(&ours, &classes).as_deref(),
            Some("num_classes")
        );
        let extra = json!({ "d_model": 192, "n_layers": 6, "dropout": 0.1 });
        assert_eq!(first_difference(&ours, &extra).as_deref(), Some("dropout"));
        assert_eq!(
            first_difference(&json!("None"), &json!({ "Class": [] })).as_deref(),
            Some("value")
        );
    }
}
