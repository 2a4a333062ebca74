use burn::config::Config;
use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use ld4lg_nn::{LearnedPositions, TransformerBlock, TransformerBlockConfig};

/// Configuration of the [`ParallelDecoder`].
#[derive(Config, Debug)]
pub struct ParallelDecoderConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Number of output positions (the longest text).
    pub max_len: usize,
    /// Width.
    pub d_model: usize,
    /// Transformer blocks.
    #[config(default = 3)]
    pub n_layers: usize,
    /// Attention heads.
    #[config(default = 4)]
    pub n_heads: usize,
}

/// Non-autoregressive decoder: learned position queries attend to each other and to the
/// decoder memory, and every position is predicted at once. The text ends at the first
/// `</s>`.
#[derive(Module, Debug)]
pub struct ParallelDecoder {
    queries: LearnedPositions,
    blocks: Vec<TransformerBlock>,
    norm: LayerNorm,
    head: Linear,
}

impl ParallelDecoderConfig {
    /// Builds the decoder.
    pub fn init(&self, device: &Device) -> ParallelDecoder {
        let block = TransformerBlockConfig::new(self.d_model)
            .with_n_heads(self.n_heads)
            .with_d_cross(Some(self.d_model));
        ParallelDecoder {
            queries: LearnedPositions::new(self.max_len, self.d_model, device),
            blocks: (0..self.n_layers).map(|_| block.init(device)).collect(),
            norm: LayerNormConfig::new(self.d_model).init(device),
            head: LinearConfig::new(self.d_model, self.vocab_size).init(device),
        }
    }
}

impl ParallelDecoder {
    /// Number of output positions.
    pub fn max_len(&self) -> usize {
        self.queries.max_len()
    }

    /// Logits for the first `len` positions.
    ///
    /// # Shapes
    /// - `memory`: `[batch, l, d_model]` → `[batch, len, vocab]`
    pub fn forward(&self, memory: Tensor<3>, len: usize) -> Tensor<3> {
        let [batch, _, d] = memory.dims();
        let mut x = self.queries.first(len).expand([batch, len, d]);
        for block in &self.blocks {
            x = block.forward(x, None, false, Some((memory.clone(), None)));
        }
        self.head.forward(self.norm.forward(x))
    }
}
