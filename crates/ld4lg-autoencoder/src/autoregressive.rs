use crate::Fusion;
use crate::output::token_scores;
use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{
    Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig,
};
use burn::tensor::activation::log_softmax;
use burn::tensor::module::embedding;
use burn::tensor::{Device, Int, Tensor, TensorData};
use ld4lg_nn::{BlockCache, LearnedPositions, TransformerBlock, TransformerBlockConfig};

/// Configuration of the [`AutoregressiveDecoder`].
#[derive(Config, Debug)]
pub struct AutoregressiveDecoderConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Longest text in tokens.
    pub max_len: usize,
    /// Width.
    pub d_model: usize,
    /// Transformer blocks.
    #[config(default = 3)]
    pub n_layers: usize,
    /// Attention heads.
    #[config(default = 4)]
    pub n_heads: usize,
    /// Read input tokens from, and score output tokens against, token embeddings given to
    /// every call (the encoder's, tied) plus an output bias of its own, instead of an input
    /// table and an output matrix of its own. Default: false.
    #[config(default = false)]
    pub tied_embeddings: bool,
}

/// Beam search settings.
#[derive(Config, Debug, PartialEq)]
pub struct BeamSearchConfig {
    /// Number of hypotheses kept per example; 1 is greedy.
    #[config(default = 4)]
    pub beam_size: usize,
    /// Finished hypotheses are ranked by `log p / length^length_penalty`.
    #[config(default = 1.0)]
    pub length_penalty: f64,
    /// Forbid repeating any n-gram of this size (0 disables).
    #[config(default = 0)]
    pub no_repeat_ngram: usize,
    /// Forbid a token right after itself ("restaurant restaurant"), the commonest fault of
    /// decoding imperfect latents, without banning the words that legitimately recur in a
    /// text ("a", "the"), as `no_repeat_ngram = 1` would. Default: false.
    #[config(default = false)]
    pub no_adjacent_repeat: bool,
}

/// Causal transformer decoder cross-attending to the decoder memory.
#[derive(Module, Debug)]
pub struct AutoregressiveDecoder {
    /// Input table, absent when tied to given token embeddings.
    tokens: Option<Embedding>,
    positions: LearnedPositions,
    blocks: Vec<TransformerBlock>,
    norm: LayerNorm,
    /// Output matrix, absent when tied to given token embeddings.
    head: Option<Linear>,
    /// Output bias of the tied form, `[vocab]`.
    tied_bias: Option<Param<Tensor<1>>>,
}

impl AutoregressiveDecoderConfig {
    /// Builds the decoder.
    pub fn init(&self, device: &Device) -> AutoregressiveDecoder {
        let block = TransformerBlockConfig::new(self.d_model)
            .with_n_heads(self.n_heads)
            .with_d_cross(Some(self.d_model));
        let own = !self.tied_embeddings;
        AutoregressiveDecoder {
            tokens: own.then(|| {
                EmbeddingConfig::new(self.vocab_size, self.d_model)
                    .with_initializer(Initializer::Normal {
                        mean: 0.0,
                        std: 0.02,
                    })
                    .init(device)
            }),
            positions: LearnedPositions::new(self.max_len, self.d_model, device),
            blocks: (0..self.n_layers).map(|_| block.init(device)).collect(),
            norm: LayerNormConfig::new(self.d_model).init(device),
            head: own.then(|| LinearConfig::new(self.d_model, self.vocab_size).init(device)),
            tied_bias: self
                .tied_embeddings
                .then(|| Param::from_tensor(Tensor::zeros([self.vocab_size], device))),
        }
    }
}

impl AutoregressiveDecoder {
    /// Longest text this decoder produces.
    pub fn max_len(&self) -> usize {
        self.positions.max_len()
    }

    /// Whether input and output use given token embeddings.
    pub fn is_tied(&self) -> bool {
        self.head.is_none()
    }

    /// # Panics
    /// When the decoder is tied and no embeddings are given (a programming error).
    fn embed(&self, ids: Tensor<2, Int>, token_embeddings: Option<&Tensor<2>>) -> Tensor<3> {
        match &self.tokens {
            Some(tokens) => tokens.forward(ids),
            None => embedding(
                token_embeddings
                    .expect("a tied autoregressive decoder needs the token embeddings")
                    .clone(),
                ids,
            ),
        }
    }

    fn logits(&self, x: Tensor<3>, token_embeddings: Option<&Tensor<2>>) -> Tensor<3> {
        let hidden = self.norm.forward(x);
        token_scores(
            hidden,
            self.head.as_ref(),
            self.tied_bias.as_ref(),
            token_embeddings,
        )
    }

