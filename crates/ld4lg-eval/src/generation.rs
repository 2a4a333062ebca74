//! Metrics of a set of generated texts, on whitespace words: quality against a reference
//! pool, diversity, duplicates, memorisation and length.

use super::ngram_counts;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Summary metrics of generated texts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GenerationMetrics {
    /// Number of texts.
    pub count: usize,
    /// Corpus BLEU-4 (percent) of the texts against the whole reference pool.
    pub pool_bleu: f64,
    /// LD4LG's diversity `Π_{n=2..4} (1 − rep_n)`, `rep_n = 1 − unique n-grams / n-grams`.
    pub diversity: f64,
    /// Share of texts equal to an earlier text of the set.
    pub duplicate_rate: f64,
    /// Share of texts found verbatim in the training set.
    pub copy_rate: f64,
    /// Number of empty texts.
    pub empty: usize,
    /// Mean length in words.
    pub mean_length: f64,
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

/// For each n-gram order, the largest count of each n-gram in any one reference, the group
/// of references that holds it, and the largest count in any other group (for scoring a
/// reference against the pool without its own group).
struct Pool {
    max_counts: [HashMap<Vec<String>, (usize, usize, usize)>; 4],
    lengths: Vec<usize>,
    groups: Vec<usize>,
}

impl Pool {
    /// A pool whose reference `r` belongs to group `groups[r]` (every reference its own
    /// group when `None`).
    fn new(references: &[Vec<String>], groups: Option<&[usize]>) -> Self {
        let groups: Vec<usize> = match groups {
            Some(groups) => groups.to_vec(),
            None => (0..references.len()).collect(),
        };
        let mut max_counts: [HashMap<Vec<String>, (usize, usize, usize)>; 4] = Default::default();
        for (reference, &group) in references.iter().zip(&groups) {
            for n in 1..=4 {
                for (gram, count) in ngram_counts(reference, n) {
                    let entry = max_counts[n - 1].entry(gram).or_insert((0, usize::MAX, 0));
                    let (best, owner, other) = entry;
                    if group == *owner {
                        *best = (*best).max(count);
                    } else if count > *best {
                        *other = *best;
                        *best = count;
                        *owner = group;
                    } else {
                        *other = (*other).max(count);
                    }
                }
            }
        }
        Self {
            max_counts,
            lengths: references.iter().map(Vec::len).collect(),
            groups,
        }
    }

    /// Corpus BLEU-4 of `hypotheses`, each against the pool (optionally without the
    /// references of group `excluded[i]`).
    fn bleu(&self, hypotheses: &[Vec<String>], excluded: Option<&[usize]>) -> f64 {
        let mut matches = [0usize; 4];
        let mut totals = [0usize; 4];
        let (mut hyp_len, mut ref_len) = (0usize, 0usize);
        for (i, hypothesis) in hypotheses.iter().enumerate() {
            let skip = excluded.map(|e| e[i]);
            hyp_len += hypothesis.len();
            ref_len += self
                .lengths
                .iter()
                .zip(&self.groups)
                .filter(|&(_, &group)| Some(group) != skip)
                .map(|(&len, _)| len)
                .min_by_key(|&len| (len.abs_diff(hypothesis.len()), len))
                .unwrap_or(0);
            for n in 1..=4 {
                for (gram, count) in ngram_counts(hypothesis, n) {
                    let clip = match self.max_counts[n - 1].get(&gram) {
                        Some(&(_, owner, other)) if Some(owner) == skip => other,
                        Some(&(best, _, _)) => best,
                        None => 0,
                    };
                    matches[n - 1] += count.min(clip);
                }
                totals[n - 1] += hypothesis.len().saturating_sub(n - 1);
            }
        }
        super::bleu::bleu_from_counts(&matches, &totals, hyp_len, ref_len)
    }
}

/// `Π_{n=2..4} (1 − rep_n)` over a set of tokenised texts.
pub fn diversity(texts: &[Vec<String>]) -> f64 {
    (2..=4)
        .map(|n| {
            let mut total = 0usize;
            let mut unique = HashSet::new();
            for text in texts {
                for gram in text.windows(n) {
                    total += 1;
                    unique.insert(gram.to_vec());
                }
            }
            if total == 0 {
                0.0
            } else {
                unique.len() as f64 / total as f64
            }
        })
        .product()
}

/// Scores generated texts against a reference pool and a training set.
pub fn generation_metrics(
    samples: &[String],
    references: &[String],
    training: &HashSet<String>,
) -> GenerationMetrics {
    let normalise = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let tokenised: Vec<Vec<String>> = samples.iter().map(|s| words(s)).collect();
    let pool = Pool::new(
        &references.iter().map(|r| words(r)).collect::<Vec<_>>(),
        None,
    );
    let mut seen = HashSet::new();
    let duplicates = samples
        .iter()
        .filter(|s| !seen.insert(normalise(s)))
        .count();
    let copies = samples
        .iter()
        .filter(|s| training.contains(&normalise(s)))
        .count();
    let count = samples.len();
    GenerationMetrics {
        count,
        pool_bleu: pool.bleu(&tokenised, None),
        diversity: diversity(&tokenised),
        duplicate_rate: duplicates as f64 / count.max(1) as f64,
        copy_rate: copies as f64 / count.max(1) as f64,
        empty: tokenised.iter().filter(|t| t.is_empty()).count(),
        mean_length: tokenised.iter().map(Vec::len).sum::<usize>() as f64 / count.max(1) as f64,
    }
}

/// The same metrics for `n` human references, evenly spaced through the pool (references of
/// one meaning representation sit together), each scored against the other references
/// (leave-one-out).
pub fn human_metrics(
    references: &[String],
    n: usize,
    training: &HashSet<String>,
) -> GenerationMetrics {
    let groups: Vec<usize> = (0..references.len()).collect();
    human_metrics_grouped(references, &groups, n, training)
}

/// [`human_metrics`], each reference scored against the pool without every reference of its
/// group (`groups[i]`: e.g. the same meaning representation, or the same venue).
pub fn human_metrics_grouped(
    references: &[String],
    groups: &[usize],
    n: usize,
    training: &HashSet<String>,
) -> GenerationMetrics {
    let n = n.min(references.len());
    let tokenised_all: Vec<Vec<String>> = references.iter().map(|r| words(r)).collect();
    let pool = Pool::new(&tokenised_all, Some(groups));
    let chosen: Vec<usize> = (0..n).map(|i| i * references.len() / n.max(1)).collect();
    let texts: Vec<String> = chosen.iter().map(|&i| references[i].clone()).collect();
    let hypotheses: Vec<Vec<String>> = chosen.iter().map(|&i| tokenised_all[i].clone()).collect();
    let excluded: Vec<usize> = chosen.iter().map(|&i| groups[i]).collect();
    let mut metrics = generation_metrics(&texts, references, training);
    metrics.pool_bleu = pool.bleu(&hypotheses, Some(&excluded));
    metrics
}

/// Normalises texts for set membership (whitespace-collapsed).
pub fn text_set<S: AsRef<str>>(texts: &[S]) -> HashSet<String> {
    texts
        .iter()
        .map(|t| t.as_ref().split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn diversity_by_hand() {
        // "a b a b": bigrams ab, ba, ab → 2 unique of 3; trigrams aba, bab → 2/2;
        // 4-gram abab → 1/1. Diversity = 2/3.
        let d = diversity(&[words("a b a b")]);
        assert!((d - 2.0 / 3.0).abs() < 1e-12, "{d}");
        // Two identical texts halve every unique share: "a b c" twice → (2/4)(1/2)·(no 4-grams → 0).
        assert_eq!(diversity(&[words("a b c"), words("a b c")]), 0.0);
    }

    #[test]
    fn duplicates_copies_empties_and_length() {
        let samples = strings(&["the cat sat", "the  cat sat", "a dog", ""]);
        let training = text_set(&["a dog"]);
        let m = generation_metrics(&samples, &strings(&["the cat sat"]), &training);
        assert_eq!(m.count, 4);
        assert_eq!(m.duplicate_rate, 0.25);
        assert_eq!(m.copy_rate, 0.25);
        assert_eq!(m.empty, 1);
        assert!((m.mean_length - 8.0 / 4.0).abs() < 1e-12);
    }

    #[test]
    fn pool_bleu_uses_the_best_reference_and_leave_one_out_drops_its_own() {
        let references = strings(&["a b c d e", "a b c d x", "p q r s t"]);
        let pool = Pool::new(
            &references.iter().map(|r| words(r)).collect::<Vec<_>>(),
            None,
        );
        // "a b c d e" is in the pool: 100.
        assert!((pool.bleu(&[words("a b c d e")], None) - 100.0).abs() < 1e-9);
        // Without itself, its best match is "a b c d x": p = 4/5, 3/4, 2/3, 1/2.
        let expected = 100.0 * (0.8f64 * 0.75 * (2.0 / 3.0) * 0.5).powf(0.25);
        let got = pool.bleu(&[words("a b c d e")], Some(&[0]));
        assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
        let human = human_metrics(&references, 1, &HashSet::new());
        assert!((human.pool_bleu - expected).abs() < 1e-9);
    }

    #[test]
    fn grouped_human_metrics_drop_the_whole_group() {
        // With its group (the first two) left out, "a b c d e" meets only "p q r s t": 0.
        let references = strings(&["a b c d e", "a b c d x", "p q r s t"]);
        let none = HashSet::new();
        let alone = human_metrics_grouped(&references, &[0, 0, 1], 1, &none);
        assert_eq!(alone.pool_bleu, 0.0);
        // Groups of one are plain leave-one-out.
        let single = human_metrics_grouped(&references, &[0, 1, 2], 1, &none);
        assert_eq!(
            single.pool_bleu,
            human_metrics(&references, 1, &none).pool_bleu
        );
        // Another group holds a worse and a better match: the better one counts, as does its
        // length ("a b c d x", 5 words: no brevity penalty).
        let references = strings(&["a b c d e", "a b y z", "a b c d x", "q"]);
        let got = human_metrics_grouped(&references, &[0, 1, 1, 2], 1, &none).pool_bleu;
        let expected = 100.0 * (0.8f64 * 0.75 * (2.0 / 3.0) * 0.5).powf(0.25);
        assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
        // A copy of the text in its own group does not count, whatever the order.
        let references = strings(&["x y z w q", "a b c d e", "a b c d e", "a b c d x"]);
        let got = human_metrics_grouped(&references, &[1, 0, 0, 2], 4, &none);
        // Evenly spaced: texts 0 to 3; text 1 and 2 each meet "a b c d x" at best.
        assert_eq!(got.count, 4);
        let split = Pool::new(
            &references.iter().map(|r| words(r)).collect::<Vec<_>>(),
            Some(&[1, 0, 0, 2]),
        );
        let one = split.bleu(&[words("a b c d e")], Some(&[0]));
        assert!((one - expected).abs() < 1e-9, "{one} vs {expected}");
    }
}
