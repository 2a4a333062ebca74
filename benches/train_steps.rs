//! One training step of each shipped E2E model (denoiser, autoencoder, language model) on a
//! synthetic batch of its configured shapes, and the two halves of generation (50
//! DPM-Solver++ steps of the denoiser, greedy decoding) for a batch of 64 samples.
//! `scripts/bench/compare.sh` measures the same work beside a PyTorch twin.
//!
//! `cargo bench --bench train_steps`

#[path = "../examples/throughput/steps.rs"]
mod steps;

use criterion::{Criterion, criterion_group, criterion_main};
use ld4lg::backend::DeviceChoice;
use ld4lg::tokenizer::special;
use std::time::Duration;

fn device() -> ld4lg::burn::tensor::Device {
    // As the CLI does.
    ld4lg::backend::reuse_large_allocations();
    DeviceChoice::default_compiled()
        .expect("a backend is compiled in")
        .device()
        .expect("the default backend starts")
}

fn training(c: &mut Criterion) {
    let device = device();
    let mut group = c.benchmark_group("train_step");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(3));
    group.measurement_time(Duration::from_secs(15));
    for (name, build) in [
        ("denoiser", steps::denoiser_step as fn(&_) -> _),
        ("autoencoder", steps::autoencoder_step),
        ("lm", steps::lm_step),
    ] {
        let mut step = build(&device).expect("the model builds");
        group.bench_function(name, |b| b.iter(|| step().expect("the step runs")));
    }
    group.finish();
}

fn generation(c: &mut Criterion) {
    let device = device();
    let pipeline = steps::pipeline(&device).expect("the shipped model loads");
    let config = steps::dpm_solver(50);
    let mut group = c.benchmark_group("generate_64");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("denoise_50_steps", |b| {
        b.iter(|| {
            pipeline
                .generate_latents(64, &config, 0)
                .expect("sampling runs")
        })
    });
    let latents = pipeline
        .generate_latents(64, &config, 0)
        .expect("sampling runs");
    group.bench_function("decode_greedy", |b| {
        b.iter(|| {
            pipeline.autoencoder().decode(
                latents.clone(),
                pipeline.decode_strategy(),
                special::BOS_ID,
                special::EOS_ID,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, training, generation);
criterion_main!(benches);
