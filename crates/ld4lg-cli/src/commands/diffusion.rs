use super::decode::DecodeArgs;
use super::fluency::FluencyArgs;
use anyhow::Context;
use clap::{Args, ValueEnum};
use ld4lg::backend::DeviceChoice;
use ld4lg::metrics::{MbrSimilarity, generation_metrics, human_metrics_grouped, text_set};
use ld4lg::pipeline::LatentDiffusionPipeline;
use ld4lg::request::{EditRequest, GenerateRequest};
use ld4lg::sampler::{DdpmVariance, SamplerConfig, SamplerKind, Spacing};
use ld4lg::train::{DiffusionRunConfig, RunConfig, train_diffusion, train_run};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SamplerName {
    /// DPM-Solver++ 2M.
    #[value(name = "dpm++")]
    DpmPlusPlus,
    /// DPM-Solver++ 3M.
    #[value(name = "dpm++3m")]
    DpmPlusPlus3,
    /// DDIM (deterministic).
    Ddim,
    /// Ancestral DDPM.
    Ddpm,
}

/// Sampler options shared by the generating commands.
#[derive(Debug, Clone, Args)]
pub struct SamplerArgs {
    /// Sampler.
    #[arg(long, value_enum, default_value = "dpm++")]
    sampler: SamplerName,
    /// Denoiser evaluations.
    #[arg(long, default_value_t = 50)]
    steps: usize,
    /// Seed of the first sample (sample i uses seed + i, whatever the batch size, so runs of
    /// n samples whose seeds differ by less than n share samples: for an independent
    /// repeat, add at least n).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Classifier-free guidance weight w on the model output (1: plain conditional,
    /// > 1: stronger control). Only for conditional models.
    #[arg(long, default_value_t = 1.0)]
    guidance: f64,
    /// Guidance rescale φ in [0, 1] (Lin et al. 2024): scale the guided output back to the
    /// conditional output's standard deviation, mixed φ : 1 − φ with the plain guided output.
    #[arg(long, default_value_t = 0.0)]
    guidance_rescale: f64,
    /// Guide only at times t in [LO, HI] (Kynkäänniemi et al. 2024; 1 is pure noise); the
    /// conditional model alone runs elsewhere. Example: `--guidance-interval 0.2 0.8`.
    #[arg(long, num_args = 2, value_names = ["LO", "HI"])]
    guidance_interval: Option<Vec<f64>>,
    /// Rescale each latent vector of every x̂₀ estimate to this norm (LD4LG: √d for
    /// sphere-regularised autoencoders: 5.657 for d = 32). On runs with standardised latents
    /// the rescale acts on the autoencoder's latents, before standardisation.
    #[arg(long)]
    normalize_x0: Option<f64>,
    /// Sampling temperature: multiplies the starting noise and every noise a stochastic
    /// sampler adds. Below 1: more typical, less varied texts.
    #[arg(long, default_value_t = 1.0)]
    noise_scale: f64,
}

impl SamplerName {
    /// The sampler with its time spacing (DDPM: uniform in time, the others: uniform in
    /// log-SNR) and `steps` denoiser evaluations.
    pub fn config(self, steps: usize) -> SamplerConfig {
        let kind = match self {
            SamplerName::DpmPlusPlus => SamplerKind::DpmSolverPlusPlus { order: 2 },
            SamplerName::DpmPlusPlus3 => SamplerKind::DpmSolverPlusPlus { order: 3 },
            SamplerName::Ddim => SamplerKind::Ddim { eta: 0.0 },
            SamplerName::Ddpm => SamplerKind::Ddpm {
                variance: DdpmVariance::Large,
            },
        };
        SamplerConfig {
            kind,
            steps,
            spacing: match self {
                SamplerName::Ddpm => Spacing::UniformTime,
                _ => Spacing::UniformLogSnr,
            },
            ..SamplerConfig::default()
        }
    }
}

