use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig, RmsNorm, RmsNormConfig};
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Int, Tensor};

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

/// Keys and values of a context, split into heads, kept so that later queries (the next
/// token of an autoregressive decoder, or every step's attention to a fixed memory) do not
/// project the context again.
#[derive(Clone, Debug)]
pub struct KeyValue {
    /// `[batch, n_heads, n_context, d_head]`, after the key RMSNorm when there is one.
    pub key: Tensor<4>,
    /// `[batch, n_heads, n_context, d_head]`.
    pub value: Tensor<4>,
}

impl KeyValue {
    /// Number of context positions held.
    pub fn len(&self) -> usize {
        self.key.dims()[2]
    }

    /// Whether no context position is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the positions of `other` after those of `self`.
    pub fn append(self, other: KeyValue) -> KeyValue {
        KeyValue {
            key: Tensor::cat(vec![self.key, other.key], 2),
            value: Tensor::cat(vec![self.value, other.value], 2),
        }
    }

    /// Keeps (and repeats) the batch rows listed in `rows`, e.g. the parents of the beams
    /// that survive a step of beam search.
    pub fn select_rows(self, rows: Tensor<1, Int>) -> KeyValue {
        KeyValue {
            key: self.key.select(0, rows.clone()),
            value: self.value.select(0, rows),
        }
    }
}

/// Whether padding masks must travel as an additive bias on `device` (LibTorch, see
/// [`Attention::attend`]).
fn mask_as_bias(device: &burn::tensor::Device) -> bool {
    #[cfg(feature = "tch")]
    {
        matches!(
            device.clone().inner().as_dispatch(),
            burn::backend::DispatchDevice::LibTorch(_)
        )
    }
    #[cfg(not(feature = "tch"))]
    {
        let _ = device;
        false
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
        let context = self.key_value(context);
        self.attend(query, &context, context_padding, causal)
    }

    /// Projects a context to keys and values, split into heads.
    ///
    /// # Shapes
    /// - `context`: `[batch, n_context, d_context]`
    /// - output: keys and values `[batch, n_heads, n_context, d_model / n_heads]`
    pub fn key_value(&self, context: Tensor<3>) -> KeyValue {
        let [batch, n_context, _] = context.dims();
        let mut key = self.split_heads(self.key.forward(context.clone()), batch, n_context);
        if let Some(norm) = &self.key_norm {
            key = norm.forward(key);
        }
        let value = self.split_heads(self.value.forward(context), batch, n_context);
        KeyValue { key, value }
    }

    /// Attends from `query` to keys and values made by [`Self::key_value`]. With `causal`,
    /// query `i` sees context positions up to `i`.
    ///
    /// # Shapes
    /// - `query`: `[batch, n_query, d_model]`
    /// - `context`: keys and values `[batch, n_heads, n_context, d_model / n_heads]`
    /// - `context_padding`: `[batch, n_context]`, `true` at padding (ignored keys)
    /// - output: `[batch, n_query, d_model]`
    pub fn attend(
        &self,
        query: Tensor<3>,
        context: &KeyValue,
        context_padding: Option<Tensor<2, Bool>>,
        causal: bool,
    ) -> Tensor<3> {
        let [batch, n_query, d_model] = query.dims();
        let n_context = context.len();
        let mut q = self.split_heads(self.query.forward(query), batch, n_query);
        if let Some(norm) = &self.query_norm {
            q = norm.forward(q);
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
        let (mask, bias) = match mask {
            // Burn 0.22's LibTorch backend hands a boolean mask to torch, whose `true` means
            // "attend": passed as an additive bias instead, the mask keeps Burn's meaning.
            Some(mask) if mask_as_bias(&q.device()) => {
                let bias =
                    Tensor::<4>::zeros(mask.dims(), &q.device()).mask_fill(mask, f32::NEG_INFINITY);
                (None, Some(bias))
            }
            mask => (mask, None),
        };
        let out = attention(
            q,
            context.key.clone(),
            context.value.clone(),
            mask,
            bias,
            options,
        );
        self.output
            .forward(out.swap_dims(1, 2).reshape([batch, n_query, d_model]))
    }

    fn split_heads(&self, x: Tensor<3>, batch: usize, n: usize) -> Tensor<4> {
        let d_model = x.dims()[2];
        x.reshape([batch, n, self.n_heads, d_model / self.n_heads])
            .swap_dims(1, 2)
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

    #[test]
    fn attending_to_an_appended_cache_equals_causal_attention() {
        let device = Device::flex();
        let attention = AttentionConfig::new(8)
            .with_n_heads(2)
            .with_qk_norm(true)
            .init(&device);
        let x = Tensor::<3>::random([2, 4, 8], Distribution::Normal(0.0, 1.0), &device);
        let full = attention.forward(x.clone(), x.clone(), None, true);
        let mut cache: Option<KeyValue> = None;
        for i in 0..4 {
            let token = x.clone().slice([0..2, i..i + 1]);
            let new = attention.key_value(token.clone());
            let kv = match cache.take() {
                Some(past) => past.append(new),
                None => new,
            };
            let step = attention.attend(token, &kv, None, false);
            let diff = (full.clone().slice([0..2, i..i + 1]) - step)
                .abs()
                .max()
                .into_scalar::<f32>();
            assert!(diff < 1e-5, "position {i}: {diff}");
            cache = Some(kv);
        }
        let rows = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 1, 0], [3]), &device);
        let selected = cache.unwrap().select_rows(rows);
        assert_eq!(selected.key.dims(), [3, 2, 4, 4]);
        assert_eq!(selected.len(), 4);
    }
}
