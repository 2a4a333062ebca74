//! `ld4lg train-autoencoder` described by flags instead of a JSON configuration, and a new
//! decoder trained on the frozen encoder of its run.

use std::process::Command;

#[test]
fn train_autoencoder_runs_from_flags_and_needs_a_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let texts: Vec<String> = (0..40)
        .map(|i| format!("sentence number {i} is short ."))
        .collect();
    std::fs::write(dir.path().join("texts.txt"), texts.join("\n")).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ld4lg"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let run_ok = |args: &[&str]| {
        let out = run(args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    // The tiny model's shape, shared by the run and the decoder trained on its encoder.
    let shape = [
        "--max-len",
        "12",
        "--d-model",
        "32",
        "--num-latents",
        "4",
        "--d-latent",
        "8",
    ];
    run_ok(
        &[
            &[
                "train-autoencoder",
                "--run-dir",
                "run",
                "--corpus",
                "texts.txt",
                "--vocab-size",
                "120",
                "--decoder",
                "parallel",
                "--steps",
                "6",
                "--batch-size",
                "8",
                "--lr",
                "1e-3",
            ][..],
            &shape,
        ]
        .concat(),
    );
    let model = std::fs::read_to_string(dir.path().join("run/autoencoder/model.json")).unwrap();
    let model: serde_json::Value = serde_json::from_str(&model).unwrap();
    assert_eq!(model["num_latents"], 4);
    assert_eq!(model["d_latent"], 8);
    assert_eq!(model["d_model"], 32);
    let state = std::fs::read_to_string(dir.path().join("run/autoencoder/state.json")).unwrap();
    assert!(state.contains("\"step\": 6"), "{state}");

    // A parallel decoder decodes greedily whatever the beam flags say.
    let reconstruct = |extra: &[&str]| {
        let mut args = vec!["reconstruct", "--checkpoint", "run"];
        args.extend_from_slice(extra);
        args.push("sentence number 3 is short .");
        run_ok(&args).stdout
    };
    assert_eq!(
        reconstruct(&[
            "--beam",
            "4",
            "--no-repeat-ngram",
            "3",
            "--no-adjacent-repeat"
        ]),
        reconstruct(&[])
    );

    // A new autoregressive decoder on the frozen encoder of that run, with its tokenizer.
    run_ok(
        &[
            &[
                "train-autoencoder",
                "--run-dir",
                "decoder",
                "--corpus",
                "texts.txt",
                "--decoder",
                "autoregressive",
                "--encoder-from",
                "run",
                "--steps",
                "3",
                "--batch-size",
                "8",
            ][..],
            &shape,
        ]
        .concat(),
    );
    let model = std::fs::read_to_string(dir.path().join("decoder/autoencoder/model.json")).unwrap();
    assert!(model.contains("Autoregressive"), "{model}");
    assert_eq!(
        std::fs::read(dir.path().join("decoder/tokenizer.json")).unwrap(),
        std::fs::read(dir.path().join("run/tokenizer.json")).unwrap()
    );
    let mismatched = run(&[
        "train-autoencoder",
        "--run-dir",
        "mismatched",
        "--corpus",
        "texts.txt",
        "--encoder-from",
        "run",
        "--steps",
        "3",
    ]);
    assert!(!mismatched.status.success());
    let stderr = String::from_utf8_lossy(&mismatched.stderr);
    assert!(stderr.contains("encoder_from"), "{stderr}");

    // Conditioned estimates need estimates to condition.
    let unconditioned = run(&[
        "train-autoencoder",
        "--run-dir",
        "conditioned",
        "--corpus",
        "texts.txt",
        "--encoder-from",
        "run",
        "--init-decoder",
        "--conditioned-estimates",
        "--steps",
        "3",
    ]);
    assert_eq!(unconditioned.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&unconditioned.stderr);
    assert!(stderr.contains("--conditioned-estimates needs"), "{stderr}");

    let missing = run(&["train-autoencoder", "--run-dir", "other"]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("--corpus"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}
