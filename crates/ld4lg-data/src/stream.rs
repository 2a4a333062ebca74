use super::{DataError, Example};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What to do with a malformed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Yield the error (callers usually stop there).
    #[default]
    Fail,
    /// Skip the row and count it. File-level errors (missing file, I/O) are still yielded.
    Skip,
}

/// A shared count of skipped rows that outlives the stream that counts them.
#[derive(Debug, Clone, Default)]
pub struct SkipCounter(Arc<AtomicUsize>);

impl SkipCounter {
    /// Rows skipped so far.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    fn increment(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// A stream of examples from any reader, applying an [`OnError`] policy.
pub struct ExampleStream {
    inner: Box<dyn Iterator<Item = Result<Example, DataError>> + Send>,
    on_error: OnError,
    skipped: SkipCounter,
}

impl ExampleStream {
    /// Wraps a reader.
    pub fn new(
        reader: impl Iterator<Item = Result<Example, DataError>> + Send + 'static,
        on_error: OnError,
    ) -> Self {
        Self {
            inner: Box::new(reader),
            on_error,
            skipped: SkipCounter::default(),
        }
    }

    /// Rows skipped so far under [`OnError::Skip`].
    pub fn skipped(&self) -> usize {
        self.skipped.get()
    }

    /// A handle on the skip count, to read it after the stream was consumed.
    pub fn skip_counter(&self) -> SkipCounter {
        self.skipped.clone()
    }

    /// Just the texts.
    pub fn texts(self) -> impl Iterator<Item = Result<String, DataError>> + Send {
        self.map(|item| item.map(|example| example.text))
    }
}

impl Iterator for ExampleStream {
    type Item = Result<Example, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.inner.next()? {
                Err(err) if self.on_error == OnError::Skip && err.is_row_error() => {
                    self.skipped.increment();
                }
                item => return Some(item),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn rows() -> Vec<Result<Example, DataError>> {
        vec![
            Ok(Example::text("a")),
            Err(DataError::Malformed {
                path: PathBuf::from("f"),
                line: 2,
                message: "bad".into(),
            }),
            Err(DataError::InvalidUtf8 {
                path: PathBuf::from("f"),
                line: 3,
            }),
            Ok(Example::text("b")),
            Err(DataError::NotFound {
                path: PathBuf::from("g"),
            }),
        ]
    }

    #[test]
    fn skip_counts_row_errors_but_yields_file_errors() {
        let stream = ExampleStream::new(rows().into_iter(), OnError::Skip);
        let counter = stream.skip_counter();
        let items: Vec<_> = stream.collect();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].as_ref().unwrap().text, "a");
        assert_eq!(items[1].as_ref().unwrap().text, "b");
        assert!(matches!(items[2], Err(DataError::NotFound { .. })));
        assert_eq!(counter.get(), 2);
    }

    #[test]
    fn fail_yields_row_errors() {
        let mut stream = ExampleStream::new(rows().into_iter(), OnError::Fail);
        assert!(stream.next().unwrap().is_ok());
        assert!(matches!(
            stream.next(),
            Some(Err(DataError::Malformed { line: 2, .. }))
        ));
        assert_eq!(stream.skipped(), 0);
    }
}
