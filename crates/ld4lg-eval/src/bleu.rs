use std::collections::HashMap;
use std::hash::Hash;

/// Counts of all n-grams of length `n`.
pub fn ngram_counts<T: Hash + Eq + Clone>(tokens: &[T], n: usize) -> HashMap<Vec<T>, usize> {
    let mut counts = HashMap::new();
    if n == 0 {
        return counts;
    }
    for window in tokens.windows(n) {
        *counts.entry(window.to_vec()).or_insert(0) += 1;
    }
    counts
}

/// For each n-gram, its largest count in any one reference (the clipping bound of BLEU).
pub(crate) fn max_reference_counts<'a, T: Hash + Eq + Clone + 'a>(
    references: impl IntoIterator<Item = &'a [T]>,
    n: usize,
) -> HashMap<Vec<T>, usize> {
    let mut max_ref = HashMap::new();
    for reference in references {
        for (gram, count) in ngram_counts(reference, n) {
            let entry = max_ref.entry(gram).or_insert(0);
            *entry = (*entry).max(count);
        }
    }
    max_ref
}

/// Corpus BLEU-4 (Papineni et al. 2002) in percent, with one or more references per
/// hypothesis: clipped n-gram precisions for n = 1..4 summed over the corpus, geometric mean,
/// brevity penalty against the closest reference length (ties: the shorter). No smoothing,
/// as in `sacrebleu`'s and NLTK's corpus BLEU; 0 when some precision is 0.
pub fn corpus_bleu<T: Hash + Eq + Clone>(hypotheses: &[Vec<T>], references: &[Vec<Vec<T>>]) -> f64 {
    let mut matches = [0usize; 4];
    let mut totals = [0usize; 4];
    let (mut hyp_len, mut ref_len) = (0usize, 0usize);
    for (hypothesis, refs) in hypotheses.iter().zip(references) {
        hyp_len += hypothesis.len();
        ref_len += refs
            .iter()
            .map(Vec::len)
            .min_by_key(|&len| (len.abs_diff(hypothesis.len()), len))
            .unwrap_or(0);
        for n in 1..=4 {
            let counts = ngram_counts(hypothesis, n);
            let max_ref = max_reference_counts(refs.iter().map(Vec::as_slice), n);
            for (gram, count) in &counts {
                matches[n - 1] += (*count).min(max_ref.get(gram).copied().unwrap_or(0));
            }
            totals[n - 1] += hypothesis.len().saturating_sub(n - 1);
        }
    }
    bleu_from_counts(&matches, &totals, hyp_len, ref_len)
}

/// BLEU-4 in percent from clipped n-gram matches and totals (n = 1..4) and the corpus
/// hypothesis and reference lengths: geometric mean of precisions times the brevity penalty;
/// 0 when some precision is 0.
pub(crate) fn bleu_from_counts(
    matches: &[usize; 4],
    totals: &[usize; 4],
    hyp_len: usize,
    ref_len: usize,
) -> f64 {
    if hyp_len == 0 || matches.contains(&0) {
        return 0.0;
    }
    let log_precision: f64 = matches
        .iter()
        .zip(totals)
        .map(|(&m, &t)| (m as f64 / t as f64).ln())
        .sum::<f64>()
        / 4.0;
    let brevity = if hyp_len >= ref_len {
        0.0
    } else {
        1.0 - ref_len as f64 / hyp_len as f64
    };
    100.0 * (log_precision + brevity).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn identical_corpus_scores_100() {
        let h = vec![words("the cat sat on the mat")];
        let r = vec![vec![words("the cat sat on the mat")]];
        assert!((corpus_bleu(&h, &r) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn hand_computed_value() {
        // Hypothesis "the cat sat on the mat" (6 tokens) against "the cat is on the mat":
        // p1 = 5/6, p2 = 3/5 (the cat, on the, the mat), p3 = 1/4 (on the mat), p4 = 0/3 → 0.
        let h = vec![words("the cat sat on the mat")];
        let r = vec![vec![words("the cat is on the mat")]];
        assert_eq!(corpus_bleu(&h, &r), 0.0);
        // Two sentences so that every order matches: sums over the corpus.
        // s1: "a b c d e" vs "a b c d e": 5/5, 4/4, 3/3, 2/2.
        // s2: "a b c x" vs "a b c y": 3/4, 2/3, 1/2, 0/1.
        // p = 8/9, 6/7, 4/5, 2/3; lengths equal → no brevity penalty.
        let h = vec![words("a b c d e"), words("a b c x")];
        let r = vec![vec![words("a b c d e")], vec![words("a b c y")]];
        let expected =
            100.0 * ((8.0f64 / 9.0) * (6.0 / 7.0) * (4.0 / 5.0) * (2.0 / 3.0)).powf(0.25);
        assert!((corpus_bleu(&h, &r) - expected).abs() < 1e-9);
    }

    #[test]
    fn brevity_penalty_and_multiple_references() {
        // Hypothesis "a b c d" against references of length 4 and 8: the closest is 4 → BP 1.
        let h = vec![words("a b c d")];
        let r = vec![vec![words("a b c d"), words("a b c d e f g h")]];
        assert!((corpus_bleu(&h, &r) - 100.0).abs() < 1e-9);
        // Against the long reference alone: BP = exp(1 − 8/4) = e^{-1}.
        let r = vec![vec![words("a b c d e f g h")]];
        assert!((corpus_bleu(&h, &r) - 100.0 * (-1.0f64).exp()).abs() < 1e-9);
        // Clipping: "the the the" against "the cat": p1 = 1/3.
        assert_eq!(ngram_counts(&words("the the the"), 1)[&vec!["the"]], 3);
    }
}
