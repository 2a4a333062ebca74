//! A token n-gram model of a corpus as the [`TokenPrior`] of shallow fusion: beam search then
//! adds its log-probabilities to the decoder's, which steers the decoding of imperfect
//! (generated) latents towards token sequences of real text.

use crate::Error;
use crate::autoencoder::{BeamSearchConfig, DecodeStrategy, Fusion, TokenPrior};
use crate::metrics::{NgramLm, WordId};
use crate::tokenizer::Tokenizer;
use crate::tokenizer::special::{BOS_ID, EOS_ID};
use std::sync::Arc;

/// An [`NgramLm`] over a tokenizer's ids (Kneser–Ney, trained on a corpus tokenised like the
/// decoder's targets).
#[derive(Debug, Clone)]
pub struct NgramTokenPrior {
    lm: NgramLm,
    /// The model's word id of every token id, so that a lookup formats no strings.
    words: Vec<WordId>,
}

impl NgramTokenPrior {
    /// Trains an order-`order` model on `texts` as `tokenizer` encodes them.
    pub fn train<S: AsRef<str>>(
        tokenizer: &Tokenizer,
        texts: &[S],
        order: usize,
    ) -> Result<Self, Error> {
        let mut rows = Vec::with_capacity(texts.len());
        for text in texts {
            let ids = tokenizer.encode(text.as_ref())?;
            // Without <s> and </s>: the model pads and ends sentences itself.
            let inner = ids
                .iter()
                .filter(|&&id| id != BOS_ID && id != EOS_ID)
                .map(u32::to_string)
                .collect::<Vec<_>>();
            rows.push(inner);
        }
        // Both ways to fail (order 0, no text) are settings of the caller's.
        let lm = NgramLm::train(rows, order).map_err(|e| Error::Config(e.to_string()))?;
        let words = (0..tokenizer.vocab_size() as u32)
            .map(|id| lm.word_id(&id.to_string()))
            .collect();
        Ok(Self { lm, words })
    }

    /// The word model over id strings.
    pub fn lm(&self) -> &NgramLm {
        &self.lm
    }

    /// Beam search (`beam`) fused with this prior at `weight`, for
    /// `LatentDiffusionPipeline::with_decode_strategy`.
    pub fn into_fused_beam(self, beam: BeamSearchConfig, weight: f64) -> DecodeStrategy {
        DecodeStrategy::FusedBeam(beam, Fusion::new(Arc::new(self), weight))
    }
}

impl TokenPrior for NgramTokenPrior {
    fn log_prob(&self, context: &[u32], token: u32) -> f64 {
        let keep = self.lm.order() - 1;
        let word = |id: u32| {
            self.words
                .get(id as usize)
                .copied()
                .unwrap_or_else(|| self.lm.word_id(&id.to_string()))
        };
        let recent: Vec<WordId> = context[context.len().saturating_sub(keep)..]
            .iter()
            .map(|&id| word(id))
            .collect();
        self.lm
            .next_log_prob_ids(&recent, (token != EOS_ID).then(|| word(token)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::TokenizerConfig;

    #[test]
    fn a_corpus_continuation_beats_a_scrambled_one() {
        let corpus = [
            "the eagle is a coffee shop near the river",
            "the mill is a pub near the river",
            "zizzi is a coffee shop in the city centre",
        ];
        let config = TokenizerConfig {
            vocab_size: 120,
            min_frequency: 1,
            ..TokenizerConfig::default()
        };
        let tokenizer = Tokenizer::train(&config, corpus.iter()).unwrap();
        let prior = NgramTokenPrior::train(&tokenizer, &corpus, 3).unwrap();
        let ids = tokenizer
            .encode("the mill is a pub near the river")
            .unwrap();
        // ids: <s> … </s>; the generated context excludes <s>.
        let inner = &ids[1..ids.len() - 1];
        let (context, next) = (&inner[..2], inner[2]);
        let scrambled = inner[inner.len() - 1];
        assert!(prior.log_prob(context, next) > prior.log_prob(context, scrambled));
        // The end of a sentence is an event of its own.
        let end = prior.log_prob(inner, EOS_ID);
        assert!(end.is_finite() && end < 0.0);
        assert!(end > prior.log_prob(&inner[..1], EOS_ID));
        // The lookup by ids equals the word model's on the ids' strings, at every position,
        // for unseen tokens too.
        let unseen = tokenizer.vocab_size() as u32 - 1;
        for cut in 0..inner.len() {
            for next in [inner[cut], unseen, EOS_ID] {
                let words: Vec<String> = inner[..cut].iter().map(u32::to_string).collect();
                let by_words = prior.lm().next_log_prob(
                    &words,
                    (next != EOS_ID).then(|| next.to_string()).as_deref(),
                );
                assert_eq!(prior.log_prob(&inner[..cut], next), by_words);
            }
        }
    }
}
