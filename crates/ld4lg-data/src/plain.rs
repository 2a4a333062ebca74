use super::lines::Lines;
use super::{DataError, Example};
use std::path::{Path, PathBuf};

/// Plain text, one example per line, over one or more files read in turn.
///
/// Blank lines are not examples and are passed over silently.
pub struct PlainTextReader {
    pending: std::vec::IntoIter<PathBuf>,
    current: Option<Lines>,
    label: Option<String>,
}

impl PlainTextReader {
    /// Reads `paths` in order; files are opened lazily, one at a time.
    pub fn new<P: AsRef<Path>>(paths: &[P]) -> Self {
        Self {
            pending: paths
                .iter()
                .map(|p| p.as_ref().to_path_buf())
                .collect::<Vec<_>>()
                .into_iter(),
            current: None,
            label: None,
        }
    }

    /// Gives every example this label.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
}

impl Iterator for PlainTextReader {
    type Item = Result<Example, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let lines = match &mut self.current {
                Some(lines) => lines,
                None => match Lines::open(&self.pending.next()?) {
                    Ok(lines) => self.current.insert(lines),
                    Err(err) => return Some(Err(err)),
                },
            };
            match lines.next() {
                None => self.current = None,
                Some(Err(err)) => return Some(Err(err)),
                Some(Ok((_, text))) if text.trim().is_empty() => {}
                Some(Ok((_, text))) => {
                    return Some(Ok(Example {
                        text,
                        label: self.label.clone(),
                        source: None,
                    }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_in_turn_skipping_blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.txt");
        let b = dir.path().join("b.txt");
        std::fs::write(&a, "first\r\n\n  \nsecond\n").unwrap();
        std::fs::write(&b, "third").unwrap();
        let texts: Vec<String> = PlainTextReader::new(&[&a, &b])
            .map(|e| e.unwrap().text)
            .collect();
        assert_eq!(texts, ["first", "second", "third"]);
    }

    #[test]
    fn bad_utf8_is_a_row_error_and_reading_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.txt");
        std::fs::write(&a, b"ok\nbad \xc3\x28\nalso ok\n").unwrap();
        let items: Vec<_> = PlainTextReader::new(&[&a]).collect();
        assert_eq!(items.len(), 3);
        match &items[1] {
            Err(DataError::InvalidUtf8 { line, .. }) => assert_eq!(*line, 2),
            other => panic!("{other:?}"),
        }
        assert_eq!(items[2].as_ref().unwrap().text, "also ok");
    }

    #[test]
    fn gzip_files_read_like_plain_ones_with_the_same_line_numbers() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let packed = dir.path().join("a.txt.gz");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"ok\n\nbad \xc3\x28\nalso ok").unwrap();
        std::fs::write(&packed, encoder.finish().unwrap()).unwrap();
        let items: Vec<_> = PlainTextReader::new(&[&packed]).collect();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].as_ref().unwrap().text, "ok");
        match &items[1] {
            Err(DataError::InvalidUtf8 { line, .. }) => assert_eq!(*line, 3),
            other => panic!("{other:?}"),
        }
        assert_eq!(items[2].as_ref().unwrap().text, "also ok");
    }

    #[test]
    fn missing_file_is_not_found() {
        let mut reader = PlainTextReader::new(&["/nonexistent/corpus.txt"]);
        assert!(matches!(
            reader.next(),
            Some(Err(DataError::NotFound { .. }))
        ));
    }
}
