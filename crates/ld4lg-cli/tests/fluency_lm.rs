//! `--fluency-lm` and `--fusion-lm`: the neural language model shipped in `models/e2e/lm/`
//! picks, among each output's candidates, the one it scores highest, and steers beam search.

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
    let picked = generate_lines(&[
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
    let stderr = generate_error(&["-n", "1", "--candidates", "2", "--fluency-lm", "data"]);
    assert!(
        stderr.contains("--fluency-lm data") && stderr.contains("train-lm"),
        "{stderr}"
    );

    let stderr = generate_error(&[
        "-n",
        "1",
        "--candidates",
        "2",
        "--fluency-lm",
        "models/e2e",
        "--fluency-corpus",
        "data/e2e/trainset.csv.gz",
    ]);
    assert!(
        stderr.contains("--fluency-corpus") && stderr.contains("cannot be used with"),
        "{stderr}"
    );
}

#[test]
fn train_lm_and_export_lm_make_a_model_directory_that_scores() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("lm.json");
    std::fs::write(
        &config,
        r#"{
  "train": {"format": "e2e", "path": "data/e2e/devset.csv.gz"},
  "validation": {"format": "e2e", "path": "data/e2e/devset.csv.gz"},
  "tokenizer_from": "no/such/dir",
  "model": {"vocab_size": 0, "max_len": 32, "d_model": 16, "n_layers": 1, "n_heads": 2},
  "training": {"batch_size": 8, "steps": 3, "validate_every": 3, "validation_size": 16}
}"#,
    )
    .unwrap();
    let run = dir.path().join("run");
    let (config, run_dir) = (config.to_str().unwrap(), run.to_str().unwrap());
    // The configuration's tokenizer directory does not exist: the flag replaces it.
    let out = ld4lg(&["train-lm", "--config", config, "--run-dir", run_dir]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir"));
    let out = ld4lg(&[
        "train-lm",
        "--config",
        config,
        "--run-dir",
        run_dir,
        "--tokenizer-from",
        "models/e2e",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("validation NLL"));

    let export = |out: &Path| {
        ld4lg(&[
            "export-lm",
            "--checkpoint",
            run_dir,
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let model = dir.path().join("model");
    let out = export(&model);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lm = LanguageModel::load(&model, &Device::flex()).unwrap();
    let scores = lm.mean_log_probs(&["The Eagle is a pub."]).unwrap();
    assert!(scores[0] < 0.0 && scores[0].is_finite(), "{scores:?}");

    // A model directory with another tokenizer is refused.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(
        repo().join("models/yelp/tokenizer.json"),
        other.join("tokenizer.json"),
    )
    .unwrap();
    let out = export(&other);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not the tokenizer"));
}

/// The texts `generate --checkpoint models/e2e FLAGS` prints, one per line (it must succeed).
fn generate_lines(flags: &[&str]) -> Vec<String> {
    let mut args = vec!["generate", "--checkpoint", "models/e2e"];
    args.extend_from_slice(flags);
    let out = ld4lg(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// What `generate --checkpoint models/e2e FLAGS` prints on stderr (it must fail).
fn generate_error(flags: &[&str]) -> String {
    let mut args = vec!["generate", "--checkpoint", "models/e2e"];
    args.extend_from_slice(flags);
    let out = ld4lg(&args);
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Six samples of 10 steps, beam 2, with `extra` decoding flags.
fn generate(extra: &[&str]) -> Vec<String> {
    let mut flags = vec!["-n", "6", "--steps", "10", "--seed", "3", "--beam", "2"];
    flags.extend_from_slice(extra);
    generate_lines(&flags)
}

#[test]
fn fusion_with_the_language_model_makes_decoding_follow_it() {
    let plain = generate(&[]);
    let silent = generate(&["--fusion-lm", "models/e2e", "--fusion-weight", "0"]);
    assert_eq!(silent, plain, "weight 0 must decode as without fusion");
    let fused = generate(&["--fusion-lm", "models/e2e", "--fusion-weight", "3"]);
    assert_eq!(fused.len(), plain.len());
    assert_ne!(fused, plain);
    // The same latents, decoded towards what the model finds likely.
    let lm = LanguageModel::load(&repo().join("models/e2e"), &Device::flex()).unwrap();
    let mean = |texts: &[String]| lm.mean_log_probs(texts).unwrap().iter().sum::<f64>();
    assert!(
        mean(&fused) > mean(&plain),
        "{fused:?} should score above {plain:?}"
    );
}

#[test]
fn fusion_weight_defaults_to_two_with_the_language_model() {
    let default = generate(&["--fusion-lm", "models/e2e"]);
    assert_eq!(
        default,
        generate(&["--fusion-lm", "models/e2e", "--fusion-weight", "2"])
    );
    // Not the n-gram model's default, which would hardly steer a sentence-level model.
    assert_ne!(
        default,
        generate(&["--fusion-lm", "models/e2e", "--fusion-weight", "0.3"])
    );
}

#[test]
fn fusion_lm_refuses_another_tokenizer_and_the_n_gram_corpus() {
    /// A model directory holding the shipped language model beside `tokenizer`.
    fn beside(dir: &Path, tokenizer: &str) -> String {
        std::fs::create_dir_all(dir.join("lm")).unwrap();
        std::fs::write(dir.join("tokenizer.json"), tokenizer).unwrap();
        for entry in std::fs::read_dir(repo().join("models/e2e/lm")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.join("lm").join(path.file_name().unwrap())).unwrap();
        }
        dir.to_str().unwrap().to_owned()
    }
    let fused = |lm: &str| generate_error(&["-n", "1", "--beam", "2", "--fusion-lm", lm]);
    let dir = tempfile::tempdir().unwrap();
    // Another vocabulary (Yelp's): refused on loading, naming the flag.
    let yelp = std::fs::read_to_string(repo().join("models/yelp/tokenizer.json")).unwrap();
    let stderr = fused(&beside(&dir.path().join("yelp"), &yelp));
    assert!(
        stderr.contains("--fusion-lm") && stderr.contains("tokenizer"),
        "{stderr}"
    );
    // The same vocabulary size with two tokens' ids swapped: the ids would mean other
    // tokens, so it is refused too.
    let e2e = std::fs::read_to_string(repo().join("models/e2e/tokenizer.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&e2e).unwrap();
    let vocab = json["model"]["vocab"].as_object_mut().unwrap();
    let (a, b) = (vocab["!"].clone(), vocab["#"].clone());
    vocab.insert("!".into(), b);
    vocab.insert("#".into(), a);
    let stderr = fused(&beside(&dir.path().join("swapped"), &json.to_string()));
    assert!(stderr.contains("its tokenizer is not"), "{stderr}");

    let stderr = generate_error(&[
        "-n",
        "1",
        "--fusion-lm",
        "models/e2e",
        "--fusion-corpus",
        "data/e2e/trainset.csv.gz",
    ]);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
