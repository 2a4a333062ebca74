//! Every shipped configuration in `configs/` parses as the run configuration its name says,
//! and the trained models it names exist, so none rots as the configuration types change.

use ld4lg::train::{AutoencoderRunConfig, DiffusionRunConfig, LmRunConfig, RunConfig};
use std::path::{Path, PathBuf};

fn configs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_configuration_parses_and_names_existing_models() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut kinds = [0usize; 4];
    for path in configs() {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let named_models: Vec<PathBuf> = if name.ends_with("-run") {
            let _: RunConfig =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            kinds[0] += 1;
            Vec::new()
        } else if name.ends_with("-lm") {
            let config: LmRunConfig =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            kinds[3] += 1;
            vec![config.tokenizer_from]
        } else if name.contains("autoencoder") || name.contains("decoder") {
            let config: AutoencoderRunConfig =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            kinds[1] += 1;
            config
                .encoder_from
                .into_iter()
                .chain(config.denoised_latents.map(|d| d.denoiser_from))
                .collect()
        } else {
            let config: DiffusionRunConfig =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            kinds[2] += 1;
            config.init_from.into_iter().collect()
        };
        for model in named_models {
            assert!(
                repo.join(&model).is_dir(),
                "{} names {}, which is not in the repository",
                path.display(),
                model.display()
            );
        }
    }
    assert!(kinds.iter().all(|&n| n > 0), "{kinds:?}");
}
