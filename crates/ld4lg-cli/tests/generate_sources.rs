//! `ld4lg generate --source-file`: one output line per source line, in order, empty lines
//! kept; a tiny source-conditioned run is trained through `ld4lg train` first.

use std::path::Path;
use std::process::Command;

fn ld4lg(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ld4lg"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

#[test]
fn source_file_generation_writes_one_line_per_source() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    for dish in ["soup", "cake", "fish", "pasta"] {
        for adjective in ["good", "cold", "fresh", "bland"] {
            rows.push(format!(
                r#"{{"text": "the {dish} was {adjective}", "mr": "dish[{dish}]"}}"#
            ));
        }
    }
    std::fs::write(dir.path().join("pairs.jsonl"), rows.join("\n")).unwrap();
    let corpus = r#"{ "format": "jsonl", "path": "pairs.jsonl",
        "fields": { "text": "text", "label": null, "source": "mr" } }"#;
    let training = r#"{ "batch_size": 16, "steps": 60, "validate_every": 30,
        "checkpoint_every": 1000, "validation_size": 8, "seed": 0,
        "lr": { "peak": 2e-3, "warmup_steps": 10, "decay": "cosine", "min_ratio": 0.1 } }"#;
    let config = format!(
        r#"{{
  "format_version": 1,
  "autoencoder": {{
    "train": {corpus}, "validation": {corpus},
    "tokenizer": {{ "kind": "bpe", "vocab_size": 200, "min_frequency": 1, "lowercase": false }},
    "model": {{ "vocab_size": 0, "max_len": 16, "d_model": 32, "n_heads": 2, "encoder_layers": 1,
      "perceiver_layers": 1, "num_latents": 4, "d_latent": 8, "regularizer": "L2Sphere",
      "latent_noise": 0.0, "d_decoder": 32, "reconstruction_layers": 1, "decoder_layers": 1,
      "decoder": "Parallel" }},
    "training": {training}
  }},
  "diffusion": {{
    "train": {corpus},
    "condition": {{ "kind": "source",
      "encoder": {{ "max_len": 8, "d_model": 16, "n_layers": 1, "n_heads": 2 }} }},
    "denoiser": {{ "num_latents": 0, "d_latent": 0, "d_model": 32, "n_layers": 2, "n_heads": 2,
      "dense_skips": true, "num_classes": null, "d_context": null,
      "prediction_type": "v_prediction" }},
    "training": {training}
  }}
}}"#
    );
    std::fs::write(dir.path().join("run.json"), config).unwrap();
    let trained = ld4lg(
        &["train", "--config", "run.json", "--run-dir", "run"],
        dir.path(),
    );
    assert!(
        trained.status.success(),
        "{}",
        String::from_utf8_lossy(&trained.stderr)
    );

    let sources = "dish[soup]\n\ndish[fish]\ndish[cake]\n   \ndish[pasta]\n";
    std::fs::write(dir.path().join("mrs.txt"), sources).unwrap();
    let out = ld4lg(
        &[
            "generate",
            "--checkpoint",
            "run",
            "--source-file",
            "mrs.txt",
            "--candidates",
            "3",
            "--mbr",
            "--guidance",
            "1.5",
            "--steps",
            "10",
            "--batch-size",
            "4",
            "--out",
            "out.txt",
            "--candidates-out",
            "all.jsonl",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 empty source line(s)"));
    let written = std::fs::read_to_string(dir.path().join("out.txt")).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines.len(), 6, "{written:?}");
    assert!(lines[1].is_empty() && lines[4].is_empty(), "{lines:?}");
    assert!(
        [0, 2, 3, 5].iter().all(|&i| !lines[i].trim().is_empty()),
        "{lines:?}"
    );
    let all = std::fs::read_to_string(dir.path().join("all.jsonl")).unwrap();
    let sets: Vec<Vec<String>> = all
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        sets.iter().map(Vec::len).collect::<Vec<_>>(),
        [3, 0, 3, 3, 0, 3]
    );
    // The MBR pick is one of its candidates, in the source's own row.
    for (line, set) in lines.iter().zip(&sets) {
        assert!(
            set.is_empty() || set.iter().any(|c| c == line),
            "{line} not in {set:?}"
        );
    }

    let refused = ld4lg(
        &[
            "generate",
            "--checkpoint",
            "run",
            "--class",
            "positive",
            "-n",
            "1",
        ],
        dir.path(),
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not class-conditional"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
