//! The measured units of work, shared by the `throughput` example and the `train_steps`
//! criterion bench: one training step of each shipped E2E model on a fixed synthetic batch of
//! its shapes, and generation with the shipped E2E model. `scripts/bench/twin.py` builds the
//! same models, batches and steps in PyTorch.

use anyhow::{Context, Result};
use ld4lg::autoencoder::Autoencoder;
use ld4lg::burn::module::Module;
use ld4lg::burn::optim::{GradientsParams, ModuleOptimizer};
use ld4lg::burn::tensor::{Bool, Device, Distribution, Int, Tensor, TensorData};
use ld4lg::denoiser::LatentDenoiser;
use ld4lg::lm::CausalLm;
use ld4lg::pipeline::LatentDiffusionPipeline;
use ld4lg::sampler::{Conditioning, SamplerConfig, SamplerKind};
use ld4lg::tokenizer::special;
use ld4lg::train::{AutoencoderRunConfig, DiffusionObjective, DiffusionRunConfig, LmRunConfig};
use std::path::Path;

/// The shipped E2E tokenizer's vocabulary (models/e2e/tokenizer.json).
pub const VOCAB: usize = 3993;
/// The denoiser's batch in configs/e2e-diffusion.json.
pub const DENOISER_BATCH: usize = 128;
/// Latents of the shipped E2E autoencoder.
pub const LATENTS: [usize; 2] = [16, 32];
/// Longest sequence of the synthetic text batches (about the longest of a batch of E2E texts).
pub const SEQ: usize = 48;

/// Repository root (examples and benches run from the package root, which it is).
fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read_json<T: serde::de::DeserializeOwned>(relative: &str) -> Result<T> {
    let path = repo().join(relative);
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    serde_json::from_str(&text).with_context(|| path.display().to_string())
}

/// Lengths of the synthetic batch's texts, `<s>` and `</s>` included: spread over 16..=SEQ,
/// the longest first so that the batch is SEQ long. The twin uses the same formula.
pub fn lengths(batch: usize) -> Vec<usize> {
    (0..batch)
        .map(|i| {
            if i == 0 {
                SEQ
            } else {
                16 + (i * 7) % (SEQ - 15)
            }
        })
        .collect()
}

/// A batch of texts of [`lengths`]: `<s>`, token ids drawn uniformly from the vocabulary's
/// non-special ids, `</s>`, then padding (id 0, mask `true`).
///
/// # Shapes
/// - output: `[batch, SEQ]` twice
pub fn text_batch(batch: usize, device: &Device) -> (Tensor<2, Int>, Tensor<2, Bool>) {
    let mut ids = Vec::with_capacity(batch * SEQ);
    let mut padding = Vec::with_capacity(batch * SEQ);
    for (row, len) in lengths(batch).into_iter().enumerate() {
        for position in 0..SEQ {
            let id = match position {
                0 => i64::from(special::BOS_ID),
                p if p + 1 == len => i64::from(special::EOS_ID),
                p if p < len => 5 + ((row * 131 + p * 17) % (VOCAB - 5)) as i64,
                _ => 0,
            };
            ids.push(id);
            padding.push(position >= len);
        }
    }
    (
        Tensor::from_data(TensorData::new(ids, [batch, SEQ]), device),
        Tensor::from_data(TensorData::new(padding, [batch, SEQ]), device),
    )
}

/// One training step: forward, backward and AdamW update of a model held inside.
pub type Step = Box<dyn FnMut() -> Result<()>>;

