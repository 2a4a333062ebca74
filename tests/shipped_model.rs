//! The model shipped in `models/e2e` loads and generates deterministically.

use burn::tensor::Device;
use ld4lg::pipeline::LatentDiffusionPipeline;
use ld4lg::sampler::SamplerConfig;
use std::path::Path;

#[test]
fn shipped_model_generates_reproducibly() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/e2e");
    let pipeline = LatentDiffusionPipeline::load(&model, &Device::flex()).unwrap();
    assert_eq!(pipeline.autoencoder().latent_shape(), [16, 32]);
    let config = SamplerConfig {
        steps: 10,
        ..SamplerConfig::default()
    };
    let texts = pipeline.generate(4, &config, 42).unwrap();
    assert!(
        texts.iter().all(|t| t.split_whitespace().count() >= 3),
        "{texts:?}"
    );
    assert_eq!(pipeline.generate(4, &config, 42).unwrap(), texts);
    // Reconstruction of a training-style sentence through the shipped autoencoder.
    let sentence = "The Eagle is a cheap coffee shop near Burger King in the riverside area.";
    assert_eq!(pipeline.reconstruct(&[sentence]).unwrap()[0], sentence);
}

#[test]
fn interpolation_through_inverted_noise_keeps_its_ends_and_checks_its_input() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/e2e");
    let pipeline = LatentDiffusionPipeline::load(&model, &Device::flex()).unwrap();
    let a = "The Eagle is a cheap coffee shop near Burger King in the riverside area.";
    let b = "Fitzbillies is a highly rated Italian restaurant in the city centre.";
    // Inverted only part of the way, with enough steps, the ends come back unchanged.
    let texts = pipeline.interpolate_inverted(a, b, 4, 0.3, 40).unwrap();
    assert_eq!(texts.len(), 4);
    assert_eq!((texts[0].as_str(), texts[3].as_str()), (a, b), "{texts:?}");
    assert!(texts.iter().all(|t| !t.trim().is_empty()), "{texts:?}");
    assert!(pipeline.interpolate_inverted(a, b, 1, 0.3, 40).is_err());
    assert!(pipeline.interpolate_inverted(a, b, 3, 1.5, 40).is_err());
}
