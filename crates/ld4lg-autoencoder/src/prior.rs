//! Shallow fusion: a language model over the decoder's tokens, added to the decoder's scores
//! during beam search (Gulcehre et al. 2015), so decoding an imperfect latent prefers
//! continuations that real text makes likely.

use std::fmt::Debug;
use std::sync::Arc;

/// A language model over the decoder's token ids.
pub trait TokenPrior: Debug + Send + Sync {
    /// Natural log-probability of `token` after `context`, the tokens generated so far
    /// (without `<s>`); `token` may be `</s>`.
    fn log_prob(&self, context: &[u32], token: u32) -> f64;

    /// For every hypothesis `i`, the log-probability of each of `tokens[i]` after
    /// `contexts[i]`: one call per beam-search step, so that a neural model scores all
    /// hypotheses in one batch. The default asks [`Self::log_prob`] one token at a time.
    fn log_probs(&self, contexts: &[&[u32]], tokens: &[Vec<u32>]) -> Vec<Vec<f64>> {
        contexts
            .iter()
            .zip(tokens)
            .map(|(context, next)| next.iter().map(|&t| self.log_prob(context, t)).collect())
            .collect()
    }

    /// A state that follows one beam search from `rows` empty contexts, extended by one token
    /// per step, so that a neural model keeps its keys and values instead of rereading every
    /// prefix. `None` (the default): beam search asks [`Self::log_probs`] with whole contexts.
    fn start(&self, rows: usize) -> Option<Box<dyn PriorState + '_>> {
        let _ = rows;
        None
    }
}

/// A [`TokenPrior`]'s state during one beam search: one row per alive hypothesis.
pub trait PriorState {
    /// The next step's rows: row `i` continues row `parents[i]` of the current ones with
    /// `tokens[i]`.
    fn advance(&mut self, parents: &[usize], tokens: &[u32]);

    /// For every row `i`, the log-probability of each of `next[i]` after its context.
    fn log_probs(&mut self, next: &[Vec<u32>]) -> Vec<Vec<f64>>;
}

/// A [`TokenPrior`] and how beam search uses it: every step ranks the `candidates` best
/// next tokens of the decoder by `log p_decoder + weight · log p_prior`.
#[derive(Debug, Clone)]
pub struct Fusion {
    /// The language model.
    pub prior: Arc<dyn TokenPrior>,
    /// Weight of its log-probability; 0 decodes as without it.
    pub weight: f64,
    /// How many of the decoder's best next tokens per hypothesis are rescored (at least the
    /// beam size).
    pub candidates: usize,
}

impl Fusion {
    /// Fusion with `prior` at `weight`, rescoring the decoder's 16 best tokens.
    pub fn new(prior: Arc<dyn TokenPrior>, weight: f64) -> Self {
        Self {
            prior,
            weight,
            candidates: 16,
        }
    }
}

impl PartialEq for Fusion {
    fn eq(&self, other: &Self) -> bool {
        // The same model object, not an equal one: priors have no equality of their own.
        std::ptr::addr_eq(Arc::as_ptr(&self.prior), Arc::as_ptr(&other.prior))
            && self.weight == other.weight
            && self.candidates == other.candidates
    }
}
