//! Sentence-level similarities (smoothed BLEU, ROUGE-N, ROUGE-L) and the selection of one
//! candidate among several: minimum Bayes risk, optionally with a fluency term.

use super::NgramLm;
use super::ngram_counts;
use serde::{Deserialize, Serialize};
use std::hash::Hash;

/// Sentence BLEU-4 in percent with add-one smoothing of the 2- to 4-gram precisions
/// ("BLEU+1", Lin & Och 2004), so that short texts without a 4-gram match still compare.
/// Brevity penalty against the closest reference length.
pub fn sentence_bleu<T: Hash + Eq + Clone>(hypothesis: &[T], references: &[&[T]]) -> f64 {
    if hypothesis.is_empty() || references.is_empty() {
        return 0.0;
    }
    let mut log_precision = 0.0;
    for n in 1..=4 {
        let max_ref = super::bleu::max_reference_counts(references.iter().copied(), n);
        let matches: usize = ngram_counts(hypothesis, n)
            .iter()
            .map(|(gram, &count)| count.min(max_ref.get(gram).copied().unwrap_or(0)))
            .sum();
        let total = hypothesis.len().saturating_sub(n - 1);
        let smoothing = if n == 1 { 0.0 } else { 1.0 };
        let precision = (matches as f64 + smoothing) / (total as f64 + smoothing);
        if precision == 0.0 {
            return 0.0;
        }
        log_precision += precision.ln() / 4.0;
    }
    let ref_len = references
        .iter()
        .map(|r| r.len())
        .min_by_key(|&len| (len.abs_diff(hypothesis.len()), len))
        .unwrap_or(0);
    let brevity = if hypothesis.len() >= ref_len {
        0.0
    } else {
        1.0 - ref_len as f64 / hypothesis.len() as f64
    };
    100.0 * (log_precision + brevity).exp()
}

/// ROUGE-N F1 between two token sequences (clipped n-gram overlap), in [0, 1].
pub fn rouge_n<T: Hash + Eq + Clone>(a: &[T], b: &[T], n: usize) -> f64 {
    let (ca, cb) = (ngram_counts(a, n), ngram_counts(b, n));
    let overlap: usize = ca
        .iter()
        .map(|(gram, &count)| count.min(cb.get(gram).copied().unwrap_or(0)))
        .sum();
    let (ta, tb) = (a.len().saturating_sub(n - 1), b.len().saturating_sub(n - 1));
    if overlap == 0 || ta == 0 || tb == 0 {
        return 0.0;
    }
    let (p, r) = (overlap as f64 / ta as f64, overlap as f64 / tb as f64);
    2.0 * p * r / (p + r)
}

fn lcs_len<T: Eq>(a: &[T], b: &[T]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        let mut diagonal = 0;
        for (j, y) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if x == y {
                diagonal + 1
            } else {
                above.max(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

/// ROUGE-L of a hypothesis against several references as in the E2E challenge's scorer
/// (coco-caption): LCS precision and recall maximised over the references, combined as
/// `F_β = (1 + β²)·P·R / (R + β²·P)` with β = 1.2. In [0, 1].
pub fn rouge_l<T: Eq>(hypothesis: &[T], references: &[&[T]]) -> f64 {
    const BETA: f64 = 1.2;
    let (mut best_p, mut best_r) = (0.0f64, 0.0f64);
    for reference in references {
        let lcs = lcs_len(hypothesis, reference) as f64;
        if lcs > 0.0 {
            best_p = best_p.max(lcs / hypothesis.len() as f64);
            best_r = best_r.max(lcs / reference.len() as f64);
        }
    }
    if best_p == 0.0 || best_r == 0.0 {
        return 0.0;
    }
    (1.0 + BETA * BETA) * best_p * best_r / (best_r + BETA * BETA * best_p)
}

/// The similarity minimum-Bayes-risk decoding maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MbrSimilarity {
    /// [`sentence_bleu`] against each other candidate.
    #[default]
    Bleu,
    /// [`rouge_n`] with n = 2.
    Rouge2,
}

/// Mean similarity of each candidate to the other candidates, in [0, 1] (sentence BLEU is
/// divided by 100): the expected utility minimum-Bayes-risk decoding maximises. A single
/// candidate scores 0.
pub fn mbr_scores<T: Hash + Eq + Clone>(
    candidates: &[Vec<T>],
    similarity: MbrSimilarity,
) -> Vec<f64> {
    let others = candidates.len().saturating_sub(1).max(1) as f64;
    (0..candidates.len())
        .map(|i| {
            candidates
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, other)| match similarity {
                    MbrSimilarity::Bleu => {
                        sentence_bleu(&candidates[i], &[other.as_slice()]) / 100.0
                    }
                    MbrSimilarity::Rouge2 => rouge_n(&candidates[i], other, 2),
                })
                .sum::<f64>()
                / others
        })
        .collect()
}

