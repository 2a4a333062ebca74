//! Exporting a trained run for shipping: only what generation needs, weights in half precision.

use crate::Error;
use ld4lg_run::{AutoencoderRun, DiffusionRun, save_half};
use std::path::Path;

fn copy(from: &Path, to: &Path) -> Result<(), Error> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    std::fs::copy(from, to).map_err(|e| Error::io(from, e))?;
    Ok(())
}

/// Writes the files generation needs from `run_dir` into `out_dir`: tokenizer, configs,
/// autoencoder weights and EMA denoiser (and context encoder) weights in f16 (no optimiser
/// state, raw weights or latent cache), each weight file recorded in its directory's
/// manifest. Returns the total size in bytes.
///
/// # Errors
/// [`Error::Locked`] when another process trains in `out_dir` or exports into it.
pub fn export_run(
    run_dir: &Path,
    out_dir: &Path,
    device: &burn::tensor::Device,
) -> Result<u64, Error> {
    let lock = ld4lg_run::RunLock::acquire(out_dir)?;
    let source_ae = AutoencoderRun {
        dir: run_dir.to_path_buf(),
    };
    let target_ae = AutoencoderRun {
        dir: out_dir.to_path_buf(),
    };
    let source_diffusion = DiffusionRun {
        dir: run_dir.to_path_buf(),
    };
    let target_diffusion = DiffusionRun {
        dir: out_dir.to_path_buf(),
    };
    copy(&source_ae.tokenizer(), &target_ae.tokenizer())?;
    copy(&source_ae.model_config(), &target_ae.model_config())?;
    copy(
        &source_diffusion.model_config(),
        &target_diffusion.model_config(),
    )?;
    copy(
        &source_diffusion.diffusion_config(),
        &target_diffusion.diffusion_config(),
    )?;
    if run_dir.join("config.json").exists() {
        copy(&run_dir.join("config.json"), &out_dir.join("config.json"))?;
    }
    let (_, autoencoder) = source_ae.load(device)?;
    save_half(&autoencoder, &target_ae.weights())?;
    let (model, _, _) = ld4lg_run::load_diffusion_model(run_dir, device)?;
    save_half(&model.denoiser, &target_diffusion.ema_weights())?;
    if source_diffusion.latent_stats().exists() {
        copy(
            &source_diffusion.latent_stats(),
            &target_diffusion.latent_stats(),
        )?;
    }
    if source_diffusion.condition().exists() {
        copy(&source_diffusion.condition(), &target_diffusion.condition())?;
    }
    if let Some(encoder) = &model.source_encoder {
        save_half(encoder, &target_diffusion.source_encoder_ema_weights())?;
    }
    let mut total = 0;
    for entry in walk(out_dir, lock.path())? {
        total += std::fs::metadata(&entry)
            .map_err(|e| Error::io(&entry, e))?
            .len();
    }
    Ok(total)
}

/// The files under `dir`, but the lock file `skip`.
fn walk(dir: &Path, skip: &Path) -> Result<Vec<std::path::PathBuf>, Error> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            files.extend(walk(&path, skip)?);
        } else if path != skip {
            files.push(path);
        }
    }
    Ok(files)
}
