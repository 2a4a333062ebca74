//! Times ld4lg's training steps and generation on the shapes of the shipped E2E models, for
//! `scripts/bench/compare.sh`, which times a PyTorch twin of the same work in the same run.
//!
//! ```sh
//! cargo run --release --example throughput -- --what denoiser --steps 20
//! cargo run --release --example throughput -- --what generate --samples 1000 --batch 250 --lengths-out lengths.json
//! ```
//!
//! Prints one JSON object per measurement on standard output. Threads: `RAYON_NUM_THREADS`
//! (Burn Flex's matrix products and reductions run on rayon's pool).

mod steps;

use anyhow::{Result, bail};
use ld4lg::backend::DeviceChoice;
use ld4lg::tokenizer::special;
use std::time::Instant;

struct Args {
    what: String,
    device: DeviceChoice,
    warmup: usize,
    steps: usize,
    samples: usize,
    batch: usize,
    sampler_steps: usize,
    lengths_out: Option<std::path::PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        what: "denoiser".into(),
        device: DeviceChoice::default_compiled().ok_or_else(|| anyhow::anyhow!("no backend"))?,
        warmup: 4,
        steps: 20,
        samples: 1000,
        batch: 250,
        sampler_steps: 50,
        lengths_out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--what" => args.what = value()?,
            "--device" => args.device = value()?.parse()?,
            "--warmup" => args.warmup = value()?.parse()?,
            "--steps" => args.steps = value()?.parse()?,
            "--samples" => args.samples = value()?.parse()?,
            "--batch" => args.batch = value()?.parse()?,
            "--sampler-steps" => args.sampler_steps = value()?.parse()?,
            "--lengths-out" => args.lengths_out = Some(value()?.into()),
            other => bail!(
                "unknown argument {other}; expected --what denoiser|autoencoder|lm|generate, \
                 --device, --warmup, --steps, --samples, --batch, --sampler-steps, --lengths-out"
            ),
        }
    }
    Ok(args)
}

fn threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

fn main() -> Result<()> {
    // As the CLI does.
    ld4lg::backend::reuse_large_allocations();
    let args = parse_args()?;
    let device = args.device.device()?;
    let backend = args.device.name();
    match args.what.as_str() {
        "denoiser" | "autoencoder" | "lm" => {
            let mut step = match args.what.as_str() {
                "denoiser" => steps::denoiser_step(&device)?,
                "autoencoder" => steps::autoencoder_step(&device)?,
                _ => steps::lm_step(&device)?,
            };
            for _ in 0..args.warmup {
                step()?;
            }
            let start = Instant::now();
            for _ in 0..args.steps {
                step()?;
            }
            let seconds = start.elapsed().as_secs_f64() / args.steps as f64;
            println!(
                "{{\"system\":\"ld4lg\",\"backend\":\"{backend}\",\"threads\":{},\
                 \"what\":\"{}\",\"steps\":{},\"seconds_per_step\":{seconds:.5}}}",
                threads(),
                args.what,
                args.steps
            );
        }
        "generate" => {
            if args.batch == 0 || args.samples % args.batch != 0 {
                bail!("--samples must be a positive multiple of --batch");
            }
            let pipeline = steps::pipeline(&device)?;
            let config = steps::dpm_solver(args.sampler_steps);
            // Warm-up: one small batch through both halves.
            let warm = pipeline.generate_latents(8, &config, 0)?;
            pipeline.decode(warm)?;
            let (mut denoise, mut decode) = (0.0, 0.0);
            let mut lengths: Vec<usize> = Vec::with_capacity(args.samples);
            for b in 0..args.samples / args.batch {
                let start = Instant::now();
                let latents =
                    pipeline.generate_latents(args.batch, &config, (b * args.batch) as u64)?;
                // Flex is synchronous; reading one value waits for any other backend.
                let _ = latents.clone().sum().into_scalar::<f32>();
                denoise += start.elapsed().as_secs_f64();
                let start = Instant::now();
                let ids = pipeline.autoencoder().decode(
                    latents,
                    pipeline.decode_strategy(),
                    special::BOS_ID,
                    special::EOS_ID,
                );
                pipeline.tokenizer().decode_batch(&ids)?;
                decode += start.elapsed().as_secs_f64();
                lengths.extend(ids.iter().map(Vec::len));
            }
            let tokens: usize = lengths.iter().sum();
            if let Some(path) = &args.lengths_out {
                // The twin stops each of its samples at the length ld4lg decoded.
                std::fs::write(path, format!("{lengths:?}"))?;
            }
            println!(
                "{{\"system\":\"ld4lg\",\"backend\":\"{backend}\",\"threads\":{},\
                 \"what\":\"generate\",\"samples\":{},\"batch\":{},\"sampler_steps\":{},\
                 \"denoise_seconds\":{denoise:.3},\"decode_seconds\":{decode:.3},\
                 \"tokens\":{tokens},\"tokens_per_second\":{:.1}}}",
                threads(),
                args.samples,
                args.batch,
                args.sampler_steps,
                tokens as f64 / (denoise + decode)
            );
        }
        other => bail!("unknown --what {other}"),
    }
    Ok(())
}
