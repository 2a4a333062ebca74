use ld4lg_data::DataError;
use ld4lg_sampler::SamplerError;
use ld4lg_tokenizer::TokenizerError;

/// Any error of loading, training or running a model: data, tokenizer, run-directory files,
/// configuration, divergence.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading a corpus failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Training, loading or applying a tokenizer failed.
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    /// A sampler configuration is invalid, or does not fit the batch or model it runs on.
    #[error(transparent)]
    Sampler(#[from] SamplerError),
    /// A file of a run directory could not be read or written.
    #[error("cannot access {}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A checkpoint or run configuration is missing, corrupt or does not match.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Training diverged: the loss is no longer finite. Nothing was saved after the last
    /// finite loss was seen, so the run can resume from its checkpoint (e.g. with a lower
    /// learning rate).
    #[error("training diverged: the loss is {loss} at step {step}; the last checkpoint is kept")]
    Diverged {
        /// The optimiser step that saw it.
        step: u64,
        /// The loss read.
        loss: f64,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<std::path::PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
