//! Guidance, self-conditioning, renormalisation and seeding behaviour of the samplers.

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use ld4lg_sampler::{
    Conditioning, DdpmVariance, Denoiser, DenoiserInput, NoiseSource, Sampler, SamplerConfig,
    SamplerKind,
};
use ld4lg_schedule::{NoiseSchedule, PredictionType};
use std::cell::RefCell;

/// Predicts x̂₀ = (class id + 1) everywhere, 0 when nulled, z/2 without classes; records the
/// batch size and whether a self-conditioning input came with each call.
#[derive(Default)]
struct ClassMean {
    calls: RefCell<Vec<(usize, bool)>>,
    self_conds: RefCell<Vec<Option<Vec<f32>>>>,
}

impl Denoiser for ClassMean {
    fn prediction_type(&self) -> PredictionType {
        PredictionType::Sample
    }

    fn predict(&self, input: DenoiserInput<'_>) -> Tensor<3> {
        let [batch, l, d] = input.z_t.dims();
        self.calls
            .borrow_mut()
            .push((batch, input.self_cond.is_some()));
        self.self_conds.borrow_mut().push(
            input
                .self_cond
                .map(|s| s.into_data().try_to_vec_as::<f32>().unwrap()),
        );
        let device = input.z_t.device();
        let Some(labels) = input.conditioning.class_labels.clone() else {
            return input.z_t.mul_scalar(0.5);
        };
        let mut value = labels.float().add_scalar(1.0);
        if let Some(null) = input.conditioning.null.clone() {
            value = value.mask_fill(null, 0.0);
        }
        // Slight dependence on z so that steps differ.
        value.reshape([batch, 1, 1]).expand([batch, l, d])
            + input.z_t.mul_scalar(1e-3)
            + Tensor::<3>::zeros([batch, l, d], &device)
    }
}

fn values(t: Tensor<3>) -> Vec<f32> {
    t.into_data().try_to_vec_as::<f32>().unwrap()
}

fn classes(labels: &[i64], device: &Device) -> Conditioning {
    Conditioning::classes(Tensor::<1, Int>::from_data(
        TensorData::new(labels.to_vec(), [labels.len()]),
        device,
    ))
}

fn sampler(guidance_scale: f64, kind: SamplerKind) -> Sampler<ClassMean> {
    let config = SamplerConfig {
        kind,
        steps: 6,
        guidance_scale,
        ..SamplerConfig::default()
    };
    Sampler::new(ClassMean::default(), NoiseSchedule::default(), config).unwrap()
}

#[test]
fn guidance_combines_both_branches_of_one_batched_call() {
    let device = Device::flex();
    let z = NoiseSource::from_seed(1, 3).normal(2, 4, &device);
    let conditioning = classes(&[0, 1, 2], &device);
    let unconditional_flags =
        Tensor::<1, Bool>::from_data(TensorData::new(vec![true; 3], [3]), &device);
    let nulled = Conditioning {
        null: Some(unconditional_flags),
        ..conditioning.clone()
    };

    let direct = |c: &Conditioning| {
        values(sampler(1.0, SamplerKind::default()).guided_output(z.clone(), 0.5, None, c, &device))
    };
    let (cond, uncond) = (direct(&conditioning), direct(&nulled));

    // w = 1: exactly the conditional model, in a single call of the plain batch.
    let at_one = sampler(1.0, SamplerKind::default());
    let got = values(at_one.guided_output(z.clone(), 0.5, None, &conditioning, &device));
    assert_eq!(got, cond);
    assert_eq!(*at_one.denoiser().calls.borrow(), [(3, false)]);

    // w = 0: exactly the unconditional model.
    let got = values(sampler(0.0, SamplerKind::default()).guided_output(
        z.clone(),
        0.5,
        None,
        &conditioning,
        &device,
    ));
    assert_eq!(got, uncond);

    // w = 2.5: 2.5·cond − 1.5·uncond, from one call on the doubled batch.
    let guided = sampler(2.5, SamplerKind::default());
    let got = values(guided.guided_output(z.clone(), 0.5, None, &conditioning, &device));
    for ((g, c), u) in got.iter().zip(&cond).zip(&uncond) {
        assert!((g - (2.5 * c - 1.5 * u)).abs() < 1e-5, "{g} vs {c}, {u}");
    }
    assert_eq!(*guided.denoiser().calls.borrow(), [(6, false)]);
}

#[test]
fn conditioning_steers_the_samples() {
    let device = Device::flex();
    let sampler = sampler(
        1.0,
        SamplerKind::Ddpm {
            variance: DdpmVariance::Large,
        },
    );
    let mut noise = NoiseSource::from_seed(5, 3);
    let x = values(
        sampler
            .sample([2, 4], &classes(&[0, 1, 2], &device), &mut noise, &device)
            .unwrap(),
    );
    for (b, expected) in [1.0f32, 2.0, 3.0].iter().enumerate() {
        for v in &x[b * 8..(b + 1) * 8] {
            assert!((v - expected).abs() < 0.05, "example {b}: {v}");
        }
    }
}

