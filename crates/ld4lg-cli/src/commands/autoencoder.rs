use clap::Args;
use ld4lg::autoencoder::{BeamSearchConfig, DecodeStrategy};
use ld4lg::backend::DeviceChoice;
use ld4lg::data::{CorpusSpec, OnError};
use ld4lg::train::{
    AutoencoderRun, AutoencoderRunConfig, evaluate_reconstruction, train_autoencoder,
};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Run configuration (JSON): corpora, tokenizer, model, training.
    #[arg(long)]
    config: PathBuf,
    /// Run directory: tokenizer, weights, optimiser state, metrics. Resumed when it exists.
    #[arg(long)]
    run_dir: PathBuf,
    /// Override the number of optimiser steps.
    #[arg(long)]
    steps: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ReconstructArgs {
    /// Run directory of a trained autoencoder.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Score reconstruction of this E2E-format corpus instead of reconstructing TEXTS.
    #[arg(long, conflicts_with = "texts")]
    e2e: Option<PathBuf>,
    /// Use at most this many texts of --e2e.
    #[arg(long)]
    limit: Option<usize>,
    /// Beam size for autoregressive decoders (1: greedy).
    #[arg(long, default_value_t = 1)]
    beam: usize,
    /// Add Gaussian noise of this many RMS units to the latents before decoding.
    #[arg(long, default_value_t = 0.0)]
    latent_noise: f64,
    /// Texts to reconstruct.
    texts: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InterpolateArgs {
    /// Run directory of a trained autoencoder.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Number of texts along the path, both ends included.
    #[arg(long, default_value_t = 5)]
    points: usize,
    /// Interpolate linearly instead of spherically.
    #[arg(long)]
    linear: bool,
    /// Start text.
    from: String,
    /// End text.
    to: String,
}

pub fn train(args: TrainArgs, device: DeviceChoice) -> anyhow::Result<()> {
    let mut config: AutoencoderRunConfig = super::read_config(&args.config)?;
    if let Some(steps) = args.steps {
        config.training.steps = steps;
    }
    let start = Instant::now();
    let options = super::interactive();
    let metrics = train_autoencoder(&config, &args.run_dir, &device.device()?, &options)?;
    println!(
        "autoencoder trained in {:.1} min: validation token accuracy {:.4}, exact match {:.4}, BLEU {:.2}",
        start.elapsed().as_secs_f64() / 60.0,
        metrics.token_accuracy,
        metrics.exact_match,
        metrics.bleu
    );
    Ok(())
}

pub fn reconstruct(args: ReconstructArgs, device: DeviceChoice) -> anyhow::Result<()> {
    let device = device.device()?;
    let run = AutoencoderRun {
        dir: args.checkpoint.clone(),
    };
    let (tokenizer, model) = run.load(&device)?;
    let strategy = if args.beam > 1 {
        DecodeStrategy::Beam(BeamSearchConfig::new().with_beam_size(args.beam))
    } else {
        DecodeStrategy::Greedy
    };
    let texts: Vec<String> = match &args.e2e {
        Some(path) => {
            let stream = CorpusSpec::E2e { path: path.clone() }
                .open(OnError::Fail)?
                .texts();
            let texts: Result<Vec<String>, _> = match args.limit {
                Some(n) => stream.take(n).collect(),
                None => stream.collect(),
            };
            texts?
        }
        None => args.texts.clone(),
    };
    anyhow::ensure!(
        !texts.is_empty(),
        "nothing to reconstruct: give texts or --e2e FILE"
    );
    let start = Instant::now();
    let (metrics, decoded) = evaluate_reconstruction(
        &model,
        &tokenizer,
        &texts,
        &strategy,
        128,
        args.latent_noise,
        &device,
    )?;
    if args.e2e.is_some() {
        use ld4lg::burn::module::Module;
        let [l, d] = model.latent_shape();
        println!(
            "model: {} parameters, latents {l}×{d}, {:?} decoder",
            model.num_params(),
            model.decoder_kind()
        );
        println!(
            "{} texts in {:.1}s: token accuracy {:.4}, exact match {:.4}, BLEU {:.2}",
            texts.len(),
            start.elapsed().as_secs_f64(),
            metrics.token_accuracy,
            metrics.exact_match,
            metrics.bleu
        );
    } else {
        for (text, out) in texts.iter().zip(decoded) {
            println!("{text}\n  -> {out}");
        }
    }
    Ok(())
}

pub fn interpolate(args: InterpolateArgs, device: DeviceChoice) -> anyhow::Result<()> {
    use ld4lg::autoencoder::{lerp, slerp};
    use ld4lg::burn::tensor::Tensor;
    use ld4lg::tokenizer::{EncodeOptions, special};
    anyhow::ensure!(args.points >= 2, "--points must be at least 2");
    let device = device.device()?;
    let (tokenizer, model) = AutoencoderRun {
        dir: args.checkpoint.clone(),
    }
    .load(&device)?;
    let batch =
        tokenizer.encode_batch(&[&args.from, &args.to], EncodeOptions::new(model.max_len()))?;
    let (ids, mask) = batch.to_tensors(&device);
    let latents = model.encode(ids, mask);
    let a = latents.clone().narrow(0, 0, 1);
    let b = latents.narrow(0, 1, 1);
    let path: Vec<Tensor<3>> = (0..args.points)
        .map(|i| {
            let w = i as f64 / (args.points - 1) as f64;
            if args.linear {
                lerp(a.clone(), b.clone(), w)
            } else {
                slerp(a.clone(), b.clone(), w)
            }
        })
        .collect();
    let decoded = model.decode(
        Tensor::cat(path, 0),
        &DecodeStrategy::Greedy,
        special::BOS_ID,
        special::EOS_ID,
    );
    for (i, ids) in decoded.iter().enumerate() {
        let w = i as f64 / (args.points - 1) as f64;
        println!("{w:.2}  {}", tokenizer.decode(ids)?);
    }
    Ok(())
}
