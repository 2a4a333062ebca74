use super::lines::Lines;
use super::{DataError, Example, PlainTextReader};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One file of a labelled corpus: every line of `path` has class `label`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelledFile {
    /// The class of every line of the file (e.g. `negative`).
    pub label: String,
    /// A one-text-per-line file.
    pub path: PathBuf,
}

impl std::str::FromStr for LabelledFile {
    type Err = DataError;

    /// Parses `LABEL=PATH`, as the command line takes it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('=') {
            Some((label, path)) if !label.trim().is_empty() && !path.is_empty() => Ok(Self {
                label: label.trim().to_owned(),
                path: PathBuf::from(path),
            }),
            _ => Err(DataError::InvalidSpec(format!(
                "expected LABEL=PATH, got '{s}'"
            ))),
        }
    }
}

/// Labelled text as one file per label (the Yelp `sentiment.*.0` / `.1` layout).
pub struct LabelledFilesReader {
    files: std::vec::IntoIter<LabelledFile>,
    current: Option<PlainTextReader>,
}

impl LabelledFilesReader {
    /// Reads the files in the order given, each lazily.
    pub fn new(files: &[LabelledFile]) -> Self {
        Self {
            files: Vec::from(files).into_iter(),
            current: None,
        }
    }
}

impl Iterator for LabelledFilesReader {
    type Item = Result<Example, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let reader = match &mut self.current {
                Some(reader) => reader,
                None => {
                    let file = self.files.next()?;
                    self.current
                        .insert(PlainTextReader::new(&[file.path]).with_label(file.label))
                }
            };
            match reader.next() {
                Some(item) => return Some(item),
                None => self.current = None,
            }
        }
    }
}

/// Labelled text as `label<TAB>text` lines. Blank lines are passed over; a line without a tab
/// or with an empty label or text is a row error.
pub struct LabelledTsvReader {
    lines: Lines,
}

impl LabelledTsvReader {
    /// Opens the file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DataError> {
        Ok(Self {
            lines: Lines::open(path.as_ref())?,
        })
    }
}

impl Iterator for LabelledTsvReader {
    type Item = Result<Example, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (line, row) = match self.lines.next()? {
                Ok(row) => row,
                Err(err) => return Some(Err(err)),
            };
            if row.trim().is_empty() {
                continue;
            }
            return Some(match row.split_once('\t') {
                Some((label, text)) if !label.trim().is_empty() && !text.trim().is_empty() => {
                    Ok(Example {
                        text: text.to_owned(),
                        label: Some(label.trim().to_owned()),
                        source: None,
                    })
                }
                Some(_) => Err(DataError::malformed(
                    self.lines.path(),
                    line,
                    "empty label or text",
                )),
                None => Err(DataError::malformed(
                    self.lines.path(),
                    line,
                    "expected `label<TAB>text`",
                )),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_per_label() {
        let dir = tempfile::tempdir().unwrap();
        let neg = dir.path().join("sentiment.0");
        let pos = dir.path().join("sentiment.1");
        std::fs::write(&neg, "bad food .\nrude staff .\n").unwrap();
        std::fs::write(&pos, "great food .\n").unwrap();
        let files = [
            format!("negative={}", neg.display())
                .parse::<LabelledFile>()
                .unwrap(),
            format!("positive={}", pos.display())
                .parse::<LabelledFile>()
                .unwrap(),
        ];
        let got: Vec<(String, String)> = LabelledFilesReader::new(&files)
            .map(|e| {
                let e = e.unwrap();
                (e.label.unwrap(), e.text)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("negative".into(), "bad food .".into()),
                ("negative".into(), "rude staff .".into()),
                ("positive".into(), "great food .".into())
            ]
        );
        assert!("=path".parse::<LabelledFile>().is_err());
        assert!("label".parse::<LabelledFile>().is_err());
    }

    #[test]
    fn tab_separated_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.tsv");
        std::fs::write(
            &path,
            "pos\tgreat food .\n\nno tab here\nneg\t\nneg\tawful\tservice\n",
        )
        .unwrap();
        let items: Vec<_> = LabelledTsvReader::open(&path).unwrap().collect();
        assert_eq!(items.len(), 4);
        let first = items[0].as_ref().unwrap();
        assert_eq!(
            (first.label.as_deref(), first.text.as_str()),
            (Some("pos"), "great food .")
        );
        assert!(matches!(
            items[1],
            Err(DataError::Malformed { line: 3, .. })
        ));
        assert!(matches!(
            items[2],
            Err(DataError::Malformed { line: 4, .. })
        ));
        // Only the first tab separates: the text may contain tabs.
        assert_eq!(items[3].as_ref().unwrap().text, "awful\tservice");
    }
}
