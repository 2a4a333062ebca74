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

impl TrainingConfig {
    /// The optimiser the training loops step: AdamW with this configuration's ε, weight
    /// decay, β₂ and global-norm gradient clipping.
    pub fn optimizer(&self) -> ModuleOptimizer {
        adamw(self)
    }
}

/// Opens the metrics CSV for appending, writing `header` when the file is new. Rows of steps
/// after `resume_step` (written by a process killed before its next checkpoint) are removed,
/// so that the file reads as if the run had never stopped.
pub(crate) fn open_metrics(path: &Path, header: &str, resume_step: u64) -> Result<File, Error> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let columns = header.split(',').count();
        // A row is kept when complete (a process killed mid-write leaves a partial one) and
        // of a step the resumed run will not write again.
        let kept: Vec<&str> = text
            .lines()
            .enumerate()
            .filter(|(i, line)| {
                *i == 0
                    || (line.split(',').count() == columns
                        && line
                            .split(',')
                            .next()
                            .and_then(|step| step.parse::<u64>().ok())
                            .is_some_and(|step| step <= resume_step))
            })
            .map(|(_, line)| line)
            .collect();
        if kept.len() != text.lines().count() {
            let mut rewritten = kept.join("\n");
            rewritten.push('\n');
            ld4lg_run::atomic_write(path, rewritten.as_bytes())?;
        }
    }
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

/// Saves the optimiser state through a temporary file, flushed to disk, and a rename, and
/// records its checksum in the directory's manifest.
pub(crate) fn save_optimizer(optimizer: &ModuleOptimizer, path: &Path) -> Result<(), Error> {
    let tmp = path.with_extension("bpk.tmp");
    optimizer
        .save(&tmp)
        .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?;
    ld4lg_run::sync_file(&tmp)?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    ld4lg_run::Manifest::record(path)?;
    Ok(())
}

/// Loads an optimiser state saved by [`save_optimizer`], checked against the manifest.
pub(crate) fn load_optimizer(
    optimizer: ModuleOptimizer,
    path: &Path,
) -> Result<ModuleOptimizer, Error> {
    ld4lg_run::verify_or_warn(path)?;
    optimizer
        .load(path)
        .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resuming_drops_rows_after_the_checkpoint_and_partial_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        std::fs::write(&path, "step,loss\n10,1.5\n20,1.2\n30,1.1\n4").unwrap();
        let mut file = open_metrics(&path, "step,loss", 20).unwrap();
        writeln!(file, "30,1.0").unwrap();
        drop(file);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "step,loss\n10,1.5\n20,1.2\n30,1.0\n"
        );
        let fresh = dir.path().join("new.csv");
        drop(open_metrics(&fresh, "step,loss", 0).unwrap());
        assert_eq!(std::fs::read_to_string(&fresh).unwrap(), "step,loss\n");
    }
}
