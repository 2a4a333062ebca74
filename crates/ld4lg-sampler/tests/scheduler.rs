//! The scheduler interface and the per-step callback of the sampling loop.

use burn::tensor::{Device, Tensor};
use ld4lg_sampler::{
    Conditioning, DdimScheduler, DdpmScheduler, DdpmVariance, Denoiser, DenoiserInput,
    DpmSolverPlusPlusScheduler, NoiseSource, Sampler, SamplerConfig, SamplerKind, Scheduler,
    StepEstimates, scheduler_for,
};
use ld4lg_schedule::{NoiseSchedule, PredictionType};

/// The exact x₀-denoiser of N(0.5, 0.2²) data, so the estimates change from step to step.
struct Gaussian;

impl Denoiser for Gaussian {
    fn prediction_type(&self) -> PredictionType {
        PredictionType::Sample
    }

    fn predict(&self, input: DenoiserInput<'_>) -> Tensor<3> {
        let (mu, s) = (0.5f32, 0.2f32);
        let batch = input.z_t.dims()[0];
        let alpha_bar = input.alpha_bar.reshape([batch, 1, 1]);
        let alpha = alpha_bar.clone().sqrt();
        let variance = alpha_bar.clone().mul_scalar(s * s) - alpha_bar + 1.0;
        let gain = alpha.clone().mul_scalar(s * s) / variance;
        (input.z_t - alpha.mul_scalar(mu)) * gain + mu
    }
}

fn max_abs_difference(a: &Tensor<3>, b: &Tensor<3>) -> f32 {
    (a.clone() - b.clone()).abs().max().into_scalar::<f32>()
}

fn sampler(kind: SamplerKind, steps: usize) -> Sampler<Gaussian> {
    let config = SamplerConfig {
        kind,
        steps,
        ..SamplerConfig::default()
    };
    Sampler::new(Gaussian, NoiseSchedule::default(), config).unwrap()
}

#[test]
fn the_callback_sees_every_step_in_order_and_ddpm_ends_on_the_last_estimate() {
    let device = Device::flex();
    let steps = 12;
    let sampler = sampler(
        SamplerKind::Ddpm {
            variance: DdpmVariance::Large,
        },
        steps,
    );
    let expected_times = sampler.config().timesteps(&NoiseSchedule::default());
    let mut noise = NoiseSource::from_seed(5, 3);
    let z = noise.normal(2, 4, &device);
    let mut seen = Vec::new();
    let mut last_x0 = None;
    let out = sampler
        .sample_from_with(z, &Conditioning::none(), &mut noise, &mut |step| {
            assert_eq!(step.steps, steps);
            assert_eq!(step.z_t.dims(), [3, 2, 4]);
            seen.push((step.step, step.t));
            last_x0 = Some(step.x0.clone());
        })
        .unwrap();
    let indices: Vec<usize> = seen.iter().map(|(i, _)| *i).collect();
    assert_eq!(indices, (0..steps).collect::<Vec<_>>());
    let times: Vec<f64> = seen.iter().map(|(_, t)| *t).collect();
    assert_eq!(times, expected_times[..steps]);
    // DDPM's last step returns x̂₀ itself.
    assert_eq!(max_abs_difference(&out, &last_x0.unwrap()), 0.0);
}

#[test]
fn the_callback_changes_nothing() {
    let device = Device::flex();
    for kind in [
        SamplerKind::Ddpm {
            variance: DdpmVariance::Posterior,
        },
        SamplerKind::Ddim { eta: 0.5 },
        SamplerKind::DpmSolverPlusPlus { order: 3 },
    ] {
        let sampler = sampler(kind, 8);
        let run = |observe: bool| {
            let mut noise = NoiseSource::from_seed(9, 2);
            let z = noise.normal(2, 4, &device);
            let mut count = 0;
            let out = if observe {
                sampler.sample_from_with(z, &Conditioning::none(), &mut noise, &mut |_| {
                    count += 1;
                })
            } else {
                sampler.sample_from(z, &Conditioning::none(), &mut noise)
            };
            (out.unwrap(), count)
        };
        let (plain, _) = run(false);
        let (observed, count) = run(true);
        assert_eq!(count, 8);
        assert_eq!(max_abs_difference(&plain, &observed), 0.0, "{kind:?}");
    }
}