/// Index of the highest score (ties: the first); `None` when empty.
fn argmax(scores: &[f64]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, &s) in scores.iter().enumerate() {
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((i, s));
        }
    }
    best.map(|(i, _)| i)
}

/// Minimum-Bayes-risk selection: the index of the candidate with the highest mean similarity
/// to the other candidates (ties: the first). `None` when there are no candidates.
pub fn mbr_select<T: Hash + Eq + Clone>(
    candidates: &[Vec<T>],
    similarity: MbrSimilarity,
) -> Option<usize> {
    argmax(&mbr_scores(candidates, similarity))
}

/// Picks one of several candidates for the same input by `mbr + weight · fluency`, where
/// `mbr` is the candidate's [`mbr_scores`] entry (0 when `similarity` is `None`) and
/// `fluency` its [`NgramLm::mean_log_prob`] (0 without a model). Ties: the first; `None`
/// when there are no candidates. With neither term, the first candidate.
pub fn rerank<S: AsRef<str>>(
    candidates: &[Vec<S>],
    similarity: Option<MbrSimilarity>,
    fluency: Option<(&NgramLm, f64)>,
) -> Option<usize> {
    let scores: Option<Vec<f64>> =
        fluency.map(|(lm, _)| candidates.iter().map(|c| lm.mean_log_prob(c)).collect());
    rerank_scored(
        candidates,
        similarity,
        scores.as_deref().zip(fluency.map(|(_, weight)| weight)),
    )
}