    /// Next-token logits for every prefix (teacher forcing). `token_embeddings` is used only
    /// by a decoder built with `tied_embeddings`.
    ///
    /// # Shapes
    /// - `ids`: `[batch, seq]` (starting with `<s>`); `memory`: `[batch, l, d_model]`;
    ///   `token_embeddings`: `[vocab, d_model]`
    /// - output: `[batch, seq, vocab]`, row `j` predicting token `j + 1`
    ///
    /// # Panics
    /// When the decoder is tied and no embeddings are given (a programming error).
    pub fn forward(
        &self,
        ids: Tensor<2, Int>,
        memory: Tensor<3>,
        token_embeddings: Option<Tensor<2>>,
    ) -> Tensor<3> {
        let seq = ids.dims()[1];
        let mut x = self.embed(ids, token_embeddings.as_ref()) + self.positions.first(seq);
        for block in &self.blocks {
            // Padding sits after the text, so the causal mask already hides it from every
            // real position.
            x = block.forward(x, None, true, Some((memory.clone(), None)));
        }
        self.logits(x, token_embeddings.as_ref())
    }

    /// One cache per block for incremental decoding, the memory projected once.
    ///
    /// # Shapes
    /// - `memory`: `[batch, l, d_model]`
    fn start_caches(&self, memory: Tensor<3>) -> Vec<BlockCache> {
        self.blocks
            .iter()
            .map(|block| block.start_cache(Some((memory.clone(), None))))
            .collect()
    }

    /// Feeds one token per row at the next position and returns the logits of the token
    /// after it; the caches grow by that position. Costs one position per row instead of the
    /// whole prefix.
    ///
    /// # Shapes
    /// - output: `[rows, vocab]`
    fn step_logits(
        &self,
        tokens: &[u32],
        caches: &mut [BlockCache],
        token_embeddings: Option<&Tensor<2>>,
        device: &Device,
    ) -> Tensor<2> {
        let rows = tokens.len();
        let position = caches.first().map_or(0, BlockCache::len);
        let ids = Tensor::<2, Int>::from_data(
            TensorData::new(tokens.iter().map(|&t| i64::from(t)).collect(), [rows, 1]),
            device,
        );
        let mut x = self.embed(ids, token_embeddings) + self.positions.at(position);
        for (block, cache) in self.blocks.iter().zip(caches.iter_mut()) {
            x = block.forward_step(x, cache);
        }
        let logits = self.logits(x, token_embeddings);
        let vocab = logits.dims()[2];
        logits.reshape([rows, vocab])
    }

    /// [`Self::step_logits`] as log-probabilities on the host, one row per input row.
    fn step(
        &self,
        tokens: &[u32],
        caches: &mut [BlockCache],
        token_embeddings: Option<&Tensor<2>>,
        device: &Device,
    ) -> Vec<Vec<f32>> {
        let logits = self.step_logits(tokens, caches, token_embeddings, device);
        let vocab = logits.dims()[1];
        let values: Vec<f32> = log_softmax(logits, 1)
            .into_data()
            .try_to_vec_as()
            .unwrap_or_default();
        values.chunks(vocab).map(<[f32]>::to_vec).collect()
    }

    /// Greedy decoding: `<s>` then the most likely token until `</s>` or `max_len`.
    /// Returns the ids after `<s>` up to and including `</s>` (if produced).
    ///
    /// # Shapes
    /// - `memory`: `[batch, l, d_model]`; `token_embeddings` (tied decoders): `[vocab, d_model]`
    pub fn greedy(
        &self,
        memory: Tensor<3>,
        token_embeddings: Option<Tensor<2>>,
        bos: u32,
        eos: u32,
    ) -> Vec<Vec<u32>> {
        let batch = memory.dims()[0];
        let device = memory.device();
        let mut caches = self.start_caches(memory);
        let mut sequences: Vec<Vec<u32>> = vec![Vec::new(); batch];
        // Rows of the caches, in order: the examples still decoding.
        let mut active: Vec<usize> = (0..batch).collect();
        let mut last = vec![bos; batch];
        for _ in 1..self.max_len() {
            // The argmax on the device: one id per row comes back instead of the vocabulary.
            let best: Vec<i64> = self
                .step_logits(&last, &mut caches, token_embeddings.as_ref(), &device)
                .argmax(1)
                .into_data()
                .try_to_vec_as()
                .unwrap_or_default();
            let mut kept = Vec::with_capacity(active.len());
            last.clear();
            for (row, &b) in active.iter().enumerate() {
                let token = best[row] as u32;
                sequences[b].push(token);
                if token != eos {
                    kept.push(row);
                    last.push(token);
                }
            }
            if kept.is_empty() {
                break;
            }
            if kept.len() < active.len() {
                caches = select_rows(caches, &kept, &device);
                active = kept.iter().map(|&row| active[row]).collect();
            }
        }
        sequences
    }

