//! `--fluency-lm`: the neural language model shipped in `models/e2e/lm/` picks, among each
//! output's candidates, the one it gives the highest mean log-probability per token.

use ld4lg::burn::tensor::Device;
use ld4lg::lm::LanguageModel;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ld4lg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ld4lg"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

#[test]
fn generate_picks_the_candidate_the_language_model_scores_highest() {
    let dir = tempfile::tempdir().unwrap();
    let sets_path = dir.path().join("candidates.jsonl");
    let out = ld4lg(&[
        "generate",
        "--checkpoint",
        "models/e2e",
        "-n",
        "3",
        "--candidates",
        "4",
        "--steps",
        "10",
        "--seed",
        "5",
        "--fluency-lm",
        "models/e2e",
        "--candidates-out",
        sets_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let picked: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let sets: Vec<Vec<String>> = std::fs::read_to_string(&sets_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!((picked.len(), sets.len()), (3, 3));
    let lm = LanguageModel::load(&repo().join("models/e2e"), &Device::flex()).unwrap();
    let mut differs = false;
    for (text, set) in picked.iter().zip(&sets) {
        let scores = lm.mean_log_probs(set).unwrap();
        let best = (0..set.len())
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            .unwrap();
        assert_eq!(text, &set[best], "{scores:?}");
        differs |= best != 0;
    }
    // Otherwise the first candidate would have passed for a pick.
    assert!(differs, "every pick was the first candidate");
}

#[test]
fn fluency_lm_errors_name_the_flag() {
    let out = ld4lg(&[
        "generate",
        "--checkpoint",
        "models/e2e",
        "-n",
        "1",
        "--candidates",
        "2",
        "--fluency-lm",
        "data",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--fluency-lm data") && stderr.contains("train-lm"),
        "{stderr}"
    );

    let out = ld4lg(&[
        "generate",
        "--checkpoint",
        "models/e2e",
        "-n",
        "1",
        "--candidates",
        "2",
        "--fluency-lm",
        "models/e2e",
        "--fluency-corpus",
        "data/e2e/trainset.csv.gz",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--fluency-corpus") && stderr.contains("cannot be used with"),
        "{stderr}"
    );
}
