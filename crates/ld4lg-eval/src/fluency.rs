//! A word n-gram language model (interpolated Kneser–Ney) that scores the fluency of
//! generated texts, for reranking candidates: samples of an undertrained denoiser decode to
//! blends ("is a a family friendly in the city centre is King near Burger King") that
//! a corpus n-gram model scores far below real sentences.

use std::collections::HashMap;

/// Id of the sentence-start padding token.
const BOS: u32 = 0;
/// Id of the sentence-end token.
const EOS: u32 = 1;
/// Id of every word not seen in training.
const UNKNOWN: u32 = u32::MAX;

/// A word as an [`NgramLm`] numbers it ([`NgramLm::word_id`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WordId(u32);

/// Counts of one order: n-gram → count (raw counts at the highest order, continuation counts
/// below, as Kneser–Ney), and per context (the first n − 1 tokens) the total and the number
/// of distinct continuations.
#[derive(Debug, Clone, Default)]
struct Level {
    counts: HashMap<Box<[u32]>, u32>,
    contexts: HashMap<Box<[u32]>, (u32, u32)>,
}

impl Level {
    fn from_counts(counts: HashMap<Box<[u32]>, u32>) -> Self {
        let mut contexts: HashMap<Box<[u32]>, (u32, u32)> = HashMap::new();
        for (gram, &count) in &counts {
            let entry = contexts.entry(gram[..gram.len() - 1].into()).or_default();
            entry.0 += count;
            entry.1 += 1;
        }
        Self { counts, contexts }
    }
}

/// An interpolated Kneser–Ney n-gram model (Chen & Goodman 1998, one discount 0.75) over word
/// tokens, trained on a corpus; every sentence is padded with `order − 1` start tokens and
/// ends with an end token, which is predicted too. Unknown words get the back-off mass of
/// the unigram level, spread uniformly.
///
/// ```
/// use ld4lg_eval::NgramLm;
/// let corpus = ["the cat sat", "the cat ran", "a dog sat on the mat"];
/// let lm = NgramLm::train(corpus.iter().map(|t| t.split_whitespace()), 3).unwrap();
/// let fluent = lm.mean_log_prob(["the", "cat", "sat"]);
/// let scrambled = lm.mean_log_prob(["sat", "cat", "the"]);
/// assert!(fluent > scrambled);
/// ```
#[derive(Debug, Clone)]
pub struct NgramLm {
    order: usize,
    discount: f64,
    vocab: HashMap<String, u32>,
    /// `levels[n − 1]` holds the n-grams.
    levels: Vec<Level>,
    /// Distinct predicted tokens of the unigram level, plus one for unknown words.
    support: usize,
}

/// Why a language model cannot be trained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NgramLmError {
    /// The order is zero.
    #[error("the n-gram order must be at least 1")]
    ZeroOrder,
    /// The corpus has no text.
    #[error("the language model's corpus has no text")]
    EmptyCorpus,
}

