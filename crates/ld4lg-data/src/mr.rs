//! E2E meaning representations: `name[The Eagle], eatType[coffee shop], near[Burger King]`.

use std::fmt;

/// A meaning representation that does not read as `slot[value], slot[value], …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("meaning representation {text:?}, byte {position}: {reason}")]
pub struct MeaningRepresentationError {
    /// The text given.
    pub text: String,
    /// Where in it reading stopped.
    pub position: usize,
    /// What was expected there.
    pub reason: &'static str,
}

/// The slots of an E2E meaning representation in their order, borrowed from its text.
///
/// ```
/// use ld4lg_data::MeaningRepresentation;
/// let mr = MeaningRepresentation::parse("name[The Eagle], eatType[coffee shop], near[Burger King]")?;
/// assert_eq!(mr.get("name"), Some("The Eagle"));
/// assert_eq!(mr.get("food"), None);
/// assert_eq!(mr.slots().len(), 3);
/// assert_eq!(mr.to_string(), "name[The Eagle], eatType[coffee shop], near[Burger King]");
/// # Ok::<(), ld4lg_data::MeaningRepresentationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeaningRepresentation<'a> {
    slots: Vec<(&'a str, &'a str)>,
}

impl<'a> MeaningRepresentation<'a> {
    /// Reads `slot[value]` items separated by commas (spaces around them ignored). Slot
    /// names may hold spaces (`customer rating`); values may be empty but hold no `]`.
    ///
    /// # Errors
    /// [`MeaningRepresentationError`] for an empty text, a slot without `[`, a value
    /// without `]`, an empty slot name, or anything but a comma between items.
    pub fn parse(text: &'a str) -> Result<Self, MeaningRepresentationError> {
        let error = |position: usize, reason| MeaningRepresentationError {
            text: text.to_owned(),
            position,
            reason,
        };
        let mut slots = Vec::new();
        let mut at = 0;
        loop {
            at += leading_spaces(&text[at..]);
            let open = text[at..]
                .find('[')
                .ok_or_else(|| error(at, "a slot name and `[`"))?;
            let name = text[at..at + open].trim_end();
            if name.is_empty() || name.contains([']', ',']) {
                return Err(error(at, "a slot name before `[`"));
            }
            let value_start = at + open + 1;
            let close = text[value_start..]
                .find(']')
                .ok_or_else(|| error(value_start, "`]` after the value"))?;
            slots.push((name, &text[value_start..value_start + close]));
            at = value_start + close + 1;
            at += leading_spaces(&text[at..]);
            match text[at..].chars().next() {
                None => return Ok(Self { slots }),
                Some(',') => at += 1,
                Some(_) => return Err(error(at, "`,` or the end after `]`")),
            }
        }
    }

    /// The `(slot, value)` pairs in the order written.
    pub fn slots(&self) -> &[(&'a str, &'a str)] {
        &self.slots
    }

    /// The value of the first slot named `slot`.
    pub fn get(&self, slot: &str) -> Option<&'a str> {
        self.slots.iter().find(|(s, _)| *s == slot).map(|&(_, v)| v)
    }
}

/// The E2E form: `slot[value]` items joined by `, `.
impl fmt::Display for MeaningRepresentation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (slot, value)) in self.slots.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{slot}[{value}]")?;
        }
        Ok(())
    }
}

fn leading_spaces(text: &str) -> usize {
    text.len() - text.trim_start().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CorpusSpec, OnError};

    #[test]
    fn slots_with_spaces_and_empty_values_are_read() {
        let mr =
            MeaningRepresentation::parse(" customer rating[5 out of 5] ,food[], area[city centre]")
                .unwrap();
        assert_eq!(
            mr.slots(),
            [
                ("customer rating", "5 out of 5"),
                ("food", ""),
                ("area", "city centre")
            ]
        );
        assert_eq!(mr.get("area"), Some("city centre"));
    }

    #[test]
    fn malformed_texts_say_where_and_what() {
        for (text, position, reason) in [
            ("", 0, "a slot name and `[`"),
            ("name[A", 5, "`]` after the value"),
            ("[A]", 0, "a slot name before `[`"),
            ("name[A] food[B]", 8, "`,` or the end after `]`"),
            ("name[A],", 8, "a slot name and `[`"),
        ] {
            let err = MeaningRepresentation::parse(text).unwrap_err();
            assert_eq!((err.position, err.reason), (position, reason), "{text:?}");
        }
    }

    #[test]
    fn every_e2e_dev_meaning_representation_reads_and_writes_back() {
        let spec = CorpusSpec::E2e {
            path: concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/e2e/devset.csv.gz").into(),
        };
        let mut venues = std::collections::BTreeSet::new();
        for example in spec.open(OnError::Fail).unwrap() {
            let source = example.unwrap().source.unwrap();
            let mr = MeaningRepresentation::parse(&source).unwrap();
            assert_eq!(mr.to_string(), source);
            venues.insert(mr.get("name").unwrap().to_owned());
        }
        // docs/RESULTS.md: E2E dev describes 20 venues.
        assert_eq!(venues.len(), 20);
    }
}
