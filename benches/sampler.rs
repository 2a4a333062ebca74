//! Sampler overhead per step, with a trivial denoiser (x̂₀ = 0), so that the cost of the real
//! model can later be compared with what the sampler itself adds.
//!
//! `cargo bench --bench sampler`

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ld4lg::backend::DeviceChoice;
use ld4lg::burn::tensor::Tensor;
use ld4lg::sampler::{
    Conditioning, DdpmVariance, Denoiser, DenoiserInput, NoiseSource, Sampler, SamplerConfig,
    SamplerKind,
};
use ld4lg::schedule::{NoiseSchedule, PredictionType};

struct Trivial;

impl Denoiser for Trivial {
    fn prediction_type(&self) -> PredictionType {
        PredictionType::Sample
    }

    fn predict(&self, input: DenoiserInput<'_>) -> Tensor<3> {
        input.z_t.zeros_like()
    }
}

fn per_step(c: &mut Criterion) {
    let device = DeviceChoice::default_compiled()
        .expect("a backend is compiled in")
        .device()
        .expect("compiled backends give devices");
    // LD4LG's latent shape for E2E-sized models: 32 latents of width 64, batch 64.
    let (batch, l, d, steps) = (64, 32, 64, 10);
    let mut group = c.benchmark_group("sampler_10_steps_b64_l32_d64");
    for (name, kind) in [
        (
            "ddpm",
            SamplerKind::Ddpm {
                variance: DdpmVariance::Large,
            },
        ),
        ("ddim", SamplerKind::Ddim { eta: 0.0 }),
        ("dpm++2m", SamplerKind::DpmSolverPlusPlus { order: 2 }),
        ("dpm++3m", SamplerKind::DpmSolverPlusPlus { order: 3 }),
    ] {
        let config = SamplerConfig {
            kind,
            steps,
            ..SamplerConfig::default()
        };
        let sampler = Sampler::new(Trivial, NoiseSchedule::default(), config).expect("valid");
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                let mut noise = NoiseSource::from_seed(0, batch);
                sampler
                    .sample([l, d], &Conditioning::none(), &mut noise, &device)
                    .expect("samples")
                    .into_data()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, per_step);
criterion_main!(benches);
