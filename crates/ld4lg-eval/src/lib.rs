//! # ld4lg-eval — evaluation of generated text
//!
//! Metrics on token sequences: corpus and sentence BLEU-4, ROUGE, exact match, generation
//! statistics (diversity, duplicates, copies), minimum-Bayes-risk selection, an n-gram
//! language model of fluency, and an independent text classifier ([`classifier`]) to measure
//! attribute control. Nothing here depends on a model of ld4lg, so judging generated text with
//! it is not circular.

#![warn(missing_docs)]

pub mod classifier;

mod bleu;
mod fluency;
mod generation;
mod seq2seq;
mod similarity;

pub use bleu::{corpus_bleu, ngram_counts};
pub use fluency::{NgramLm, NgramLmError, WordId};
pub use generation::{
    GenerationMetrics, diversity, generation_metrics, human_metrics, human_metrics_grouped,
    text_set,
};
pub use seq2seq::{LeaveOneOut, Seq2SeqScores, group_references, metric_tokens, seq2seq_scores};
pub use similarity::{
    MbrSimilarity, mbr_scores, mbr_select, rerank, rerank_scored, rouge_l, rouge_n, sentence_bleu,
};

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
