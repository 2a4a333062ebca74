pub mod autoencoder;
pub mod conditional;
pub mod decode;
pub mod diffusion;
pub mod fluency;
pub mod info;
pub mod interpolate;
pub mod lm;
pub mod probe;
pub mod tokenizer;
pub mod verify;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use ld4lg::train::{RunOptions, TrainingEvent};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Reads and parses a JSON configuration file.
pub fn read_config<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Training from the command line: a progress bar drawn from the loop's events, run to the
/// end.
pub fn interactive() -> RunOptions {
    let bar: Mutex<Option<ProgressBar>> = Mutex::new(None);
    let draw = move |event: &TrainingEvent| {
        let mut bar = bar.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match event {
            TrainingEvent::Started { intro, step, total } => {
                eprintln!("{intro}");
                let progress = ProgressBar::new(*total);
                progress.set_style(
                    ProgressStyle::with_template(
                        "{bar:30} {pos}/{len} steps {elapsed_precise} (eta {eta}) {msg}",
                    )
                    .expect("valid template"),
                );
                progress.set_position(*step);
                *bar = Some(progress);
            }
            TrainingEvent::Step { step, summary } => {
                if let Some(progress) = bar.as_ref() {
                    progress.set_position(*step);
                    if let Some(summary) = summary {
                        progress.set_message(summary.clone());
                    }
                }
            }
            TrainingEvent::Line(line) => match bar.as_ref() {
                // A hidden bar (stderr is not a terminal: a log file) prints nothing.
                Some(progress) if !progress.is_hidden() => progress.println(line),
                _ => eprintln!("{line}"),
            },
            TrainingEvent::Finished => {
                if let Some(progress) = bar.take() {
                    progress.finish_and_clear();
                }
            }
            _ => {}
        }
    };
    RunOptions {
        progress: Some(Arc::new(draw)),
        stop_after: None,
    }
}

/// The lines of a text file, gzip-compressed when its name ends in `.gz` (empty lines kept).
pub fn read_lines(path: &Path) -> anyhow::Result<Vec<String>> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut ld4lg::data::open_file(path)?, &mut text)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(text.lines().map(str::to_owned).collect())
}

/// Checks that a file of `lines` lines lines up with `expected` items (`what`: "samples").
pub fn ensure_aligned(
    path: &Path,
    lines: usize,
    expected: usize,
    what: &str,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        lines == expected,
        "{} has {lines} lines for {expected} {what}",
        path.display()
    );
    Ok(())
}

/// `(meaning representation, reference)` pairs of an E2E CSV file.
pub fn e2e_pairs(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let pairs = ld4lg::data::CorpusSpec::E2e {
        path: path.to_path_buf(),
    }
    .open(ld4lg::data::OnError::Fail)?
    .map(|e| e.map(|e| (e.source.unwrap_or_default(), e.text)))
    .collect::<Result<_, _>>()?;
    Ok(pairs)
}
