//! Byte-level BPE round-trips any text up to normalisation: `decode(encode(x)) ==
//! normalize(x)`, for arbitrary Unicode (including what the training corpus never held),
//! and batch encoding keeps its shape invariants. The case count follows `PROPTEST_CASES`.

use ld4lg_tokenizer::{EncodeOptions, Padding, Tokenizer, TokenizerConfig, special};
use proptest::prelude::*;
use std::sync::OnceLock;

fn tokenizer() -> &'static Tokenizer {
    static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| {
        let texts = (0..200).map(|i| {
            format!(
                "The Eagle {i} is a coffee shop near Burger King, rated {}/5.",
                i % 6
            )
        });
        let config = TokenizerConfig {
            vocab_size: 400,
            ..Default::default()
        };
        Tokenizer::train(&config, texts).unwrap()
    })
}

/// Text without the spelled-out special tokens, which encode as themselves.
fn text() -> impl Strategy<Value = String> {
    prop_oneof!["\\PC{0,60}", "[a-zA-Z ,.!?'0-9]{0,80}", any::<String>()]
        .prop_filter("no special-token spelling", |t| {
            !special::ALL.iter().any(|(s, _)| t.contains(s))
        })
}

proptest! {
    #[test]
    fn decode_inverts_encode_up_to_normalisation(text in text()) {
        let tokenizer = tokenizer();
        let ids = tokenizer.encode(&text).unwrap();
        prop_assert_eq!(ids.first(), Some(&special::BOS_ID));
        prop_assert_eq!(ids.last(), Some(&special::EOS_ID));
        prop_assert_eq!(tokenizer.decode(&ids).unwrap(), tokenizer.normalize(&text).unwrap());
    }

    #[test]
    fn batches_are_rectangular_and_truncated_to_max_len(
        texts in prop::collection::vec(text(), 1..6),
        max_len in 3usize..40,
    ) {
        let batch = tokenizer()
            .encode_batch(
                &texts,
                EncodeOptions { max_len, padding: Padding::Longest },
            )
            .unwrap();
        prop_assert!(batch.seq_len <= max_len);
        for (row, (mask, &len)) in batch.ids.iter().zip(batch.padding_mask.iter().zip(&batch.lengths)) {
            prop_assert_eq!(row.len(), batch.seq_len);
            prop_assert_eq!(mask.iter().filter(|&&m| !m).count(), len);
            prop_assert_eq!(row[len - 1], special::EOS_ID);
        }
    }

    #[test]
    fn decoding_arbitrary_ids_never_panics(ids in prop::collection::vec(any::<u32>(), 0..40)) {
        // Ids outside the vocabulary are an error or skipped, never a panic.
        let _ = tokenizer().decode(&ids);
    }
}