impl SamplerArgs {
    pub fn config(&self) -> SamplerConfig {
        SamplerConfig {
            guidance_scale: self.guidance,
            guidance_rescale: self.guidance_rescale,
            guidance_interval: self.guidance_interval.as_deref().map(|v| (v[0], v[1])),
            normalize_x0: self.normalize_x0,
            noise_scale: self.noise_scale,
            ..self.sampler.config(self.steps)
        }
    }
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Diffusion configuration (JSON).
    #[arg(long)]
    config: PathBuf,
    /// Run directory holding a trained autoencoder; the denoiser is added to it.
    #[arg(long)]
    run_dir: PathBuf,
    /// Override the number of optimiser steps.
    #[arg(long)]
    steps: Option<u64>,
    /// Override the batch size.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Override the peak learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Start from the EMA weights of this trained run or exported model (same denoiser and
    /// condition), e.g. to train a shipped model further; read on a fresh start only.
    #[arg(long)]
    init_from: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run configuration (JSON): format_version, autoencoder and diffusion sections.
    #[arg(long)]
    config: PathBuf,
    /// Run directory; every stage resumes where it stopped and is skipped when done.
    #[arg(long)]
    run_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Run directory of a trained model.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Number of texts.
    #[arg(short, long, default_value_t = 10)]
    n: usize,
    #[command(flatten)]
    sampler: SamplerArgs,
    #[command(flatten)]
    decode: DecodeArgs,
    /// Batch size.
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// Write the texts here, one per line, instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Generate texts of this class (class-conditional models).
    #[arg(long, conflicts_with = "source_file")]
    class: Option<String>,
    /// Generate one text per line of this file (source-conditioned models, e.g. E2E meaning
    /// representations); `-n` is ignored. An empty source line gives an empty output line.
    #[arg(long)]
    source_file: Option<PathBuf>,
    /// Candidates sampled per output: per source line with --source-file; otherwise each
    /// of the `-n` texts is picked from this many samples (by --fluency-corpus and/or
    /// --mbr, one of which is then required).
    #[arg(long, default_value_t = 1)]
    candidates: usize,
    /// Pick among the candidates by minimum Bayes risk (highest mean similarity to the
    /// others) instead of taking the first.
    #[arg(long)]
    mbr: bool,
    /// Similarity for --mbr.
    #[arg(long, value_enum, default_value = "bleu")]
    mbr_similarity: MbrChoice,
    /// Also write every candidate, one JSON array per output line.
    #[arg(long)]
    candidates_out: Option<PathBuf>,
    #[command(flatten)]
    fluency: FluencyArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MbrChoice {
    /// Smoothed sentence BLEU.
    Bleu,
    /// ROUGE-2 F1.
    Rouge2,
}

impl From<MbrChoice> for MbrSimilarity {
    fn from(choice: MbrChoice) -> Self {
        match choice {
            MbrChoice::Bleu => MbrSimilarity::Bleu,
            MbrChoice::Rouge2 => MbrSimilarity::Rouge2,
        }
    }
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// Run directory of a trained model.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Noise level to edit at, in (0, 1]: small keeps the text, 1 replaces it.
    #[arg(long, default_value_t = 0.5)]
    strength: f64,
    #[command(flatten)]
    sampler: SamplerArgs,
    #[command(flatten)]
    decode: DecodeArgs,
    /// Edit towards this class (class-conditional models: style transfer).
    #[arg(long)]
    class: Option<String>,
    /// Read the texts to edit from this file, one per line.
    #[arg(long, conflicts_with = "texts")]
    input: Option<PathBuf>,
    /// Write the edited texts here, one per line (instead of source/edit pairs on stdout).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Batch size.
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// Texts to edit.
    #[arg(required_unless_present = "input")]
    texts: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Run directory of a trained model.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Where to write the shippable copy (half-precision weights, no optimiser state).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Generated texts, one per line.
    #[arg(long)]
    samples: PathBuf,
    /// Reference pool (E2E CSV; its `ref` column).
    #[arg(long, default_value = "data/e2e/devset.csv.gz")]
    references: PathBuf,
    /// Training set, for the copy rate (E2E CSV).
    #[arg(long, default_value = "data/e2e/trainset.csv.gz")]
    train: PathBuf,
    /// Also score this many human references against the rest of the pool.
    #[arg(long, default_value_t = 1000)]
    human: usize,
    /// What the human references are scored without: themselves only (the default), every
    /// reference of the same meaning representation, or every reference of the same venue
    /// (the `name` slot), which dev describes under many near-identical representations.
    #[arg(long, value_enum, default_value_t = HumanExclude::Reference)]
    human_exclude: HumanExclude,
}

/// `ld4lg eval --human-exclude`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HumanExclude {
    /// Leave-one-out: each reference against all the others.
    Reference,
    /// Without the references of the same meaning representation.
    Meaning,
    /// Without the references of the same venue (`name[…]`).
    Venue,
}