/// The E2E denoiser (configs/e2e-diffusion.json: width 192, 6 adaLN blocks, batch 128) on
/// standard-normal latents. Self-conditioning is on for every second step (the configured
/// rate is 0.5), so an even number of steps costs what training does on average.
pub fn denoiser_step(device: &Device) -> Result<Step> {
    let config: DiffusionRunConfig = read_json("configs/e2e-diffusion.json")?;
    let [l, d] = LATENTS;
    let train_device = device.clone().autodiff();
    train_device.seed(0);
    let model = config
        .denoiser
        .clone()
        .with_num_latents(l)
        .with_d_latent(d)
        .init(&train_device);
    let objective = DiffusionObjective::of(&config, config.denoiser.prediction_type);
    let batch = DENOISER_BATCH;
    let x0 = Tensor::<3>::random([batch, l, d], Distribution::Normal(0.0, 1.0), &train_device);
    // Stratified times, as the configured time sampler draws them.
    let times: Vec<f64> = (0..batch)
        .map(|i| (i as f64 + 0.5) / batch as f64)
        .collect();
    let mut step = 0u64;
    Ok(optimised_step(
        model,
        config.training.optimizer(),
        move |denoiser: &LatentDenoiser| {
            let noise =
                Tensor::<3>::random([batch, l, d], Distribution::Normal(0.0, 1.0), &train_device);
            step += 1;
            objective.loss(
                denoiser,
                x0.clone(),
                noise,
                &times,
                &Conditioning::none(),
                step.is_multiple_of(2),
            )
        },
    ))
}

/// A step that computes `loss` on the model it holds, backpropagates and updates the model
/// with AdamW.
fn optimised_step<M: Module + 'static>(
    model: M,
    mut optimizer: ModuleOptimizer,
    mut loss: impl FnMut(&M) -> Tensor<1> + 'static,
) -> Step {
    let mut model = Some(model);
    Box::new(move || {
        let current = model.take().expect("the model is put back after each step");
        let grads = GradientsParams::from_grads(loss(&current).backward(), &current);
        model = Some(optimizer.step(1e-4, current, grads));
        Ok(())
    })
}

/// The E2E autoencoder (configs/e2e-autoencoder.json: width 128, 3 encoder layers, Perceiver
/// to 16 × 32, 3-layer decoder, batch 64) on a synthetic text batch.
pub fn autoencoder_step(device: &Device) -> Result<Step> {
    let mut config: AutoencoderRunConfig = read_json("configs/e2e-autoencoder.json")?;
    config.model.vocab_size = VOCAB;
    let train_device = device.clone().autodiff();
    train_device.seed(0);
    let (ids, padding) = text_batch(config.training.batch_size, &train_device);
    Ok(optimised_step(
        config.model.init(&train_device),
        config.training.optimizer(),
        move |model: &Autoencoder| model.forward_loss(ids.clone(), padding.clone(), true).loss,
    ))
}

/// The E2E language model (configs/e2e-lm.json: width 128, 3 layers, tied output, batch 64)
/// on a synthetic text batch.
pub fn lm_step(device: &Device) -> Result<Step> {
    let mut config: LmRunConfig = read_json("configs/e2e-lm.json")?;
    config.model.vocab_size = VOCAB;
    let train_device = device.clone().autodiff();
    train_device.seed(0);
    let (ids, padding) = text_batch(config.training.batch_size, &train_device);
    Ok(optimised_step(
        config.model.init(&train_device),
        config.training.optimizer(),
        move |model: &CausalLm| {
            let loss = model.loss(ids.clone(), padding.clone());
            // The training loop reads every step's loss (divergence check).
            let _ = loss.clone().into_scalar::<f32>();
            loss
        },
    ))
}
/// The shipped E2E model, for generation.
pub fn pipeline(device: &Device) -> Result<LatentDiffusionPipeline> {
    Ok(LatentDiffusionPipeline::load(
        &repo().join("models/e2e"),
        device,
    )?)
}

/// DPM-Solver++ (2M) with `steps` denoiser evaluations, the default otherwise.
pub fn dpm_solver(steps: usize) -> SamplerConfig {
    SamplerConfig {
        kind: SamplerKind::DpmSolverPlusPlus { order: 2 },
        steps,
        ..SamplerConfig::default()
    }
}
