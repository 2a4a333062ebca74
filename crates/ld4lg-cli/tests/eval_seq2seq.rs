//! `ld4lg eval-seq2seq` on a hand-made corpus: multi-reference scores and the human figure.

use std::path::Path;
use std::process::Command;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The BLEU-4 figure of the row called `name`.
fn bleu_of(stdout: &str, name: &str) -> Vec<f64> {
    stdout
        .lines()
        .filter(|l| l.starts_with(name))
        .map(|l| {
            let after = l.split("BLEU-4").nth(1).unwrap();
            after.split_whitespace().next().unwrap().parse().unwrap()
        })
        .collect()
}

#[test]
fn outputs_and_held_out_references_are_scored_against_the_same_references() {
    let dir = tempfile::tempdir().unwrap();
    let e2e = write(
        dir.path(),
        "refs.csv",
        "mr,ref\n\
         name[A],A is a pub.\n\
         name[A],A is a pub near the river.\n\
         name[A],There is a pub called A.\n\
         name[B],B is a cafe.\n",
    );
    let sources = write(dir.path(), "mrs.txt", "name[A]\nname[B]\n");
    let outputs = write(
        dir.path(),
        "out.txt",
        "A is a pub near the river.\nB is a cafe.\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_ld4lg"))
        .args(["eval-seq2seq", "--sources", &sources, "--outputs", &outputs])
        .args(["--e2e", &e2e, "--human"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Each output is one of its references.
    assert_eq!(bleu_of(&stdout, "outputs "), [100.0]);
    // name[B] has a single reference, so only name[A] counts. Held out first: "a is a pub ."
    // against the other two (precisions 5/5, 3/4, 2/3, 1/2; brevity 5 against 7 tokens):
    // 47.40 by an independent Python scorer. Second: 36.56. Third: no 4-gram in common, 0.
    let human = bleu_of(&stdout, "human, ref");
    assert_eq!(human, [47.40, 36.56, 0.0], "{stdout}");
    // The output is the second reference: against the rest when the first is held out it
    // meets itself (100); when it is itself held out, it scores as the human figure.
    let same = bleu_of(&stdout, "outputs, same refs");
    assert_eq!(same, [100.0, 36.56, 100.0], "{stdout}");
    assert!(stdout.contains("(1 outputs)"), "{stdout}");
}

#[test]
fn an_output_file_of_the_wrong_length_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let e2e = write(dir.path(), "refs.csv", "mr,ref\nname[A],A is a pub.\n");
    let sources = write(dir.path(), "mrs.txt", "name[A]\n");
    let outputs = write(dir.path(), "out.txt", "A is a pub.\nOne too many.\n");
    let out = Command::new(env!("CARGO_BIN_EXE_ld4lg"))
        .args(["eval-seq2seq", "--sources", &sources, "--outputs", &outputs])
        .args(["--e2e", &e2e])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("out.txt"));
}
