//! The decoding flags shared by `reconstruct`, `interpolate`, `generate` and `edit`.

use std::path::Path;
use std::process::{Command, Output};

fn ld4lg(args: &[&str]) -> Output {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .parent()
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_ld4lg"))
        .args(args)
        .current_dir(repo)
        .output()
        .unwrap()
}

fn stdout_of(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bad_decoding_flags_are_refused_with_their_name() {
    for (flag, value) in [("--beam", "0"), ("--length-penalty", "NaN")] {
        let out = ld4lg(&[
            "interpolate",
            "--checkpoint",
            "models/e2e",
            flag,
            value,
            "A text.",
            "Another text.",
        ]);
        assert!(!out.status.success(), "{flag} {value} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(flag), "{stderr}");
    }
}

#[test]
fn no_repeat_ngram_holds_on_the_shipped_autoregressive_decoder() {
    // models/e2e decodes autoregressively: with bigrams banned, no word pair comes twice
    // (the first word is skipped: without a leading space it is a different token).
    let out = stdout_of(ld4lg(&[
        "generate",
        "--checkpoint",
        "models/e2e",
        "-n",
        "8",
        "--steps",
        "10",
        "--seed",
        "2",
        "--no-repeat-ngram",
        "2",
    ]));
    assert_eq!(out.lines().count(), 8, "{out}");
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().skip(1).collect();
        let mut seen = std::collections::HashSet::new();
        for pair in words.windows(2) {
            assert!(seen.insert(pair), "{pair:?} repeated in {line:?}");
        }
    }
}

#[test]
fn unconditional_candidates_are_plain_samples_and_the_most_fluent_is_kept() {
    use ld4lg::data::{CorpusSpec, OnError};
    use ld4lg::metrics::{NgramLm, metric_tokens};
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.jsonl");
    let common = ["--checkpoint", "models/e2e", "--steps", "5", "--seed", "3"];
    let plain = stdout_of(ld4lg(&[&["generate", "-n", "6"], &common[..]].concat()));
    let picked = stdout_of(ld4lg(
        &[
            &["generate", "-n", "2", "--candidates", "3"],
            &common[..],
            &["--fluency-corpus", "data/e2e/trainset.csv.gz"],
            &["--candidates-out", all.to_str().unwrap()],
        ]
        .concat(),
    ));
    // The candidates are the texts plain generation gives with the same seeds, in order.
    let sets: Vec<Vec<String>> = std::fs::read_to_string(&all)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let plain: Vec<String> = plain.lines().map(String::from).collect();
    assert_eq!(sets.concat(), plain);
    // Each output is its set's most fluent text under a word trigram model of the corpus.
    let texts: Vec<Vec<String>> = CorpusSpec::E2e {
        path: "../../data/e2e/trainset.csv.gz".into(),
    }
    .open(OnError::Fail)
    .unwrap()
    .texts()
    .map(|t| metric_tokens(&t.unwrap()))
    .collect();
    let lm = NgramLm::train(texts, 3).unwrap();
    let outputs: Vec<&str> = picked.lines().collect();
    assert_eq!(outputs.len(), 2, "{picked}");
    for (output, set) in outputs.iter().zip(&sets) {
        let scores: Vec<f64> = set
            .iter()
            .map(|t| lm.mean_log_prob(metric_tokens(t)))
            .collect();
        let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let best = &set[scores.iter().position(|&s| s == top).unwrap()];
        assert_eq!(output, best, "{set:?} {scores:?}");
    }
    // Without a rule to pick by, several candidates are refused.
    let refused = ld4lg(&[&["generate", "-n", "2", "--candidates", "3"], &common[..]].concat());
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--fluency-corpus or --mbr"));
    // With one candidate per text the fluency term has nothing to pick: the texts are the
    // plain ones and the model is not trained, but a missing corpus is still refused.
    let single = ld4lg(
        &[
            &["generate", "-n", "2"],
            &common[..],
            &["--fluency-corpus", "data/e2e/trainset.csv.gz"],
        ]
        .concat(),
    );
    let note = String::from_utf8_lossy(&single.stderr).into_owned();
    assert!(note.contains("nothing to pick"), "{note}");
    assert!(!note.contains("fluency model:"), "{note}");
    assert_eq!(stdout_of(single).lines().collect::<Vec<_>>(), plain[..2]);
    let missing = ld4lg(
        &[
            &["generate", "-n", "2"],
            &common[..],
            &["--fluency-corpus", "no/such/corpus.txt"],
        ]
        .concat(),
    );
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no/such/corpus.txt"));
}

#[test]
fn keep_ends_decodes_the_ends_without_noise() {
    // At strength 0.9 the denoiser rewrites every point; --keep-ends restores the ends as
    // the autoencoder reconstructs them, also with a strong fusion prior.
    let (a, b) = (
        "The Golden Curry is a family friendly restaurant near the river.",
        "Zizzi is a cheap pub in the city centre.",
    );
    let reconstructed = stdout_of(ld4lg(&["reconstruct", "--checkpoint", "models/e2e", a, b]));
    let ends: Vec<&str> = reconstructed
        .lines()
        .filter_map(|l| l.strip_prefix("  -> "))
        .collect();
    assert_eq!(ends.len(), 2, "{reconstructed}");
    let path = |extra: &[&str]| {
        let mut args = vec!["interpolate", "--checkpoint", "models/e2e", "--points", "3"];
        args.extend(["--denoise", "0.9", "--steps", "5", "--seed", "4"]);
        args.extend(extra);
        args.extend([a, b]);
        let out = stdout_of(ld4lg(&args));
        out.lines()
            .map(|l| l.split_once("  ").unwrap().1.to_string())
            .collect::<Vec<_>>()
    };
    let free = path(&[]);
    // Fusion acts on the denoised points only.
    let kept = path(&[
        "--keep-ends",
        "--fusion-corpus",
        "data/e2e/trainset.csv.gz",
        "--fusion-weight",
        "8",
    ]);
    assert_eq!(kept.len(), 3);
    assert_eq!((kept[0].as_str(), kept[2].as_str()), (ends[0], ends[1]));
    // Without the flag an end moves.
    assert!(free[0] != ends[0] || free[2] != ends[1], "{free:?}");
}

#[test]
fn interpolate_writes_the_candidates_it_picks_from() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("candidates.jsonl");
    let run = |noise_scale: &str| {
        let printed = stdout_of(ld4lg(&[
            "interpolate",
            "--checkpoint",
            "models/e2e",
            "--points",
            "4",
            "--denoise",
            "0.6",
            "--sampler",
            "ddpm",
            "--steps",
            "8",
            "--noise-scale",
            noise_scale,
            "--candidates",
            "3",
            "--keep-ends",
            "--fluency-corpus",
            "data/e2e/trainset.csv.gz",
            "--candidates-out",
            out.to_str().unwrap(),
            "The Golden Curry is a family friendly restaurant near the river.",
            "Zizzi is a cheap pub in the city centre.",
        ]));
        let texts: Vec<String> = printed
            .lines()
            .map(|l| l.split_once("  ").unwrap().1.to_string())
            .collect();
        let sets: Vec<Vec<String>> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (texts, sets)
    };
    let (texts, sets) = run("0.3");
    // Four points, the two between the ends denoised three times each.
    assert_eq!(texts.len(), 4);
    assert_eq!(sets.len(), 2);
    for (text, set) in texts[1..3].iter().zip(&sets) {
        assert_eq!(set.len(), 3);
        assert!(set.contains(text), "{text:?} not among {set:?}");
    }
    // The temperature reaches the sampler: DDPM's added noise is smaller.
    let (_, hot) = run("1");
    assert_ne!(sets, hot);
    let refused = ld4lg(&[
        "interpolate",
        "--checkpoint",
        "models/e2e",
        "--denoise",
        "0.6",
        "--noise-scale",
        "0",
        "A text.",
        "Another text.",
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("noise_scale"));
}
