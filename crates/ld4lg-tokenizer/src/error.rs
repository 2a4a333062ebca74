use std::path::PathBuf;

/// Everything that can go wrong while training, loading or using a [`Tokenizer`](crate::Tokenizer).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenizerError {
    /// A corpus or tokenizer file does not exist.
    #[error("file not found: {}", path.display())]
    MissingFile {
        /// The path that was asked for.
        path: PathBuf,
    },
    /// A file exists but could not be read or written.
    #[error("cannot access {}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The training corpus holds no text (or only blank lines).
    #[error("empty corpus: no non-blank text to train the tokenizer on")]
    EmptyCorpus,
    /// A line of a corpus file is not valid UTF-8.
    #[error("{}:{line}: invalid UTF-8", path.display())]
    InvalidUtf8 {
        /// The corpus file.
        path: PathBuf,
        /// One-based line number.
        line: usize,
    },
    /// A `tokenizer.json` could not be parsed, or it lacks ld4lg's special tokens.
    #[error("corrupt tokenizer{}: {message}", path.as_ref().map(|p| format!(" file {}", p.display())).unwrap_or_default())]
    Corrupt {
        /// The file, when the tokenizer came from one.
        path: Option<PathBuf>,
        /// What is wrong with it.
        message: String,
    },
    /// A maximum sequence length that cannot hold bos, eos and one token.
    #[error(
        "max length {max_len} is too small: it must hold bos, eos and at least one token (>= 3)"
    )]
    MaxLenTooSmall {
        /// The length that was asked for.
        max_len: usize,
    },
    /// The configuration cannot be trained (e.g. a vocabulary smaller than the special tokens).
    #[error("invalid tokenizer configuration: {0}")]
    InvalidConfig(String),
    /// An error raised inside the HF `tokenizers` crate.
    #[error("tokenizers: {0}")]
    Backend(String),
}

impl TokenizerError {
    /// Maps an I/O error on `path` to [`TokenizerError::MissingFile`] or [`TokenizerError::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            Self::MissingFile { path }
        } else {
            Self::Io { path, source }
        }
    }

    pub(crate) fn backend(err: tokenizers::Error) -> Self {
        Self::Backend(err.to_string())
    }
}