/// The group of each reference for `--human-exclude`: its index, meaning representation or
/// venue, as small integers.
fn reference_groups(pairs: &[(String, String)], exclude: HumanExclude) -> Vec<usize> {
    let mut ids: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    pairs
        .iter()
        .enumerate()
        .map(|(i, (mr, _))| {
            let key = match exclude {
                HumanExclude::Reference => return i,
                HumanExclude::Meaning => mr.as_str(),
                HumanExclude::Venue => venue(mr),
            };
            let next = ids.len();
            *ids.entry(key).or_insert(next)
        })
        .collect()
}

/// The value of the `name[…]` slot of an E2E meaning representation (the whole text when
/// there is none or it does not parse).
fn venue(mr: &str) -> &str {
    ld4lg::data::MeaningRepresentation::parse(mr)
        .ok()
        .and_then(|parsed| parsed.get("name"))
        .unwrap_or(mr)
}

pub fn train(args: TrainArgs, device: DeviceChoice) -> anyhow::Result<()> {
    let mut config: DiffusionRunConfig = super::read_config(&args.config)?;
    if let Some(steps) = args.steps {
        config.training.steps = steps;
    }
    if let Some(batch_size) = args.batch_size {
        config.training.batch_size = batch_size;
    }
    if let Some(lr) = args.lr {
        config.training.lr.peak = lr;
    }
    if let Some(dir) = args.init_from {
        config.init_from = Some(dir);
    }
    let start = Instant::now();
    let options = super::interactive();
    let loss = train_diffusion(&config, &args.run_dir, &device.device()?, &options)?;
    println!(
        "denoiser trained in {:.1} min, final diffusion loss {loss:.4}",
        start.elapsed().as_secs_f64() / 60.0
    );
    Ok(())
}

pub fn train_all(args: RunArgs, device: DeviceChoice) -> anyhow::Result<()> {
    let config: RunConfig = super::read_config(&args.config)?;
    let start = Instant::now();
    let options = super::interactive();
    let report = train_run(&config, &args.run_dir, &device.device()?, &options)?;
    println!(
        "run trained in {:.1} min: reconstruction token accuracy {:.4}, BLEU {:.2}; diffusion loss {:.4}",
        start.elapsed().as_secs_f64() / 60.0,
        report.reconstruction.token_accuracy,
        report.reconstruction.bleu,
        report.diffusion_loss
    );
    Ok(())
}

