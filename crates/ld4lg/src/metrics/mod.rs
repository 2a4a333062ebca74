//! Evaluation metrics on token sequences: corpus BLEU-4 and exact match.

mod bleu;
mod generation;

pub use bleu::{corpus_bleu, ngram_counts};
pub use generation::{GenerationMetrics, diversity, generation_metrics, human_metrics, text_set};

/// Share of hypotheses identical to their reference.
pub fn exact_match<T: PartialEq>(hypotheses: &[Vec<T>], references: &[Vec<T>]) -> f64 {
    if hypotheses.is_empty() {
        return 0.0;
    }
    let same = hypotheses
        .iter()
        .zip(references)
        .filter(|(h, r)| h == r)
        .count();
    same as f64 / hypotheses.len() as f64
}
