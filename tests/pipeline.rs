//! End to end on a small slice of E2E: a tiny autoencoder and denoiser, trained for a few
//! hundred steps, then generation, interpolation, editing; seeds and reloading are exact.

use burn::tensor::Device;
use ld4lg::autoencoder::{AutoencoderConfig, DecodeStrategy, DecoderKind};
use ld4lg::data::{CorpusSpec, OnError};
use ld4lg::denoiser::LatentDenoiserConfig;
use ld4lg::pipeline::LatentDiffusionPipeline;
use ld4lg::run::DiffusionRun;
use ld4lg::sampler::{SamplerConfig, SamplerKind};
use ld4lg::tokenizer::TokenizerConfig;
use ld4lg::train::{
    AutoencoderRun, AutoencoderRunConfig, DenoisedLatentsConfig, DiffusionRunConfig, LrSchedule,
    RunOptions, TrainingConfig, evaluate_reconstruction, train_autoencoder, train_diffusion,
};
use std::path::Path;
use std::sync::OnceLock;

/// Trains once per test binary into a fixed temporary directory.
fn trained_run() -> &'static Path {
    static RUN: OnceLock<tempfile::TempDir> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/e2e/trainset.csv.gz");
        let texts: Vec<String> = CorpusSpec::E2e { path: e2e }
            .open(OnError::Fail)
            .unwrap()
            .texts()
            .take(200)
            .map(|t| t.unwrap().replace('\n', " "))
            .collect();
        let corpus = dir.path().join("texts.txt");
        std::fs::write(&corpus, texts.join("\n")).unwrap();
        let spec = CorpusSpec::Plain {
            paths: vec![corpus],
        };
        let training = |steps| TrainingConfig {
            batch_size: 32,
            steps,
            lr: LrSchedule {
                peak: 2e-3,
                warmup_steps: 20,
                ..LrSchedule::default()
            },
            validate_every: 50,
            checkpoint_every: 100,
            validation_size: 16,
            ..TrainingConfig::default()
        };
        let device = Device::flex();
        let autoencoder = AutoencoderRunConfig {
            train: spec.clone(),
            validation: spec.clone(),
            tokenizer: TokenizerConfig {
                vocab_size: 400,
                min_frequency: 1,
                ..TokenizerConfig::default()
            },
            model: AutoencoderConfig::new()
                .with_max_len(48)
                .with_d_model(48)
                .with_n_heads(2)
                .with_encoder_layers(1)
                .with_perceiver_layers(1)
                .with_num_latents(8)
                .with_d_latent(16)
                .with_d_decoder(48)
                .with_decoder_layers(2)
                .with_decoder(DecoderKind::Parallel),
            training: training(200),
            encoder_from: None,
            init_decoder: false,
            denoised_latents: None,
        };
        train_autoencoder(&autoencoder, dir.path(), &device, &RunOptions::default()).unwrap();
        let diffusion = DiffusionRunConfig {
            training: training(300),
            ..DiffusionRunConfig::new(
                spec,
                LatentDenoiserConfig::new()
                    .with_d_model(48)
                    .with_n_layers(2)
                    .with_n_heads(2),
            )
        };
        train_diffusion(&diffusion, dir.path(), &device, &RunOptions::default()).unwrap();
        dir
    })
    .path()
}

