use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig, RmsNorm, RmsNormConfig};
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Tensor};

/// Configuration of [`Attention`].
#[derive(Config, Debug)]
pub struct AttentionConfig {
    /// Width of queries, keys, values and output.
    pub d_model: usize,
    /// Number of heads; must divide `d_model`.
    #[config(default = 4)]
    pub n_heads: usize,
    /// Width of the key/value inputs, when it differs from `d_model` (cross-attention).
    #[config(default = "None")]
    pub d_context: Option<usize>,
    /// RMS-normalise queries and keys per head (as LD4LG's Perceiver), which keeps attention
    /// logits bounded. Default: false.
    #[config(default = false)]
    pub qk_norm: bool,
}

/// Multi-head attention on Burn's fused `attention` op, with an optional key padding mask,
/// causal masking and query-key RMSNorm. No dropout: our models are small and data-rich.
#[derive(Module, Debug)]
pub struct Attention {
    query: Linear,
    key: Linear,
    value: Linear,
    output: Linear,
    query_norm: Option<RmsNorm>,
    key_norm: Option<RmsNorm>,
    n_heads: usize,
}

impl AttentionConfig {
    /// Builds the module.
    ///
    /// # Panics
    /// When `n_heads` does not divide `d_model` (a configuration error, not user data).
    pub fn init(&self, device: &burn::tensor::Device) -> Attention {
        assert!(
            self.n_heads > 0 && self.d_model.is_multiple_of(self.n_heads),
            "n_heads {} must divide d_model {}",
            self.n_heads,
            self.d_model
        );
        let d_context = self.d_context.unwrap_or(self.d_model);
        let head = self.d_model / self.n_heads;
        let norm = || self.qk_norm.then(|| RmsNormConfig::new(head).init(device));
        Attention {
            query: LinearConfig::new(self.d_model, self.d_model).init(device),
            key: LinearConfig::new(d_context, self.d_model).init(device),
            value: LinearConfig::new(d_context, self.d_model).init(device),
            output: LinearConfig::new(self.d_model, self.d_model).init(device),
            query_norm: norm(),
            key_norm: norm(),
            n_heads: self.n_heads,
        }
    }
}

impl Attention {
    /// Attends from `query` to `context`.
    ///
    /// # Shapes
    /// - `query`: `[batch, n_query, d_model]`
    /// - `context`: `[batch, n_context, d_context]`
    /// - `context_padding`: `[batch, n_context]`, `true` at padding (ignored keys)
    /// - output: `[batch, n_query, d_model]`
    pub fn forward(
        &self,
        query: Tensor<3>,
        context: Tensor<3>,
        context_padding: Option<Tensor<2, Bool>>,
        causal: bool,
    ) -> Tensor<3> {
        let [batch, n_query, d_model] = query.dims();
        let n_context = context.dims()[1];
        let heads = |x: Tensor<3>, n: usize| {
            x.reshape([batch, n, self.n_heads, d_model / self.n_heads])
                .swap_dims(1, 2)
        };
        let mut q = heads(self.query.forward(query), n_query);
        let mut k = heads(self.key.forward(context.clone()), n_context);
        let v = heads(self.value.forward(context), n_context);
        if let Some(norm) = &self.query_norm {
            q = norm.forward(q);
        }
        if let Some(norm) = &self.key_norm {
            k = norm.forward(k);
        }
        let mask = context_padding.map(|padding| {
            padding.reshape([batch, 1, 1, n_context]).expand([
                batch,
                self.n_heads,
                n_query,
                n_context,
            ])
        });
        let options = AttentionModuleOptions {
            scale: None,
            softcap: None,
            is_causal: causal,
        };
        let out = attention(q, k, v, mask, None, options);
        self.output
            .forward(out.swap_dims(1, 2).reshape([batch, n_query, d_model]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution, TensorData};

    #[test]
    fn padded_keys_do_not_change_the_output() {
        let device = Device::flex();
        let attention = AttentionConfig::new(8)
            .with_n_heads(2)
            .with_qk_norm(true)
            .init(&device);
        let query = Tensor::<3>::random([1, 3, 8], Distribution::Normal(0.0, 1.0), &device);
        let context = Tensor::<3>::random([1, 5, 8], Distribution::Normal(0.0, 1.0), &device);
        let padding = Tensor::<2, Bool>::from_data(
            TensorData::new(vec![false, false, false, true, true], [1, 5]),
            &device,
        );
        let full = attention.forward(query.clone(), context.clone(), Some(padding), false);
        let trimmed = attention.forward(query, context.slice([0..1, 0..3]), None, false);
        let diff = (full - trimmed).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-5, "{diff}");
    }

    #[test]
    fn causal_attention_ignores_the_future() {
        let device = Device::flex();
        let attention = AttentionConfig::new(8).with_n_heads(2).init(&device);
        let x = Tensor::<3>::random([2, 4, 8], Distribution::Normal(0.0, 1.0), &device);
        let full = attention.forward(x.clone(), x.clone(), None, true);
        let prefix = x.slice([0..2, 0..2]);
        let short = attention.forward(prefix.clone(), prefix, None, true);
        let diff = (full.slice([0..2, 0..2]) - short)
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(diff < 1e-5, "{diff}");
    }
}
