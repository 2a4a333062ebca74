//! The same module, run forward and backward on Flex and on WGPU, gives the same outputs and
//! gradients. On machines without a GPU, WGPU runs on Mesa's lavapipe (CPU Vulkan).
#![cfg(all(feature = "wgpu", feature = "flex"))]

use burn::module::Module;
use burn::nn::{Gelu, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::optim::GradientsParams;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, DeviceKind, Tensor, TensorData};

/// A miniature transformer block: projection, self-attention scores, layer norm, GELU MLP.
#[derive(Module, Debug)]
struct Probe {
    query: Linear,
    key: Linear,
    norm: LayerNorm,
    hidden: Linear,
    output: Linear,
    activation: Gelu,
}

impl Probe {
    fn new(d_model: usize, device: &Device) -> Self {
        Self {
            query: LinearConfig::new(d_model, d_model).init(device),
            key: LinearConfig::new(d_model, d_model).init(device),
            norm: LayerNormConfig::new(d_model).init(device),
            hidden: LinearConfig::new(d_model, 4 * d_model).init(device),
            output: LinearConfig::new(4 * d_model, 3).init(device),
            activation: Gelu::new(),
        }
    }

    /// # Shapes
    /// - x: `[batch, seq, d_model]` → `[batch, seq, 3]`
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let d_model = x.dims()[2] as f64;
        let scores = self
            .query
            .forward(x.clone())
            .matmul(self.key.forward(x.clone()).swap_dims(1, 2))
            .div_scalar(d_model.sqrt());
        let mixed = softmax(scores, 2).matmul(x.clone()) + x;
        let normed = self.norm.forward(mixed);
        self.output
            .forward(self.activation.forward(self.hidden.forward(normed)))
    }
}

fn values(tensor: Tensor<3>) -> Vec<f32> {
    tensor.into_data().try_to_vec_as::<f32>().unwrap()
}

fn grad_values<const D: usize>(
    param: &burn::module::Param<Tensor<D>>,
    grads: &GradientsParams,
) -> Vec<f32> {
    grads
        .get::<D>(param.id)
        .expect("parameter has a gradient")
        .into_data()
        .try_to_vec_as::<f32>()
        .unwrap()
}

fn assert_close(name: &str, a: &[f32], b: &[f32], tolerance: f32) {
    assert_eq!(a.len(), b.len(), "{name}: lengths differ");
    let scale = a.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tolerance * scale,
            "{name}[{i}]: flex {x} vs wgpu {y} (scale {scale})"
        );
    }
}

#[test]
fn flex_and_wgpu_agree_on_outputs_and_gradients() {
    let flex = Device::flex().autodiff();
    let wgpu = Device::wgpu(DeviceKind::DefaultDevice).autodiff();
    let (batch, seq, d_model) = (2, 5, 16);

    let model_flex = Probe::new(d_model, &flex);
    // `fork` (not `to_device`) keeps the parameters trainable on the destination.
    let model_wgpu = model_flex.clone().fork(&wgpu);

    let input: Vec<f32> = (0..batch * seq * d_model)
        .map(|i| ((i as f32) * 0.37).sin())
        .collect();
    let data = TensorData::new(input, [batch, seq, d_model]);
    let out_flex = model_flex.forward(Tensor::from_data(data.clone(), &flex));
    let out_wgpu = model_wgpu.forward(Tensor::from_data(data, &wgpu));

    let grads_flex = GradientsParams::from_grads(
        out_flex.clone().powi_scalar(2).mean().backward(),
        &model_flex,
    );
    let grads_wgpu = GradientsParams::from_grads(
        out_wgpu.clone().powi_scalar(2).mean().backward(),
        &model_wgpu,
    );

    assert_close("output", &values(out_flex), &values(out_wgpu), 1e-4);
    for (name, a, b) in [
        (
            "query.weight",
            grad_values(&model_flex.query.weight, &grads_flex),
            grad_values(&model_wgpu.query.weight, &grads_wgpu),
        ),
        (
            "norm.gamma",
            grad_values(&model_flex.norm.gamma, &grads_flex),
            grad_values(&model_wgpu.norm.gamma, &grads_wgpu),
        ),
        (
            "hidden.weight",
            grad_values(&model_flex.hidden.weight, &grads_flex),
            grad_values(&model_wgpu.hidden.weight, &grads_wgpu),
        ),
    ] {
        assert!(a.iter().any(|g| *g != 0.0), "{name}: all-zero gradient");
        assert_close(name, &a, &b, 1e-3);
    }
}

#[test]
fn autoencoder_agrees_on_flex_and_wgpu() {
    use burn::tensor::{Bool, Int};
    use ld4lg::autoencoder::{AutoencoderConfig, DecodeStrategy, DecoderKind};

    let flex = Device::flex().autodiff();
    let wgpu = Device::wgpu(DeviceKind::DefaultDevice).autodiff();
    let config = AutoencoderConfig::new()
        .with_vocab_size(30)
        .with_max_len(12)
        .with_d_model(32)
        .with_n_heads(2)
        .with_encoder_layers(1)
        .with_perceiver_layers(1)
        .with_num_latents(4)
        .with_d_latent(8)
        .with_d_decoder(32)
        .with_decoder_layers(1)
        .with_decoder(DecoderKind::Autoregressive);
    let model_flex = config.init(&flex);
    let model_wgpu = model_flex.clone().fork(&wgpu);
    let ids: Vec<i64> = vec![1, 5, 9, 7, 2, 0, 1, 8, 8, 3, 6, 2];
    let mask: Vec<bool> = vec![
        false, false, false, false, false, true, false, false, false, false, false, false,
    ];
    let inputs = |device: &Device| {
        (
            Tensor::<2, Int>::from_data(TensorData::new(ids.clone(), [2, 6]), device),
            Tensor::<2, Bool>::from_data(TensorData::new(mask.clone(), [2, 6]), device),
        )
    };
    let (ids_f, mask_f) = inputs(&flex);
    let (ids_w, mask_w) = inputs(&wgpu);
    let loss_flex = model_flex
        .forward_loss(ids_f.clone(), mask_f.clone(), false)
        .loss;
    let loss_wgpu = model_wgpu
        .forward_loss(ids_w.clone(), mask_w.clone(), false)
        .loss;
    let (lf, lw) = (
        loss_flex.into_scalar::<f32>(),
        loss_wgpu.into_scalar::<f32>(),
    );
    assert!(
        (lf - lw).abs() < 1e-4 * lf.abs().max(1.0),
        "loss flex {lf} vs wgpu {lw}"
    );
    let latents_flex = model_flex.encode(ids_f, mask_f);
    let latents_wgpu = model_wgpu.encode(ids_w, mask_w);
    assert_close(
        "latents",
        &values(latents_flex.clone()),
        &values(latents_wgpu.clone()),
        1e-4,
    );
    let decoded_flex = model_flex.decode(latents_flex, &DecodeStrategy::Greedy, 1, 2);
    let decoded_wgpu = model_wgpu.decode(latents_wgpu, &DecodeStrategy::Greedy, 1, 2);
    assert_eq!(decoded_flex, decoded_wgpu);
}
