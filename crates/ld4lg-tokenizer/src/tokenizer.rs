use crate::special::{self, ALL, EOS_ID, PAD_ID};
use crate::{
    EncodeOptions, EncodedBatch, LineReader, Padding, TokenizerConfig, TokenizerError,
    TokenizerKind,
};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::models::wordlevel::{WordLevel, WordLevelTrainer};
use tokenizers::models::wordpiece::{WordPiece, WordPieceTrainerBuilder};
use tokenizers::models::{ModelWrapper, TrainerWrapper};
use tokenizers::normalizers::{Lowercase, NFC, NormalizerWrapper, Sequence};
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, DecoderWrapper, NormalizedString, Normalizer, PreTokenizerWrapper};

/// A trained tokenizer with ld4lg's [special tokens](crate::special).
///
/// Wraps a [`tokenizers::Tokenizer`]; every encoding is `<s> … </s>`.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
}

impl Tokenizer {
    /// Trains a tokenizer on an iterator of texts (blank texts are ignored).
    ///
    /// # Errors
    /// [`TokenizerError::EmptyCorpus`] when no text is non-blank,
    /// [`TokenizerError::InvalidConfig`] for a vocabulary that cannot hold the special tokens.
    pub fn train<I, S>(config: &TokenizerConfig, texts: I) -> Result<Self, TokenizerError>
    where
        I: Iterator<Item = S> + Send,
        S: AsRef<str> + Send,
    {
        Self::try_train(config, texts.map(Ok::<S, TokenizerError>))
    }

    /// Trains on files with one text per line, streamed (never loaded whole).
    ///
    /// # Errors
    /// Besides those of [`Tokenizer::train`]: a missing file, an unreadable file, or a line
    /// that is not valid UTF-8 (reported with its line number).
    pub fn train_from_files<P: AsRef<Path>>(
        config: &TokenizerConfig,
        paths: &[P],
    ) -> Result<Self, TokenizerError> {
        Self::try_train(config, LineReader::new(paths))
    }

    /// Trains on a fallible stream of texts; the first error of the stream stops training and
    /// is returned.
    pub fn try_train<I, S, E>(config: &TokenizerConfig, texts: I) -> Result<Self, E>
    where
        I: Iterator<Item = Result<S, E>> + Send,
        S: AsRef<str> + Send,
        E: From<TokenizerError> + Send,
    {
        if config.vocab_size <= ALL.len() {
            return Err(TokenizerError::InvalidConfig(format!(
                "vocab_size {} must exceed the {} special tokens",
                config.vocab_size,
                ALL.len()
            ))
            .into());
        }
        let (mut inner, mut trainer) = untrained(config).map_err(E::from)?;
        let first_error: Mutex<Option<E>> = Mutex::new(None);
        let non_blank = AtomicUsize::new(0);
        let stream = texts
            .map_while(|item| match item {
                Ok(text) => Some(text),
                Err(err) => {
                    if let Ok(mut slot) = first_error.lock() {
                        slot.get_or_insert(err);
                    }
                    None
                }
            })
            .filter(|text| !text.as_ref().trim().is_empty())
            .inspect(|_| {
                non_blank.fetch_add(1, Ordering::Relaxed);
            });
        let trained = inner.train(&mut trainer, stream).map(|_| ());
        if let Some(err) = first_error.into_inner().ok().flatten() {
            return Err(err);
        }
        trained.map_err(|e| E::from(TokenizerError::backend(e)))?;
        if non_blank.load(Ordering::Relaxed) == 0 {
            return Err(TokenizerError::EmptyCorpus.into());
        }
        add_whole_words(&mut inner, &config.whole_words).map_err(E::from)?;
        Self::from_inner(inner, None).map_err(E::from)
    }

