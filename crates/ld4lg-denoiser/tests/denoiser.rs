//! Behaviour of the latent denoiser: identity-at-init, conditioning paths, self-conditioning.

use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Bool, Device, Distribution, Int, Tensor, TensorData};
use ld4lg_denoiser::{LatentDenoiser, LatentDenoiserConfig};
use ld4lg_sampler::Conditioning;

fn config() -> LatentDenoiserConfig {
    LatentDenoiserConfig::new()
        .with_num_latents(4)
        .with_d_latent(8)
        .with_d_model(32)
        .with_n_layers(4)
        .with_n_heads(2)
        .with_num_classes(Some(3))
        .with_d_context(Some(16))
}

fn conditioning(device: &Device, null: [bool; 2]) -> Conditioning {
    Conditioning {
        class_labels: Some(Tensor::<1, Int>::from_data(
            TensorData::new(vec![0i64, 2], [2]),
            device,
        )),
        // Fixed values, so that every call sees the same context.
        context: Some(Tensor::from_data(
            TensorData::new(
                (0..160).map(|i| (i as f32 * 0.7).sin()).collect::<Vec<_>>(),
                [2, 5, 16],
            ),
            device,
        )),
        context_mask: Some(Tensor::<2, Bool>::from_data(
            TensorData::new(
                vec![
                    false, false, false, true, true, false, false, false, false, false,
                ],
                [2, 5],
            ),
            device,
        )),
        null: Some(Tensor::<1, Bool>::from_data(
            TensorData::new(null.to_vec(), [2]),
            device,
        )),
    }
}

fn inputs(device: &Device) -> (Tensor<3>, Tensor<1>) {
    (
        Tensor::random([2, 4, 8], Distribution::Normal(0.0, 1.0), device),
        Tensor::from_data(TensorData::new(vec![0.3f32, 0.9], [2]), device),
    )
}

#[test]
fn output_is_zero_at_initialisation() {
    let device = Device::flex();
    let model = config().init(&device);
    let (z, alpha_bar) = inputs(&device);
    let out = model.forward(z, alpha_bar, None, &conditioning(&device, [false, true]));
    assert_eq!(out.dims(), [2, 4, 8]);
    assert_eq!(out.abs().max().into_scalar::<f32>(), 0.0);
}

/// One optimiser step on a regression target, so that outputs stop being zero.
fn nudged() -> (LatentDenoiser, Device) {
    let device = Device::flex().autodiff();
    device.seed(1);
    let mut model = config().init(&device);
    let mut optimizer = AdamWConfig::new()
        .with_epsilon(1e-8)
        .with_weight_decay(0.0)
        .init();
    for _ in 0..3 {
        let (z, alpha_bar) = inputs(&device);
        let target = Tensor::<3>::ones([2, 4, 8], &device);
        let out = model.forward(z, alpha_bar, None, &conditioning(&device, [false, false]));
        let loss = (out - target).powi_scalar(2).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(1e-2, model, grads);
    }
    (model, device)
}

#[test]
fn conditioning_and_null_paths_change_the_output() {
    let (model, device) = nudged();
    let (z, alpha_bar) = inputs(&device);
    let run = |c: &Conditioning, self_cond: Option<Tensor<3>>| {
        model.forward(z.clone(), alpha_bar.clone(), self_cond, c)
    };
    let conditional = run(&conditioning(&device, [false, false]), None);
    let nulled = run(&conditioning(&device, [true, true]), None);
    assert!(conditional.clone().abs().max().into_scalar::<f32>() > 0.0);
    let diff = (conditional.clone() - nulled)
        .abs()
        .max()
        .into_scalar::<f32>();
    assert!(
        diff > 1e-4,
        "nulling the condition changed nothing ({diff})"
    );

    // Self-conditioning input is used.
    let with_estimate = run(
        &conditioning(&device, [false, false]),
        Some(z.clone().mul_scalar(0.5)),
    );
    assert!(
        (conditional.clone() - with_estimate)
            .abs()
            .max()
            .into_scalar::<f32>()
            > 1e-5
    );

    // Only the nulled example changes when one example is nulled.
    let half = run(&conditioning(&device, [false, true]), None);
    let first = (conditional.clone().narrow(0, 0, 1) - half.clone().narrow(0, 0, 1))
        .abs()
        .max()
        .into_scalar::<f32>();
    assert!(first < 1e-5, "example 0 changed by {first}");

    // A batch without any conditioning runs as the null condition.
    let none = run(&Conditioning::none(), None);
    assert_eq!(none.dims(), [2, 4, 8]);
}
