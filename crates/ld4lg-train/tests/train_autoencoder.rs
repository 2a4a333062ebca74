//! The autoencoder training loop on a small slice of E2E: the loss falls, checkpoints resume
//! exactly, and the run directory loads back for inference.

use burn::config::Config;
use burn::tensor::Device;
use ld4lg_autoencoder::{AutoencoderConfig, DecoderKind};
use ld4lg_data::{CorpusSpec, OnError};
use ld4lg_tokenizer::{EncodeOptions, TokenizerConfig};
use ld4lg_train::{
    AutoencoderRun, AutoencoderRunConfig, LongTextOversampling, LrSchedule, RunOptions,
    TrainingConfig, train_autoencoder,
};
use std::path::Path;

fn corpus(dir: &Path) -> CorpusSpec {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/e2e/trainset.csv.gz");
    let texts: Vec<String> = CorpusSpec::E2e { path: e2e }
        .open(OnError::Fail)
        .unwrap()
        .texts()
        .take(96)
        .map(Result::unwrap)
        .map(|t| t.replace('\n', " "))
        .collect();
    let path = dir.join("texts.txt");
    std::fs::write(&path, texts.join("\n")).unwrap();
    CorpusSpec::Plain { paths: vec![path] }
}

fn config(dir: &Path, steps: u64) -> AutoencoderRunConfig {
    let spec = corpus(dir);
    AutoencoderRunConfig {
        train: spec.clone(),
        validation: spec,
        tokenizer: TokenizerConfig {
            vocab_size: 300,
            min_frequency: 1,
            ..TokenizerConfig::default()
        },
        model: AutoencoderConfig::new()
            .with_max_len(48)
            .with_d_model(32)
            .with_n_heads(2)
            .with_encoder_layers(1)
            .with_perceiver_layers(1)
            .with_num_latents(4)
            .with_d_latent(8)
            .with_d_decoder(32)
            .with_decoder_layers(1)
            .with_decoder(DecoderKind::Parallel),
        training: TrainingConfig {
            batch_size: 16,
            accumulation: 2,
            steps,
            lr: LrSchedule {
                peak: 3e-3,
                warmup_steps: 5,
                ..LrSchedule::default()
            },
            validate_every: 10,
            checkpoint_every: 5,
            validation_size: 8,
            ..TrainingConfig::default()
        },
        encoder_from: None,
        init_decoder: false,
        denoised_latents: None,
    }
}

