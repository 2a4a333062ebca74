use burn::config::Config;
use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use ld4lg_nn::{LearnedPositions, TransformerBlock, TransformerBlockConfig};

/// Configuration of the [`LatentExpander`].
#[derive(Config, Debug)]
pub struct LatentExpanderConfig {
    /// Width of a latent vector.
    pub d_latent: usize,
    /// Number of latent vectors.
    pub num_latents: usize,
    /// Width of the decoder memory.
    pub d_model: usize,
    /// Transformer blocks over the latents.
    #[config(default = 1)]
    pub n_layers: usize,
    /// Attention heads.
    #[config(default = 4)]
    pub n_heads: usize,
}

/// The reconstruction network: latents → decoder memory (up-projection, positions,
/// a small transformer).
#[derive(Module, Debug)]
pub struct LatentExpander {
    up: Linear,
    positions: LearnedPositions,
    blocks: Vec<TransformerBlock>,
    norm: LayerNorm,
}

impl LatentExpanderConfig {
    /// Builds the expander.
    pub fn init(&self, device: &Device) -> LatentExpander {
        let block = TransformerBlockConfig::new(self.d_model).with_n_heads(self.n_heads);
        LatentExpander {
            up: LinearConfig::new(self.d_latent, self.d_model).init(device),
            positions: LearnedPositions::new(self.num_latents, self.d_model, device),
            blocks: (0..self.n_layers).map(|_| block.init(device)).collect(),
            norm: LayerNormConfig::new(self.d_model).init(device),
        }
    }
}

impl LatentExpander {
    /// # Shapes
    /// - `latents`: `[batch, l, d_latent]` → memory `[batch, l, d_model]`
    pub fn forward(&self, latents: Tensor<3>) -> Tensor<3> {
        let l = latents.dims()[1];
        let mut x = self.up.forward(latents) + self.positions.first(l);
        for block in &self.blocks {
            x = block.forward(x, None, false, None);
        }
        self.norm.forward(x)
    }
}
