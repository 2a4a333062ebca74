use crate::{Attention, AttentionConfig};
use burn::config::Config;
use burn::module::Module;
use burn::nn::{Gelu, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Tensor};

/// Configuration of a pre-LN [`TransformerBlock`].
#[derive(Config, Debug)]
pub struct TransformerBlockConfig {
    /// Model width.
    pub d_model: usize,
    /// Attention heads.
    #[config(default = 4)]
    pub n_heads: usize,
    /// Hidden width of the MLP as a multiple of `d_model`.
    #[config(default = 4)]
    pub mlp_ratio: usize,
    /// Width of the cross-attention context; `None` builds no cross-attention.
    #[config(default = "None")]
    pub d_cross: Option<usize>,
}

/// Pre-LN transformer block: self-attention, optional cross-attention, GELU MLP, each as
/// `x + f(LayerNorm(x))`.
#[derive(Module, Debug)]
pub struct TransformerBlock {
    self_norm: LayerNorm,
    self_attention: Attention,
    cross: Option<CrossAttention>,
    mlp_norm: LayerNorm,
    mlp_in: Linear,
    mlp_out: Linear,
    activation: Gelu,
}

/// The cross-attention sub-layer of a block.
#[derive(Module, Debug)]
pub struct CrossAttention {
    norm: LayerNorm,
    attention: Attention,
}

impl TransformerBlockConfig {
    /// Builds the block.
    pub fn init(&self, device: &Device) -> TransformerBlock {
        let attention = |d_context| {
            AttentionConfig::new(self.d_model)
                .with_n_heads(self.n_heads)
                .with_d_context(d_context)
                .init(device)
        };
        TransformerBlock {
            self_norm: LayerNormConfig::new(self.d_model).init(device),
            self_attention: attention(None),
            cross: self.d_cross.map(|d| CrossAttention {
                norm: LayerNormConfig::new(self.d_model).init(device),
                attention: attention(Some(d)),
            }),
            mlp_norm: LayerNormConfig::new(self.d_model).init(device),
            mlp_in: LinearConfig::new(self.d_model, self.d_model * self.mlp_ratio).init(device),
            mlp_out: LinearConfig::new(self.d_model * self.mlp_ratio, self.d_model).init(device),
            activation: Gelu::new(),
        }
    }
}

impl TransformerBlock {
    /// # Shapes
    /// - `x`: `[batch, n, d_model]`; `padding`: `[batch, n]` (`true` = padding)
    /// - `cross`: `([batch, m, d_cross], [batch, m] padding)` when the block has cross-attention
    /// - output: `[batch, n, d_model]`
    pub fn forward(
        &self,
        x: Tensor<3>,
        padding: Option<Tensor<2, Bool>>,
        causal: bool,
        cross: Option<(Tensor<3>, Option<Tensor<2, Bool>>)>,
    ) -> Tensor<3> {
        let h = self.self_norm.forward(x.clone());
        let mut x = x + self.self_attention.forward(h.clone(), h, padding, causal);
        if let (Some(layer), Some((context, context_padding))) = (&self.cross, cross) {
            let h = layer.norm.forward(x.clone());
            x = x + layer.attention.forward(h, context, context_padding, false);
        }
        let h = self.mlp_norm.forward(x.clone());
        x + self
            .mlp_out
            .forward(self.activation.forward(self.mlp_in.forward(h)))
    }
}
