//! Pieces shared by the training loops: optimiser, metrics file, checkpoints, padding, seeds.

use super::TrainingConfig;
use crate::Error;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, ModuleOptimizer};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// AdamW with the run's ε, weight decay, β₂ and global-norm clipping (never Burn's defaults).
pub(crate) fn adamw(t: &TrainingConfig) -> ModuleOptimizer {
    AdamWConfig::new()
        .with_epsilon(t.adam_eps)
        .with_weight_decay(t.weight_decay)
        .with_beta_2(t.adam_beta2)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(t.grad_clip)))
        .init()
}

/// Opens the metrics CSV for appending, writing `header` when the file is new.
pub(crate) fn open_metrics(path: &Path, header: &str) -> Result<File, Error> {
    let new = !path.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    if new {
        writeln!(file, "{header}").map_err(|e| Error::io(path, e))?;
    }
    Ok(file)
}

/// Saves the optimiser state through a temporary file and a rename.
pub(crate) fn save_optimizer(optimizer: &ModuleOptimizer, path: &Path) -> Result<(), Error> {
    let tmp = path.with_extension("bpk.tmp");
    optimizer
        .save(&tmp)
        .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Pads rows of ids into `(ids, padding)` tensors.
///
/// # Shapes
/// - output: `[rows, longest]` twice
pub(crate) fn pad_rows(rows: &[&[u32]], device: &Device) -> (Tensor<2, Int>, Tensor<2, Bool>) {
    let len = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(rows.len() * len);
    let mut mask = Vec::with_capacity(rows.len() * len);
    for row in rows {
        ids.extend(row.iter().map(|&t| i64::from(t)));
        ids.extend(std::iter::repeat_n(
            i64::from(ld4lg_tokenizer::special::PAD_ID),
            len - row.len(),
        ));
        mask.extend(std::iter::repeat_n(false, row.len()));
        mask.extend(std::iter::repeat_n(true, len - row.len()));
    }
    (
        Tensor::from_data(TensorData::new(ids, [rows.len(), len]), device),
        Tensor::from_data(TensorData::new(mask, [rows.len(), len]), device),
    )
}

/// Mixes a seed with a step so every draw of a step is reproducible after a resume.
pub(crate) fn step_seed(seed: u64, step: u64, micro: usize) -> u64 {
    let mut z = seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (micro as u64).rotate_left(32);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^ (z >> 27)
}
