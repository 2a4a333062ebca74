use crate::{AdaLnBlock, AdaLnBlockConfig, NoiseLevelEmbedding, NoiseLevelEmbeddingConfig};
use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{
    Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig,
};
use burn::tensor::{Bool, Device, Distribution, Int, Tensor};
use ld4lg_nn::LearnedPositions;
use ld4lg_sampler::{Conditioning, Denoiser, DenoiserInput};
use ld4lg_schedule::PredictionType;

/// Configuration of the [`LatentDenoiser`].
#[derive(Config, Debug)]
pub struct LatentDenoiserConfig {
    /// Number of latent vectors `l`. Run configurations may leave it at 0: training sets it
    /// from the autoencoder.
    #[config(default = 0)]
    pub num_latents: usize,
    /// Width of a latent vector `d` (0: set from the autoencoder, as `num_latents`).
    #[config(default = 0)]
    pub d_latent: usize,
    /// Transformer width.
    #[config(default = 256)]
    pub d_model: usize,
    /// Transformer blocks (even when `dense_skips`).
    #[config(default = 6)]
    pub n_layers: usize,
    /// Attention heads.
    #[config(default = 4)]
    pub n_heads: usize,
    /// U-ViT skips: block `n − 1 − i` also sees the output of block `i`. Default: true.
    #[config(default = true)]
    pub dense_skips: bool,
    /// Number of classes for class conditioning (a null class is added); `None` for none.
    #[config(default = "None")]
    pub num_classes: Option<usize>,
    /// Width of a cross-attention context (e.g. an encoded source text); `None` for none.
    #[config(default = "None")]
    pub d_context: Option<usize>,
    /// What the network predicts. Default: v.
    #[config(default = "PredictionType::VPrediction")]
    pub prediction_type: PredictionType,
}

/// LD4LG's denoiser: a pre-LN transformer over the `l` latent positions with adaLN-Zero
/// noise-level conditioning, self-conditioning, optional class and cross-attention
/// conditioning, and a zero-initialised output projection.
#[derive(Module, Debug)]
pub struct LatentDenoiser {
    input: Linear,
    positions: LearnedPositions,
    /// Stands in for x̂₀ when there is no previous estimate.
    null_self_cond: Param<Tensor<1>>,
    noise_level: NoiseLevelEmbedding,
    classes: Option<Embedding>,
    /// Learned null context, `[1, d_context]`.
    null_context: Option<Param<Tensor<2>>>,
    blocks: Vec<AdaLnBlock>,
    skips: Vec<Linear>,
    output_norm: LayerNorm,
    output: Linear,
    #[module(skip)]
    prediction_type: PredictionType,
    #[module(skip)]
    num_classes: Option<usize>,
}

impl LatentDenoiserConfig {
    /// Builds the denoiser.
    pub fn init(&self, device: &Device) -> LatentDenoiser {
        let d = self.d_model;
        let block = AdaLnBlockConfig::new(d)
            .with_n_heads(self.n_heads)
            .with_d_context(self.d_context);
        let n_skips = if self.dense_skips {
            self.n_layers / 2
        } else {
            0
        };
        LatentDenoiser {
            input: LinearConfig::new(2 * self.d_latent, d).init(device),
            positions: LearnedPositions::new(self.num_latents, d, device),
            null_self_cond: Param::from_tensor(Tensor::random(
                [self.d_latent],
                Distribution::Normal(0.0, 1.0),
                device,
            )),
            noise_level: NoiseLevelEmbeddingConfig::new(d).init(device),
            classes: self.num_classes.map(|n| {
                EmbeddingConfig::new(n + 1, d)
                    .with_initializer(Initializer::Normal {
                        mean: 0.0,
                        std: 0.02,
                    })
                    .init(device)
            }),
            null_context: self.d_context.map(|dc| {
                Param::from_tensor(Tensor::random(
                    [1, dc],
                    Distribution::Normal(0.0, 0.02),
                    device,
                ))
            }),
            blocks: (0..self.n_layers).map(|_| block.init(device)).collect(),
            skips: (0..n_skips)
                .map(|_| LinearConfig::new(2 * d, d).init(device))
                .collect(),
            output_norm: LayerNormConfig::new(d).init(device),
            output: LinearConfig::new(d, self.d_latent)
                .with_initializer(Initializer::Zeros)
                .init(device),
            prediction_type: self.prediction_type,
            num_classes: self.num_classes,
        }
    }
}

