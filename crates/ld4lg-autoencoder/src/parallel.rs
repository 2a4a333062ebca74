use crate::output::token_scores;
use burn::config::Config;
use burn::module::{Module, Param};
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
    /// Score tokens against token embeddings given to [`ParallelDecoder::forward`] (the
    /// encoder's, tied) plus a bias of its own, instead of an output matrix of its own.
    /// Default: false.
    #[config(default = false)]
    pub tied_output: bool,
}

/// Non-autoregressive decoder: learned position queries attend to each other and to the
/// decoder memory, and every position is predicted at once. The text ends at the first
/// `</s>`.
#[derive(Module, Debug)]
pub struct ParallelDecoder {
    queries: LearnedPositions,
    blocks: Vec<TransformerBlock>,
    norm: LayerNorm,
    /// Output matrix, absent when the output is tied to given token embeddings.
    head: Option<Linear>,
    /// Output bias of the tied form, `[vocab]`.
    tied_bias: Option<Param<Tensor<1>>>,
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
            head: (!self.tied_output)
                .then(|| LinearConfig::new(self.d_model, self.vocab_size).init(device)),
            tied_bias: self
                .tied_output
                .then(|| Param::from_tensor(Tensor::zeros([self.vocab_size], device))),
        }
    }
}

impl ParallelDecoder {
    /// Number of output positions.
    pub fn max_len(&self) -> usize {
        self.queries.max_len()
    }

    /// Whether the output scores tokens against given token embeddings.
    pub fn is_tied(&self) -> bool {
        self.head.is_none()
    }

    /// Logits for the first `len` positions. `token_embeddings` is used only by a decoder
    /// built with `tied_output`.
    ///
    /// # Shapes
    /// - `memory`: `[batch, l, d_model]`; `token_embeddings`: `[vocab, d_model]`
    /// - output: `[batch, len, vocab]`
    ///
    /// # Panics
    /// When the decoder is tied and no embeddings are given (a programming error).
    pub fn forward(
        &self,
        memory: Tensor<3>,
        len: usize,
        token_embeddings: Option<Tensor<2>>,
    ) -> Tensor<3> {
        let [batch, _, d] = memory.dims();
        let mut x = self.queries.first(len).expand([batch, len, d]);
        for block in &self.blocks {
            x = block.forward(x, None, false, Some((memory.clone(), None)));
        }
        let hidden = self.norm.forward(x);
        token_scores(
            hidden,
            self.head.as_ref(),
            self.tied_bias.as_ref(),
            token_embeddings.as_ref(),
        )
    }
}
