//! `ld4lg interpolate`: texts along a path between two texts' latents.

use super::decode::DecodeArgs;
use super::diffusion::SamplerName;
use super::fluency::FluencyArgs;
use clap::Args;
use ld4lg::autoencoder::DecodeStrategy;
use ld4lg::backend::DeviceChoice;
use ld4lg::pick::CandidatePicker;
use ld4lg::request::{InterpolateRequest, InterpolationPath};
use ld4lg::train::AutoencoderRun;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct InterpolateArgs {
    /// Run directory of a trained autoencoder.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Number of texts along the path, both ends included.
    #[arg(long, default_value_t = 5)]
    points: usize,
    /// Interpolate linearly instead of spherically.
    #[arg(long, conflicts_with = "denoise")]
    linear: bool,
    /// Noise every point of the (spherical) path to this time and denoise it back with the
    /// run's denoiser before decoding (needs a run with a trained denoiser).
    #[arg(long)]
    denoise: Option<f64>,
    /// Interpolate between the texts' noises instead: DDIM inversion to this time (default 1,
    /// pure noise) with --steps steps, then DDIM sampling of every point (needs a run with a
    /// trained denoiser): every point is a sample of the model.
    #[arg(long, conflicts_with_all = ["denoise", "linear"], num_args = 0..=1, default_missing_value = "1.0")]
    invert: Option<f64>,
    /// Noise seed for --denoise (the same noise for every point).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// With --denoise: denoise the path this many times (seeds seed, seed + 1, …) and keep,
    /// at each point, the text picked by --mbr and/or the fluency term (else the first).
    #[arg(long, default_value_t = 1, requires = "denoise")]
    candidates: usize,
    /// With --candidates: pick by minimum Bayes risk among a point's candidates (sentence BLEU).
    #[arg(long, requires = "denoise")]
    mbr: bool,
    /// With --denoise: decode the two ends from their own latents, without noise or fusion
    /// (their reconstructions), and denoise only the points between them.
    #[arg(long, requires = "denoise")]
    keep_ends: bool,
    /// With --denoise: also write every point's candidates, one JSON array per denoised
    /// point (the points between the ends only with --keep-ends).
    #[arg(long, requires = "denoise")]
    candidates_out: Option<PathBuf>,
    #[command(flatten)]
    fluency: FluencyArgs,
    /// Sampler steps for --denoise (default 25) and --invert (DDIM, each way; default 100:
    /// inversion is first order and needs more steps to keep the ends).
    #[arg(long)]
    steps: Option<usize>,
    /// Sampler for --denoise.
    #[arg(long, value_enum, default_value = "dpm++", requires = "denoise")]
    sampler: SamplerName,
    /// Sampling temperature for --denoise: multiplies every noise a stochastic sampler
    /// (ddpm) adds on the way back. Below 1: more typical texts.
    #[arg(long, default_value_t = 1.0, requires = "denoise")]
    noise_scale: f64,
    #[command(flatten)]
    decode: DecodeArgs,
    /// Start text.
    from: String,
    /// End text.
    to: String,
}

pub fn run(args: InterpolateArgs, device: DeviceChoice) -> anyhow::Result<()> {
    anyhow::ensure!(args.points >= 2, "--points must be at least 2");
    anyhow::ensure!(
        !args.fluency.enabled() || args.denoise.is_some(),
        "--fluency-corpus picks among the candidates of --denoise"
    );
    let device = device.device()?;
    let strategy = args.decode.strategy_for(&args.checkpoint, &device)?;
    let pipeline = || -> anyhow::Result<ld4lg::pipeline::LatentDiffusionPipeline> {
        Ok(
            ld4lg::pipeline::LatentDiffusionPipeline::load(&args.checkpoint, &device)?
                .with_decode_strategy(strategy.clone()),
        )
    };
    let texts = match (args.invert, args.denoise) {
        (Some(depth), _) => pipeline()?.interpolate_with(
            &InterpolateRequest::new(&args.from, &args.to, args.points).with_path(
                InterpolationPath::Inverted {
                    depth,
                    steps: args.steps.unwrap_or(100),
                },
            ),
            &CandidatePicker::first(),
        )?,
        (None, Some(strength)) => {
            anyhow::ensure!(args.candidates > 0, "--candidates must be positive");
            let config = ld4lg::sampler::SamplerConfig {
                noise_scale: args.noise_scale,
                ..args.sampler.config(args.steps.unwrap_or(25))
            };
            let picker = args.fluency.picker(
                args.mbr.then_some(ld4lg::metrics::MbrSimilarity::Bleu),
                args.candidates,
                &device,
            )?;
            let request = InterpolateRequest::new(&args.from, &args.to, args.points)
                .with_path(InterpolationPath::Denoised {
                    strength,
                    keep_ends: args.keep_ends,
                })
                .with_sampler(config)
                .with_seeds((0..args.candidates as u64).map(|j| args.seed + j).collect())
                // Without fusion: the ends' latents are exact, and a prior only pulls their
                // texts towards the corpus.
                .with_ends_decode(args.decode.strategy()?);
            let sets = pipeline()?.interpolate_candidates(&request)?;
            if let Some(out) = &args.candidates_out {
                let denoised = if args.keep_ends {
                    &sets[1..sets.len() - 1]
                } else {
                    &sets[..]
                };
                super::fluency::write_candidates(out, denoised)?;
            }
            picker.pick_each(&sets)?
        }
        (None, None) => autoencoder_path(&args, &strategy, &device)?,
    };
    for (i, text) in texts.iter().enumerate() {
        println!("{:.2}  {text}", i as f64 / (args.points - 1) as f64);
    }
    Ok(())
}

/// The texts along the path between the two texts' latents, through the autoencoder alone.
fn autoencoder_path(
    args: &InterpolateArgs,
    strategy: &DecodeStrategy,
    device: &ld4lg::burn::tensor::Device,
) -> anyhow::Result<Vec<String>> {
    use ld4lg::autoencoder::{lerp, slerp};
    use ld4lg::burn::tensor::Tensor;
    use ld4lg::tokenizer::{EncodeOptions, special};
    let (tokenizer, model) = AutoencoderRun {
        dir: args.checkpoint.clone(),
    }
    .load(device)?;
    let batch =
        tokenizer.encode_batch(&[&args.from, &args.to], EncodeOptions::new(model.max_len()))?;
    let (ids, mask) = batch.to_tensors(device);
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
        strategy,
        special::BOS_ID,
        special::EOS_ID,
    );
    Ok(tokenizer.decode_batch(&decoded)?)
}
