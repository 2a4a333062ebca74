use burn::config::Config;
use burn::module::Module;
use burn::nn::{Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Tensor};
use ld4lg_nn::{Attention, AttentionConfig, Gelu};

/// Configuration of an [`AdaLnBlock`].
#[derive(Config, Debug)]
pub struct AdaLnBlockConfig {
    /// Width.
    pub d_model: usize,
    /// Attention heads.
    #[config(default = 4)]
    pub n_heads: usize,
    /// Width of the cross-attention context; `None` builds none.
    #[config(default = "None")]
    pub d_context: Option<usize>,
}

/// Transformer block with adaptive layer norm (DiT's adaLN-Zero): the conditioning vector
/// gives a shift, a scale and a gate for the attention and the MLP branches. The modulation is
/// zero-initialised, so every block starts as the identity.
#[derive(Module, Debug)]
pub struct AdaLnBlock {
    modulation: Linear,
    attention_norm: LayerNorm,
    attention: Attention,
    cross: Option<(LayerNorm, Attention)>,
    mlp_norm: LayerNorm,
    mlp_in: Linear,
    mlp_out: Linear,
    activation: Gelu,
}

impl AdaLnBlockConfig {
    /// Builds the block.
    pub fn init(&self, device: &Device) -> AdaLnBlock {
        let d = self.d_model;
        // Affine-free norms: adaLN provides scale and shift.
        let norm = || LayerNormConfig::new(d).with_bias(false).init(device);
        AdaLnBlock {
            modulation: LinearConfig::new(d, 6 * d)
                .with_initializer(Initializer::Zeros)
                .init(device),
            attention_norm: norm(),
            attention: AttentionConfig::new(d)
                .with_n_heads(self.n_heads)
                .init(device),
            cross: self.d_context.map(|dc| {
                (
                    LayerNormConfig::new(d).init(device),
                    AttentionConfig::new(d)
                        .with_n_heads(self.n_heads)
                        .with_d_context(Some(dc))
                        .init(device),
                )
            }),
            mlp_norm: norm(),
            mlp_in: LinearConfig::new(d, 4 * d).init(device),
            mlp_out: LinearConfig::new(4 * d, d).init(device),
            activation: Gelu::new(),
        }
    }
}

impl AdaLnBlock {
    /// # Shapes
    /// - `x`: `[batch, l, d_model]`; `conditioning`: `[batch, d_model]`
    /// - `context`: `([batch, s, d_context], [batch, s] padding)` when the block cross-attends
    /// - output: `[batch, l, d_model]`
    pub fn forward(
        &self,
        x: Tensor<3>,
        conditioning: Tensor<2>,
        context: Option<(Tensor<3>, Tensor<2, Bool>)>,
    ) -> Tensor<3> {
        let [batch, _, d] = x.dims();
        let m = self.modulation.forward(conditioning).reshape([batch, 6, d]);
        let part = |i: usize| m.clone().narrow(1, i, 1); // [batch, 1, d]
        let modulate = |h: Tensor<3>, shift: Tensor<3>, scale: Tensor<3>| h * (scale + 1.0) + shift;

        let h = modulate(self.attention_norm.forward(x.clone()), part(0), part(1));
        let mut x = x + self.attention.forward(h.clone(), h, None, false) * part(2);
        if let (Some((norm, attention)), Some((context, padding))) = (&self.cross, context) {
            x = x.clone() + attention.forward(norm.forward(x), context, Some(padding), false);
        }
        let h = modulate(self.mlp_norm.forward(x.clone()), part(3), part(4));
        x + self
            .mlp_out
            .forward(self.activation.forward(self.mlp_in.forward(h)))
            * part(5)
    }
}