    /// Beam search; with `beam_size = 1`, no n-gram ban and no fusion it equals
    /// [`Self::greedy`]. With `fusion`, hypotheses are scored by the decoder's
    /// log-probabilities plus the weighted prior's (also when ranking finished ones).
    ///
    /// # Shapes
    /// - `memory`: `[batch, l, d_model]`; `token_embeddings` (tied decoders): `[vocab, d_model]`
    pub fn beam_search(
        &self,
        memory: Tensor<3>,
        token_embeddings: Option<Tensor<2>>,
        bos: u32,
        eos: u32,
        config: &BeamSearchConfig,
        fusion: Option<&Fusion>,
    ) -> Vec<Vec<u32>> {
        let batch = memory.dims()[0];
        let k = config.beam_size.max(1);
        let device = memory.device();
        let normalised =
            |score: f64, len: usize| score / (len.max(1) as f64).powf(config.length_penalty);
        // Per example: alive (tokens, score) and finished (tokens, normalised score). The rows
        // of `caches` are the alive hypotheses, example by example.
        let mut alive: Vec<Vec<(Vec<u32>, f64)>> = vec![vec![(vec![bos], 0.0)]; batch];
        let mut finished: Vec<Vec<(Vec<u32>, f64)>> = vec![Vec::new(); batch];
        let mut caches = self.start_caches(memory);
        // The prior's own state, when it keeps one, follows the rows of `caches`.
        let mut prior_state = fusion.and_then(|f| f.prior.start(batch));
        for step in 1..self.max_len() {
            let last: Vec<u32> = alive
                .iter()
                .flatten()
                .map(|(tokens, _)| tokens.last().copied().unwrap_or(bos))
                .collect();
            let log_probs = self.step(&last, &mut caches, token_embeddings.as_ref(), &device);
            // Highest score first, ties to the lower id: a total order, so selecting the top k
            // then sorting them equals sorting the whole vocabulary.
            let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
            let width = fusion.map_or(k, |f| f.candidates.max(k));
            // The decoder's best next tokens of every alive hypothesis, in cache-row order.
            let mut best: Vec<Vec<(u32, f32)>> = alive
                .iter()
                .flatten()
                .zip(&log_probs)
                .map(|((tokens, _), scores)| {
                    let mut banned = banned_tokens(tokens, config.no_repeat_ngram);
                    if config.no_adjacent_repeat && tokens.len() > 1 {
                        banned.extend(tokens.last());
                    }
                    let mut best: Vec<(u32, f32)> = scores
                        .iter()
                        .enumerate()
                        .filter(|(t, _)| !banned.contains(&(*t as u32)))
                        .map(|(t, &s)| (t as u32, s))
                        .collect();
                    if best.len() > width {
                        best.select_nth_unstable_by(width - 1, order);
                        best.truncate(width);
                    }
                    best
                })
                .collect();
            if let Some(fusion) = fusion {
                // One call for all hypotheses: a neural prior scores them as one batch.
                let next: Vec<Vec<u32>> = best
                    .iter()
                    .map(|row| row.iter().map(|&(t, _)| t).collect())
                    .collect();
                let priors = match prior_state.as_mut() {
                    Some(state) => state.log_probs(&next),
                    None => {
                        let contexts: Vec<&[u32]> = alive
                            .iter()
                            .flatten()
                            .map(|(tokens, _)| &tokens[1..])
                            .collect();
                        fusion.prior.log_probs(&contexts, &next)
                    }
                };
                for (row, prior) in best.iter_mut().zip(priors) {
                    for ((_, s), p) in row.iter_mut().zip(prior) {
                        *s += (fusion.weight * p) as f32;
                    }
                    if row.len() > k {
                        row.select_nth_unstable_by(k - 1, order);
                        row.truncate(k);
                    }
                }
            }
            let mut best = best.into_iter();
            let mut row = 0;
            // Cache row of each new alive hypothesis's parent.
            let mut parents: Vec<usize> = Vec::new();
            for b in 0..batch {
                let beams = std::mem::take(&mut alive[b]);
                let mut candidates: Vec<(usize, u32, f64)> = Vec::new();
                for (i, (_, score)) in beams.iter().enumerate() {
                    let mut scored = best.next().unwrap_or_default();
                    scored.sort_by(order);
                    for (token, s) in scored {
                        candidates.push((i, token, score + f64::from(s)));
                    }
                }
                let first_row = row;
                row += beams.len();
                candidates
                    .sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
                let last_step = step + 1 == self.max_len();
                let first_parent = parents.len();
                for (i, token, score) in candidates {
                    if alive[b].len() >= k || finished[b].len() >= k {
                        break;
                    }
                    let mut tokens = beams[i].0.clone();
                    tokens.push(token);
                    if token == eos || last_step {
                        let len = tokens.len() - 1;
                        finished[b].push((tokens, normalised(score, len)));
                    } else {
                        alive[b].push((tokens, score));
                        parents.push(first_row + i);
                    }
                }
                if finished[b].len() >= k {
                    alive[b].clear();
                    parents.truncate(first_parent);
                }
            }
            if parents.is_empty() {
                break;
            }
            caches = select_rows(caches, &parents, &device);
            if let Some(state) = prior_state.as_mut() {
                let newest: Vec<u32> = alive
                    .iter()
                    .flatten()
                    .map(|(tokens, _)| tokens.last().copied().unwrap_or(bos))
                    .collect();
                state.advance(&parents, &newest);
            }
        }
        (0..batch)
            .map(|b| {
                let pool = if finished[b].is_empty() {
                    alive[b]
                        .iter()
                        .map(|(t, s)| (t.clone(), normalised(*s, t.len() - 1)))
                        .collect()
                } else {
                    finished[b].clone()
                };
                let best = pool
                    .into_iter()
                    .max_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|(t, _)| t)
                    .unwrap_or_else(|| vec![bos]);
                trim(&best[1..], eos)
            })
            .collect()
    }
}

