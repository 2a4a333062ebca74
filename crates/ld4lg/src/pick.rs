//! Picking one text among candidates: minimum Bayes risk (the candidate most similar to the
//! others), a fluency term (a language model's mean log-probability), or both.
//!
//! ```
//! use ld4lg::metrics::MbrSimilarity;
//! use ld4lg::pick::CandidatePicker;
//!
//! let candidates = [
//!     "the eagle is a pub near the river .".to_owned(),
//!     "zizzi serves cheap italian food in the city centre .".to_owned(),
//!     "the eagle is a pub by the river .".to_owned(),
//! ];
//! // The candidate least like the others is never the consensus.
//! let mbr = CandidatePicker::mbr(MbrSimilarity::Bleu);
//! assert_ne!(mbr.pick(&candidates)?, Some(1));
//! assert_eq!(CandidatePicker::first().pick(&candidates)?, Some(0));
//! # Ok::<(), ld4lg::Error>(())
//! ```

use crate::Error;
use crate::lm::LanguageModel;
use crate::metrics::{MbrSimilarity, NgramLm, metric_tokens, rerank_scored};
use std::sync::Arc;

/// What scores a candidate's fluency (higher: more fluent).
#[derive(Debug)]
#[non_exhaustive]
pub enum FluencyModel {
    /// A word n-gram model: mean log-probability per word of [`metric_tokens`].
    Ngram(NgramLm),
    /// A neural language model: mean log-probability per token.
    Neural(Arc<LanguageModel>),
}

impl FluencyModel {
    /// The fluency of each text, in nats per word or token.
    ///
    /// # Errors
    /// From the neural model (a tokenizer or device failure).
    pub fn scores(&self, texts: &[String]) -> Result<Vec<f64>, Error> {
        Ok(match self {
            Self::Ngram(lm) => texts
                .iter()
                .map(|t| lm.mean_log_prob(metric_tokens(t)))
                .collect(),
            Self::Neural(lm) => lm.mean_log_probs(texts)?,
        })
    }
}

/// How one text is picked among candidates: by MBR, a fluency term, both
/// (`MBR score + weight · fluency`), or neither (the first candidate).
#[derive(Debug, Default)]
pub struct CandidatePicker {
    similarity: Option<MbrSimilarity>,
    fluency: Option<(FluencyModel, f64)>,
}

impl CandidatePicker {
    /// Always the first candidate.
    pub fn first() -> Self {
        Self::default()
    }

    /// Minimum Bayes risk: the candidate with the highest mean `similarity` to the others,
    /// compared on [`metric_tokens`].
    pub fn mbr(similarity: MbrSimilarity) -> Self {
        Self {
            similarity: Some(similarity),
            fluency: None,
        }
    }

    /// Adds `weight` × the candidate's fluency under `model` to its score.
    ///
    /// # Errors
    /// [`Error::Config`] for a weight that is negative or not finite.
    pub fn with_fluency(mut self, model: FluencyModel, weight: f64) -> Result<Self, Error> {
        if !(weight.is_finite() && weight >= 0.0) {
            return Err(Error::Config(format!(
                "the fluency weight must be a non-negative number, got {weight}"
            )));
        }
        self.fluency = Some((model, weight));
        Ok(self)
    }

    /// Whether the picker does more than take the first candidate.
    pub fn is_selective(&self) -> bool {
        self.similarity.is_some() || self.fluency.is_some()
    }

    /// The index of the picked candidate, `None` when there are none.
    ///
    /// # Errors
    /// From the fluency model.
    pub fn pick(&self, candidates: &[String]) -> Result<Option<usize>, Error> {
        let tokens: Vec<Vec<String>> = candidates.iter().map(|c| metric_tokens(c)).collect();
        let scores = match &self.fluency {
            Some((model, weight)) if !candidates.is_empty() => {
                Some((model.scores(candidates)?, *weight))
            }
            _ => None,
        };
        Ok(rerank_scored(
            &tokens,
            self.similarity,
            scores.as_ref().map(|(s, w)| (s.as_slice(), *w)),
        ))
    }

    /// One text per candidate set, the picked one (an empty text for an empty set).
    ///
    /// # Errors
    /// From the fluency model.
    pub fn pick_each(&self, sets: &[Vec<String>]) -> Result<Vec<String>, Error> {
        sets.iter()
            .map(|candidates| {
                Ok(self
                    .pick(candidates)?
                    .map(|chosen| candidates[chosen].clone())
                    .unwrap_or_default())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(rows: &[&str]) -> Vec<String> {
        rows.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn fluency_alone_picks_the_text_the_model_likes_and_weights_are_checked() {
        let corpus: Vec<Vec<String>> = ["the eagle is a pub", "the mill is a pub"]
            .iter()
            .map(|t| metric_tokens(t))
            .collect();
        let model = NgramLm::train(corpus, 2).unwrap();
        let candidates = texts(&["pub a is eagle the", "the eagle is a pub"]);
        let picker = CandidatePicker::first()
            .with_fluency(FluencyModel::Ngram(model), 1.0)
            .unwrap();
        assert!(picker.is_selective());
        assert_eq!(picker.pick(&candidates).unwrap(), Some(1));
        assert_eq!(
            picker.pick_each(&[candidates.clone(), Vec::new()]).unwrap(),
            vec!["the eagle is a pub".to_owned(), String::new()]
        );
        let model = NgramLm::train(vec![metric_tokens("a b")], 2).unwrap();
        for weight in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                CandidatePicker::first().with_fluency(FluencyModel::Ngram(model.clone()), weight),
                Err(Error::Config(_))
            ));
        }
    }

    #[test]
    fn without_a_rule_the_first_candidate_is_kept() {
        let picker = CandidatePicker::first();
        assert!(!picker.is_selective());
        assert_eq!(picker.pick(&[]).unwrap(), None);
        assert_eq!(picker.pick(&texts(&["b", "a"])).unwrap(), Some(0));
    }
}
