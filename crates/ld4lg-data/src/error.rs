use std::path::PathBuf;

/// Errors of the corpus readers. Row-level errors carry the file and one-based line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The corpus file does not exist.
    #[error("file not found: {}", path.display())]
    NotFound {
        /// The missing file.
        path: PathBuf,
    },
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A row does not have the expected shape (missing column or field, bad JSON, …).
    #[error("{}:{line}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// One-based line where the row starts.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A row is not valid UTF-8.
    #[error("{}:{line}: invalid UTF-8", path.display())]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// One-based line.
        line: u64,
    },
    /// The corpus description itself is wrong (e.g. no files given).
    #[error("invalid corpus specification: {0}")]
    InvalidSpec(String),
}

impl DataError {
    /// Maps an I/O error on `path` to [`DataError::NotFound`] or [`DataError::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            Self::NotFound { path }
        } else {
            Self::Io { path, source }
        }
    }

    /// Whether the error concerns one row only, so that reading may go on past it.
    pub fn is_row_error(&self) -> bool {
        matches!(self, Self::Malformed { .. } | Self::InvalidUtf8 { .. })
    }

    pub(crate) fn malformed(path: &std::path::Path, line: u64, message: impl Into<String>) -> Self {
        Self::Malformed {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}
