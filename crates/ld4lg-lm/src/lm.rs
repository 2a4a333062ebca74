use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Device, Int, Tensor};
use ld4lg_nn::{BlockCache, LearnedPositions, TransformerBlock, TransformerBlockConfig};

/// Configuration of a [`CausalLm`].
#[derive(Config, Debug)]
pub struct CausalLmConfig {
    /// Vocabulary size (the tokenizer's).
    pub vocab_size: usize,
    /// Longest sequence in tokens, `<s>` and `</s>` included.
    #[config(default = 64)]
    pub max_len: usize,
    /// Width.
    #[config(default = 128)]
    pub d_model: usize,
    /// Transformer blocks.
    #[config(default = 3)]
    pub n_layers: usize,
    /// Attention heads.
    #[config(default = 4)]
    pub n_heads: usize,
}

/// Decoder-only pre-LN transformer: token embeddings and learned positions, causal blocks,
/// a final layer norm and an output tied to the token embeddings (plus a bias).
#[derive(Module, Debug)]
pub struct CausalLm {
    tokens: Embedding,
    positions: LearnedPositions,
    blocks: Vec<TransformerBlock>,
    norm: LayerNorm,
    bias: Param<Tensor<1>>,
}

impl CausalLmConfig {
    /// Checks the settings, naming the first one out of range.
    pub fn check(&self) -> Result<(), String> {
        if self.vocab_size == 0 || self.d_model == 0 || self.n_layers == 0 {
            return Err("vocab_size, d_model and n_layers must be positive".into());
        }
        if self.n_heads == 0 || !self.d_model.is_multiple_of(self.n_heads) {
            return Err(format!(
                "d_model ({}) must be a multiple of n_heads ({})",
                self.d_model, self.n_heads
            ));
        }
        if self.max_len < 3 {
            return Err(format!("max_len must be at least 3, got {}", self.max_len));
        }
        Ok(())
    }

    /// Builds the model.
    pub fn init(&self, device: &Device) -> CausalLm {
        let block = TransformerBlockConfig::new(self.d_model).with_n_heads(self.n_heads);
        CausalLm {
            tokens: EmbeddingConfig::new(self.vocab_size, self.d_model)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: 0.02,
                })
                .init(device),
            positions: LearnedPositions::new(self.max_len, self.d_model, device),
            blocks: (0..self.n_layers).map(|_| block.init(device)).collect(),
            norm: LayerNormConfig::new(self.d_model).init(device),
            bias: Param::from_tensor(Tensor::zeros([self.vocab_size], device)),
        }
    }
}

impl CausalLm {
    /// Longest sequence the model reads.
    pub fn max_len(&self) -> usize {
        self.positions.max_len()
    }

    /// Final hidden states (after the last layer norm) of every position.
    ///
    /// # Shapes
    /// - `ids`: `[batch, seq]`, `seq ≤ max_len`
    /// - output: `[batch, seq, d_model]`
    fn hidden(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let seq = ids.dims()[1];
        let mut x = self.tokens.forward(ids) + self.positions.first(seq);
        for block in &self.blocks {
            // Padding follows the text, so the causal mask alone hides it from real tokens.
            x = block.forward(x, None, true, None);
        }
        self.norm.forward(x)
    }

    /// Next-token logits for every prefix.
    ///
    /// # Shapes
    /// - `ids`: `[batch, seq]`, `seq ≤ max_len`
    /// - output: `[batch, seq, vocab]`, row `j` predicting token `j + 1`
    pub fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let table = self.tokens.weight.val().transpose().unsqueeze::<3>();
        self.hidden(ids).matmul(table) + self.bias.val().unsqueeze::<3>()
    }

    /// Log-probabilities of the token after position `last[b]` of each row, computing the
    /// output layer for those positions only (what shallow fusion asks at every step).
    ///
    /// # Shapes
    /// - `ids`: `[batch, seq]` (padding after the text), `last`: `[batch]`, each `< seq`
    /// - output: `[batch, vocab]`
    pub fn next_log_probs(&self, ids: Tensor<2, Int>, last: Tensor<1, Int>) -> Tensor<2> {
        let hidden = self.hidden(ids);
        let [batch, _, width] = hidden.dims();
        let index = last.reshape([batch, 1, 1]).expand([batch, 1, width]);
        self.output_log_probs(hidden.gather(1, index).reshape([batch, width]))
    }

    /// The tied output layer: log-probabilities of the next token from final hidden states.
    ///
    /// # Shapes
    /// - `hidden`: `[rows, d_model]`
    /// - output: `[rows, vocab]`
    fn output_log_probs(&self, hidden: Tensor<2>) -> Tensor<2> {
        let logits =
            hidden.matmul(self.tokens.weight.val().transpose()) + self.bias.val().unsqueeze::<2>();
        log_softmax(logits, 1)
    }

    /// Empty key/value caches for [`Self::step_log_probs`], one per block.
    pub fn start_caches(&self) -> Vec<BlockCache> {
        self.blocks.iter().map(|b| b.start_cache(None)).collect()
    }

    /// Feeds one token per row at the next position (after those in `caches`, which grow by
    /// it) and returns the log-probabilities of the token after it: [`Self::next_log_probs`]
    /// at the cost of one position per row instead of the whole prefix. Positions must stay
    /// below `max_len`.
    ///
    /// # Shapes
    /// - `tokens`: `[rows]`; every cache holds `rows` rows
    /// - output: `[rows, vocab]`
    pub fn step_log_probs(&self, tokens: Tensor<1, Int>, caches: &mut [BlockCache]) -> Tensor<2> {
        let rows = tokens.dims()[0];
        let position = caches.first().map_or(0, BlockCache::len);
        let mut x = self.tokens.forward(tokens.reshape([rows, 1])) + self.positions.at(position);
        for (block, cache) in self.blocks.iter().zip(caches.iter_mut()) {
            x = block.forward_step(x, cache);
        }
        let width = x.dims()[2];
        self.output_log_probs(self.norm.forward(x).reshape([rows, width]))
    }

    /// Log-probability of every token after the first given the tokens before it, 0 where
    /// that token is padding.
    ///
    /// # Shapes
    /// - `ids`: `[batch, seq]` (starting with `<s>`), `padding`: `[batch, seq]` (`true` = padding)
    /// - output: `[batch, seq − 1]`
    pub fn target_log_probs(&self, ids: Tensor<2, Int>, padding: Tensor<2, Bool>) -> Tensor<2> {
        let [batch, seq] = ids.dims();
        let inputs = ids.clone().narrow(1, 0, seq - 1);
        let targets = ids.narrow(1, 1, seq - 1);
        let real = padding.narrow(1, 1, seq - 1).bool_not().float();
        let log_probs = log_softmax(self.forward(inputs), 2);
        let picked = log_probs
            .gather(2, targets.unsqueeze_dim::<3>(2))
            .reshape([batch, seq - 1]);
        picked * real
    }

    /// Mean negative log-likelihood per real target token (the training loss).
    ///
    /// # Shapes
    /// - `ids`, `padding`: as [`Self::target_log_probs`]
    /// - output: `[1]`
    pub fn loss(&self, ids: Tensor<2, Int>, padding: Tensor<2, Bool>) -> Tensor<1> {
        let seq = ids.dims()[1];
        let count = padding
            .clone()
            .narrow(1, 1, seq - 1)
            .bool_not()
            .float()
            .sum()
            .clamp_min(1.0);
        self.target_log_probs(ids, padding).sum().neg() / count
    }
}
