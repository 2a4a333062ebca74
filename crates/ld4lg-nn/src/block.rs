use crate::Gelu;
use crate::{Attention, AttentionConfig, KeyValue};
use burn::config::Config;
use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Int, Tensor};

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

/// What a block keeps between the steps of autoregressive decoding: the keys and values of
/// the positions already run, and those of the cross-attention context, projected once.
#[derive(Clone, Debug)]
pub struct BlockCache {
    past: Option<KeyValue>,
    cross: Option<(KeyValue, Option<Tensor<2, Bool>>)>,
}

impl BlockCache {
    /// Number of positions already run through the block.
    pub fn len(&self) -> usize {
        self.past.as_ref().map_or(0, KeyValue::len)
    }

    /// Whether no position has been run yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps (and repeats) the batch rows listed in `rows`.
    pub fn select_rows(self, rows: Tensor<1, Int>) -> BlockCache {
        BlockCache {
            past: self.past.map(|kv| kv.select_rows(rows.clone())),
            cross: self.cross.map(|(kv, padding)| {
                let padding = padding.map(|p| p.select(0, rows.clone()));
                (kv.select_rows(rows), padding)
            }),
        }
    }
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

    /// An empty cache for [`Self::forward_step`], with the cross-attention context (when the
    /// block has cross-attention) projected once.
    ///
    /// # Shapes
    /// - `cross`: `([batch, m, d_cross], [batch, m] padding)`
    pub fn start_cache(&self, cross: Option<(Tensor<3>, Option<Tensor<2, Bool>>)>) -> BlockCache {
        let cross = match (&self.cross, cross) {
            (Some(layer), Some((context, padding))) => {
                Some((layer.attention.key_value(context), padding))
            }
            _ => None,
        };
        BlockCache { past: None, cross }
    }

    /// Runs one new position after those in `cache` (causal self-attention over them and
    /// itself) and appends it to the cache: the same result as [`Self::forward`] with
    /// `causal` over the whole sequence, at the cost of one position.
    ///
    /// # Shapes
    /// - `x`: `[batch, 1, d_model]`
    /// - output: `[batch, 1, d_model]`
    pub fn forward_step(&self, x: Tensor<3>, cache: &mut BlockCache) -> Tensor<3> {
        let h = self.self_norm.forward(x.clone());
        let new = self.self_attention.key_value(h.clone());
        let past = match cache.past.take() {
            Some(past) => past.append(new),
            None => new,
        };
        let mut x = x + self.self_attention.attend(h, &past, None, false);
        cache.past = Some(past);
        if let (Some(layer), Some((context, padding))) = (&self.cross, &cache.cross) {
            let h = layer.norm.forward(x.clone());
            x = x + layer.attention.attend(h, context, padding.clone(), false);
        }
        let h = self.mlp_norm.forward(x.clone());
        x + self
            .mlp_out
            .forward(self.activation.forward(self.mlp_in.forward(h)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, TensorData};

    #[test]
    fn stepping_through_a_cache_equals_the_causal_forward() {
        let device = Device::flex();
        let block = TransformerBlockConfig::new(8)
            .with_n_heads(2)
            .with_d_cross(Some(6))
            .init(&device);
        let x = Tensor::<3>::random([2, 5, 8], Distribution::Normal(0.0, 1.0), &device);
        let memory = Tensor::<3>::random([2, 3, 6], Distribution::Normal(0.0, 1.0), &device);
        let padding = Tensor::<2, Bool>::from_data(
            TensorData::new(vec![false, false, true, false, false, false], [2, 3]),
            &device,
        );
        let cross = || Some((memory.clone(), Some(padding.clone())));
        let full = block.forward(x.clone(), None, true, cross());
        let mut cache = block.start_cache(cross());
        for i in 0..5 {
            let step = block.forward_step(x.clone().slice([0..2, i..i + 1]), &mut cache);
            let diff = (full.clone().slice([0..2, i..i + 1]) - step)
                .abs()
                .max()
                .into_scalar::<f32>();
            assert!(diff < 1e-5, "position {i}: {diff}");
        }
        assert_eq!(cache.len(), 5);
        // Swapping the rows of the cache swaps the rows of the next step's output.
        let next = Tensor::<3>::random([2, 1, 8], Distribution::Normal(0.0, 1.0), &device);
        let swapped = cache.clone().select_rows(Tensor::<1, Int>::from_data(
            TensorData::new(vec![1i64, 0], [2]),
            &device,
        ));
        let a = block.forward_step(next.clone(), &mut cache);
        let b = block.forward_step(next.clone().flip([0]), &mut swapped.clone());
        let diff = (a.flip([0]) - b).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-5, "{diff}");
    }
}