/// Keeps (and repeats) the listed rows of every block's cache.
fn select_rows(caches: Vec<BlockCache>, rows: &[usize], device: &Device) -> Vec<BlockCache> {
    let index = Tensor::<1, Int>::from_data(
        TensorData::new(rows.iter().map(|&r| r as i64).collect(), [rows.len()]),
        device,
    );
    caches
        .into_iter()
        .map(|cache| cache.select_rows(index.clone()))
        .collect()
}

/// Tokens up to and including the first `eos`.
fn trim(tokens: &[u32], eos: u32) -> Vec<u32> {
    match tokens.iter().position(|&t| t == eos) {
        Some(end) => tokens[..=end].to_vec(),
        None => tokens.to_vec(),
    }
}

/// Tokens that would complete an n-gram already present in `tokens`.
fn banned_tokens(tokens: &[u32], n: usize) -> Vec<u32> {
    if n == 0 || tokens.len() < n {
        return Vec::new();
    }
    let prefix = &tokens[tokens.len() - (n - 1)..];
    tokens
        .windows(n)
        .filter(|w| &w[..n - 1] == prefix)
        .map(|w| w[n - 1])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_steps_give_the_teacher_forced_log_probabilities() {
        use burn::tensor::Distribution;
        let device = Device::flex();
        for tied in [false, true] {
            let decoder = AutoregressiveDecoderConfig::new(11, 8, 16)
                .with_n_layers(2)
                .with_n_heads(2)
                .with_tied_embeddings(tied)
                .init(&device);
            let embeddings = tied
                .then(|| Tensor::<2>::random([11, 16], Distribution::Normal(0.0, 1.0), &device));
            let memory = Tensor::<3>::random([2, 3, 16], Distribution::Normal(0.0, 1.0), &device);
            let rows = [[1u32, 5, 7, 3, 9], [1, 4, 4, 10, 2]];
            let flat: Vec<i64> = rows.iter().flatten().map(|&t| i64::from(t)).collect();
            let ids = Tensor::<2, Int>::from_data(TensorData::new(flat, [2, 5]), &device);
            let forced: Vec<f32> =
                log_softmax(decoder.forward(ids, memory.clone(), embeddings.clone()), 2)
                    .into_data()
                    .try_to_vec_as()
                    .unwrap();
            let mut caches = decoder.start_caches(memory);
            for (position, (&first, &second)) in rows[0].iter().zip(&rows[1]).enumerate() {
                let tokens = [first, second];
                let stepped = decoder.step(&tokens, &mut caches, embeddings.as_ref(), &device);
                for (b, row) in stepped.iter().enumerate() {
                    let offset = (b * 5 + position) * 11;
                    for (v, value) in row.iter().enumerate() {
                        let diff = (value - forced[offset + v]).abs();
                        assert!(
                            diff < 1e-4,
                            "tied {tied}, row {b}, position {position}: {diff}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_tied_decoder_reads_and_scores_with_the_given_embeddings() {
        use burn::tensor::Distribution;
        let device = Device::flex();
        let decoder = AutoregressiveDecoderConfig::new(11, 8, 16)
            .with_n_layers(1)
            .with_n_heads(2)
            .with_tied_embeddings(true)
            .init(&device);
        assert!(decoder.is_tied());
        let memory = Tensor::<3>::random([1, 3, 16], Distribution::Normal(0.0, 1.0), &device);
        let ids = Tensor::<2, Int>::from_data(TensorData::new(vec![1i64, 5, 7], [1, 3]), &device);
        let table = Tensor::<2>::random([11, 16], Distribution::Normal(0.0, 1.0), &device);
        let logits = |table: Tensor<2>| -> Vec<f32> {
            decoder
                .forward(ids.clone(), memory.clone(), Some(table))
                .into_data()
                .try_to_vec_as()
                .unwrap()
        };
        let base = logits(table.clone());
        // A token absent from the input: changing its row changes its own scores only (its
        // logit is the hidden state · its row, plus a bias of its own).
        let changed = table.clone().slice_assign(
            [9..10, 0..16],
            Tensor::<2>::random([1, 16], Distribution::Normal(0.0, 1.0), &device),
        );
        let other = logits(changed);
        for (i, (a, b)) in base.iter().zip(&other).enumerate() {
            if i % 11 == 9 {
                assert!((a - b).abs() > 1e-6, "token 9's score must follow its row");
            } else {
                assert!((a - b).abs() < 1e-5, "position {i}: other scores changed");
            }
        }
        // A token of the input: changing its row changes the later positions' other scores.
        let read = table.slice_assign(
            [5..6, 0..16],
            Tensor::<2>::random([1, 16], Distribution::Normal(0.0, 1.0), &device),
        );
        let moved = logits(read);
        assert!(
            base.iter()
                .zip(&moved)
                .skip(11)
                .any(|(a, b)| (a - b).abs() > 1e-4)
        );
    }

    #[test]
    fn fusion_steers_the_beam_and_weight_zero_changes_nothing() {
        use crate::TokenPrior;
        use burn::tensor::Distribution;
        use std::sync::Arc;
        /// Only `</s>` is likely: a strong prior ends every text at once.
        #[derive(Debug)]
        struct EndNow(u32);
        impl TokenPrior for EndNow {
            fn log_prob(&self, _context: &[u32], token: u32) -> f64 {
                if token == self.0 { 0.0 } else { -1e3 }
            }
        }
        let device = Device::flex();
        let decoder = AutoregressiveDecoderConfig::new(11, 8, 16)
            .with_n_layers(1)
            .with_n_heads(2)
            .init(&device);
        let memory = Tensor::<3>::random([3, 3, 16], Distribution::Normal(0.0, 1.0), &device);
        let (bos, eos) = (1, 2);
        let beam = BeamSearchConfig::new().with_beam_size(3);
        let plain = decoder.beam_search(memory.clone(), None, bos, eos, &beam, None);
        let prior: Arc<dyn TokenPrior> = Arc::new(EndNow(eos));
        let silent = Fusion::new(prior.clone(), 0.0);
        assert_eq!(
            decoder.beam_search(memory.clone(), None, bos, eos, &beam, Some(&silent)),
            plain
        );
        // Every token rescored, so `</s>` is always among the candidates.
        let strong = Fusion {
            candidates: 11,
            ..Fusion::new(prior, 1.0)
        };
        let ended = decoder.beam_search(memory, None, bos, eos, &beam, Some(&strong));
        assert_eq!(ended, vec![vec![eos]; 3]);
    }

    #[test]
    fn repeated_ngrams_are_banned() {
        // "a b c a b" with n = 3: the next "c" would repeat "a b c".
        assert_eq!(banned_tokens(&[1, 2, 3, 1, 2], 3), vec![3]);
        assert!(banned_tokens(&[1, 2, 3], 0).is_empty());
        assert_eq!(banned_tokens(&[5, 5], 1), vec![5, 5]);
    }

    #[test]
    fn trim_keeps_the_first_eos() {
        assert_eq!(trim(&[7, 8, 2, 9, 2], 2), vec![7, 8, 2]);
        assert_eq!(trim(&[7, 8], 2), vec![7, 8]);
    }
}