    /// Loads a `tokenizer.json` (as written by [`Tokenizer::save`] or Python's `tokenizers`).
    ///
    /// # Errors
    /// [`TokenizerError::MissingFile`], or [`TokenizerError::Corrupt`] when the file does not
    /// parse or lacks ld4lg's special tokens at their ids.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, TokenizerError> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|e| TokenizerError::io(path, e))?;
        Self::parse(&json, Some(path))
    }

    /// Parses the JSON text of a `tokenizer.json`.
    pub fn from_json(json: &str) -> Result<Self, TokenizerError> {
        Self::parse(json, None)
    }

    fn parse(json: &str, path: Option<&Path>) -> Result<Self, TokenizerError> {
        let inner: tokenizers::Tokenizer =
            json.parse()
                .map_err(|e: tokenizers::Error| TokenizerError::Corrupt {
                    path: path.map(Path::to_path_buf),
                    message: e.to_string(),
                })?;
        Self::from_inner(inner, path)
    }

    /// Wraps an HF tokenizer after checking that it has ld4lg's special tokens at their ids.
    pub fn from_inner(
        inner: tokenizers::Tokenizer,
        path: Option<&Path>,
    ) -> Result<Self, TokenizerError> {
        for (token, id) in ALL {
            let found = inner.token_to_id(token);
            if found != Some(id) {
                let message = match found {
                    Some(other) => format!("special token {token} has id {other}, expected {id}"),
                    None => format!("special token {token} is missing"),
                };
                return Err(TokenizerError::Corrupt {
                    path: path.map(Path::to_path_buf),
                    message,
                });
            }
        }
        Ok(Self { inner })
    }

    /// Writes `tokenizer.json` atomically (temporary file, then rename).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), TokenizerError> {
        let path = path.as_ref();
        let json = self.to_json()?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, json).map_err(|e| TokenizerError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| TokenizerError::io(path, e))
    }

    /// The `tokenizer.json` text.
    pub fn to_json(&self) -> Result<String, TokenizerError> {
        self.inner.to_string(true).map_err(TokenizerError::backend)
    }

    /// The wrapped HF tokenizer.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }

    /// Vocabulary size, special tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Id of a token, if it is in the vocabulary.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Token of an id, if the id is in the vocabulary.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// Applies the tokenizer's normaliser (Unicode NFC, and lower-casing when trained so).
    ///
    /// For byte-level BPE, `decode(encode(x)) == normalize(x)`.
    pub fn normalize(&self, text: &str) -> Result<String, TokenizerError> {
        let mut normalized = NormalizedString::from(text);
        if let Some(normalizer) = self.inner.get_normalizer() {
            normalizer
                .normalize(&mut normalized)
                .map_err(TokenizerError::backend)?;
        }
        Ok(normalized.get().to_owned())
    }

    /// Encodes one text as `<s> … </s>`, without truncation.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        let encoding = self
            .inner
            .encode(text, true)
            .map_err(TokenizerError::backend)?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Encodes a batch: each text becomes `<s> … </s>`, is truncated to `options.max_len`
    /// (keeping its `</s>`) and padded with `<pad>`.
    ///
    /// # Errors
    /// [`TokenizerError::MaxLenTooSmall`] when `max_len < 3`.
    pub fn encode_batch<S: AsRef<str>>(
        &self,
        texts: &[S],
        options: EncodeOptions,
    ) -> Result<EncodedBatch, TokenizerError> {
        if options.max_len < 3 {
            return Err(TokenizerError::MaxLenTooSmall {
                max_len: options.max_len,
            });
        }
        let inputs: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
        let encodings = self
            .inner
            .encode_batch(inputs, true)
            .map_err(TokenizerError::backend)?;
        let mut truncated = 0;
        let mut ids: Vec<Vec<u32>> = encodings
            .iter()
            .map(|encoding| {
                let mut row = encoding.get_ids().to_vec();
                if row.len() > options.max_len {
                    row.truncate(options.max_len - 1);
                    row.push(EOS_ID);
                    truncated += 1;
                }
                row
            })
            .collect();
        let lengths: Vec<usize> = ids.iter().map(Vec::len).collect();
        let seq_len = match options.padding {
            Padding::Longest => lengths.iter().copied().max().unwrap_or(0),
            Padding::MaxLength => options.max_len,
        };
        let padding_mask = lengths
            .iter()
            .map(|&len| (0..seq_len).map(|j| j >= len).collect())
            .collect();
        for row in &mut ids {
            row.resize(seq_len, PAD_ID);
        }
        Ok(EncodedBatch {
            ids,
            padding_mask,
            lengths,
            seq_len,
            truncated,
        })
    }

    /// Decodes ids to text: stops at the first `</s>` after the start, skips special tokens
    /// and cleans spacing around punctuation (WordPiece and WordLevel).
    pub fn decode(&self, ids: &[u32]) -> Result<String, TokenizerError> {
        let end = ids
            .iter()
            .skip(1)
            .position(|&id| id == EOS_ID)
            .map_or(ids.len(), |p| p + 1);
        self.inner
            .decode(&ids[..end], true)
            .map_err(TokenizerError::backend)
    }

    /// Decodes each row of a batch as [`Tokenizer::decode`] does.
    pub fn decode_batch<R: AsRef<[u32]>>(&self, rows: &[R]) -> Result<Vec<String>, TokenizerError> {
        rows.iter().map(|row| self.decode(row.as_ref())).collect()
    }
}