#[test]
fn self_conditioning_feeds_the_previous_estimate() {
    let device = Device::flex();
    let sampler = sampler(1.0, SamplerKind::Ddim { eta: 0.0 });
    let mut noise = NoiseSource::from_seed(2, 2);
    sampler
        .sample([1, 3], &classes(&[0, 1], &device), &mut noise, &device)
        .unwrap();
    let calls = sampler.denoiser().calls.borrow();
    assert_eq!(calls.len(), 6);
    assert!(!calls[0].1, "first call has no previous estimate");
    assert!(calls[1..].iter().all(|&(_, has)| has));
    let inputs = sampler.denoiser().self_conds.borrow();
    let second = inputs[1].as_ref().unwrap();
    // The first estimate is class + 1 plus 1e-3·z: close to [1, 1, 1, 2, 2, 2].
    for (v, e) in second.iter().zip([1.0, 1.0, 1.0, 2.0, 2.0, 2.0]) {
        assert!((v - e).abs() < 0.01, "{second:?}");
    }

    let without = SamplerConfig {
        self_conditioning: false,
        steps: 3,
        ..SamplerConfig::default()
    };
    let plain = Sampler::new(ClassMean::default(), NoiseSchedule::default(), without).unwrap();
    plain
        .sample(
            [1, 3],
            &Conditioning::none(),
            &mut NoiseSource::from_seed(2, 2),
            &device,
        )
        .unwrap();
    assert!(plain.denoiser().calls.borrow().iter().all(|&(_, has)| !has));
}

/// DDPM (whose last step returns x̂₀ itself) with every x̂₀ rescaled to norm 2.
fn renormalising_sampler() -> Sampler<ClassMean> {
    let config = SamplerConfig {
        kind: SamplerKind::Ddpm {
            variance: DdpmVariance::Large,
        },
        steps: 4,
        normalize_x0: Some(2.0),
        ..SamplerConfig::default()
    };
    Sampler::new(ClassMean::default(), NoiseSchedule::default(), config).unwrap()
}

/// Two examples of classes 0 and 4, latents `[2, 3, 4]`.
fn sample_two(sampler: &Sampler<ClassMean>, device: &Device) -> Tensor<3> {
    sampler
        .sample(
            [3, 4],
            &classes(&[0, 4], device),
            &mut NoiseSource::from_seed(1, 2),
            device,
        )
        .unwrap()
}

#[test]
fn renormalised_estimates_have_the_requested_norm() {
    let device = Device::flex();
    let x = sample_two(&renormalising_sampler(), &device);
    let norms = values(x.powi_scalar(2).sum_dim(2).sqrt());
    assert_eq!(norms.len(), 6);
    for norm in norms {
        assert!((norm - 2.0).abs() < 1e-4, "{norm}");
    }
}

#[test]
fn renormalisation_of_standardised_latents_acts_on_the_original_space() {
    let device = Device::flex();
    let mean_values: Vec<f32> = (0..12).map(|i| 0.25 * i as f32 - 1.0).collect();
    let mean = Tensor::<2>::from_data(TensorData::new(mean_values, [3, 4]), &device);
    let std = 0.5;
    let sampler = renormalising_sampler()
        .with_standardisation(mean.clone(), std)
        .unwrap();
    let x = sample_two(&sampler, &device);
    // Back in the original space, every vector has the
    // requested norm, while the standardised vectors do not.
    let original = x.clone().mul_scalar(std) + mean.unsqueeze::<3>();
    for norm in values(original.powi_scalar(2).sum_dim(2).sqrt()) {
        assert!((norm - 2.0).abs() < 1e-4, "{norm}");
    }
    let standardised = values(x.powi_scalar(2).sum_dim(2).sqrt());
    assert!(
        standardised.iter().any(|n| (n - 2.0).abs() > 0.1),
        "{standardised:?}"
    );

    let bad = Sampler::new(
        ClassMean::default(),
        NoiseSchedule::default(),
        SamplerConfig::default(),
    )
    .unwrap()
    .with_standardisation(Tensor::<2>::zeros([3, 4], &device), 0.0);
    assert!(bad.is_err());
}

#[test]
fn seeds_make_samples_reproducible_and_independent() {
    let device = Device::flex();
    let run = |seeds: &[u64]| {
        let sampler = sampler(
            1.0,
            SamplerKind::Ddpm {
                variance: DdpmVariance::Large,
            },
        );
        values(
            sampler
                .sample(
                    [2, 4],
                    &Conditioning::none(),
                    &mut NoiseSource::from_seeds(seeds),
                    &device,
                )
                .unwrap(),
        )
    };
    let a = run(&[1, 2, 3]);
    assert_eq!(a, run(&[1, 2, 3]), "same seeds, same samples");
    assert_ne!(a, run(&[4, 5, 6]), "other seeds, other samples");
    // Example 1 of the batch equals the same seed sampled alone.
    assert_eq!(a[8..16], run(&[2])[..]);
    assert_ne!(a[..8], a[8..16]);
}

