//! # ld4lg-data — streaming corpus readers
//!
//! Every reader yields [`Example`]s one at a time without loading the corpus into memory:
//! plain text ([`PlainTextReader`]), the E2E NLG CSV ([`E2eReader`]), labelled text
//! ([`LabelledFilesReader`], [`LabelledTsvReader`]) and JSON lines ([`JsonLinesReader`]).
//! [`CorpusSpec`] names a corpus and its format, and [`CorpusSpec::open`] gives an
//! [`ExampleStream`] that either stops at the first malformed row or skips and counts such
//! rows, as asked by [`OnError`]. Any corpus file may be gzip-compressed: a name ending in
//! `.gz` is decompressed as it is read.
//!
//! ```
//! use ld4lg_data::{CorpusSpec, OnError};
//!
//! let spec = CorpusSpec::E2e { path: "../../data/e2e/devset.csv.gz".into() };
//! let mut stream = spec.open(OnError::Fail)?;
//! let first = stream.next().unwrap()?;
//! assert!(first.text.contains("Alimentum"));
//! assert!(first.source.unwrap().starts_with("name[Alimentum]"));
//! # Ok::<(), ld4lg_data::DataError>(())
//! ```

#![warn(missing_docs)]

mod e2e;
mod error;
mod jsonl;
mod labelled;
mod lines;
mod mr;
mod open;
mod plain;
mod spec;
mod stream;

pub use e2e::E2eReader;
pub use error::DataError;
pub use jsonl::{JsonFields, JsonLinesReader};
pub use labelled::{LabelledFile, LabelledFilesReader, LabelledTsvReader};
pub use mr::{MeaningRepresentation, MeaningRepresentationError};
pub use open::{is_gzip, open_file};
pub use plain::PlainTextReader;
pub use spec::CorpusSpec;
pub use stream::{ExampleStream, OnError, SkipCounter};

use serde::{Deserialize, Serialize};

/// One training or evaluation example.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Example {
    /// The text to model.
    pub text: String,
    /// A class label (e.g. `positive`), for class-conditional models.
    pub label: Option<String>,
    /// A source text (e.g. an E2E meaning representation), for sequence-to-sequence models.
    pub source: Option<String>,
}

impl Example {
    /// An example with text only.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}