fn losses(run: &Path) -> Vec<f64> {
    std::fs::read_to_string(run.join("diffusion/metrics.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect()
}

fn sampler() -> SamplerConfig {
    SamplerConfig {
        kind: SamplerKind::DpmSolverPlusPlus { order: 2 },
        steps: 20,
        ..SamplerConfig::default()
    }
}

#[test]
fn diffusion_loss_falls_well_below_its_start() {
    let losses = losses(trained_run());
    assert_eq!(losses.len(), 6, "{losses:?}");
    // The latents are standardised, so the v target has unit variance and the loss starts
    // near 1 with no mean left to learn cheaply.
    assert!(losses[5] < 0.7 * losses[0], "{losses:?}");
}

#[test]
fn generation_is_non_empty_seeded_and_survives_reloading() {
    let device = Device::flex();
    let pipeline = LatentDiffusionPipeline::load(trained_run(), &device).unwrap();
    let texts = pipeline.generate(6, &sampler(), 7).unwrap();
    assert_eq!(texts.len(), 6);
    assert!(texts.iter().all(|t| !t.trim().is_empty()), "{texts:?}");
    assert_eq!(
        pipeline.generate(6, &sampler(), 7).unwrap(),
        texts,
        "same seed, same texts"
    );
    assert_ne!(
        pipeline.generate(6, &sampler(), 8).unwrap(),
        texts,
        "another seed"
    );
    // Example i depends only on seed + i.
    assert_eq!(pipeline.generate(1, &sampler(), 9).unwrap()[0], texts[2]);
    // The latents generation decodes, available on their own.
    let latents = pipeline.generate_latents(6, &sampler(), 7).unwrap();
    assert_eq!(latents.dims()[0], 6);
    assert_eq!(pipeline.decode(latents).unwrap(), texts);
    let reloaded = LatentDiffusionPipeline::load(trained_run(), &device).unwrap();
    assert_eq!(reloaded.generate(6, &sampler(), 7).unwrap(), texts);
}

#[test]
fn interpolation_edit_and_reconstruction_run() {
    let device = Device::flex();
    let pipeline = LatentDiffusionPipeline::load(trained_run(), &device).unwrap();
    let path = pipeline
        .interpolate(
            "The Eagle is a coffee shop.",
            "The Mill is a pub near the river.",
            4,
        )
        .unwrap();
    assert_eq!(path.len(), 4);
    let edited = pipeline
        .edit("The Eagle is a coffee shop.", 0.5, &sampler(), 1)
        .unwrap();
    assert!(!edited.trim().is_empty());
    assert!(pipeline.edit("x", 0.0, &sampler(), 1).is_err());
    assert!(pipeline.interpolate("a", "b", 1).is_err());
    // Through the denoiser at a tiny noise level the path decodes as without it.
    let (a, b) = (
        "The Eagle is a coffee shop.",
        "The Mill is a pub near the river.",
    );
    let plain = pipeline.interpolate(a, b, 3).unwrap();
    let denoised = pipeline
        .interpolate_denoised(a, b, 3, 0.01, &sampler(), 2)
        .unwrap();
    assert_eq!(denoised.len(), 3);
    assert_eq!(denoised[0], plain[0]);
    assert_eq!(denoised[2], plain[2]);
    assert!(
        pipeline
            .interpolate_denoised(a, b, 1, 0.5, &sampler(), 2)
            .is_err()
    );
    // Candidates: point-major, one per seed, each seed's path as on its own.
    let candidates = pipeline
        .interpolate_denoised_candidates(a, b, 3, 0.5, &sampler(), &[2, 5])
        .unwrap();
    let with_5 = pipeline
        .interpolate_denoised(a, b, 3, 0.5, &sampler(), 5)
        .unwrap();
    let with_2 = pipeline
        .interpolate_denoised(a, b, 3, 0.5, &sampler(), 2)
        .unwrap();
    assert_eq!(candidates.len(), 3);
    for (point, texts) in candidates.iter().enumerate() {
        assert_eq!(texts, &[with_2[point].clone(), with_5[point].clone()]);
    }
    // Only the points between the ends: the same texts, the ends neither noised nor decoded.
    let interior = pipeline
        .interpolate_denoised_interior_candidates(a, b, 3, 0.5, &sampler(), &[2, 5])
        .unwrap();
    assert_eq!(interior, candidates[1..2]);
    assert!(
        pipeline
            .interpolate_denoised_interior_candidates(a, b, 2, 0.5, &sampler(), &[2])
            .unwrap()
            .is_empty()
    );
    assert_eq!(pipeline.reconstruct(&["The Mill"]).unwrap().len(), 1);
}

#[cfg(feature = "wgpu")]
#[test]
fn probe_keeps_texts_at_low_noise_and_loses_them_at_high_noise() {
    use ld4lg::probe::{one_step, probe_denoiser};
    let device = Device::flex();
    let pipeline = LatentDiffusionPipeline::load(trained_run(), &device).unwrap();
    let texts: Vec<String> = std::fs::read_to_string(trained_run().join("texts.txt"))
        .unwrap()
        .lines()
        .take(24)
        .map(str::to_owned)
        .collect();
    let clean = ld4lg::train::evaluate_reconstruction(
        pipeline.autoencoder(),
        pipeline.tokenizer(),
        &texts,
        &ld4lg::autoencoder::DecodeStrategy::Greedy,
        8,
        0.0,
        &device,
    )
    .unwrap()
    .0;
    let rows = probe_denoiser(&pipeline, &texts, &[0.01, 0.95], &one_step(), 8, 1).unwrap();
    assert_eq!(rows.len(), 2);
    let (low, high) = (&rows[0], &rows[1]);
    assert!(low.alpha_bar > 0.99 && high.alpha_bar < 0.05);
    // Barely noised latents decode like clean ones, through the denoiser or not.
    for metrics in [&low.decoder_alone, &low.denoised] {
        assert!(
            metrics.token_accuracy >= 0.95 * clean.token_accuracy,
            "{metrics:?} vs clean {clean:?}"
        );
    }
    // Almost pure noise keeps little of the text.
    assert!(high.decoder_alone.token_accuracy < low.decoder_alone.token_accuracy);
    assert!(high.denoised.token_accuracy < low.denoised.token_accuracy);
    // The corruption itself, undone by 1/√ᾱ, is tiny at t = 0.001.
    let latents = pipeline.encode(&texts[..4]).unwrap();
    let noised = pipeline.noised_latents(latents.clone(), 0.001, 3).unwrap();
    let gap = (noised - latents).abs().max().into_scalar::<f32>();
    assert!(gap < 0.05, "gap {gap}");
    assert!(probe_denoiser(&pipeline, &texts, &[0.0], &one_step(), 8, 1).is_err());
}

#[test]
fn sphere_rescaling_of_estimates_works_on_standardised_runs() {
    let device = Device::flex();
    let pipeline = LatentDiffusionPipeline::load(trained_run(), &device).unwrap();
    assert!(!pipeline.latent_stats().is_identity());
    let d = pipeline.autoencoder().latent_shape()[1] as f64;
    let config = SamplerConfig {
        normalize_x0: Some(d.sqrt()),
        ..sampler()
    };
    let texts = pipeline.generate(4, &config, 0).unwrap();
    assert_eq!(texts.len(), 4);
    assert!(texts.iter().all(|t| !t.trim().is_empty()), "{texts:?}");
    assert_eq!(pipeline.generate(4, &config, 0).unwrap(), texts);
}

#[test]
fn training_standardises_the_latents_it_diffuses() {
    use ld4lg::train::{LatentStats, load_latent_stats};
    let device = Device::flex();
    let pipeline = LatentDiffusionPipeline::load(trained_run(), &device).unwrap();
    let shape = pipeline.autoencoder().latent_shape();
    let stats = load_latent_stats(trained_run(), shape).unwrap();
    assert_ne!(stats, LatentStats::identity(shape));
    // The statistics describe the corpus' latents: standardised, they are centred with unit
    // spread.
    let texts: Vec<String> = std::fs::read_to_string(trained_run().join("texts.txt"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let latents = stats.normalize(pipeline.encode(&texts).unwrap());
    let mean = latents.clone().mean().into_scalar::<f32>();
    let spread = latents.powi_scalar(2).mean().into_scalar::<f32>().sqrt();
    assert!(mean.abs() < 0.05, "mean {mean}");
    assert!((spread - 1.0).abs() < 0.05, "rms {spread}");
}

#[test]
fn wgpu_and_flex_agree_on_the_denoiser_output() {
    use burn::module::Module;
    use burn::tensor::{DeviceKind, Distribution, Tensor};
    use ld4lg::sampler::Conditioning;
    let flex = Device::flex();
    let wgpu = Device::wgpu(DeviceKind::DefaultDevice);
    let (denoiser, _) = ld4lg::train::load_denoiser(trained_run(), &flex).unwrap();
    let on_wgpu = denoiser.clone().to_device(&wgpu);
    flex.seed(3);
    let z = Tensor::<3>::random([3, 8, 16], Distribution::Normal(0.0, 1.0), &flex);
    let alpha_bar = Tensor::<1>::from_floats([0.1, 0.5, 0.9], &flex);
    let a = denoiser.forward(z.clone(), alpha_bar.clone(), None, &Conditioning::none());
    let b = on_wgpu.forward(
        z.to_device(&wgpu),
        alpha_bar.to_device(&wgpu),
        None,
        &Conditioning::none(),
    );
    let a: Vec<f32> = a.into_data().try_to_vec_as().unwrap();
    let b: Vec<f32> = b.into_data().try_to_vec_as().unwrap();
    let scale = a.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-4 * scale, "{x} vs {y}");
    }
}

#[test]
fn half_precision_export_loads_and_stays_close() {
    use burn::tensor::{Distribution, Tensor};
    use ld4lg::sampler::Conditioning;
    let device = Device::flex();
    let out = tempfile::tempdir().unwrap();
    let bytes = ld4lg::train::export_run(trained_run(), out.path(), &device).unwrap();
    // A trained run keeps its weights in the current checkpoint directory of each stage.
    let run_dir = trained_run().to_path_buf();
    let ema = DiffusionRun {
        dir: run_dir.clone(),
    }
    .ema_weights();
    let weights = AutoencoderRun { dir: run_dir }.weights();
    let full = std::fs::metadata(ema).unwrap().len() + std::fs::metadata(weights).unwrap().len();
    assert!(
        bytes < full * 6 / 10,
        "export {bytes} bytes vs {full} in f32"
    );
    assert!(!out.path().join("diffusion/optimizer.bpk").exists());
    assert_eq!(
        std::fs::read(out.path().join("diffusion/latent_stats.json")).unwrap(),
        std::fs::read(trained_run().join("diffusion/latent_stats.json")).unwrap(),
        "the export must carry the latent statistics"
    );

    let (original, _) = ld4lg::train::load_denoiser(trained_run(), &device).unwrap();
    let (exported, _) = ld4lg::train::load_denoiser(out.path(), &device).unwrap();
    device.seed(5);
    let z = Tensor::<3>::random([2, 8, 16], Distribution::Normal(0.0, 1.0), &device);
    let alpha_bar = Tensor::<1>::from_floats([0.2, 0.7], &device);
    let a = original.forward(z.clone(), alpha_bar.clone(), None, &Conditioning::none());
    let b = exported.forward(z, alpha_bar, None, &Conditioning::none());
    let scale = a.clone().abs().max().into_scalar::<f32>().max(1e-3);
    let diff = (a - b).abs().max().into_scalar::<f32>();
    assert!(
        diff < 0.01 * scale,
        "f16 weights moved the output by {diff} (scale {scale})"
    );

    let pipeline = LatentDiffusionPipeline::load(out.path(), &device).unwrap();
    assert!(
        pipeline
            .generate(2, &sampler(), 3)
            .unwrap()
            .iter()
            .all(|t| !t.trim().is_empty())
    );
}

#[test]
fn init_from_continues_the_source_model_and_refuses_another_denoiser() {
    let source = trained_run();
    let corpus = CorpusSpec::Plain {
        paths: vec![source.join("texts.txt")],
    };
    let copy_autoencoder = |to: &Path| {
        std::fs::copy(source.join("tokenizer.json"), to.join("tokenizer.json")).unwrap();
        std::fs::create_dir_all(to.join("autoencoder")).unwrap();
        let from = AutoencoderRun {
            dir: source.to_path_buf(),
        };
        std::fs::copy(from.model_config(), to.join("autoencoder/model.json")).unwrap();
        std::fs::copy(from.weights(), to.join("autoencoder/model.bpk")).unwrap();
    };
    let dir = tempfile::tempdir().unwrap();
    copy_autoencoder(dir.path());
    let denoiser = LatentDenoiserConfig::new()
        .with_d_model(48)
        .with_n_layers(2)
        .with_n_heads(2);
    // A learning rate of zero leaves the weights where they start.
    let training = TrainingConfig {
        batch_size: 16,
        steps: 3,
        lr: LrSchedule {
            peak: 0.0,
            warmup_steps: 0,
            ..LrSchedule::default()
        },
        validate_every: 3,
        checkpoint_every: 3,
        ..TrainingConfig::default()
    };
    let continued = DiffusionRunConfig {
        training: training.clone(),
        init_from: Some(source.to_path_buf()),
        preview_samples: 0,
        ..DiffusionRunConfig::new(corpus.clone(), denoiser.clone())
    };
    train_diffusion(
        &continued,
        dir.path(),
        &Device::flex(),
        &RunOptions::default(),
    )
    .unwrap();
    let stats = |run: &Path| std::fs::read(run.join("diffusion/latent_stats.json")).unwrap();
    assert_eq!(
        stats(dir.path()),
        stats(source),
        "the source's standardisation"
    );
    let device = Device::flex();
    let generate = |run: &Path| {
        LatentDiffusionPipeline::load(run, &device)
            .unwrap()
            .generate(4, &sampler(), 11)
            .unwrap()
    };
    assert_eq!(generate(dir.path()), generate(source));

    // Without init_from the same run starts from fresh weights and generates otherwise.
    let fresh = tempfile::tempdir().unwrap();
    copy_autoencoder(fresh.path());
    let config = DiffusionRunConfig {
        init_from: None,
        ..continued.clone()
    };
    train_diffusion(
        &config,
        fresh.path(),
        &Device::flex(),
        &RunOptions::default(),
    )
    .unwrap();
    assert_ne!(generate(fresh.path()), generate(source));

    let other = tempfile::tempdir().unwrap();
    copy_autoencoder(other.path());
    let wider = DiffusionRunConfig {
        denoiser: denoiser.with_d_model(32),
        ..continued
    };
    let error = train_diffusion(
        &wider,
        other.path(),
        &Device::flex(),
        &RunOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("init_from") && error.contains("d_model"),
        "{error}"
    );
}

#[test]
fn a_decoder_fine_tuned_on_denoised_latents_starts_from_the_source_and_learns() {
    let source = trained_run();
    let corpus = CorpusSpec::Plain {
        paths: vec![source.join("texts.txt")],
    };
    let model = AutoencoderRun {
        dir: source.to_path_buf(),
    }
    .read_model_config()
    .unwrap();
    let config = |steps, peak| AutoencoderRunConfig {
        train: corpus.clone(),
        validation: corpus.clone(),
        tokenizer: TokenizerConfig::default(),
        model: model.clone(),
        training: TrainingConfig {
            batch_size: 16,
            steps,
            lr: LrSchedule {
                peak,
                warmup_steps: 0,
                ..LrSchedule::default()
            },
            validate_every: 20,
            checkpoint_every: 100,
            validation_size: 16,
            ..TrainingConfig::default()
        },
        encoder_from: Some(source.to_path_buf()),
        init_decoder: true,
        denoised_latents: Some(DenoisedLatentsConfig {
            sampler: SamplerConfig {
                steps: 2,
                ..sampler()
            },
            ..DenoisedLatentsConfig::new(source.to_path_buf())
        }),
    };
    let device = Device::flex();
    let texts: Vec<String> = std::fs::read_to_string(source.join("texts.txt"))
        .unwrap()
        .lines()
        .take(16)
        .map(String::from)
        .collect();
    let reconstruct = |run: &Path| {
        let (tokenizer, autoencoder) = AutoencoderRun {
            dir: run.to_path_buf(),
        }
        .load(&device)
        .unwrap();
        evaluate_reconstruction(
            &autoencoder,
            &tokenizer,
            &texts,
            &DecodeStrategy::Greedy,
            16,
            0.0,
            &device,
        )
        .unwrap()
        .1
    };

    // At learning rate 0 the decoder is the source's: the same reconstructions.
    let unchanged = tempfile::tempdir().unwrap();
    train_autoencoder(
        &config(2, 0.0),
        unchanged.path(),
        &device,
        &RunOptions::default(),
    )
    .unwrap();
    assert_eq!(reconstruct(unchanged.path()), reconstruct(source));

    // Trained, its loss on the (mostly denoised) training latents falls.
    let tuned = tempfile::tempdir().unwrap();
    train_autoencoder(
        &config(80, 2e-3),
        tuned.path(),
        &device,
        &RunOptions::default(),
    )
    .unwrap();
    let losses: Vec<f64> = std::fs::read_to_string(tuned.path().join("autoencoder/metrics.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect();
    assert_eq!(losses.len(), 4, "{losses:?}");
    // A 200-step source decoder on a 300-step denoiser: measured 4.08 → 3.79.
    assert!(losses[3] < 0.95 * losses[0], "{losses:?}");

    // Both options need a trained encoder, and taking the decoder needs the same decoder.
    let refusal = |config: AutoencoderRunConfig| {
        let dir = tempfile::tempdir().unwrap();
        train_autoencoder(&config, dir.path(), &device, &RunOptions::default())
            .unwrap_err()
            .to_string()
    };
    let error = refusal(AutoencoderRunConfig {
        encoder_from: None,
        ..config(2, 0.0)
    });
    assert!(error.contains("set encoder_from"), "{error}");
    let error = refusal(AutoencoderRunConfig {
        model: model.clone().with_decoder(DecoderKind::Autoregressive),
        ..config(2, 0.0)
    });
    assert!(error.contains("decoder is Autoregressive"), "{error}");
    // Estimates conditioned on the texts' own classes or sources need a conditional denoiser.
    let mut conditioned = config(2, 0.0);
    if let Some(denoised) = &mut conditioned.denoised_latents {
        denoised.conditioned = true;
    }
    let error = refusal(conditioned);
    assert!(error.contains("the denoiser is unconditional"), "{error}");

    // Estimates must be of this encoder's latents. Half-precision copies of the same
    // weights (an export) pass the check; a denoiser whose autoencoder encodes differently
    // (here: the source's configuration, freshly initialised) is refused.
    let exported = tempfile::tempdir().unwrap();
    ld4lg::train::export_run(source, exported.path(), &device).unwrap();
    let dir = tempfile::tempdir().unwrap();
    train_autoencoder(
        &AutoencoderRunConfig {
            encoder_from: Some(exported.path().to_path_buf()),
            ..config(2, 0.0)
        },
        dir.path(),
        &device,
        &RunOptions::default(),
    )
    .unwrap();
    use burn::module::Module;
    let other = tempfile::tempdir().unwrap();
    let other_run = AutoencoderRun {
        dir: other.path().to_path_buf(),
    };
    std::fs::create_dir_all(other_run.stage()).unwrap();
    std::fs::copy(source.join("tokenizer.json"), other_run.tokenizer()).unwrap();
    std::fs::copy(
        source.join("autoencoder/model.json"),
        other_run.model_config(),
    )
    .unwrap();
    device.seed(99);
    model.init(&device).save_file(other_run.weights()).unwrap();
    let error = refusal(AutoencoderRunConfig {
        encoder_from: Some(other.path().to_path_buf()),
        ..config(2, 0.0)
    });
    assert!(
        error.contains("encodes the training texts differently"),
        "{error}"
    );
}
