use serde::{Deserialize, Serialize};

/// The subword model a tokenizer is trained as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenizerKind {
    /// Byte-level BPE (GPT-2 style): never produces `<unk>` and decodes back to the exact
    /// normalised input.
    #[default]
    Bpe,
    /// WordPiece (BERT style) with `##` continuation prefixes.
    WordPiece,
    /// One token per whitespace/punctuation-separated word; rare words become `<unk>`.
    WordLevel,
}

impl std::fmt::Display for TokenizerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Bpe => "bpe",
            Self::WordPiece => "word-piece",
            Self::WordLevel => "word-level",
        })
    }
}

/// How to train a [`Tokenizer`](crate::Tokenizer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenizerConfig {
    /// The subword model. Default: byte-level BPE.
    pub kind: TokenizerKind,
    /// Target vocabulary size, special tokens included. Default: 4000.
    pub vocab_size: usize,
    /// Minimum number of occurrences for a merge or word to enter the vocabulary. Default: 2.
    pub min_frequency: u64,
    /// Lower-case all text before tokenising. Default: false.
    pub lowercase: bool,
    /// Words that always become one token of their own, e.g. a corpus' number marker such as
    /// Yelp's `_num_`, which subword merges would otherwise split into pieces that a model
    /// can reassemble wrongly (`numnum`). Matched as whole words on the normalised text.
    /// Default: none.
    pub whole_words: Vec<String>,
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        Self {
            kind: TokenizerKind::Bpe,
            vocab_size: 4000,
            min_frequency: 2,
            lowercase: false,
            whole_words: Vec::new(),
        }
    }
}
