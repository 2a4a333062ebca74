use super::lines::Lines;
use super::{DataError, Example};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

/// Which JSON fields hold the text, label and source of an example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JsonFields {
    /// Field with the text (required in every row). Default: `text`.
    pub text: String,
    /// Field with the class label, if any. Numbers and booleans are turned into strings.
    pub label: Option<String>,
    /// Field with the source text, if any.
    pub source: Option<String>,
}

impl Default for JsonFields {
    fn default() -> Self {
        Self {
            text: "text".to_owned(),
            label: None,
            source: None,
        }
    }
}

/// JSON lines: one JSON object per line. Blank lines are passed over; invalid JSON, a
/// non-object row or a missing field is a row error.
pub struct JsonLinesReader {
    lines: Lines,
    fields: JsonFields,
}

impl JsonLinesReader {
    /// Opens the file.
    pub fn open(path: impl AsRef<Path>, fields: JsonFields) -> Result<Self, DataError> {
        Ok(Self {
            lines: Lines::open(path.as_ref())?,
            fields,
        })
    }

    fn parse(&self, line: u64, row: &str) -> Result<Example, DataError> {
        let malformed = |message: String| DataError::malformed(self.lines.path(), line, message);
        let value: Value =
            serde_json::from_str(row).map_err(|e| malformed(format!("invalid JSON: {e}")))?;
        let Value::Object(object) = value else {
            return Err(malformed("expected a JSON object".to_owned()));
        };
        let field = |name: &str| -> Result<String, DataError> {
            match object.get(name) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(v.to_string()),
                Some(other) => Err(malformed(format!(
                    "field `{name}` must be a string, got {other}"
                ))),
                None => Err(malformed(format!("missing field `{name}`"))),
            }
        };
        Ok(Example {
            text: field(&self.fields.text)?,
            label: self.fields.label.as_deref().map(field).transpose()?,
            source: self.fields.source.as_deref().map(field).transpose()?,
        })
    }
}

impl Iterator for JsonLinesReader {
    type Item = Result<Example, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (line, row) = match self.lines.next()? {
                Ok(row) => row,
                Err(err) => return Some(Err(err)),
            };
            if !row.trim().is_empty() {
                return Some(self.parse(line, &row));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurable_fields_and_row_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.jsonl");
        std::fs::write(
            &path,
            concat!(
                "{\"sentence\": \"good .\", \"stars\": 5, \"mr\": \"x\"}\n",
                "\n",
                "{\"sentence\": \"bad .\"}\n",
                "[1, 2]\n",
                "{\"sentence\": \n",
                "{\"sentence\": [\"list\"], \"stars\": 1, \"mr\": \"y\"}\n",
            ),
        )
        .unwrap();
        let fields = JsonFields {
            text: "sentence".into(),
            label: Some("stars".into()),
            source: Some("mr".into()),
        };
        let items: Vec<_> = JsonLinesReader::open(&path, fields).unwrap().collect();
        assert_eq!(items.len(), 5);
        let first = items[0].as_ref().unwrap();
        assert_eq!(first.text, "good .");
        assert_eq!(first.label.as_deref(), Some("5"));
        assert_eq!(first.source.as_deref(), Some("x"));
        let lines: Vec<u64> = items[1..]
            .iter()
            .map(|item| match item {
                Err(DataError::Malformed { line, .. }) => *line,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(lines, [3, 4, 5, 6]);
        assert!(
            items[1]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("missing field `stars`")
        );
    }
}
