//! Quickstart: load the shipped E2E model and, on the CPU, generate restaurant descriptions
//! from noise, interpolate between two sentences, and edit one.
//!
//! ```text
//! cargo run --release --example quickstart
//! cargo run --release --example quickstart --features wgpu -- --device wgpu
//! ```

use anyhow::Context;
use ld4lg::autoencoder::{BeamSearchConfig, DecodeStrategy, Fusion};
use ld4lg::backend::DeviceChoice;
use ld4lg::data::CorpusSpec;
use ld4lg::fusion::NgramTokenPrior;
use ld4lg::lm::LanguageModel;
use ld4lg::pick::{CandidatePicker, FluencyModel};
use ld4lg::pipeline::LatentDiffusionPipeline;
use ld4lg::request::{InterpolateRequest, InterpolationPath};
use ld4lg::sampler::SamplerConfig;
use std::sync::Arc;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let device_choice = parse_device()?;
    let device = device_choice.device()?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = root.join("models/e2e");
    let start = Instant::now();
    let beam = BeamSearchConfig::new()
        .with_beam_size(4)
        .with_no_adjacent_repeat(true);
    let pipeline = LatentDiffusionPipeline::load(&model, &device).with_context(|| {
        format!(
            "loading the shipped model from {} (train one with `ld4lg train --config configs/e2e-run.json --run-dir runs/e2e`)",
            model.display()
        )
    })?
    // The shipped decoder is autoregressive: beam search, never a word twice in a row.
    .with_decode_strategy(DecodeStrategy::Beam(beam.clone()));
    println!(
        "loaded {} on {device_choice} in {:.2?} (decoding: beam 4, no adjacent repeats)",
        model.display(),
        start.elapsed()
    );

    let sampler = SamplerConfig {
        steps: 50,
        ..SamplerConfig::default()
    };
    let start = Instant::now();
    let latents = pipeline.generate_latents(8, &sampler, 1)?;
    let samples = pipeline.decode(latents.clone())?;
    println!(
        "\n8 samples (DPM-Solver++ 2M, 50 steps, seed 1) in {:.2?}:",
        start.elapsed()
    );
    for text in &samples {
        println!("  - {text}");
    }

    // The same latents decoded with shallow fusion: beam search adds 8 × the log-probability
    // of a token 5-gram model of the bundled training texts (the best setting measured on
    // 1000 samples in docs/RESULTS.md).
    let start = Instant::now();
    let train = CorpusSpec::E2e {
        path: root.join("data/e2e/trainset.csv.gz"),
    };
    let prior = NgramTokenPrior::train(pipeline.tokenizer(), &train.read_texts()?, 5)?;
    let fused = pipeline.decode_with(latents, &prior.into_fused_beam(beam.clone(), 8.0))?;
    println!(
        "\nThe same 8, decoded with fusion (a 5-gram model of the training texts, weight 8), in {:.2?}:",
        start.elapsed()
    );
    for text in &fused {
        println!("  - {text}");
    }

    let (a, b) = (
        "The Eagle is a cheap coffee shop near Burger King in the riverside area.",
        "Fitzbillies is a highly rated Italian restaurant in the city centre. It is not family-friendly.",
    );
    println!("\nInterpolation (slerp between the two latents):");
    for (i, text) in pipeline.interpolate(a, b, 5)?.iter().enumerate() {
        println!("  {:.2}  {text}", i as f64 / 4.0);
    }

    // The measured best (docs/RESULTS.md; the CLI's `interpolate --denoise 0.4
    // --candidates 32 --keep-ends --fluency-lm models/e2e --fusion-lm models/e2e
    // --fusion-weight 2`, here with 16): every point between the ends noised to t = 0.4 and
    // denoised back 16 times, decoded with the shipped language model fused into beam search
    // (weight 2), and the candidate that model finds most fluent kept.
    let start = Instant::now();
    let lm = Arc::new(LanguageModel::load(&model, &device)?);
    let request = InterpolateRequest::new(a, b, 5)
        .with_path(InterpolationPath::Denoised {
            strength: 0.4,
            keep_ends: true,
        })
        .with_seeds((1..=16).collect())
        // The points between the ends only; the ends are reconstructed with the pipeline's
        // plain beam search (their latents are exact).
        .with_decode(DecodeStrategy::FusedBeam(
            beam,
            Fusion::new(lm.clone(), 2.0),
        ));
    let picker = CandidatePicker::first().with_fluency(FluencyModel::Neural(lm), 1.0)?;
    let path = pipeline.interpolate_with(&request, &picker)?;
    println!(
        "\nInterpolation through the denoiser, the most fluent of 16 per point, in {:.2?}:",
        start.elapsed()
    );
    for (i, text) in path.iter().enumerate() {
        println!("  {:.2}  {text}", i as f64 / 4.0);
    }

    // Each point a sample of the denoiser: DDIM-invert both ends to noise, interpolate there.
    println!("\nInterpolation through inverted noise (DDIM, 100 steps each way):");
    for (i, text) in pipeline
        .interpolate_inverted(a, b, 5, 1.0, 100)?
        .iter()
        .enumerate()
    {
        println!("  {:.2}  {text}", i as f64 / 4.0);
    }

    println!("\nEdits of \"{a}\" (noise to strength s, denoise back, seed 3):");
    for strength in [0.3, 0.5, 0.7] {
        println!(
            "  s = {strength}: {}",
            pipeline.edit(a, strength, &sampler, 3)?
        );
    }
    Ok(())
}

/// `--device NAME` (default: the first compiled backend).
fn parse_device() -> anyhow::Result<DeviceChoice> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => DeviceChoice::default_compiled().context("no backend compiled in"),
        [flag, name] if flag == "--device" => Ok(name.parse()?),
        _ => anyhow::bail!("usage: quickstart [--device flex|ndarray|wgpu|cuda]"),
    }
}
