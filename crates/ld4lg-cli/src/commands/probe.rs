//! `ld4lg probe`: reconstruction through noise, denoiser against decoder alone.

use clap::Args;
use ld4lg::backend::DeviceChoice;
use ld4lg::data::{CorpusSpec, OnError};
use ld4lg::pipeline::LatentDiffusionPipeline;
use ld4lg::probe::{one_step, probe_denoiser};
use ld4lg::sampler::SamplerConfig;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Run directory of a trained model.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Texts to probe, one per line.
    #[arg(long, required_unless_present = "e2e", conflicts_with = "e2e")]
    input: Option<PathBuf>,
    /// Probe the references of this E2E-format file instead.
    #[arg(long)]
    e2e: Option<PathBuf>,
    /// Use at most this many texts.
    #[arg(long, default_value_t = 500)]
    limit: usize,
    /// Diffusion times to noise to, in (0, 1].
    #[arg(long, value_delimiter = ',', default_value = "0.1,0.3,0.5,0.7,0.9")]
    strengths: Vec<f64>,
    /// DDIM steps back from each time (1: the denoiser's x̂₀ estimate itself).
    #[arg(long, default_value_t = 1)]
    steps: usize,
    /// Seed of the first text's noise (text i uses seed + i).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Texts per batch.
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
}

pub fn run(args: ProbeArgs, device: DeviceChoice) -> anyhow::Result<()> {
    let device = device.device()?;
    let mut texts = match (&args.input, &args.e2e) {
        (Some(path), _) => super::read_lines(path)?,
        (None, Some(path)) => CorpusSpec::E2e { path: path.clone() }
            .open(OnError::Fail)?
            .texts()
            .take(args.limit)
            .collect::<Result<_, _>>()?,
        (None, None) => unreachable!("clap requires --input or --e2e"),
    };
    texts.truncate(args.limit);
    anyhow::ensure!(!texts.is_empty(), "no texts to probe");
    let pipeline = LatentDiffusionPipeline::load(&args.checkpoint, &device)?;
    let config = SamplerConfig {
        steps: args.steps,
        ..one_step()
    };
    let rows = probe_denoiser(
        &pipeline,
        &texts,
        &args.strengths,
        &config,
        args.batch_size,
        args.seed,
    )?;
    println!(
        "{} texts; token accuracy / exact match / BLEU of decoding z_t/√ᾱ (decoder alone) and the denoised estimate ({} DDIM step(s))",
        texts.len(),
        args.steps
    );
    println!("| t | ᾱ | decoder alone | denoised |");
    println!("|---|---|---|---|");
    for row in rows {
        let cell = |m: &ld4lg::train::ReconstructionMetrics| {
            format!(
                "{:.3} / {:.3} / {:.1}",
                m.token_accuracy, m.exact_match, m.bleu
            )
        };
        println!(
            "| {} | {:.3} | {} | {} |",
            row.strength,
            row.alpha_bar,
            cell(&row.decoder_alone),
            cell(&row.denoised)
        );
    }
    Ok(())
}
