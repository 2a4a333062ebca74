//! `ld4lg probe` on the shipped E2E model.

use std::path::Path;
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .parent()
        .unwrap()
}

fn probe(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ld4lg"))
        .arg("probe")
        .args([
            "--checkpoint",
            "models/e2e",
            "--e2e",
            "data/e2e/devset.csv.gz",
        ])
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

#[test]
fn probe_prints_one_row_per_strength_and_refuses_bad_strengths() {
    let out = probe(&[
        "--limit",
        "12",
        "--strengths",
        "0.05,0.95",
        "--batch-size",
        "5",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("12 texts;"), "{stdout}");
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .filter(|l| l.starts_with("| 0."))
        .map(|l| l.split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert_eq!(rows[0][1], "0.05");
    assert_eq!(rows[1][1], "0.95");
    // Token accuracy (first figure of a cell) falls from almost clean to almost pure noise.
    let accuracy = |cell: &str| -> f64 { cell.split('/').next().unwrap().trim().parse().unwrap() };
    assert!(
        accuracy(rows[0][4]) > accuracy(rows[1][4]) + 0.3,
        "{stdout}"
    );
    assert!(accuracy(rows[0][3]) > 0.9, "{stdout}");

    let out = probe(&["--limit", "2", "--strengths", "0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("strength"));
}
