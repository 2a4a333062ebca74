//! Strict reading of a run directory's JSON configuration files.
//!
//! Burn's `#[derive(Config)]` ignores fields it does not know, so a typo in `model.json`
//! (`"n_layer": 12`) or a file of a newer release would load as the default silently. Every
//! model configuration, the schedule and the condition of a run are read here instead: the
//! file is parsed, deserialised, serialised back, and any key of the file that the round trip
//! does not produce is refused with [`Error::UnknownField`]. Missing keys stay allowed, since
//! fields added in later releases carry defaults.

use crate::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::Path;

/// Reads `path` as a `T`, refusing fields that `T` does not have.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, [`Error::Checkpoint`] when it is not valid JSON
/// of `T`, [`Error::UnknownField`] naming the first unknown field as a dotted path.
pub fn read_config<T: Serialize + DeserializeOwned>(path: &Path) -> Result<T, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_config(&text, path)
}

/// [`read_config`] on text already read from `path` (which only names the file in errors).
pub fn parse_config<T: Serialize + DeserializeOwned>(text: &str, path: &Path) -> Result<T, Error> {
    let bad = |e: serde_json::Error| Error::Checkpoint(format!("{}: {e}", path.display()));
    let file: Value = serde_json::from_str(text).map_err(bad)?;
    let value: T = serde_json::from_value(file.clone()).map_err(bad)?;
    let known = serde_json::to_value(&value).map_err(bad)?;
    match first_unknown_key(&file, &known) {
        Some(field) => Err(Error::UnknownField {
            path: path.to_path_buf(),
            field,
        }),
        None => Ok(value),
    }
}

/// The dotted path of the first key of `file` that `known` (the file read and written back)
/// lacks; objects and arrays are compared recursively where both sides have that shape.
fn first_unknown_key(file: &Value, known: &Value) -> Option<String> {
    match (file, known) {
        (Value::Object(file), Value::Object(known)) => {
            file.iter().find_map(|(key, value)| match known.get(key) {
                None => Some(key.clone()),
                Some(known) => {
                    first_unknown_key(value, known).map(|inner| format!("{key}.{inner}"))
                }
            })
        }
        (Value::Array(file), Value::Array(known)) => {
            file.iter()
                .zip(known)
                .enumerate()
                .find_map(|(i, (file, known))| {
                    first_unknown_key(file, known).map(|inner| format!("{i}.{inner}"))
                })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Inner {
        width: usize,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Kind {
        Plain,
        Nested { inner: Inner },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Outer {
        layers: usize,
        #[serde(default)]
        added_later: Option<f64>,
        kind: Kind,
        blocks: Vec<Inner>,
    }

    fn parse(text: &str) -> Result<Outer, Error> {
        parse_config(text, Path::new("model.json"))
    }

    #[test]
    fn known_and_missing_defaulted_fields_load() {
        let outer = parse(r#"{"layers": 2, "kind": "Plain", "blocks": [{"width": 3}]}"#).unwrap();
        assert_eq!(outer.layers, 2);
        assert_eq!(outer.added_later, None);
        let nested = parse(
            r#"{"layers": 2, "added_later": 0.5, "kind": {"Nested": {"inner": {"width": 1}}},
                "blocks": []}"#,
        )
        .unwrap();
        assert_eq!(
            nested.kind,
            Kind::Nested {
                inner: Inner { width: 1 }
            }
        );
    }

    #[test]
    fn unknown_fields_are_named_by_their_dotted_path() {
        let field = |text: &str| match parse(text) {
            Err(Error::UnknownField { field, path }) => {
                assert_eq!(path, Path::new("model.json"));
                field
            }
            other => panic!("expected an unknown field, got {other:?}"),
        };
        assert_eq!(
            field(r#"{"layers": 2, "n_layer": 12, "kind": "Plain", "blocks": []}"#),
            "n_layer"
        );
        assert_eq!(
            field(
                r#"{"layers": 2, "kind": {"Nested": {"inner": {"width": 1, "depth": 2}}},
                    "blocks": []}"#
            ),
            "kind.Nested.inner.depth"
        );
        assert_eq!(
            field(
                r#"{"layers": 2, "kind": "Plain", "blocks": [{"width": 1}, {"width": 1, "x": 0}]}"#
            ),
            "blocks.1.x"
        );
    }

    #[test]
    fn malformed_files_are_checkpoint_errors() {
        assert!(matches!(parse("{"), Err(Error::Checkpoint(_))));
        assert!(matches!(
            parse(r#"{"layers": "two", "kind": "Plain", "blocks": []}"#),
            Err(Error::Checkpoint(_))
        ));
    }
}