#[test]
fn mismatched_batches_are_errors() {
    let device = Device::flex();
    let sampler = sampler(1.0, SamplerKind::default());
    let z = NoiseSource::from_seed(0, 2).normal(1, 2, &device);
    let err = sampler
        .sample_from(z, &Conditioning::none(), &mut NoiseSource::from_seed(0, 3))
        .unwrap_err();
    assert!(err.to_string().contains("3 noise streams"), "{err}");
}

/// Predicts `(class + 1)·z_t` for conditional examples and `0.5·z_t` for nulled ones, so
/// guided outputs are multiples of `z_t` with hand-computable scales; records batch sizes.
#[derive(Default)]
struct ScaledInput {
    batches: RefCell<Vec<usize>>,
}

impl Denoiser for ScaledInput {
    fn prediction_type(&self) -> PredictionType {
        PredictionType::VPrediction
    }

    fn predict(&self, input: DenoiserInput<'_>) -> Tensor<3> {
        let [batch, _, _] = input.z_t.dims();
        self.batches.borrow_mut().push(batch);
        let labels = input.conditioning.class_labels.clone().unwrap();
        let mut scale = labels.float().add_scalar(1.0);
        if let Some(null) = input.conditioning.null.clone() {
            scale = scale.mask_fill(null, 0.5);
        }
        input.z_t * scale.reshape([batch, 1, 1])
    }
}

fn scaled_sampler(config: SamplerConfig) -> Sampler<ScaledInput> {
    Sampler::new(ScaledInput::default(), NoiseSchedule::default(), config).unwrap()
}

#[test]
fn guidance_rescale_restores_the_conditional_scale() {
    let device = Device::flex();
    let z = NoiseSource::from_seed(3, 2).normal(3, 4, &device);
    let z_values = values(z.clone());
    let conditioning = classes(&[0, 1], &device);
    // w = 3: guided = (3·(c + 1) − 2·0.5)·z, i.e. 2z for class 0 and 5z for class 1; the
    // conditional outputs are 1z and 2z, so the rescaled outputs are 1z and 2z and
    // φ = 0.7 mixes them to 0.7·1 + 0.3·2 = 1.3 and 0.7·2 + 0.3·5 = 2.9.
    for (phi, expected) in [(0.0, [2.0, 5.0]), (1.0, [1.0, 2.0]), (0.7, [1.3, 2.9])] {
        let sampler = scaled_sampler(SamplerConfig {
            guidance_scale: 3.0,
            guidance_rescale: phi,
            ..SamplerConfig::default()
        });
        let got = values(sampler.guided_output(z.clone(), 0.5, None, &conditioning, &device));
        for (i, (g, zi)) in got.iter().zip(&z_values).enumerate() {
            let scale = expected[i / 12];
            assert!(
                (g - scale * zi).abs() < 1e-4,
                "φ {phi}, element {i}: {g} vs {scale}·{zi}"
            );
        }
    }
}

#[test]
fn guidance_applies_only_inside_its_interval() {
    let device = Device::flex();
    let z = NoiseSource::from_seed(4, 2).normal(3, 4, &device);
    let conditioning = classes(&[0, 1], &device);
    let sampler = scaled_sampler(SamplerConfig {
        guidance_scale: 3.0,
        guidance_interval: Some((0.6, 0.9)),
        ..SamplerConfig::default()
    });
    let z_values = values(z.clone());
    for (t, scales) in [(0.5, [1.0, 2.0]), (0.7, [2.0, 5.0]), (0.95, [1.0, 2.0])] {
        let got = values(sampler.guided_output(z.clone(), t, None, &conditioning, &device));
        for (i, (g, zi)) in got.iter().zip(&z_values).enumerate() {
            let scale = scales[i / 12];
            assert!(
                (g - scale * zi).abs() < 1e-4,
                "t {t}, element {i}: {g} vs {scale}·{zi}"
            );
        }
    }
    // Outside the interval a single call on the plain batch, inside one on the doubled batch.
    assert_eq!(*sampler.denoiser().batches.borrow(), [2, 4, 2]);
}

#[test]
fn bad_guidance_rescale_or_interval_is_refused() {
    for config in [
        SamplerConfig {
            guidance_rescale: 1.5,
            ..SamplerConfig::default()
        },
        SamplerConfig {
            guidance_rescale: -0.1,
            ..SamplerConfig::default()
        },
        SamplerConfig {
            guidance_interval: Some((0.8, 0.2)),
            ..SamplerConfig::default()
        },
        SamplerConfig {
            guidance_interval: Some((0.0, 1.5)),
            ..SamplerConfig::default()
        },
    ] {
        let error = Sampler::new(ScaledInput::default(), NoiseSchedule::default(), config)
            .err()
            .expect("refused");
        assert!(error.to_string().contains("guidance_"), "{error}");
    }
}
