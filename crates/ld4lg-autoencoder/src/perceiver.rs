use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Distribution, Int, Tensor};
use ld4lg_nn::{Attention, AttentionConfig, Gelu};

/// Configuration of the [`PerceiverResampler`].
#[derive(Config, Debug)]
pub struct PerceiverConfig {
    /// Width of the encoder states (and of the latents inside the resampler).
    pub d_model: usize,
    /// Number of latent vectors `l`.
    #[config(default = 16)]
    pub num_latents: usize,
    /// Number of resampler layers.
    #[config(default = 2)]
    pub n_layers: usize,
    /// Attention heads.
    #[config(default = 4)]
    pub n_heads: usize,
}

/// One layer: the latents attend to [encoder states ; latents] with RMS-normalised queries
/// and keys, then an MLP.
#[derive(Module, Debug)]
pub struct PerceiverLayer {
    latent_norm: LayerNorm,
    context_norm: LayerNorm,
    attention: Attention,
    mlp_norm: LayerNorm,
    mlp_in: Linear,
    mlp_out: Linear,
    activation: Gelu,
}

/// Perceiver resampler (Flamingo, LD4LG): `l` learned queries compress a variable-length
/// sequence into a fixed `[l, d_model]` block whatever the text length.
#[derive(Module, Debug)]
pub struct PerceiverResampler {
    latents: Param<Tensor<2>>,
    layers: Vec<PerceiverLayer>,
    norm: LayerNorm,
}

impl PerceiverConfig {
    /// Builds the resampler.
    pub fn init(&self, device: &Device) -> PerceiverResampler {
        let d = self.d_model;
        let layer = || PerceiverLayer {
            latent_norm: LayerNormConfig::new(d).init(device),
            context_norm: LayerNormConfig::new(d).init(device),
            attention: AttentionConfig::new(d)
                .with_n_heads(self.n_heads)
                .with_qk_norm(true)
                .init(device),
            mlp_norm: LayerNormConfig::new(d).init(device),
            mlp_in: LinearConfig::new(d, 4 * d).init(device),
            mlp_out: LinearConfig::new(4 * d, d).init(device),
            activation: Gelu::new(),
        };
        PerceiverResampler {
            latents: Param::from_tensor(Tensor::random(
                [self.num_latents, d],
                Distribution::Normal(0.0, 1.0),
                device,
            )),
            layers: (0..self.n_layers).map(|_| layer()).collect(),
            norm: LayerNormConfig::new(d).init(device),
        }
    }
}

impl PerceiverResampler {
    /// Number of latent vectors.
    pub fn num_latents(&self) -> usize {
        self.latents.dims()[0]
    }

    /// # Shapes
    /// - `states`: `[batch, seq, d_model]`; `padding`: `[batch, seq]` (`true` = pad)
    /// - output: `[batch, num_latents, d_model]`
    pub fn forward(&self, states: Tensor<3>, padding: Tensor<2, Bool>) -> Tensor<3> {
        let [batch, _, d] = states.dims();
        let l = self.num_latents();
        let device = states.device();
        let mut x = self.latents.val().unsqueeze::<3>().expand([batch, l, d]);
        // The latents' own keys are never padding.
        let latent_padding = Tensor::<2, Int>::zeros([batch, l], &device).equal_elem(1);
        let padding = Tensor::cat(vec![padding, latent_padding], 1);
        for layer in &self.layers {
            let h = layer.latent_norm.forward(x.clone());
            let context = Tensor::cat(
                vec![layer.context_norm.forward(states.clone()), h.clone()],
                1,
            );
            x = x + layer
                .attention
                .forward(h, context, Some(padding.clone()), false);
            let h = layer.mlp_norm.forward(x.clone());
            x = x + layer
                .mlp_out
                .forward(layer.activation.forward(layer.mlp_in.forward(h)));
        }
        self.norm.forward(x)
    }
}