pub fn generate(args: GenerateArgs, device: DeviceChoice) -> anyhow::Result<()> {
    anyhow::ensure!(args.batch_size > 0, "--batch-size must be positive");
    anyhow::ensure!(args.candidates > 0, "--candidates must be positive");
    if args.source_file.is_none() && args.candidates > 1 {
        anyhow::ensure!(
            args.mbr || args.fluency.enabled(),
            "--candidates without --source-file picks each text among samples: give --fluency-corpus or --mbr"
        );
    }
    let device = device.device()?;
    let pipeline = LatentDiffusionPipeline::load(&args.checkpoint, &device)?
        .with_decode_strategy(args.decode.strategy_for(&args.checkpoint, &device)?);
    let config = args.sampler.config();
    let start = Instant::now();
    let request = match &args.source_file {
        Some(path) => {
            let sources = super::read_lines(path)?;
            let empty = sources.iter().filter(|s| s.trim().is_empty()).count();
            if empty > 0 {
                eprintln!("{empty} empty source line(s): their output lines are empty");
            }
            GenerateRequest::for_sources(sources)
        }
        None => match &args.class {
            Some(class) => {
                // Fail before any work on an unknown class.
                pipeline.class_conditioning(class, 1)?;
                GenerateRequest::new(args.n).with_class(class.clone())
            }
            None => GenerateRequest::new(args.n),
        },
    }
    .with_candidates(args.candidates)
    .with_seed(args.sampler.seed)
    .with_sampler(config.clone())
    .with_batch_size(args.batch_size);
    // Trained before sampling, so a bad corpus fails at once.
    let picker = args.fluency.picker(
        args.mbr.then_some(args.mbr_similarity.into()),
        args.candidates,
        pipeline.device(),
    )?;
    // Texts are picked and written batch by batch, so memory stays flat however many are
    // asked for, and a killed generation keeps what it wrote.
    let stdout = PathBuf::from("<stdout>");
    let out_path = args.out.as_ref().unwrap_or(&stdout);
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("writing {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut candidates_out = match &args.candidates_out {
        Some(path) => Some((
            path,
            std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("writing {}", path.display()))?,
            ),
        )),
        None => None,
    };
    let outputs = request.n;
    let progress = indicatif::ProgressBar::new(outputs as u64).with_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} texts {elapsed_precise} (eta {eta})",
        )
        .expect("valid template"),
    );
    let mut written = 0;
    pipeline.generate_candidates_each(&request, |sets| {
        if let Some((path, file)) = candidates_out.as_mut() {
            for set in &sets {
                let line = serde_json::to_string(set).expect("strings serialise");
                writeln!(file, "{line}").map_err(|e| ld4lg::Error::io(path.as_path(), e))?;
            }
        }
        for text in picker.pick_each(&sets)? {
            writeln!(out, "{text}").map_err(|e| ld4lg::Error::io(out_path, e))?;
        }
        out.flush().map_err(|e| ld4lg::Error::io(out_path, e))?;
        written += sets.len();
        progress.set_position(written as u64);
        Ok(())
    })?;
    progress.finish_and_clear();
    if let Some((path, mut file)) = candidates_out {
        file.flush()
            .with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!(
        "{written} texts in {:.1}s ({} steps, batch {})",
        start.elapsed().as_secs_f64(),
        config.steps,
        args.batch_size
    );
    Ok(())
}

pub fn edit(args: EditArgs, device: DeviceChoice) -> anyhow::Result<()> {
    anyhow::ensure!(args.batch_size > 0, "--batch-size must be positive");
    let device = device.device()?;
    let pipeline = LatentDiffusionPipeline::load(&args.checkpoint, &device)?
        .with_decode_strategy(args.decode.strategy_for(&args.checkpoint, &device)?);
    let config = args.sampler.config();
    let texts = match &args.input {
        Some(path) => super::read_lines(path)?,
        None => args.texts.clone(),
    };
    let mut request = EditRequest::new(texts.clone(), args.strength)
        .with_seed(args.sampler.seed)
        .with_sampler(config)
        .with_batch_size(args.batch_size);
    if let Some(class) = &args.class {
        request = request.with_class(class.clone());
    }
    let edited = pipeline.edit_with(&request)?;
    match &args.out {
        Some(path) => std::fs::write(path, edited.join("\n") + "\n")
            .with_context(|| format!("writing {}", path.display()))?,
        None => {
            for (text, edited) in texts.iter().zip(edited) {
                println!("{text}\n  -> {edited}");
            }
        }
    }
    Ok(())
}

