//! The language-model training loop on a small slice of E2E: validation NLL falls, a stopped
//! run resumes to the same weights, and the trained model ranks a sentence above its words
//! reversed.

use burn::tensor::Device;
use ld4lg::data::{CorpusSpec, OnError};
use ld4lg::lm::{CausalLmConfig, LanguageModel};
use ld4lg::tokenizer::{Tokenizer, TokenizerConfig};
use ld4lg::train::{LmRunConfig, LrSchedule, RunOptions, TrainingConfig, train_lm};
use std::path::Path;

fn texts() -> Vec<String> {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/e2e/trainset.csv.gz");
    CorpusSpec::E2e { path: e2e }
        .open(OnError::Fail)
        .unwrap()
        .texts()
        .take(96)
        .map(|t| t.unwrap().replace('\n', " "))
        .collect()
}

/// A corpus file and a tokenizer directory in `dir`, and a configuration of `steps` steps.
fn config(dir: &Path, steps: u64) -> LmRunConfig {
    let texts = texts();
    let path = dir.join("texts.txt");
    std::fs::write(&path, texts.join("\n")).unwrap();
    let tokenizer_dir = dir.join("tok");
    if !tokenizer_dir.join("tokenizer.json").exists() {
        std::fs::create_dir_all(&tokenizer_dir).unwrap();
        let config = TokenizerConfig {
            vocab_size: 300,
            min_frequency: 1,
            ..TokenizerConfig::default()
        };
        Tokenizer::train(&config, texts.iter())
            .unwrap()
            .save(tokenizer_dir.join("tokenizer.json"))
            .unwrap();
    }
    let spec = CorpusSpec::Plain { paths: vec![path] };
    LmRunConfig {
        train: spec.clone(),
        validation: spec,
        tokenizer_from: tokenizer_dir,
        model: CausalLmConfig::new(0)
            .with_max_len(48)
            .with_d_model(32)
            .with_n_layers(1)
            .with_n_heads(2),
        training: TrainingConfig {
            batch_size: 16,
            steps,
            lr: LrSchedule {
                peak: 3e-3,
                warmup_steps: 5,
                ..LrSchedule::default()
            },
            validate_every: 20,
            checkpoint_every: 10,
            validation_size: 32,
            ..TrainingConfig::default()
        },
    }
}

/// Flex has one random generator per process: seeded runs hold this lock.
fn random_generator() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn validation_nll(run_dir: &Path) -> Vec<f64> {
    let csv = std::fs::read_to_string(run_dir.join("lm/metrics.csv")).unwrap();
    csv.lines()
        .skip(1)
        .map(|line| line.split(',').nth(4).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn nll_falls_resumed_runs_match_and_sentences_beat_reversed_ones() {
    let _random = random_generator();
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let config = config(dir.path(), 60);

    let straight = dir.path().join("straight");
    let metrics = train_lm(&config, &straight, &device, &RunOptions::default()).unwrap();
    let nll = validation_nll(&straight);
    assert_eq!(nll.len(), 3, "validations at steps 20, 40, 60");
    // A uniform model over 300 tokens scores ln 300 = 5.70 nats per token.
    assert!(
        nll[0] < 5.7 && nll.windows(2).all(|w| w[1] < w[0]),
        "{nll:?}"
    );
    assert!(nll[2] < 0.95 * nll[0], "{nll:?}");
    assert!(
        (metrics.nll - nll[2]).abs() < 1e-4 && (metrics.perplexity - nll[2].exp()).abs() < 1e-2
    );

    let resumed = dir.path().join("resumed");
    let stop = RunOptions {
        stop_after: Some(25),
        ..RunOptions::default()
    };
    train_lm(&config, &resumed, &device, &stop).unwrap();
    let state = std::fs::read_to_string(resumed.join("lm/state.json")).unwrap();
    assert!(state.contains("\"step\": 25"), "{state}");
    train_lm(&config, &resumed, &device, &RunOptions::default()).unwrap();

    let a = LanguageModel::load(&straight, &device).unwrap();
    let b = LanguageModel::load(&resumed, &device).unwrap();
    let sentence = texts()[3].clone();
    let reversed: String = sentence.split(' ').rev().collect::<Vec<_>>().join(" ");
    let probe = [sentence, reversed];
    let (sa, sb) = (
        a.mean_log_probs(&probe).unwrap(),
        b.mean_log_probs(&probe).unwrap(),
    );
    for (x, y) in sa.iter().zip(&sb) {
        assert!(
            (x - y).abs() < 1e-4,
            "resumed run differs: {sa:?} vs {sb:?}"
        );
    }
    assert!(sa[0] > sa[1] + 0.5, "{sa:?}");
    // Batching does not change a text's score.
    let alone = a.mean_log_probs(&probe[1..]).unwrap();
    assert!((alone[0] - sa[1]).abs() < 1e-4);
    // One log-probability per token after <s>, </s> included; the mean is theirs.
    let tokenizer = Tokenizer::from_file(straight.join("tokenizer.json")).unwrap();
    let rows = a.token_log_probs(&probe).unwrap();
    for ((row, text), mean) in rows.iter().zip(&probe).zip(&sa) {
        // (Truncated to the model's 48 tokens, `</s>` kept.)
        assert_eq!(row.len(), tokenizer.encode(text).unwrap().len().min(48) - 1);
        assert!(row.iter().all(|&v| v < 0.0));
        assert!((row.iter().sum::<f64>() / row.len() as f64 - mean).abs() < 1e-9);
    }
}

#[test]
fn bad_settings_and_other_tokenizers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let mut config = config(dir.path(), 10);
    config.model.n_heads = 3;
    let err = train_lm(
        &config,
        &dir.path().join("run"),
        &device,
        &RunOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("n_heads"), "{err}");

    // A run keeps the tokenizer it started with.
    let config = self::config(dir.path(), 10);
    let run = dir.path().join("run2");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("tokenizer.json"), b"{}").unwrap();
    let err = train_lm(&config, &run, &device, &RunOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("a run keeps one tokenizer"),
        "{err}"
    );

    let err = LanguageModel::load(dir.path(), &device).unwrap_err();
    assert!(err.to_string().contains("ld4lg train-lm"), "{err}");
}
