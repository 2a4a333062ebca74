//! `ld4lg train-lm` and `ld4lg export-lm`: the causal language model that `--fluency-lm`
//! scores candidates with.

use clap::Args;
use ld4lg::backend::DeviceChoice;
use ld4lg::train::{LmRun, LmRunConfig, save_half, train_lm};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct TrainLmArgs {
    /// Run configuration (JSON): corpora, `tokenizer_from`, model, training.
    #[arg(long)]
    config: PathBuf,
    /// Run directory: tokenizer, weights, optimiser state, metrics. Resumed when it exists.
    #[arg(long)]
    run_dir: PathBuf,
    /// Number of optimiser steps (overrides the configuration; the schedule follows it).
    #[arg(long)]
    steps: Option<u64>,
    /// The run or model whose `tokenizer.json` to use (overrides `tokenizer_from`), e.g. the
    /// run whose candidates the model will score.
    #[arg(long)]
    tokenizer_from: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExportLmArgs {
    /// Run directory of `ld4lg train-lm`.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Model directory to write `lm/` into (f16 weights); its `tokenizer.json`, when it has
    /// one, must be the run's.
    #[arg(long)]
    out: PathBuf,
}

pub fn train(args: TrainLmArgs, device: DeviceChoice) -> anyhow::Result<()> {
    let mut config: LmRunConfig = super::read_config(&args.config)?;
    if let Some(steps) = args.steps {
        config.training.steps = steps;
    }
    if let Some(dir) = args.tokenizer_from {
        config.tokenizer_from = dir;
    }
    let start = Instant::now();
    let metrics = train_lm(
        &config,
        &args.run_dir,
        &device.device()?,
        &super::interactive(),
    )?;
    println!(
        "language model trained in {:.1} min: validation NLL {:.4} per token (perplexity {:.2})",
        start.elapsed().as_secs_f64() / 60.0,
        metrics.nll,
        metrics.perplexity
    );
    Ok(())
}

pub fn export(args: ExportLmArgs, device: DeviceChoice) -> anyhow::Result<()> {
    use anyhow::Context;
    let source = LmRun {
        dir: args.checkpoint.clone(),
    };
    let (_, model) = source.load(&device.device()?)?;
    let target = LmRun {
        dir: args.out.clone(),
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    // A model directory being exported into is not for a second writer either.
    let _lock = ld4lg::run::RunLock::acquire(&args.out)?;
    let tokenizer = std::fs::read(source.tokenizer())
        .with_context(|| format!("reading {}", source.tokenizer().display()))?;
    match std::fs::read(target.tokenizer()) {
        Ok(existing) => anyhow::ensure!(
            existing == tokenizer,
            "{} is not the tokenizer the language model was trained with",
            target.tokenizer().display()
        ),
        Err(_) => ld4lg::train::atomic_write(&target.tokenizer(), &tokenizer)?,
    }
    std::fs::create_dir_all(target.stage())
        .with_context(|| format!("creating {}", target.stage().display()))?;
    std::fs::copy(source.model_config(), target.model_config())
        .with_context(|| format!("copying {}", source.model_config().display()))?;
    save_half(&model, &target.weights())?;
    let bytes = std::fs::metadata(target.weights())?.len();
    println!(
        "wrote {} ({:.1} MB)",
        target.stage().display(),
        bytes as f64 / 1e6
    );
    Ok(())
}