/// A scheduler of our own: jumps to α_s·x̂₀ + σ_s·ε̂ (DDIM with η = 0) and records its calls.
#[derive(Default)]
struct Recording {
    inner: Option<DdimScheduler>,
    set_calls: usize,
    steps: Vec<usize>,
}

impl Scheduler for Recording {
    fn set_timesteps(&mut self, timesteps: &[f64], schedule: &NoiseSchedule) {
        self.set_calls += 1;
        let mut inner = DdimScheduler::new(0.0, 1.0);
        inner.set_timesteps(timesteps, schedule);
        self.inner = Some(inner);
    }

    fn timesteps(&self) -> &[f64] {
        self.inner.as_ref().map_or(&[], |inner| inner.timesteps())
    }

    fn step(
        &mut self,
        step: usize,
        estimates: StepEstimates,
        z: Tensor<3>,
        noise: &mut NoiseSource,
    ) -> Tensor<3> {
        self.steps.push(step);
        self.inner
            .as_mut()
            .expect("set_timesteps first")
            .step(step, estimates, z, noise)
    }
}

#[test]
fn a_scheduler_of_ones_own_drives_the_same_loop() {
    let device = Device::flex();
    let sampler = sampler(SamplerKind::Ddim { eta: 0.0 }, 6);
    let mut noise = NoiseSource::from_seed(2, 2);
    let z = noise.normal(2, 4, &device);
    let built_in = sampler
        .sample_from(z.clone(), &Conditioning::none(), &mut noise)
        .unwrap();
    let mut recording = Recording::default();
    let mut noise = NoiseSource::from_seed(2, 2);
    let _ = noise.normal(2, 4, &device);
    let ours = sampler
        .sample_from_scheduled(
            z,
            &Conditioning::none(),
            &mut noise,
            &mut recording,
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(recording.set_calls, 1);
    assert_eq!(recording.steps, (0..6).collect::<Vec<_>>());
    assert_eq!(max_abs_difference(&built_in, &ours), 0.0);
}

#[test]
fn set_timesteps_gives_each_scheduler_the_run_and_forgets_the_last_one() {
    let schedule = NoiseSchedule::default();
    let config = SamplerConfig {
        steps: 5,
        kind: SamplerKind::DpmSolverPlusPlus { order: 2 },
        ..SamplerConfig::default()
    };
    let times = config.timesteps(&schedule);
    let mut schedulers: Vec<Box<dyn Scheduler>> = vec![
        Box::new(DdpmScheduler::new(DdpmVariance::Large, 1.0)),
        Box::new(DdimScheduler::new(0.0, 1.0)),
        Box::new(DpmSolverPlusPlusScheduler::new(2, true)),
        scheduler_for(&config),
    ];
    for scheduler in &mut schedulers {
        assert!(scheduler.timesteps().is_empty());
        scheduler.set_timesteps(&times, &schedule);
        assert_eq!(scheduler.timesteps(), times.as_slice());
    }
    // A multistep solver run twice from the same start gives the same result: its history
    // does not leak from one run into the next.
    let device = Device::flex();
    let sampler = Sampler::new(Gaussian, schedule, config).unwrap();
    let mut dpm = DpmSolverPlusPlusScheduler::new(2, true);
    let run = |scheduler: &mut DpmSolverPlusPlusScheduler| {
        let mut noise = NoiseSource::from_seed(4, 2);
        let z = noise.normal(2, 4, &device);
        sampler
            .sample_from_scheduled(z, &Conditioning::none(), &mut noise, scheduler, &mut |_| {})
            .unwrap()
    };
    let first = run(&mut dpm);
    let second = run(&mut dpm);
    assert_eq!(max_abs_difference(&first, &second), 0.0);
}
