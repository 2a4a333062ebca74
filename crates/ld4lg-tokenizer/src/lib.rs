//! Tokenizers for ld4lg, on Hugging Face's [`tokenizers`] crate.
//!
//! Train a byte-level BPE, WordPiece or WordLevel tokenizer on a corpus, save it as a
//! `tokenizer.json` that Python's `tokenizers` package loads with identical ids, and encode
//! batches of text straight into Burn tensors. Every tokenizer trained here has the same
//! [special tokens](special) with the same ids, and wraps each text as `<s> … </s>`.
//!
//! ```
//! use ld4lg_tokenizer::{EncodeOptions, Tokenizer, TokenizerConfig, special};
//!
//! let corpus = ["the cat sat on the mat", "the dog sat on the log"];
//! let config = TokenizerConfig { vocab_size: 300, min_frequency: 1, ..Default::default() };
//! let tokenizer = Tokenizer::train(&config, corpus.iter())?;
//!
//! let batch = tokenizer.encode_batch(&["the cat sat", "the dog"], EncodeOptions::new(16))?;
//! assert_eq!(batch.ids[0][0], special::BOS_ID);
//! assert_eq!(tokenizer.decode(&batch.ids[1])?, "the dog");
//! # Ok::<(), ld4lg_tokenizer::TokenizerError>(())
//! ```

#![warn(missing_docs)]

mod batch;
mod config;
mod error;
mod lines;
pub mod special;
mod tokenizer;

pub use batch::{EncodeOptions, EncodedBatch, Padding};
pub use config::{TokenizerConfig, TokenizerKind};
pub use error::TokenizerError;
pub use lines::LineReader;
pub use tokenizer::Tokenizer;
