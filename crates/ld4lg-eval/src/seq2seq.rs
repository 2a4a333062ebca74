//! Multi-reference scores of sequence-to-sequence outputs (E2E: one output per meaning
//! representation, scored against all its references).

use super::corpus_bleu;
use super::similarity::rouge_l;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Lower-cases and splits off punctuation (`. , ! ? ; : ( ) "`), close to the `13a`
/// tokenisation of BLEU scorers, so "river." and "river ." compare equal.
pub fn metric_tokens(text: &str) -> Vec<String> {
    let mut spaced = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if matches!(c, '.' | ',' | '!' | '?' | ';' | ':' | '(' | ')' | '"') {
            spaced.push(' ');
            spaced.push(c);
            spaced.push(' ');
        } else {
            spaced.extend(c.to_lowercase());
        }
    }
    spaced.split_whitespace().map(str::to_owned).collect()
}

/// Scores of outputs against their reference sets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Seq2SeqScores {
    /// Number of outputs.
    pub count: usize,
    /// Multi-reference corpus BLEU-4, percent.
    pub bleu: f64,
    /// Mean ROUGE-L (β = 1.2, best reference), percent.
    pub rouge_l: f64,
}

/// Multi-reference corpus BLEU-4 and mean ROUGE-L of `outputs[i]` against `references[i]`,
/// both on [`metric_tokens`].
pub fn seq2seq_scores<S: AsRef<str>>(outputs: &[S], references: &[Vec<String>]) -> Seq2SeqScores {
    let hypotheses: Vec<Vec<String>> = outputs.iter().map(|o| metric_tokens(o.as_ref())).collect();
    let refs: Vec<Vec<Vec<String>>> = references
        .iter()
        .map(|set| set.iter().map(|r| metric_tokens(r)).collect())
        .collect();
    let rouge: f64 = hypotheses
        .iter()
        .zip(&refs)
        .map(|(h, set)| {
            let slices: Vec<&[String]> = set.iter().map(Vec::as_slice).collect();
            rouge_l(h, &slices)
        })
        .sum();
    Seq2SeqScores {
        count: outputs.len(),
        bleu: corpus_bleu(&hypotheses, &refs),
        rouge_l: 100.0 * rouge / outputs.len().max(1) as f64,
    }
}

/// Human references as outputs, for a figure to compare systems with: from every reference
/// set of at least two, reference `held_out` (modulo the set's size) is taken out as the
/// output and the others stay its references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaveOneOut {
    /// Index of each set used (those with two references or more).
    pub indices: Vec<usize>,
    /// The reference taken out of each set used.
    pub outputs: Vec<String>,
    /// The references left in each set used.
    pub references: Vec<Vec<String>>,
}

impl LeaveOneOut {
    /// Takes reference `held_out` out of every set of `references` that has two or more.
    pub fn new(references: &[Vec<String>], held_out: usize) -> Self {
        let mut split = Self {
            indices: Vec::new(),
            outputs: Vec::new(),
            references: Vec::new(),
        };
        for (i, set) in references.iter().enumerate().filter(|(_, s)| s.len() >= 2) {
            let j = held_out % set.len();
            split.indices.push(i);
            split.outputs.push(set[j].clone());
            let rest = set.iter().enumerate().filter(|&(r, _)| r != j);
            split
                .references
                .push(rest.map(|(_, r)| r.clone()).collect());
        }
        split
    }

    /// The human figure: the held-out references scored against the rest.
    pub fn human_scores(&self) -> Seq2SeqScores {
        seq2seq_scores(&self.outputs, &self.references)
    }

    /// `outputs` (one per reference set, as given to [`Self::new`]) scored against the same
    /// remaining references as the human figure, so the two compare like for like.
    pub fn scores_of<S: AsRef<str>>(&self, outputs: &[S]) -> Seq2SeqScores {
        let picked: Vec<&str> = self.indices.iter().map(|&i| outputs[i].as_ref()).collect();
        seq2seq_scores(&picked, &self.references)
    }
}

/// Groups `(source, reference)` pairs by source, in order of first appearance.
pub fn group_references(pairs: &[(String, String)]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let (mut sources, mut references): (Vec<String>, Vec<Vec<String>>) = (Vec::new(), Vec::new());
    for (source, reference) in pairs {
        let i = *index.entry(source.as_str()).or_insert_with(|| {
            sources.push(source.clone());
            references.push(Vec::new());
            sources.len() - 1
        });
        references[i].push(reference.clone());
    }
    (sources, references)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_punctuation_and_lowercase() {
        assert_eq!(
            metric_tokens("The Eagle, near Burger King."),
            ["the", "eagle", ",", "near", "burger", "king", "."]
        );
    }

    #[test]
    fn references_group_by_source_in_order() {
        let pairs: Vec<(String, String)> = [("b", "1"), ("a", "2"), ("b", "3")]
            .iter()
            .map(|(s, r)| (s.to_string(), r.to_string()))
            .collect();
        let (sources, refs) = group_references(&pairs);
        assert_eq!(sources, ["b", "a"]);
        assert_eq!(refs, vec![vec!["1", "3"], vec!["2"]]);
    }

    #[test]
    fn leave_one_out_holds_out_one_reference_of_each_set_of_two_or_more() {
        let refs: Vec<Vec<String>> = [vec!["a b c d"], vec!["e f g h", "e f g h", "x y"]]
            .iter()
            .map(|set| set.iter().map(|r| r.to_string()).collect())
            .collect();
        let split = LeaveOneOut::new(&refs, 2);
        assert_eq!(split.indices, [1]);
        assert_eq!(split.outputs, ["x y"]);
        assert_eq!(split.references, vec![vec!["e f g h", "e f g h"]]);
        // "x y" shares nothing with "e f g h".
        assert_eq!(split.human_scores().bleu, 0.0);
        let again = LeaveOneOut::new(&refs, 1);
        assert_eq!(again.outputs, ["e f g h"]);
        assert!((again.human_scores().bleu - 100.0).abs() < 1e-9);
        // A system's outputs meet the same references (the set of one is left out).
        let scores = split.scores_of(&["unused", "e f g h"]);
        assert_eq!(scores.count, 1);
        assert!((scores.bleu - 100.0).abs() < 1e-9);
    }

    #[test]
    fn an_output_equal_to_one_of_its_references_scores_100() {
        let refs = vec![vec![
            "The Eagle is a pub near the river.".to_owned(),
            "Near the river there is a pub called The Eagle.".to_owned(),
        ]];
        let scores = seq2seq_scores(&["the eagle is a pub near the river ."], &refs);
        assert!((scores.bleu - 100.0).abs() < 1e-9);
        assert!((scores.rouge_l - 100.0).abs() < 1e-9);
        let other = seq2seq_scores(&["a pub"], &refs);
        assert!(other.rouge_l < 50.0 && other.bleu == 0.0, "{other:?}");
    }
}
