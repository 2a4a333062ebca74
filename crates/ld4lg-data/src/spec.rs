use super::{
    DataError, E2eReader, ExampleStream, JsonFields, JsonLinesReader, LabelledFile,
    LabelledFilesReader, LabelledTsvReader, OnError, PlainTextReader,
};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A corpus on disk and its format; serialisable, so run configurations can name corpora.
///
/// ```
/// use ld4lg_data::CorpusSpec;
/// let spec: CorpusSpec = serde_json::from_str(
///     r#"{ "format": "e2e", "path": "data/e2e/trainset.csv.gz" }"#,
/// ).unwrap();
/// assert_eq!(spec, CorpusSpec::E2e { path: "data/e2e/trainset.csv.gz".into() });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CorpusSpec {
    /// One example per line, over one or more files.
    Plain {
        /// The files, read in order.
        paths: Vec<PathBuf>,
    },
    /// E2E NLG CSV (`mr`, `ref`).
    E2e {
        /// The CSV file.
        path: PathBuf,
    },
    /// One file per label.
    LabelledFiles {
        /// The files with their labels, read in order.
        files: Vec<LabelledFile>,
    },
    /// `label<TAB>text` lines.
    LabelledTsv {
        /// The file.
        path: PathBuf,
    },
    /// JSON lines with configurable fields.
    Jsonl {
        /// The file.
        path: PathBuf,
        /// Field names.
        #[serde(default)]
        fields: JsonFields,
    },
}

impl CorpusSpec {
    /// Every text of the corpus, in order (labels and sources dropped), e.g. to train a
    /// fluency or fusion model.
    ///
    /// # Errors
    /// As [`Self::open`], and the first bad row.
    pub fn read_texts(&self) -> Result<Vec<String>, DataError> {
        self.open(OnError::Fail)?.texts().collect()
    }

    /// Opens the corpus for streaming.
    ///
    /// # Errors
    /// [`DataError::InvalidSpec`] when no file is named; file errors of the first file
    /// (missing file, bad E2E header) come at once, those of later files from the stream.
    pub fn open(&self, on_error: OnError) -> Result<ExampleStream, DataError> {
        Ok(match self {
            Self::Plain { paths } => {
                if paths.is_empty() {
                    return Err(DataError::InvalidSpec("no corpus file given".into()));
                }
                if let Some(missing) = paths.iter().find(|p| !p.exists()) {
                    return Err(DataError::NotFound {
                        path: missing.clone(),
                    });
                }
                ExampleStream::new(PlainTextReader::new(paths), on_error)
            }
            Self::E2e { path } => ExampleStream::new(E2eReader::open(path)?, on_error),
            Self::LabelledFiles { files } => {
                if files.is_empty() {
                    return Err(DataError::InvalidSpec("no labelled file given".into()));
                }
                if let Some(missing) = files.iter().find(|f| !f.path.exists()) {
                    return Err(DataError::NotFound {
                        path: missing.path.clone(),
                    });
                }
                ExampleStream::new(LabelledFilesReader::new(files), on_error)
            }
            Self::LabelledTsv { path } => {
                ExampleStream::new(LabelledTsvReader::open(path)?, on_error)
            }
            Self::Jsonl { path, fields } => {
                ExampleStream::new(JsonLinesReader::open(path, fields.clone())?, on_error)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_open_their_readers_and_report_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("a.txt");
        std::fs::write(&text, "one\ntwo\n").unwrap();
        let plain = CorpusSpec::Plain {
            paths: vec![text.clone()],
        };
        assert_eq!(plain.open(OnError::Fail).unwrap().count(), 2);
        assert_eq!(plain.read_texts().unwrap(), ["one", "two"]);

        let missing = CorpusSpec::Plain {
            paths: vec![text, dir.path().join("missing.txt")],
        };
        assert!(matches!(
            missing.open(OnError::Skip),
            Err(DataError::NotFound { path }) if path.ends_with("missing.txt")
        ));
        let empty = CorpusSpec::LabelledFiles { files: vec![] };
        assert!(matches!(
            empty.open(OnError::Fail),
            Err(DataError::InvalidSpec(_))
        ));
        let e2e = CorpusSpec::E2e {
            path: dir.path().join("none.csv"),
        };
        assert!(matches!(
            e2e.open(OnError::Fail),
            Err(DataError::NotFound { .. })
        ));
    }

    #[test]
    fn specs_round_trip_through_json() {
        let spec = CorpusSpec::Jsonl {
            path: "x.jsonl".into(),
            fields: JsonFields {
                text: "t".into(),
                label: Some("l".into()),
                source: None,
            },
        };
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<CorpusSpec>(&json).unwrap(), spec);
    }
}