impl NgramLm {
    /// Trains an order-`order` model on tokenised texts (each an iterator of words).
    pub fn train<I, T, S>(texts: I, order: usize) -> Result<Self, NgramLmError>
    where
        I: IntoIterator<Item = T>,
        T: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if order == 0 {
            return Err(NgramLmError::ZeroOrder);
        }
        let mut vocab: HashMap<String, u32> = HashMap::new();
        let mut raw: Vec<HashMap<Box<[u32]>, u32>> = vec![HashMap::new(); order];
        let mut sentences = 0usize;
        let mut ids = Vec::new();
        for text in texts {
            sentences += 1;
            ids.clear();
            ids.resize(order - 1, BOS);
            for word in text {
                let next = vocab.len() as u32 + 2;
                ids.push(*vocab.entry(word.as_ref().to_owned()).or_insert(next));
            }
            ids.push(EOS);
            for n in 1..=order {
                // Start padding is never predicted, so no n-gram ends with it.
                for gram in ids.windows(n).filter(|g| g[n - 1] != BOS) {
                    *raw[n - 1].entry(gram.into()).or_default() += 1;
                }
            }
        }
        if sentences == 0 {
            return Err(NgramLmError::EmptyCorpus);
        }
        // Below the highest order, an n-gram counts the distinct words seen before it.
        let mut levels = Vec::with_capacity(order);
        for n in 1..=order {
            let counts = if n == order {
                std::mem::take(&mut raw[n - 1])
            } else {
                let mut continuation: HashMap<Box<[u32]>, u32> = HashMap::new();
                for gram in raw[n].keys() {
                    *continuation.entry(gram[1..].into()).or_default() += 1;
                }
                continuation
            };
            levels.push(Level::from_counts(counts));
        }
        let support = levels[0].counts.len() + 1;
        Ok(Self {
            order,
            discount: 0.75,
            vocab,
            levels,
            support,
        })
    }

    /// The model's order n.
    pub fn order(&self) -> usize {
        self.order
    }

    /// Probability of the last token of `gram` given the others (`gram.len()` ≤ order).
    fn prob(&self, gram: &[u32]) -> f64 {
        let n = gram.len();
        let lower = if n == 1 {
            1.0 / self.support as f64
        } else {
            self.prob(&gram[1..])
        };
        let level = &self.levels[n - 1];
        match level.contexts.get(&gram[..n - 1]) {
            None => lower,
            Some(&(total, types)) => {
                let count = level.counts.get(gram).copied().unwrap_or(0) as f64;
                let (total, types) = (f64::from(total), f64::from(types));
                (count - self.discount).max(0.0) / total + self.discount * types / total * lower
            }
        }
    }

    fn ids<I, S>(&self, words: I) -> Vec<u32>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut ids = vec![BOS; self.order - 1];
        ids.extend(
            words
                .into_iter()
                .map(|w| self.vocab.get(w.as_ref()).copied().unwrap_or(UNKNOWN)),
        );
        ids.push(EOS);
        ids
    }

    /// Natural log-probability of `next` (`None`: the end of the sentence) after the words
    /// `context` (the sentence so far; only its last `order − 1` words matter).
    pub fn next_log_prob<S: AsRef<str>>(&self, context: &[S], next: Option<&str>) -> f64 {
        let keep = self.order - 1;
        let recent = &context[context.len().saturating_sub(keep)..];
        let recent: Vec<WordId> = recent.iter().map(|w| self.word_id(w.as_ref())).collect();
        self.next_log_prob_ids(&recent, next.map(|w| self.word_id(w)))
    }

    /// The model's id of a word (every unseen word shares one id), for
    /// [`next_log_prob_ids`](Self::next_log_prob_ids): callers that score many continuations
    /// of the same words map them once.
    pub fn word_id(&self, word: &str) -> WordId {
        WordId(self.vocab.get(word).copied().unwrap_or(UNKNOWN))
    }

    /// [`next_log_prob`](Self::next_log_prob) on word ids.
    pub fn next_log_prob_ids(&self, context: &[WordId], next: Option<WordId>) -> f64 {
        let keep = self.order - 1;
        let recent = &context[context.len().saturating_sub(keep)..];
        let mut gram = vec![BOS; keep - recent.len()];
        gram.extend(recent.iter().map(|w| w.0));
        gram.push(next.map_or(EOS, |w| w.0));
        self.prob(&gram).ln()
    }

    /// Natural log-probability of a sentence, its end token included.
    pub fn log_prob<I, S>(&self, words: I) -> f64
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.ids(words)
            .windows(self.order)
            .map(|gram| self.prob(gram).ln())
            .sum()
    }

    /// [`log_prob`](Self::log_prob) per predicted token (the words and the end token), so
    /// texts of different lengths compare.
    pub fn mean_log_prob<I, S>(&self, words: I) -> f64
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let ids = self.ids(words);
        let predicted = ids.len() + 1 - self.order;
        ids.windows(self.order)
            .map(|gram| self.prob(gram).ln())
            .sum::<f64>()
            / predicted as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORPUS: [&str; 4] = [
        "the cat sat",
        "the cat ran",
        "a dog sat on the mat",
        "the dog ran",
    ];

    fn lm(order: usize) -> NgramLm {
        NgramLm::train(CORPUS.iter().map(|t| t.split_whitespace()), order).unwrap()
    }

    #[test]
    fn log_probs_match_an_independent_implementation() {
        // From a separate Python implementation of the same definition (interpolated
        // Kneser–Ney, D = 0.75, no n-gram ending in <s>, uniform base over the predicted
        // unigram types plus one unknown).
        let expected: [(usize, &str, f64); 15] = [
            (1, "the cat sat", -7.733171278717522),
            (1, "the dog sat on the mat", -15.355044947921895),
            (1, "mat the on", -9.198946297136441),
            (1, "the zebra ran", -8.781139834566877),
            (1, "", -1.5770726279320686),
            (2, "the cat sat", -4.364338924554843),
            (2, "the dog sat on the mat", -10.088580403682878),
            (2, "mat the on", -11.391460981743547),
            (2, "the zebra ran", -6.582210532821603),
            (2, "", -2.6155849734301166),
            (3, "the cat sat", -3.1942587159869813),
            (3, "the dog sat on the mat", -7.294179838589097),
            (3, "mat the on", -11.391460981743547),
            (3, "the zebra ran", -6.932181866695676),
            (3, "", -2.9032670458818974),
        ];
        for (order, text, reference) in expected {
            let got = lm(order).log_prob(text.split_whitespace());
            assert!((got - reference).abs() < 1e-12, "{order} {text:?}: {got}");
        }
    }

    #[test]
    fn every_context_gives_a_distribution() {
        for order in 1..=3 {
            let model = lm(order);
            let mut next: Vec<u32> = model.vocab.values().copied().collect();
            next.extend([EOS, UNKNOWN]);
            for context in [vec![BOS, BOS], vec![BOS, 2], vec![2, 3], vec![3, 3]] {
                let context = &context[context.len() + 1 - order..];
                let total: f64 = next
                    .iter()
                    .map(|&w| {
                        let mut gram = context.to_vec();
                        gram.push(w);
                        model.prob(&gram)
                    })
                    .sum();
                assert!(
                    (total - 1.0).abs() < 1e-12,
                    "order {order} {context:?}: {total}"
                );
            }
        }
    }

    #[test]
    fn next_token_probabilities_chain_to_the_sentence() {
        for order in 1..=3 {
            let model = lm(order);
            for text in ["the cat sat", "the dog sat on the mat", "zebra", ""] {
                let words: Vec<&str> = text.split_whitespace().collect();
                let chained: f64 = (0..=words.len())
                    .map(|i| model.next_log_prob(&words[..i], words.get(i).copied()))
                    .sum();
                let whole = model.log_prob(words.iter().copied());
                assert!((chained - whole).abs() < 1e-12, "{order} {text:?}");
            }
        }
    }

    #[test]
    fn mean_is_per_predicted_token_and_errors_are_typed() {
        let model = lm(3);
        let words = ["the", "cat", "sat"];
        assert!((model.mean_log_prob(words) - model.log_prob(words) / 4.0).abs() < 1e-12);
        assert_eq!(
            NgramLm::train(CORPUS.iter().map(|t| t.split_whitespace()), 0).unwrap_err(),
            NgramLmError::ZeroOrder
        );
        let none: [&[&str]; 0] = [];
        assert_eq!(
            NgramLm::train(none, 2).unwrap_err(),
            NgramLmError::EmptyCorpus
        );
    }
}
