//! Command-line description of a corpus, shared by every command that reads one.

use clap::{Args, ValueEnum};
use ld4lg::data::{CorpusSpec, JsonFields, LabelledFile, OnError};
use std::path::PathBuf;

/// Corpus file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One text per line.
    Plain,
    /// E2E NLG CSV with `mr` and `ref` columns.
    E2e,
    /// `label<TAB>text` lines.
    Tsv,
    /// One JSON object per line.
    Jsonl,
    /// One file per label, given as `--label NAME=PATH`.
    Labelled,
}

/// Where the corpus is and how to read it.
#[derive(Debug, Clone, Args)]
pub struct CorpusArgs {
    /// Corpus file(s). Several are allowed for `plain`.
    #[arg(long = "corpus", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Corpus format.
    #[arg(long, value_enum, default_value = "plain")]
    pub format: Format,
    /// `NAME=PATH` pairs for `--format labelled` (e.g. `negative=sentiment.dev.0`).
    #[arg(long = "label", value_name = "NAME=PATH")]
    pub labels: Vec<LabelledFile>,
    /// JSON field with the text (`--format jsonl`).
    #[arg(long, default_value = "text")]
    pub text_field: String,
    /// JSON field with the label (`--format jsonl`).
    #[arg(long)]
    pub label_field: Option<String>,
    /// JSON field with the source text (`--format jsonl`).
    #[arg(long)]
    pub source_field: Option<String>,
    /// Skip malformed rows (and report how many) instead of stopping at the first.
    #[arg(long)]
    pub skip_malformed: bool,
}

impl CorpusArgs {
    /// The corpus specification these arguments describe.
    pub fn spec(&self) -> anyhow::Result<CorpusSpec> {
        let single = || -> anyhow::Result<PathBuf> {
            match self.paths.as_slice() {
                [path] => Ok(path.clone()),
                [] => anyhow::bail!("no corpus given: pass --corpus PATH"),
                _ => anyhow::bail!("--format {:?} reads exactly one --corpus file", self.format),
            }
        };
        Ok(match self.format {
            Format::Plain => {
                anyhow::ensure!(
                    !self.paths.is_empty(),
                    "no corpus given: pass --corpus PATH"
                );
                CorpusSpec::Plain {
                    paths: self.paths.clone(),
                }
            }
            Format::E2e => CorpusSpec::E2e { path: single()? },
            Format::Tsv => CorpusSpec::LabelledTsv { path: single()? },
            Format::Jsonl => CorpusSpec::Jsonl {
                path: single()?,
                fields: JsonFields {
                    text: self.text_field.clone(),
                    label: self.label_field.clone(),
                    source: self.source_field.clone(),
                },
            },
            Format::Labelled => {
                anyhow::ensure!(
                    !self.labels.is_empty() && self.paths.is_empty(),
                    "--format labelled takes its files as --label NAME=PATH (and no --corpus)"
                );
                CorpusSpec::LabelledFiles {
                    files: self.labels.clone(),
                }
            }
        })
    }

    /// The malformed-row policy.
    pub fn on_error(&self) -> OnError {
        if self.skip_malformed {
            OnError::Skip
        } else {
            OnError::Fail
        }
    }
}
