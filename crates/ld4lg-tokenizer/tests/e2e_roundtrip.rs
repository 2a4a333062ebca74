//! Byte-level BPE trained on the bundled E2E training references reproduces every E2E dev
//! reference exactly (up to normalisation) and keeps sequences short.

use ld4lg_tokenizer::{Tokenizer, TokenizerConfig, special};
use std::path::PathBuf;

fn references(file: &str) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/e2e")
        .join(file);
    let file = std::fs::File::open(&path).expect("bundled E2E corpus");
    let mut reader = csv::Reader::from_reader(flate2::read::GzDecoder::new(file));
    reader
        .records()
        .map(|record| record.expect("well-formed CSV")[1].to_owned())
        .collect()
}

#[test]
fn bpe_round_trips_e2e_dev() {
    let config = TokenizerConfig {
        vocab_size: 4000,
        ..Default::default()
    };
    let tokenizer = Tokenizer::train(&config, references("trainset.csv.gz").into_iter()).unwrap();
    assert!((3500..=4000).contains(&tokenizer.vocab_size()));

    let dev = references("devset.csv.gz");
    assert_eq!(dev.len(), 4672);
    let mut total_tokens = 0;
    for text in &dev {
        let ids = tokenizer.encode(text).unwrap();
        assert!(!ids.contains(&special::UNK_ID));
        assert_eq!(
            &tokenizer.decode(&ids).unwrap(),
            &tokenizer.normalize(text).unwrap()
        );
        total_tokens += ids.len();
    }
    // A 4k BPE vocabulary covers this domain well: about 27 tokens per reference.
    let mean = total_tokens as f64 / dev.len() as f64;
    assert!(mean < 40.0, "mean length {mean}");
}