fn e2e_refs(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    Ok(super::e2e_pairs(path)?
        .into_iter()
        .map(|(_, text)| text)
        .collect())
}

pub fn export(args: ExportArgs, device: DeviceChoice) -> anyhow::Result<()> {
    let bytes = ld4lg::train::export_run(&args.checkpoint, &args.out, &device.device()?)?;
    println!(
        "exported {} ({:.1} MB)",
        args.out.display(),
        bytes as f64 / 1e6
    );
    Ok(())
}

pub fn eval(args: EvalArgs) -> anyhow::Result<()> {
    let samples = super::read_lines(&args.samples)?;
    anyhow::ensure!(
        !samples.is_empty(),
        "{} holds no samples",
        args.samples.display()
    );
    let pairs = super::e2e_pairs(&args.references)?;
    let groups = reference_groups(&pairs, args.human_exclude);
    let references: Vec<String> = pairs.into_iter().map(|(_, text)| text).collect();
    let train_texts = e2e_refs(&args.train)?;
    let training = text_set(&train_texts);
    let generated = generation_metrics(&samples, &references, &training);
    let human = human_metrics_grouped(&references, &groups, args.human, &training);
    // Training references are real text too, but of other meaning representations than the
    // dev pool: the score a perfect model of the training data would get.
    let n = args.human.clamp(1, train_texts.len().max(1));
    let train_sample: Vec<String> = (0..n)
        .map(|i| train_texts[i * train_texts.len() / n].clone())
        .collect();
    let train = generation_metrics(&train_sample, &references, &training);
    println!("metric            generated  human(dev)  ratio  train refs");
    let row = |name: &str, g: f64, h: f64, t: f64| {
        let ratio = if h != 0.0 { g / h } else { f64::NAN };
        println!("{name:<16} {g:>10.4} {h:>11.4} {ratio:>6.3} {t:>11.4}")
    };
    row(
        "pool BLEU-4",
        generated.pool_bleu,
        human.pool_bleu,
        train.pool_bleu,
    );
    row(
        "diversity",
        generated.diversity,
        human.diversity,
        train.diversity,
    );
    row(
        "duplicate rate",
        generated.duplicate_rate,
        human.duplicate_rate,
        train.duplicate_rate,
    );
    row(
        "copy rate",
        generated.copy_rate,
        human.copy_rate,
        train.copy_rate,
    );
    row(
        "mean length",
        generated.mean_length,
        human.mean_length,
        train.mean_length,
    );
    println!(
        "empty outputs    {:>10} {:>11}        {:>11}",
        generated.empty, human.empty, train.empty
    );
    println!(
        "texts            {:>10} {:>11}        {:>11}",
        generated.count, human.count, train.count
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_group_by_meaning_or_venue() {
        let pairs: Vec<(String, String)> = [
            ("name[The Eagle], area[riverside]", "1"),
            ("name[The Eagle], food[French]", "2"),
            ("name[Zizzi], area[riverside]", "3"),
            ("name[The Eagle], area[riverside]", "4"),
        ]
        .iter()
        .map(|(m, r)| (m.to_string(), r.to_string()))
        .collect();
        assert_eq!(
            reference_groups(&pairs, HumanExclude::Reference),
            [0, 1, 2, 3]
        );
        assert_eq!(
            reference_groups(&pairs, HumanExclude::Meaning),
            [0, 1, 2, 0]
        );
        assert_eq!(reference_groups(&pairs, HumanExclude::Venue), [0, 0, 1, 0]);
        assert_eq!(venue("eatType[pub], name[The Mill]"), "The Mill");
        assert_eq!(venue("eatType[pub]"), "eatType[pub]");
    }
}