impl LatentDenoiser {
    /// The latent shape `[l, d]` this denoiser models.
    pub fn latent_shape(&self) -> [usize; 2] {
        [self.positions.max_len(), self.output.weight.dims()[1]]
    }

    /// The model output.
    ///
    /// # Shapes
    /// - `z_t`: `[batch, l, d]`; `alpha_bar`: `[batch]`; `self_cond`: `[batch, l, d]`
    /// - output: `[batch, l, d]`
    pub fn forward(
        &self,
        z_t: Tensor<3>,
        alpha_bar: Tensor<1>,
        self_cond: Option<Tensor<3>>,
        conditioning: &Conditioning,
    ) -> Tensor<3> {
        let [batch, l, d_latent] = z_t.dims();
        let device = z_t.device();
        let self_cond = self_cond.unwrap_or_else(|| {
            self.null_self_cond
                .val()
                .reshape([1, 1, d_latent])
                .expand([batch, l, d_latent])
        });
        let mut x =
            self.input.forward(Tensor::cat(vec![z_t, self_cond], 2)) + self.positions.first(l);
        let mut c = self.noise_level.forward(alpha_bar);
        if let (Some(classes), Some(n)) = (&self.classes, self.num_classes) {
            let labels = match &conditioning.class_labels {
                Some(labels) => labels.clone(),
                None => Tensor::<1, Int>::full([batch], n as i64, &device),
            };
            let labels = match &conditioning.null {
                Some(null) => labels.mask_fill(null.clone(), n as i64),
                None => labels,
            };
            let d_model = c.dims()[1];
            c = c + classes
                .forward(labels.reshape([batch, 1]))
                .reshape([batch, d_model]);
        }
        let context = self.context(conditioning, batch, &device);
        let n_layers = self.blocks.len();
        let mut saved = Vec::with_capacity(self.skips.len());
        for (i, block) in self.blocks.iter().enumerate() {
            if i >= n_layers - self.skips.len() {
                let skip: Tensor<3> = saved.pop().expect("one saved output per skip");
                x = self.skips[n_layers - 1 - i].forward(Tensor::cat(vec![x, skip], 2));
            }
            x = block.forward(x, c.clone(), context.clone());
            if i < self.skips.len() {
                saved.push(x.clone());
            }
        }
        self.output.forward(self.output_norm.forward(x))
    }

    /// The cross-attention context with nulled examples replaced by the learned null context.
    fn context(
        &self,
        conditioning: &Conditioning,
        batch: usize,
        device: &Device,
    ) -> Option<(Tensor<3>, Tensor<2, Bool>)> {
        let null_context = self.null_context.as_ref()?;
        let dc = null_context.dims()[1];
        let null_vector = null_context.val().reshape([1, 1, dc]);
        let Some(context) = &conditioning.context else {
            // No context given: everything is the null context.
            return Some((
                null_vector.expand([batch, 1, dc]),
                Tensor::<2, Int>::zeros([batch, 1], device).equal_elem(1),
            ));
        };
        let [_, s, _] = context.dims();
        let mask = conditioning
            .context_mask
            .clone()
            .unwrap_or_else(|| Tensor::<2, Int>::zeros([batch, s], device).equal_elem(1));
        match &conditioning.null {
            None => Some((context.clone(), mask)),
            Some(null) => {
                let null3 = null.clone().reshape([batch, 1, 1]).expand([batch, s, dc]);
                let context = context
                    .clone()
                    .mask_where(null3, null_vector.expand([batch, s, dc]));
                // A nulled example attends to its first position only (the null vector).
                let first_only = Tensor::<1, Int>::arange(0..s as i64, device)
                    .greater_elem(0)
                    .reshape([1, s])
                    .expand([batch, s]);
                let null2 = null.clone().reshape([batch, 1]).expand([batch, s]);
                Some((context, mask.mask_where(null2, first_only)))
            }
        }
    }
}

impl Denoiser for LatentDenoiser {
    fn prediction_type(&self) -> PredictionType {
        self.prediction_type
    }

    fn predict(&self, input: DenoiserInput<'_>) -> Tensor<3> {
        self.forward(
            input.z_t,
            input.alpha_bar,
            input.self_cond,
            input.conditioning,
        )
    }
}
