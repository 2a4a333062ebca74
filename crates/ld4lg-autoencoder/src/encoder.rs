use burn::config::Config;
use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig};
use burn::tensor::{Bool, Device, Int, Tensor};
use ld4lg_nn::{LearnedPositions, TransformerBlock, TransformerBlockConfig};

/// Configuration of the [`TextEncoder`].
#[derive(Config, Debug)]
pub struct TextEncoderConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Longest input in tokens.
    pub max_len: usize,
    /// Width.
    #[config(default = 128)]
    pub d_model: usize,
    /// Number of transformer blocks.
    #[config(default = 3)]
    pub n_layers: usize,
    /// Attention heads.
    #[config(default = 4)]
    pub n_heads: usize,
}

/// Bidirectional pre-LN transformer over token embeddings and learned positions.
#[derive(Module, Debug)]
pub struct TextEncoder {
    tokens: Embedding,
    positions: LearnedPositions,
    blocks: Vec<TransformerBlock>,
    norm: LayerNorm,
}

impl TextEncoderConfig {
    /// Builds the encoder.
    pub fn init(&self, device: &Device) -> TextEncoder {
        let block = TransformerBlockConfig::new(self.d_model).with_n_heads(self.n_heads);
        TextEncoder {
            tokens: EmbeddingConfig::new(self.vocab_size, self.d_model)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: 0.02,
                })
                .init(device),
            positions: LearnedPositions::new(self.max_len, self.d_model, device),
            blocks: (0..self.n_layers).map(|_| block.init(device)).collect(),
            norm: LayerNormConfig::new(self.d_model).init(device),
        }
    }
}

impl TextEncoder {
    /// Longest input this encoder takes.
    pub fn max_len(&self) -> usize {
        self.positions.max_len()
    }

    /// The token embedding table.
    ///
    /// # Shapes
    /// - output: `[vocab, d_model]`
    pub fn token_embeddings(&self) -> Tensor<2> {
        self.tokens.weight.val()
    }

    /// # Shapes
    /// - `ids`: `[batch, seq]` with `seq <= max_len`; `padding`: `[batch, seq]` (`true` = pad)
    /// - output: `[batch, seq, d_model]`
    pub fn forward(&self, ids: Tensor<2, Int>, padding: Tensor<2, Bool>) -> Tensor<3> {
        let seq = ids.dims()[1];
        let mut x = self.tokens.forward(ids) + self.positions.first(seq);
        for block in &self.blocks {
            x = block.forward(x, Some(padding.clone()), false, None);
        }
        self.norm.forward(x)
    }
}
