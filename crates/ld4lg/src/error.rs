use crate::backend::BackendError;
use crate::data::DataError;
use crate::tokenizer::TokenizerError;

/// Any error of the facade: data, tokenizer or backend.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading a corpus failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Training, loading or applying a tokenizer failed.
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    /// The requested backend is not available.
    #[error(transparent)]
    Backend(#[from] BackendError),
}
