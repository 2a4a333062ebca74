//! The shipped E2E language model as the prior of shallow fusion: its batched next-token
//! scores are the ones it gives whole texts, and fused decoding follows it.

use burn::tensor::Device;
use ld4lg::autoencoder::TokenPrior;
use ld4lg::lm::LanguageModel;
use ld4lg::tokenizer::special::{BOS_ID, EOS_ID, UNK_ID};
use std::path::Path;

fn shipped(device: &Device) -> LanguageModel {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/e2e");
    LanguageModel::load(&dir, device).unwrap()
}

#[test]
fn next_token_scores_of_every_prefix_match_the_whole_text_scores() {
    let device = Device::flex();
    let lm = shipped(&device);
    let texts = [
        "The Eagle is a cheap coffee shop near Burger King.",
        "Near the river, Zizzi serves Italian food.",
    ];
    let whole = lm.token_log_probs(&texts).unwrap();
    for (text, expected) in texts.iter().zip(&whole) {
        let ids = lm.tokenizer().encode(text).unwrap();
        assert_eq!(ids[0], BOS_ID);
        let inner = &ids[1..];
        assert_eq!(inner.len(), expected.len());
        // Every prefix at once, as one beam-search step asks: contexts of all lengths.
        let contexts: Vec<&[u32]> = (0..inner.len()).map(|j| &inner[..j]).collect();
        let next: Vec<Vec<u32>> = inner.iter().map(|&t| vec![t, EOS_ID]).collect();
        let batched = lm.log_probs(&contexts, &next);
        for (j, row) in batched.iter().enumerate() {
            assert!(
                (row[0] - expected[j]).abs() < 1e-4,
                "{text}, token {j}: {} vs {}",
                row[0],
                expected[j]
            );
            // The one-token path agrees with the batch.
            assert!((lm.log_prob(contexts[j], EOS_ID) - row[1]).abs() < 1e-4);
        }
    }
    // The model knows where a sentence ends: after the full stop rather than mid-phrase.
    let ids = lm.tokenizer().encode(texts[0]).unwrap();
    let body = &ids[1..ids.len() - 1];
    assert!(lm.log_prob(body, EOS_ID) > lm.log_prob(&body[..3], EOS_ID) + 3.0);
}

#[test]
fn ids_beyond_the_vocabulary_are_read_and_scored_as_unknown() {
    let device = Device::flex();
    let lm = shipped(&device);
    let vocab = lm.tokenizer().vocab_size() as u32;
    let ids = lm.tokenizer().encode("The Eagle is a pub.").unwrap();
    let inner = &ids[1..ids.len() - 1];
    let mut foreign = inner.to_vec();
    foreign[1] = vocab + 7;
    let mut unknown = inner.to_vec();
    unknown[1] = UNK_ID;
    // A decoder with a larger vocabulary: no panic, and its ids mean `<unk>`.
    let scores = lm.log_probs(
        &[&foreign, &unknown],
        &[vec![EOS_ID, vocab + 1], vec![EOS_ID, UNK_ID]],
    );
    for (a, b) in scores[0].iter().zip(&scores[1]) {
        assert!(a.is_finite() && a < &0.0, "{scores:?}");
        assert!((a - b).abs() < 1e-5, "{scores:?}");
    }
}
