//! Properties of the corpus readers and the meaning-representation parser on arbitrary input:
//! no panic, no hang, errors typed. The case count follows `PROPTEST_CASES` (256 by default;
//! the documented long run uses far more).

use ld4lg_data::{CorpusSpec, DataError, JsonFields, MeaningRepresentation, OnError};
use proptest::prelude::*;
use std::path::Path;

/// Reads every example of `spec` with both error policies. With `Fail`, reading stops at the
/// first error as callers do; with `Skip`, the stream must end after at most one item per
/// byte of input (plus the file-level errors it still yields).
fn read_all(spec: &CorpusSpec, bytes: usize) -> Result<(), DataError> {
    for example in spec.open(OnError::Fail)? {
        if let Err(error) = example {
            // A typed error with a message, never an empty one.
            assert!(!error.to_string().is_empty());
            break;
        }
    }
    let mut items = 0;
    for example in spec.open(OnError::Skip)? {
        items += 1;
        assert!(items <= bytes + 2, "the stream does not end");
        if example.is_err() {
            break;
        }
    }
    Ok(())
}

fn specs(path: &Path) -> Vec<CorpusSpec> {
    vec![
        CorpusSpec::Plain {
            paths: vec![path.to_path_buf()],
        },
        CorpusSpec::E2e {
            path: path.to_path_buf(),
        },
        CorpusSpec::LabelledTsv {
            path: path.to_path_buf(),
        },
        CorpusSpec::Jsonl {
            path: path.to_path_buf(),
            fields: JsonFields {
                text: "text".into(),
                label: Some("label".into()),
                source: Some("source".into()),
            },
        },
    ]
}

/// Bytes that look like corpus files often enough to reach past the first line: fragments of
/// CSV, JSON, TSV and gzip mixed with noise.
fn corpus_bytes() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        Just(b"mr,ref\n".to_vec()),
        Just(b"\"name[A], food[B]\",\"A serves B.\"\n".to_vec()),
        Just(b"{\"text\": \"hi\", \"label\": \"pos\"}\n".to_vec()),
        Just(b"positive\tgreat food\n".to_vec()),
        Just(vec![0x1f, 0x8b, 0x08, 0x00]),
        Just(b"\"".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\t".to_vec()),
        Just(vec![0xff, 0xfe]),
        prop::collection::vec(any::<u8>(), 0..16),
    ];
    prop::collection::vec(fragment, 0..24).prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn corpus_readers_never_panic(bytes in corpus_bytes(), gzip_name in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(if gzip_name { "corpus.txt.gz" } else { "corpus.txt" });
        std::fs::write(&path, &bytes).unwrap();
        for spec in specs(&path) {
            // Opening may fail (a bad header, not gzip): typed, like every row error.
            let _ = read_all(&spec, bytes.len());
        }
    }

    #[test]
    fn meaning_representation_parser_never_panics(text in "\\PC*") {
        if let Err(error) = MeaningRepresentation::parse(&text) {
            prop_assert!(error.position <= text.len());
        }
    }

    #[test]
    fn meaning_representation_parser_never_panics_on_near_misses(
        text in "[a-z \\[\\],]{0,40}"
    ) {
        if let Ok(mr) = MeaningRepresentation::parse(&text) {
            // What parses prints back to a text that parses to the same slots.
            let printed = mr.to_string();
            let again = MeaningRepresentation::parse(&printed).unwrap();
            prop_assert_eq!(again.slots(), mr.slots());
        }
    }

    #[test]
    fn written_meaning_representations_parse_back(
        slots in prop::collection::vec(("[a-zA-Z][a-zA-Z ]{0,11}[a-zA-Z]", "[^\\[\\],]{0,20}"), 1..8)
    ) {
        let text = slots
            .iter()
            .map(|(name, value)| format!("{name}[{value}]"))
            .collect::<Vec<_>>()
            .join(", ");
        let mr = MeaningRepresentation::parse(&text).unwrap();
        let expected: Vec<(&str, &str)> =
            slots.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        prop_assert_eq!(mr.slots(), &expected[..]);
    }
}