/// Flex has one random generator per process and tests run on several threads: training
/// tests hold this lock so that a seeded run draws the same numbers every time.
fn random_generator() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn train_losses(run_dir: &Path) -> Vec<f64> {
    let csv = std::fs::read_to_string(run_dir.join("autoencoder/metrics.csv")).unwrap();
    csv.lines()
        .skip(1)
        .map(|line| line.split(',').nth(3).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn loss_falls_and_resumed_runs_match_straight_runs() {
    let _random = random_generator();
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let config = config(dir.path(), 40);

    let straight = dir.path().join("straight");
    train_autoencoder(&config, &straight, &device, &RunOptions::default()).unwrap();
    let losses = train_losses(&straight);
    assert_eq!(losses.len(), 4, "validations at steps 10, 20, 30, 40");
    assert!(
        losses[3] < 0.85 * losses[0],
        "training loss did not fall: {losses:?}"
    );
    assert!(losses.windows(2).all(|w| w[1] < w[0]), "{losses:?}");

    let resumed = dir.path().join("resumed");
    let stop = RunOptions {
        stop_after: Some(15),
        ..RunOptions::default()
    };
    train_autoencoder(&config, &resumed, &device, &stop).unwrap();
    let state = std::fs::read_to_string(resumed.join("autoencoder/state.json")).unwrap();
    assert!(state.contains("\"step\": 15"), "{state}");
    train_autoencoder(&config, &resumed, &device, &RunOptions::default()).unwrap();

    // Both runs load back and give the same latents.
    let diff = latent_difference(&straight, &resumed, &device);
    assert!(diff < 1e-5, "resumed run differs by {diff}");
}

/// Largest difference between the latents two trained run directories give two texts.
fn latent_difference(a: &Path, b: &Path, device: &Device) -> f32 {
    let load = |dir: &Path| AutoencoderRun { dir: dir.into() }.load(device).unwrap();
    let ((tokenizer, a), (_, b)) = (load(a), load(b));
    let batch = tokenizer
        .encode_batch(
            &["The Eagle is a coffee shop.", "Cheap food."],
            EncodeOptions::new(48),
        )
        .unwrap();
    let (ids, mask) = batch.to_tensors(device);
    (a.encode(ids.clone(), mask.clone()) - b.encode(ids, mask))
        .abs()
        .max()
        .into_scalar::<f32>()
}

#[test]
fn a_decoder_trained_on_a_frozen_encoder_keeps_its_latents() {
    let _random = random_generator();
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let source_dir = dir.path().join("parallel");
    train_autoencoder(
        &config(dir.path(), 20),
        &source_dir,
        &device,
        &RunOptions::default(),
    )
    .unwrap();

    let mut decoder_only = config(dir.path(), 30);
    decoder_only.model = decoder_only.model.with_decoder(DecoderKind::Autoregressive);
    decoder_only.encoder_from = Some(source_dir.clone());
    let run_dir = dir.path().join("autoregressive");
    // Stopped and resumed: the resumed part keeps the encoder frozen too.
    let stop = RunOptions {
        stop_after: Some(15),
        ..RunOptions::default()
    };
    train_autoencoder(&decoder_only, &run_dir, &device, &stop).unwrap();
    train_autoencoder(&decoder_only, &run_dir, &device, &RunOptions::default()).unwrap();
    let losses = train_losses(&run_dir);
    assert!(
        losses[2] < 0.85 * losses[0],
        "decoder loss did not fall: {losses:?}"
    );
    assert_eq!(
        std::fs::read(run_dir.join("tokenizer.json")).unwrap(),
        std::fs::read(source_dir.join("tokenizer.json")).unwrap(),
        "the source's tokenizer is used"
    );

    let diff = latent_difference(&source_dir, &run_dir, &device);
    assert_eq!(diff, 0.0, "the frozen encoder changed");

    let mut mismatched = decoder_only.clone();
    mismatched.model = mismatched.model.with_num_latents(6);
    let err = train_autoencoder(
        &mismatched,
        &dir.path().join("mismatched"),
        &device,
        &RunOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("num_latents is 6"), "{err}");
}

#[test]
fn bad_configurations_and_missing_checkpoints_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let mut config = config(dir.path(), 10);
    config.training.batch_size = 0;
    let err = train_autoencoder(
        &config,
        &dir.path().join("run"),
        &device,
        &RunOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("batch_size"), "{err}");

    config.training.batch_size = 4;
    config.training.oversample_long = Some(LongTextOversampling {
        min_tokens: 10,
        factor: 0,
    });
    let err = train_autoencoder(
        &config,
        &dir.path().join("run-oversampled"),
        &device,
        &RunOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("oversample_long"), "{err}");
    config.training.oversample_long = None;

    config.model.tie_embeddings = Some(true);
    config.model.d_decoder = config.model.d_model / 2;
    let err = train_autoencoder(
        &config,
        &dir.path().join("run-tied"),
        &device,
        &RunOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("tie_embeddings"), "{err}");

    let err = AutoencoderRun {
        dir: dir.path().join("nothing-here"),
    }
    .load(&device)
    .unwrap_err();
    assert!(err.to_string().contains("tokenizer.json"), "{err}");
}

#[test]
fn run_configs_with_another_format_version_are_refused() {
    use ld4lg_denoiser::LatentDenoiserConfig;
    use ld4lg_train::{DiffusionRunConfig, FORMAT_VERSION, RunConfig, read_run_config, train_run};
    let dir = tempfile::tempdir().unwrap();
    let autoencoder = config(dir.path(), 10);
    let diffusion = DiffusionRunConfig::new(autoencoder.train.clone(), LatentDenoiserConfig::new());
    let mut run = RunConfig {
        format_version: FORMAT_VERSION + 1,
        autoencoder,
        diffusion,
    };
    let err = train_run(
        &run,
        &dir.path().join("run"),
        &Device::flex(),
        &RunOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("format_version"), "{err}");
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_string(&run).unwrap(),
    )
    .unwrap();
    let err = read_run_config(dir.path()).unwrap_err();
    assert!(err.to_string().contains("format version"), "{err}");
    run.format_version = FORMAT_VERSION;
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_string(&run).unwrap(),
    )
    .unwrap();
    assert_eq!(
        read_run_config(dir.path()).unwrap().format_version,
        FORMAT_VERSION
    );
}

