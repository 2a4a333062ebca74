use super::{DataError, Example};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The E2E NLG Challenge CSV: columns `mr` (meaning representation, becomes
/// [`Example::source`]) and `ref` (the reference text, becomes [`Example::text`]).
///
/// A real CSV parser: quoted fields may contain commas, quotes and newlines. Rows with a wrong
/// number of fields, invalid UTF-8 or an empty `ref` are row errors with the line they start on.
pub struct E2eReader {
    path: PathBuf,
    records: csv::StringRecordsIntoIter<Box<dyn Read + Send>>,
    mr: usize,
    reference: usize,
}

impl E2eReader {
    /// Opens the file (gzip-compressed when its name ends in `.gz`) and checks its header.
    ///
    /// # Errors
    /// [`DataError::NotFound`], or [`DataError::Malformed`] when the header lacks `mr` or `ref`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DataError> {
        let path = path.as_ref();
        let file = super::open_file(path)?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(file);
        let headers = reader
            .headers()
            .map_err(|e| DataError::malformed(path, 1, format!("bad header: {e}")))?
            .clone();
        let column = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim() == name)
                .ok_or_else(|| {
                    DataError::malformed(
                        path,
                        1,
                        format!(
                            "no `{name}` column in header {:?}",
                            headers.iter().collect::<Vec<_>>()
                        ),
                    )
                })
        };
        let (mr, reference) = (column("mr")?, column("ref")?);
        Ok(Self {
            path: path.to_path_buf(),
            records: reader.into_records(),
            mr,
            reference,
        })
    }
}

impl Iterator for E2eReader {
    type Item = Result<Example, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        let record = match self.records.next()? {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map_or(0, csv::Position::line);
                return Some(Err(match err.kind() {
                    csv::ErrorKind::Utf8 { .. } => DataError::InvalidUtf8 {
                        path: self.path.clone(),
                        line,
                    },
                    csv::ErrorKind::Io(_) => match err.into_kind() {
                        csv::ErrorKind::Io(io) => DataError::io(&self.path, io),
                        _ => unreachable!("matched as Io above"),
                    },
                    _ => DataError::malformed(&self.path, line, err.to_string()),
                }));
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let text = record.get(self.reference).unwrap_or_default();
        if text.trim().is_empty() {
            return Some(Err(DataError::malformed(&self.path, line, "empty `ref`")));
        }
        Some(Ok(Example {
            text: text.to_owned(),
            label: None,
            source: record.get(self.mr).map(str::to_owned),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(content: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e2e.csv");
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    #[test]
    fn quoted_fields_keep_commas_quotes_and_newlines() {
        let (_dir, path) = write(
            b"mr,ref\n\"name[A], food[Thai]\",\"A serves Thai food, \"\"cheap\"\".\nReally.\"\nname[B],B is nice.\n",
        );
        let examples: Vec<Example> = E2eReader::open(&path)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(examples.len(), 2);
        assert_eq!(examples[0].source.as_deref(), Some("name[A], food[Thai]"));
        assert_eq!(examples[0].text, "A serves Thai food, \"cheap\".\nReally.");
        assert_eq!(examples[1].text, "B is nice.");
    }

    #[test]
    fn columns_are_found_by_name() {
        let (_dir, path) = write(b"ref,mr\nText.,name[A]\n");
        let example = E2eReader::open(&path).unwrap().next().unwrap().unwrap();
        assert_eq!(example.text, "Text.");
        assert_eq!(example.source.as_deref(), Some("name[A]"));
    }

    #[test]
    fn missing_column_is_reported_on_line_one() {
        let (_dir, path) = write(b"meaning,text\na,b\n");
        let Err(err) = E2eReader::open(&path) else {
            panic!("header without mr/ref accepted")
        };
        assert!(
            matches!(&err, DataError::Malformed { line: 1, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("`mr`"), "{err}");
    }

    #[test]
    fn bad_rows_carry_their_line_and_reading_goes_on() {
        let (_dir, path) = write(
            b"mr,ref\nname[A],ok\nname[B],too,many\nname[C],\nname[D],\xff\xfe\nname[E],fine\n",
        );
        let items: Vec<_> = E2eReader::open(&path).unwrap().collect();
        let lines: Vec<String> = items
            .iter()
            .map(|item| match item {
                Ok(example) => example.text.clone(),
                Err(DataError::Malformed { line, .. }) => format!("malformed@{line}"),
                Err(DataError::InvalidUtf8 { line, .. }) => format!("utf8@{line}"),
                Err(other) => format!("{other}"),
            })
            .collect();
        assert_eq!(
            lines,
            ["ok", "malformed@3", "malformed@4", "utf8@5", "fine"]
        );
    }

    #[test]
    fn bundled_splits_parse_completely() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/e2e");
        // Row counts and multi-line references counted independently with Python's csv module.
        for (file, rows, multiline_refs) in
            [("devset.csv.gz", 4672, 0), ("trainset.csv.gz", 42061, 2)]
        {
            let mut count = 0;
            let mut multiline = 0;
            for example in E2eReader::open(dir.join(file)).unwrap() {
                let example = example.unwrap();
                assert!(example.source.unwrap().starts_with("name["));
                multiline += usize::from(example.text.contains('\n'));
                count += 1;
            }
            assert_eq!((count, multiline), (rows, multiline_refs), "{file}");
        }
    }
}
