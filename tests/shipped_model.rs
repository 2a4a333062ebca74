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