#[test]
fn every_shipped_autoencoder_configuration_parses_and_checks() {
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&configs).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.contains("autoencoder") || name.contains("decoder")) || !name.ends_with(".json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let config: AutoencoderRunConfig =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        config
            .model
            .check()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // A new decoder's configuration fits the encoder it names.
        if let Some(source) = &config.encoder_from {
            let source = configs
                .join("..")
                .join(source)
                .join("autoencoder/model.json");
            let source = AutoencoderConfig::load(&source).unwrap();
            config
                .model
                .with_vocab_size(source.vocab_size)
                .check_encoder_matches(&source)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert!(config.training.steps > 0, "{name}");
        checked.push(name);
    }
    // The issue-4 configurations, both decoders, tied and not.
    for name in [
        "e2e-autoencoder-32x64-tied.json",
        "e2e-autoencoder-ar-tied.json",
        "e2e-autoencoder-ar.json",
        "e2e-decoder-ar.json",
        "yelp-decoder-ar.json",
    ] {
        assert!(checked.iter().any(|c| c == name), "{name} not checked");
    }
}

#[test]
fn the_progress_callback_sees_the_start_every_step_the_validations_and_the_end() {
    use ld4lg_train::TrainingEvent;
    use std::sync::{Arc, Mutex};
    let _random = random_generator();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), 20);
    let events: Arc<Mutex<Vec<TrainingEvent>>> = Arc::default();
    let sink = events.clone();
    let options = |stop_after| {
        let sink = sink.clone();
        RunOptions {
            progress: Some(Arc::new(move |event: &TrainingEvent| {
                sink.lock().unwrap().push(event.clone())
            })),
            stop_after,
        }
    };
    let run = dir.path().join("run");
    train_autoencoder(&config, &run, &Device::flex(), &options(Some(12))).unwrap();
    let seen = events.lock().unwrap().clone();
    assert!(
        matches!(
            &seen[0],
            TrainingEvent::Started {
                step: 0,
                total: 20,
                ..
            }
        ),
        "{:?}",
        seen[0]
    );
    let steps: Vec<u64> = seen
        .iter()
        .filter_map(|e| match e {
            TrainingEvent::Step { step, summary } => {
                assert!(summary.as_deref().is_some_and(|s| s.contains("loss")));
                Some(*step)
            }
            _ => None,
        })
        .collect();
    assert_eq!(steps, (1..=12).collect::<Vec<_>>());
    let lines: Vec<&String> = seen
        .iter()
        .filter_map(|e| match e {
            TrainingEvent::Line(line) => Some(line),
            _ => None,
        })
        .collect();
    // Validations at step 10 and at the stop (12).
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("step 10: val token acc"),
        "{}",
        lines[0]
    );
    assert_eq!(seen.last(), Some(&TrainingEvent::Finished));

    // A resumed call starts where the first stopped.
    events.lock().unwrap().clear();
    train_autoencoder(&config, &run, &Device::flex(), &options(None)).unwrap();
    let seen = events.lock().unwrap().clone();
    assert!(
        matches!(
            &seen[0],
            TrainingEvent::Started {
                step: 12,
                total: 20,
                ..
            }
        ),
        "{:?}",
        seen[0]
    );
}
