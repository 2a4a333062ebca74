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
    /// A weight file's bytes differ from the checksum its directory's manifest recorded when
    /// it was written: the file is damaged or was replaced.
    #[error("{} is corrupt: its SHA-256 is {found}, the manifest recorded {expected}", path.display())]
    Corrupt {
        /// The file.
        path: std::path::PathBuf,
        /// The checksum recorded when the file was written.
        expected: String,
        /// The checksum of the file as read.
        found: String,
    },
    /// A weight file holds NaN or infinite values.
    #[error("{} holds non-finite weights (in `{parameter}`)", path.display())]
    NonFiniteWeights {
        /// The file.
        path: std::path::PathBuf,
        /// The first parameter found with a NaN or infinity.
        parameter: String,
    },
    /// A configuration file names a field this release does not know (a typo, or a file of
    /// another version).
    #[error("{}: unknown field `{field}`", path.display())]
    UnknownField {
        /// The file.
        path: std::path::PathBuf,
        /// The field, as a dotted path.
        field: String,
    },
    /// Another process holds the run directory (training, or exporting into it).
    #[error("{} is in use by process {holder}; wait for it to finish or stop it", dir.display())]
    Locked {
        /// The run directory.
        dir: std::path::PathBuf,
        /// What the lock file says of its holder (its process id).
        holder: String,
    },
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