/// An empty tokenizer pipeline and its trainer, ready for `train`.
/// Adds `words` to a trained tokenizer as single tokens matched on whole words.
fn add_whole_words(
    inner: &mut tokenizers::Tokenizer,
    words: &[String],
) -> Result<(), TokenizerError> {
    if let Some(bad) = words
        .iter()
        .find(|w| w.is_empty() || w.chars().any(char::is_whitespace))
    {
        return Err(TokenizerError::InvalidConfig(format!(
            "whole word {bad:?} must be non-empty and without spaces"
        )));
    }
    let tokens: Vec<AddedToken> = words
        .iter()
        .map(|w| AddedToken::from(w.clone(), false).single_word(true))
        .collect();
    inner.add_tokens(tokens).map_err(TokenizerError::backend)?;
    Ok(())
}

fn untrained(
    config: &TokenizerConfig,
) -> Result<(tokenizers::Tokenizer, TrainerWrapper), TokenizerError> {
    let special_tokens: Vec<AddedToken> = ALL
        .iter()
        .map(|(token, _)| AddedToken::from(*token, true))
        .collect();
    let (model, trainer, pre_tokenizer, decoder): (
        ModelWrapper,
        TrainerWrapper,
        PreTokenizerWrapper,
        DecoderWrapper,
    ) = match config.kind {
        TokenizerKind::Bpe => {
            // No prefix space: then decoding gives back exactly the normalised input.
            let byte_level = ByteLevel::new(false, true, true);
            let trainer = BpeTrainerBuilder::new()
                .vocab_size(config.vocab_size)
                .min_frequency(config.min_frequency)
                .show_progress(false)
                .special_tokens(special_tokens)
                .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
                .build();
            (
                BPE::default().into(),
                trainer.into(),
                byte_level.into(),
                byte_level.into(),
            )
        }
        TokenizerKind::WordPiece => {
            let model = WordPiece::builder()
                .unk_token(special::UNK.to_owned())
                .build()
                .map_err(TokenizerError::backend)?;
            let trainer = WordPieceTrainerBuilder::new()
                .vocab_size(config.vocab_size)
                .min_frequency(config.min_frequency)
                .show_progress(false)
                .special_tokens(special_tokens)
                .build();
            (
                model.into(),
                trainer.into(),
                BertPreTokenizer.into(),
                WordPieceDecoder::new("##".to_owned(), true).into(),
            )
        }
        TokenizerKind::WordLevel => {
            let model = WordLevel::builder()
                .unk_token(special::UNK.to_owned())
                .build()
                .map_err(TokenizerError::backend)?;
            let trainer = WordLevelTrainer::builder()
                .vocab_size(config.vocab_size)
                .min_frequency(config.min_frequency)
                .show_progress(false)
                .special_tokens(special_tokens)
                .build()
                .map_err(|e| TokenizerError::InvalidConfig(e.to_string()))?;
            (
                model.into(),
                trainer.into(),
                BertPreTokenizer.into(),
                // WordLevel tokens carry no `##`, so this decoder only joins and cleans spaces.
                WordPieceDecoder::new("##".to_owned(), true).into(),
            )
        }
    };
    let mut normalizers: Vec<NormalizerWrapper> = vec![NFC.into()];
    if config.lowercase {
        normalizers.push(Lowercase.into());
    }
    let template = TemplateProcessing::builder()
        .try_single(format!("{} $A {}", special::BOS, special::EOS))
        .map_err(|e| TokenizerError::InvalidConfig(e.to_string()))?
        .special_tokens(vec![
            (special::BOS, special::BOS_ID),
            (special::EOS, special::EOS_ID),
        ])
        .build()
        .map_err(|e| TokenizerError::InvalidConfig(e.to_string()))?;
    let mut tokenizer = tokenizers::Tokenizer::new(model);
    tokenizer
        .with_normalizer(Some(Sequence::new(normalizers)))
        .map_err(TokenizerError::backend)?;
    tokenizer
        .with_pre_tokenizer(Some(pre_tokenizer))
        .with_post_processor(Some(template))
        .with_decoder(Some(decoder));
    Ok((tokenizer, trainer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;
    use std::io::Write;

    const CORPUS: [&str; 6] = [
        "The Eagle is a coffee shop near the river.",
        "The Mill serves cheap Japanese food.",
        "Near the river, The Eagle is a family-friendly coffee shop.",
        "The Mill is a pub in the city centre.",
        "Cheap food at The Mill, near the city centre.",
        "A coffee shop with a high customer rating.",
    ];

    fn config(kind: TokenizerKind) -> TokenizerConfig {
        TokenizerConfig {
            kind,
            vocab_size: 400,
            min_frequency: 1,
            lowercase: false,
            whole_words: Vec::new(),
        }
    }

    fn trained(kind: TokenizerKind) -> Tokenizer {
        Tokenizer::train(&config(kind), CORPUS.iter()).expect("training succeeds")
    }

    #[test]
    fn special_tokens_have_stable_ids_for_every_kind() {
        for kind in [
            TokenizerKind::Bpe,
            TokenizerKind::WordPiece,
            TokenizerKind::WordLevel,
        ] {
            let tokenizer = trained(kind);
            for (token, id) in ALL {
                assert_eq!(tokenizer.token_to_id(token), Some(id), "{kind}: {token}");
            }
            let ids = tokenizer.encode("The Mill").unwrap();
            assert_eq!(ids.first(), Some(&special::BOS_ID), "{kind}");
            assert_eq!(ids.last(), Some(&special::EOS_ID), "{kind}");
        }
    }

    #[test]
    fn bpe_decodes_back_to_the_normalised_text() {
        let tokenizer = trained(TokenizerKind::Bpe);
        // Unseen words and characters too: byte-level BPE has no unknown token.
        for text in CORPUS.iter().copied().chain(["Zürich's café — 5 stars!"]) {
            let ids = tokenizer.encode(text).unwrap();
            assert!(!ids.contains(&special::UNK_ID));
            assert_eq!(
                tokenizer.decode(&ids).unwrap(),
                tokenizer.normalize(text).unwrap()
            );
        }
    }

    #[test]
    fn lowercasing_is_part_of_normalisation() {
        let config = TokenizerConfig {
            lowercase: true,
            ..config(TokenizerKind::Bpe)
        };
        let tokenizer = Tokenizer::train(&config, CORPUS.iter()).unwrap();
        assert_eq!(tokenizer.normalize("The MILL").unwrap(), "the mill");
        let ids = tokenizer.encode("The MILL").unwrap();
        assert_eq!(tokenizer.decode(&ids).unwrap(), "the mill");
    }

    #[test]
    fn whole_words_stay_one_token_and_round_trip() {
        let with_num_token = TokenizerConfig {
            whole_words: vec!["_num_".into()],
            ..config(TokenizerKind::Bpe)
        };
        let tokenizer = Tokenizer::train(&with_num_token, CORPUS.iter()).unwrap();
        let num_token = tokenizer
            .token_to_id("_num_")
            .expect("added to the vocabulary");
        let plain = trained(TokenizerKind::Bpe);
        assert_eq!(tokenizer.vocab_size(), plain.vocab_size() + 1);
        for text in ["we waited _num_ minutes", "_num_ stars", "only _num_"] {
            let ids = tokenizer.encode(text).unwrap();
            assert_eq!(
                ids.iter().filter(|&&id| id == num_token).count(),
                1,
                "{text}"
            );
            assert_eq!(tokenizer.decode(&ids).unwrap(), text);
            // Without it, `_num_` is split into several pieces.
            let pieces = plain.encode(text).unwrap().len();
            assert!(pieces > ids.len(), "{text}: {pieces} vs {}", ids.len());
        }
        let bad = TokenizerConfig {
            whole_words: vec!["two words".into()],
            ..config(TokenizerKind::Bpe)
        };
        assert!(matches!(
            Tokenizer::train(&bad, CORPUS.iter()),
            Err(TokenizerError::InvalidConfig(_))
        ));
    }

    #[test]
    fn word_level_maps_unseen_words_to_unk_and_cleans_spaces() {
        let tokenizer = trained(TokenizerKind::WordLevel);
        let ids = tokenizer.encode("The Mill serves pizza.").unwrap();
        assert_eq!(ids.len(), 7, "<s> The Mill serves pizza . </s>");
        assert_eq!(ids[4], special::UNK_ID);
        let known = tokenizer.encode("The Mill serves cheap food.").unwrap();
        assert_eq!(
            tokenizer.decode(&known).unwrap(),
            "The Mill serves cheap food."
        );
    }

    #[test]
    fn word_piece_splits_unseen_words_into_known_pieces() {
        let tokenizer = trained(TokenizerKind::WordPiece);
        let ids = tokenizer.encode("The Eagles").unwrap();
        assert!(!ids.contains(&special::UNK_ID), "{ids:?}");
        assert_eq!(tokenizer.decode(&ids).unwrap(), "The Eagles");
    }

    #[test]
    fn decode_stops_at_the_first_eos_and_skips_specials() {
        let tokenizer = trained(TokenizerKind::Bpe);
        let mut ids = tokenizer.encode("The Mill").unwrap();
        ids.extend(tokenizer.encode("The Eagle").unwrap());
        ids.extend([PAD_ID, PAD_ID]);
        assert_eq!(tokenizer.decode(&ids).unwrap(), "The Mill");
        assert_eq!(tokenizer.decode(&[]).unwrap(), "");
    }

    #[test]
    fn batch_is_truncated_padded_and_masked() {
        let tokenizer = trained(TokenizerKind::WordLevel);
        let texts = ["The Mill", "The Eagle is a coffee shop near the river."];
        let batch = tokenizer
            .encode_batch(&texts, EncodeOptions::new(6))
            .unwrap();
        assert_eq!(batch.seq_len, 6);
        assert_eq!(batch.lengths, vec![4, 6]);
        assert_eq!(batch.truncated, 1);
        assert_eq!(batch.ids[0][3], special::EOS_ID);
        assert_eq!(&batch.ids[0][4..], &[PAD_ID, PAD_ID]);
        assert_eq!(batch.ids[1][5], special::EOS_ID, "truncation keeps eos");
        assert_eq!(
            batch.padding_mask[0],
            vec![false, false, false, false, true, true]
        );
        assert!(batch.padding_mask[1].iter().all(|&m| !m));

        let fixed = tokenizer
            .encode_batch(
                &texts[..1],
                EncodeOptions::new(8).with_padding(Padding::MaxLength),
            )
            .unwrap();
        assert_eq!(fixed.seq_len, 8);
        assert_eq!(fixed.ids[0].len(), 8);
    }

    #[test]
    fn batch_tensors_hold_the_same_values() {
        let tokenizer = trained(TokenizerKind::Bpe);
        let batch = tokenizer
            .encode_batch(&["The Mill", "A coffee shop."], EncodeOptions::new(32))
            .unwrap();
        let device = Device::flex();
        let (ids, mask) = batch.to_tensors(&device);
        assert_eq!(ids.dims(), [2, batch.seq_len]);
        assert_eq!(mask.dims(), [2, batch.seq_len]);
        let ids: Vec<i64> = ids.into_data().try_to_vec_as::<i64>().unwrap();
        let expected: Vec<i64> = batch.ids.concat().into_iter().map(i64::from).collect();
        assert_eq!(ids, expected);
        let mask: Vec<bool> = mask.into_data().try_to_vec_as::<bool>().unwrap();
        assert_eq!(mask, batch.padding_mask.concat());
    }

    #[test]
    fn save_then_load_gives_identical_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        let tokenizer = trained(TokenizerKind::Bpe);
        tokenizer.save(&path).unwrap();
        let loaded = Tokenizer::from_file(&path).unwrap();
        for text in CORPUS {
            assert_eq!(
                loaded.encode(text).unwrap(),
                tokenizer.encode(text).unwrap()
            );
        }
        assert_eq!(loaded.vocab_size(), tokenizer.vocab_size());
    }

    #[test]
    fn max_len_too_small_is_an_error() {
        let tokenizer = trained(TokenizerKind::Bpe);
        let err = tokenizer
            .encode_batch(&["The Mill"], EncodeOptions::new(2))
            .unwrap_err();
        assert!(
            matches!(err, TokenizerError::MaxLenTooSmall { max_len: 2 }),
            "{err}"
        );
    }

    #[test]
    fn empty_corpus_is_an_error() {
        let err =
            Tokenizer::train(&config(TokenizerKind::Bpe), ["", "  ", "\t"].iter()).unwrap_err();
        assert!(matches!(err, TokenizerError::EmptyCorpus), "{err}");
        let none: [&str; 0] = [];
        let err = Tokenizer::train(&config(TokenizerKind::WordLevel), none.iter()).unwrap_err();
        assert!(matches!(err, TokenizerError::EmptyCorpus), "{err}");
    }

    #[test]
    fn tiny_vocabulary_is_an_error() {
        let config = TokenizerConfig {
            vocab_size: 5,
            ..config(TokenizerKind::Bpe)
        };
        let err = Tokenizer::train(&config, CORPUS.iter()).unwrap_err();
        assert!(matches!(err, TokenizerError::InvalidConfig(_)), "{err}");
    }

    #[test]
    fn missing_files_are_reported_by_path() {
        let err = Tokenizer::from_file("/nonexistent/tokenizer.json").unwrap_err();
        assert!(
            matches!(&err, TokenizerError::MissingFile { path } if path.ends_with("tokenizer.json"))
        );
        let err =
            Tokenizer::train_from_files(&config(TokenizerKind::Bpe), &["/nonexistent/corpus.txt"])
                .unwrap_err();
        assert!(matches!(err, TokenizerError::MissingFile { .. }), "{err}");
    }

    #[test]
    fn invalid_utf8_is_reported_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.txt");
        std::fs::write(&good, CORPUS.join("\n")).unwrap();
        let bad = dir.path().join("bad.txt");
        let mut file = std::fs::File::create(&bad).unwrap();
        file.write_all(b"fine line\r\nanother fine line\nbroken \xff\xfe line\nlast\n")
            .unwrap();
        drop(file);
        let err =
            Tokenizer::train_from_files(&config(TokenizerKind::Bpe), &[&good, &bad]).unwrap_err();
        match err {
            TokenizerError::InvalidUtf8 { path, line } => {
                assert_eq!(path, bad);
                assert_eq!(line, 3);
            }
            other => panic!("unexpected error {other}"),
        }
        let ok = Tokenizer::train_from_files(&config(TokenizerKind::Bpe), &[&good]).unwrap();
        assert!(ok.vocab_size() > ALL.len());
    }

    #[test]
    fn corrupt_json_is_an_error() {
        let err = Tokenizer::from_json("{ not json").unwrap_err();
        assert!(matches!(err, TokenizerError::Corrupt { .. }), "{err}");

        // Valid tokenizer JSON whose special tokens are not ld4lg's.
        let tokenizer = trained(TokenizerKind::WordLevel);
        let json = tokenizer.to_json().unwrap().replace("<mask>", "[MASK]");
        let err = Tokenizer::from_json(&json).unwrap_err();
        assert!(err.to_string().contains("<mask>"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        std::fs::write(&path, "[1, 2, 3]").unwrap();
        let err = Tokenizer::from_file(&path).unwrap_err();
        assert!(err.to_string().contains("tokenizer.json"), "{err}");
    }
}