/// [`rerank`] with the fluency of each candidate given (from any model, e.g. the neural
/// language model of `ld4lg::lm`): `mbr + weight · fluency[i]`.
///
/// # Panics
/// When `fluency` does not have one score per candidate (a programming error).
pub fn rerank_scored<S: AsRef<str>>(
    candidates: &[Vec<S>],
    similarity: Option<MbrSimilarity>,
    fluency: Option<(&[f64], f64)>,
) -> Option<usize> {
    let mut scores = match similarity {
        Some(similarity) => {
            let owned: Vec<Vec<&str>> = candidates
                .iter()
                .map(|c| c.iter().map(AsRef::as_ref).collect())
                .collect();
            mbr_scores(&owned, similarity)
        }
        None => vec![0.0; candidates.len()],
    };
    if let Some((fluency, weight)) = fluency {
        assert_eq!(
            fluency.len(),
            candidates.len(),
            "one fluency score per candidate"
        );
        for (score, f) in scores.iter_mut().zip(fluency) {
            *score += weight * f;
        }
    }
    argmax(&scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn sentence_bleu_matches_hand_computed_values() {
        // Hypothesis "the cat sat on the mat" (6), reference "the cat is on the mat" (6):
        // p1 = 5/6, p2 = (3 + 1)/(5 + 1), p3 = (1 + 1)/(4 + 1), p4 = (0 + 1)/(3 + 1), BP = 1.
        // exp((ln 5/6 + ln 4/6 + ln 2/5 + ln 1/4) / 4), python: math.exp(sum(map(
        // math.log, [5/6, 4/6, 2/5, 1/4])) / 4) = 0.48549177170732344.
        let hyp = words("the cat sat on the mat");
        let reference = words("the cat is on the mat");
        let bleu = sentence_bleu(&hyp, &[reference.as_slice()]);
        assert!((bleu - 48.549_177_170_732_34).abs() < 1e-9, "{bleu}");
        assert!((sentence_bleu(&hyp, &[hyp.as_slice()]) - 100.0).abs() < 1e-9);
        // Shorter than the reference: brevity penalty exp(1 - 6/3).
        let short = words("the cat sat");
        let expected = 100.0
            * ((1.0f64.ln() + (3.0f64 / 3.0).ln() + (2.0f64 / 2.0).ln() + (1.0f64 / 1.0).ln())
                / 4.0
                + (1.0 - 6.0 / 3.0))
                .exp();
        let reference = words("the cat sat on the mat");
        assert!((sentence_bleu(&short, &[reference.as_slice()]) - expected).abs() < 1e-9);
        assert_eq!(sentence_bleu(&words("dog"), &[reference.as_slice()]), 0.0);
    }

    #[test]
    fn rouge_matches_hand_computed_values() {
        // Bigrams of "a b c d": ab bc cd; of "a b d c": ab bd dc; overlap 1, P = R = 1/3.
        let f = rouge_n(&words("a b c d"), &words("a b d c"), 2);
        assert!((f - 1.0 / 3.0).abs() < 1e-12);
        // LCS("a b c", "a x b y c z") = 3: P = 1, R = 0.5, F = 2.44·0.5 / (0.5 + 1.44).
        let hyp = words("a b c");
        let (r1, r2) = (words("a x b y c z"), words("q"));
        let f = rouge_l(&hyp, &[r1.as_slice(), r2.as_slice()]);
        assert!((f - 2.44 * 0.5 / 1.94).abs() < 1e-12, "{f}");
        assert_eq!(rouge_l(&hyp, &[r2.as_slice()]), 0.0);
    }

    #[test]
    fn rerank_combines_consensus_and_fluency() {
        let corpus = [
            "the eagle is a cheap coffee shop near the river",
            "zizzi is a cheap pub near the river",
            "the mill is a coffee shop in the city centre",
        ];
        let lm = NgramLm::train(corpus.iter().map(|t| t.split_whitespace()), 3).unwrap();
        let candidates: Vec<Vec<&str>> = [
            "the eagle is is a cheap coffee shop shop near the river",
            "the eagle is is a cheap coffee shop near near the river",
            "the eagle is a cheap coffee shop near the river",
            "the eagle is is a coffee shop shop near the river",
        ]
        .iter()
        .map(|s| words(s))
        .collect();
        let mbr = mbr_select(&candidates, MbrSimilarity::Bleu);
        // The garbled majority agree with each other most.
        assert_eq!(mbr, Some(0));
        assert_eq!(rerank(&candidates, Some(MbrSimilarity::Bleu), None), mbr);
        assert_eq!(
            rerank(&candidates, Some(MbrSimilarity::Bleu), Some((&lm, 0.0))),
            mbr
        );
        // The fluency model prefers the sentence without repetitions, alone or weighted up.
        assert_eq!(rerank(&candidates, None, Some((&lm, 1.0))), Some(2));
        assert_eq!(
            rerank(&candidates, Some(MbrSimilarity::Bleu), Some((&lm, 1.0))),
            Some(2)
        );
        assert_eq!(rerank(&candidates, None, None), Some(0));
        assert_eq!(rerank::<&str>(&[], None, Some((&lm, 1.0))), None);
        // Mean similarities: BLEU in [0, 1], a single candidate scores 0.
        let scores = mbr_scores(&candidates, MbrSimilarity::Bleu);
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
        assert_eq!(
            mbr_scores(&candidates[..1], MbrSimilarity::Rouge2),
            vec![0.0]
        );
    }

    #[test]
    fn mbr_picks_the_consensus_candidate() {
        let candidates: Vec<Vec<&str>> = [
            "the eagle is a cheap coffee shop near the river",
            "the eagle is a cheap coffee shop by the river",
            "zizzi serves french food in the city centre",
            "the eagle is a coffee shop near the river",
        ]
        .iter()
        .map(|s| words(s))
        .collect();
        // The first shares the most with both other "eagle" candidates.
        assert_eq!(mbr_select(&candidates, MbrSimilarity::Bleu), Some(0));
        assert_eq!(mbr_select(&candidates, MbrSimilarity::Rouge2), Some(0));
        assert_eq!(mbr_select::<&str>(&[], MbrSimilarity::Bleu), None);
        assert_eq!(mbr_select(&candidates[2..3], MbrSimilarity::Bleu), Some(0));
    }
}
