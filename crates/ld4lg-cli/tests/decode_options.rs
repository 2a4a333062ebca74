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
