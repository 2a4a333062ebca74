//! `ld4lg train-diffusion --init-from`: continuing the shipped E2E denoiser, with the
//! configuration's batch size and learning rate overridden by flags.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ld4lg(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ld4lg"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn init_from_continues_the_shipped_denoiser_and_refuses_another() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = repo().join("models/e2e");
    // A run directory holding the shipped tokenizer and autoencoder.
    let new_run = |name: &str| {
        let run = dir.path().join(name);
        std::fs::create_dir_all(run.join("autoencoder")).unwrap();
        std::fs::copy(shipped.join("tokenizer.json"), run.join("tokenizer.json")).unwrap();
        for file in ["model.json", "model.bpk"] {
            std::fs::copy(
                shipped.join("autoencoder").join(file),
                run.join("autoencoder").join(file),
            )
            .unwrap();
        }
        run
    };
    let run = new_run("run");
    let texts: Vec<String> = (0..24)
        .map(|i| format!("The Eagle {i} is a coffee shop near the river."))
        .collect();
    std::fs::write(dir.path().join("texts.txt"), texts.join("\n")).unwrap();
    let mut config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("configs/e2e-diffusion.json")).unwrap(),
    )
    .unwrap();
    config["train"] = serde_json::json!({ "format": "plain", "paths": ["texts.txt"] });
    std::fs::write(dir.path().join("diffusion.json"), config.to_string()).unwrap();

    let shipped_dir = shipped.to_str().unwrap().to_owned();
    let train = |run_dir: &str, source: &str| {
        ld4lg(
            dir.path(),
            &[
                "train-diffusion",
                "--config",
                "diffusion.json",
                "--run-dir",
                run_dir,
                "--init-from",
                source,
                "--steps",
                "2",
                "--batch-size",
                "4",
                // The weights stay where they start.
                "--lr",
                "0",
            ],
        )
    };
    let out = train("run", &shipped_dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state = std::fs::read_to_string(run.join("diffusion/state.json")).unwrap();
    assert!(state.contains("\"step\": 2"), "{state}");
    let generate = |checkpoint: &str| {
        let out = ld4lg(
            dir.path(),
            &[
                "generate",
                "--checkpoint",
                checkpoint,
                "-n",
                "3",
                "--steps",
                "10",
                "--seed",
                "5",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    assert_eq!(generate("run"), generate(&shipped_dir));

    // A class-conditional source does not fit this unconditional run.
    new_run("other");
    let out = train("other", repo().join("models/yelp").to_str().unwrap());
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("init_from") && stderr.contains("num_classes"),
        "{stderr}"
    );
    assert!(!dir.path().join("other/diffusion/state.json").exists());
}
