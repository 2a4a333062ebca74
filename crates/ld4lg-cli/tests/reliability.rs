//! What a run directory survives and refuses: `kill -9` at random points of training
//! (resumed runs end bit-identical to an uninterrupted one), a second trainer on the same
//! directory, damaged weight files, unknown configuration fields, absurd guidance weights.

use ld4lg::burn::module::{Module, ModuleVisitor, Param};
use ld4lg::burn::tensor::{Device, Tensor};
use ld4lg::run::AutoencoderRun;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn ld4lg(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ld4lg"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A corpus and a run configuration of a tiny autoencoder that trains `steps` steps in about a
/// second, checkpointing every other step.
fn tiny_run_config(dir: &Path, steps: u64) {
    let texts: Vec<String> = (0..60)
        .map(|i| {
            format!(
                "sentence number {i} is short and the cat sat on mat {} .",
                i % 7
            )
        })
        .collect();
    std::fs::write(dir.join("texts.txt"), texts.join("\n")).unwrap();
    let config = serde_json::json!({
        "train": { "format": "plain", "paths": ["texts.txt"] },
        "validation": { "format": "plain", "paths": ["texts.txt"] },
        "tokenizer": { "kind": "bpe", "vocab_size": 120, "min_frequency": 1, "lowercase": false },
        "model": {
            "vocab_size": 0, "max_len": 16, "d_model": 32, "n_heads": 2, "encoder_layers": 1,
            "perceiver_layers": 1, "num_latents": 4, "d_latent": 8, "d_decoder": 32,
            "reconstruction_layers": 1, "decoder_layers": 1, "decoder": "Parallel",
            "regularizer": "L2Sphere", "latent_noise": 0.05, "tie_embeddings": true
        },
        "training": {
            "batch_size": 8, "steps": steps,
            "lr": { "peak": 1e-3, "warmup_steps": 5, "decay": "cosine", "min_ratio": 0.1 },
            "validate_every": 10, "checkpoint_every": 2, "validation_size": 16, "seed": 3
        }
    });
    std::fs::write(dir.join("tiny.json"), config.to_string()).unwrap();
}

fn train_command(dir: &Path, run: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ld4lg"));
    command
        .args([
            "train-autoencoder",
            "--config",
            "tiny.json",
            "--run-dir",
            run,
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Every float parameter of a module, in visiting order, as (path, values).
#[derive(Default)]
struct Parameters {
    path: Vec<String>,
    values: Vec<(String, Vec<f32>)>,
}

impl ModuleVisitor for Parameters {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let values = param.val().into_data().try_to_vec::<f32>().unwrap();
        self.values.push((self.path.join("."), values));
    }
}

fn parameters(run: &Path) -> Vec<(String, Vec<f32>)> {
    let (_, model) = AutoencoderRun {
        dir: run.to_path_buf(),
    }
    .load(&Device::flex())
    .unwrap();
    let mut visitor = Parameters::default();
    model.visit(&mut visitor);
    visitor.values
}

/// The metrics rows without their wall-clock column.
fn metrics_without_time(run: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(run.join("autoencoder/metrics.csv")).unwrap();
    text.lines()
        .map(|line| {
            let mut fields: Vec<&str> = line.split(',').collect();
            fields.remove(1);
            fields.join(",")
        })
        .collect()
}

#[test]
fn training_killed_at_twenty_random_points_resumes_to_the_uninterrupted_result() {
    let dir = tempfile::tempdir().unwrap();
    tiny_run_config(dir.path(), 800);
    let started = Instant::now();
    assert!(
        train_command(dir.path(), "reference")
            .status()
            .unwrap()
            .success()
    );
    let uninterrupted = started.elapsed();

    // Kill points 1–5 % of an uninterrupted run apart, from a fixed linear congruential
    // sequence, so that twenty kills fall at different moments of startup, steps and
    // checkpoint writes while the run still makes progress between them.
    let mut lcg: u64 = 0x2545_f491_4f6c_dd1d;
    let mut kills = 0;
    let mut attempts = 0;
    while kills < 20 {
        attempts += 1;
        assert!(attempts < 200, "the run finished before 20 kills landed");
        lcg = lcg
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let fraction = (lcg >> 11) as f64 / (1u64 << 53) as f64;
        let delay = uninterrupted.mul_f64(0.01 + 0.04 * fraction);
        let mut child = train_command(dir.path(), "killed").spawn().unwrap();
        std::thread::sleep(delay);
        match child.try_wait().unwrap() {
            // Finished (or failed) before the kill: resuming must still end the same.
            Some(status) => {
                assert!(status.success(), "a resumed run failed: {status}");
                break;
            }
            None => {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                kills += 1;
            }
        }
    }
    let last = train_command(dir.path(), "killed").status().unwrap();
    assert!(last.success(), "the final resume failed: {last}");
    assert_eq!(
        kills, 20,
        "only {kills} kills landed before the run finished"
    );

    let (reference, killed) = (dir.path().join("reference"), dir.path().join("killed"));
    let (expected, found) = (parameters(&reference), parameters(&killed));
    assert_eq!(expected.len(), found.len());
    for ((name, a), (_, b)) in expected.iter().zip(&found) {
        assert!(a == b, "`{name}` differs after {kills} kills");
    }
    // Training loss and accuracy are summed in the checkpoint state, so the rows of a run
    // resumed many times read as those of the uninterrupted one.
    assert_eq!(
        metrics_without_time(&reference),
        metrics_without_time(&killed)
    );
    // Uncommitted step directories and temporary files of killed writes are cleaned up.
    let leftovers: Vec<String> = std::fs::read_dir(killed.join("autoencoder"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("checkpoint-") || name.ends_with(".tmp"))
        .collect();
    assert_eq!(leftovers, ["checkpoint-00000800"]);
}

#[test]
fn a_second_trainer_on_a_run_directory_is_refused_with_the_holders_pid() {
    let dir = tempfile::tempdir().unwrap();
    tiny_run_config(dir.path(), 1_000_000);
    let mut first = train_command(dir.path(), "run").spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !dir.path().join("run/autoencoder/state.json").exists() {
        assert!(
            Instant::now() < deadline,
            "the first trainer never checkpointed"
        );
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first trainer stopped"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = ld4lg(
        dir.path(),
        &[
            "train-autoencoder",
            "--config",
            "tiny.json",
            "--run-dir",
            "run",
        ],
    );
    assert!(!second.status.success());
    let message = stderr(&second);
    assert!(
        message.contains(&format!("in use by process {}", first.id())),
        "{message}"
    );
    assert!(
        first.try_wait().unwrap().is_none(),
        "the refusal stopped the first trainer"
    );
    first.kill().unwrap();
    first.wait().unwrap();

    // The OS released the lock of the killed process: nothing stale is left to remove.
    let mut resumed = train_command(dir.path(), "run").spawn().unwrap();
    let state = dir.path().join("run/autoencoder/state.json");
    let step = |text: String| {
        let state: serde_json::Value = serde_json::from_str(&text).unwrap();
        state["step"].as_u64().unwrap()
    };
    let killed_at = step(std::fs::read_to_string(&state).unwrap());
    while step(std::fs::read_to_string(&state).unwrap()) <= killed_at {
        assert!(
            Instant::now() < deadline,
            "the resumed trainer made no progress"
        );
        assert!(
            resumed.try_wait().unwrap().is_none(),
            "the resumed trainer stopped"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    resumed.kill().unwrap();
    resumed.wait().unwrap();
}

/// A copy of the shipped E2E model (tokenizer, autoencoder, denoiser) in `dir/model`.
fn shipped_copy(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    let shipped = repo().join("models/e2e");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::copy(shipped.join("tokenizer.json"), model.join("tokenizer.json")).unwrap();
    for stage in ["autoencoder", "diffusion"] {
        std::fs::create_dir_all(model.join(stage)).unwrap();
        for entry in std::fs::read_dir(shipped.join(stage)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, model.join(stage).join(path.file_name().unwrap())).unwrap();
        }
    }
    model
}

fn generate(dir: &Path) -> Output {
    ld4lg(
        dir,
        &[
            "generate",
            "--checkpoint",
            "model",
            "-n",
            "2",
            "--steps",
            "3",
        ],
    )
}

#[test]
fn damaged_weights_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    shipped_copy(dir.path());
    let ok = generate(dir.path());
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(
        !stderr(&ok).contains("unverified"),
        "the shipped model must carry manifests: {}",
        stderr(&ok)
    );
    let verify = ld4lg(dir.path(), &["verify", "model"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("2 files verified"));

    // 2 000 half-precision values in the middle of the tensor data overwritten with 0xff.
    let weights = dir.path().join("model/diffusion/ema.bpk");
    let mut bytes = std::fs::read(&weights).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle..middle + 4000].fill(0xff);
    std::fs::write(&weights, &bytes).unwrap();
    let out = generate(dir.path());
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(message.contains("ema.bpk is corrupt"), "{message}");
    let verify = ld4lg(dir.path(), &["verify", "model"]);
    assert!(!verify.status.success());
    assert!(stderr(&verify).contains("ema.bpk is corrupt"));

    // Without its manifest the file loads unverified, and its NaNs are refused all the same.
    std::fs::remove_file(dir.path().join("model/diffusion/manifest.json")).unwrap();
    let out = generate(dir.path());
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(message.contains("loads unverified"), "{message}");
    assert!(message.contains("holds non-finite weights"), "{message}");
}

#[test]
fn unknown_model_fields_and_absurd_guidance_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = shipped_copy(dir.path());
    let config_path = model.join("autoencoder/model.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    config["n_layer"] = 12.into();
    std::fs::write(&config_path, config.to_string()).unwrap();
    let out = generate(dir.path());
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(message.contains("unknown field `n_layer`"), "{message}");

    let yelp = repo().join("models/yelp");
    let out = ld4lg(
        dir.path(),
        &[
            "generate",
            "--checkpoint",
            yelp.to_str().unwrap(),
            "-n",
            "2",
            "--steps",
            "3",
            "--class",
            "positive",
            "--guidance",
            "1e30",
        ],
    );
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(
        message.contains("guidance_scale must be within"),
        "{message}"
    );
}
