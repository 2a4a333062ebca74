//! Generate with the same checkpoint and seed on two backends and compare.
//!
//! ```text
//! cargo run --release --features wgpu --example backend_swap -- RUN_DIR [flex] [wgpu]
//! ```
//!
//! Noise is drawn on the host from per-example ChaCha8 streams, so both backends start from
//! identical latents; the example reports the largest difference of the denoiser's first
//! prediction, how many generated texts are identical, and the time each backend took.

use anyhow::Context;
use ld4lg::backend::DeviceChoice;
use ld4lg::burn::tensor::Tensor;
use ld4lg::pipeline::LatentDiffusionPipeline;
use ld4lg::sampler::{Conditioning, NoiseSource, SamplerConfig};
use ld4lg::train::load_denoiser;
use std::path::PathBuf;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let run: PathBuf = args
        .next()
        .context("usage: backend_swap RUN_DIR [BACKEND_A] [BACKEND_B]")?
        .into();
    let a: DeviceChoice = args.next().as_deref().unwrap_or("flex").parse()?;
    let b: DeviceChoice = args.next().as_deref().unwrap_or("wgpu").parse()?;
    let config = SamplerConfig {
        steps: 25,
        ..SamplerConfig::default()
    };
    let n = 16;
    let mut outputs = Vec::new();
    for choice in [a, b] {
        let device = choice.device()?;
        let (denoiser, schedule) = load_denoiser(&run, &device)?;
        let pipeline = LatentDiffusionPipeline::load(&run, &device)?;
        let [l, d] = pipeline.autoencoder().latent_shape();
        let z = NoiseSource::from_seed(0, n).normal(l, d, &device);
        let alpha_bar = Tensor::<1>::full([n], schedule.alpha_bar(0.5) as f32, &device);
        let prediction: Vec<f32> = denoiser
            .forward(z, alpha_bar, None, &Conditioning::none())
            .into_data()
            .try_to_vec_as()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let start = Instant::now();
        let texts = pipeline.generate(n, &config, 1)?;
        let seconds = start.elapsed().as_secs_f64();
        println!("{choice}: {n} texts in {seconds:.2}s; first: {}", texts[0]);
        outputs.push((prediction, texts));
    }
    let (pa, ta) = &outputs[0];
    let (pb, tb) = &outputs[1];
    let max_diff = pa
        .iter()
        .zip(pb)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    let same = ta.iter().zip(tb).filter(|(x, y)| x == y).count();
    println!("denoiser output: max |{a} − {b}| = {max_diff:.2e}");
    println!("generated texts identical on both backends: {same}/{n}");
    Ok(())
}
