//! The conditional models shipped in `models/yelp` and `models/e2e-seq2seq` load, follow their
//! condition, and generate deterministically; the shipped classifier keeps its measured
//! held-out accuracy.

use burn::tensor::Device;
use ld4lg::classifier::NgramClassifier;
use ld4lg::data::{CorpusSpec, LabelledFile, OnError};
use ld4lg::pipeline::LatentDiffusionPipeline;
use ld4lg::sampler::SamplerConfig;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn yelp_split(split: &str) -> Vec<(String, String)> {
    let files = ["negative", "positive"]
        .iter()
        .map(|label| LabelledFile {
            label: label.to_string(),
            path: root().join(format!("data/yelp/{split}.{label}.txt")),
        })
        .collect();
    CorpusSpec::LabelledFiles { files }
        .open(OnError::Fail)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.text, e.label.unwrap())
        })
        .collect()
}

#[test]
fn shipped_classifier_keeps_its_held_out_accuracy() {
    let classifier = NgramClassifier::load(&root().join("models/yelp/classifier.bin")).unwrap();
    assert_eq!(classifier.classes(), ["negative", "positive"]);
    // Measured when it was trained (docs/RESULTS.md): 1915 of the 2000 test sentences.
    let accuracy = classifier.accuracy(&yelp_split("test"));
    assert!((accuracy - 0.9575).abs() < 1e-9, "{accuracy}");
}

#[test]
fn shipped_sentiment_model_follows_the_class() {
    let pipeline =
        LatentDiffusionPipeline::load(&root().join("models/yelp"), &Device::flex()).unwrap();
    let classifier = NgramClassifier::load(&root().join("models/yelp/classifier.bin")).unwrap();
    assert_eq!(pipeline.classes(), ["negative", "positive"]);
    // The first model's control is weak at w = 1 and grows with guidance (docs/RESULTS.md:
    // 0.886 / 0.912 at w = 5 on 500 samples per class); 20 samples per class at w = 5 must
    // mostly land in their class, and w = 0 (the unconditional model) must not.
    let config = |w: f64| SamplerConfig {
        steps: 25,
        guidance_scale: w,
        ..SamplerConfig::default()
    };
    let share = |class: &str, w: f64| {
        let texts = pipeline.generate_class(class, 20, &config(w), 1).unwrap();
        let right = texts
            .iter()
            .filter(|t| classifier.predict(t) == class)
            .count();
        (right, texts)
    };
    for class in ["negative", "positive"] {
        let (right, texts) = share(class, 5.0);
        assert!(right >= 14, "{right}/20 {class}: {texts:?}");
        assert_eq!(share(class, 5.0).1, texts, "same seed, same texts");
    }
    let (negative_at_0, _) = share("negative", 0.0);
    let (negative_at_5, _) = share("negative", 5.0);
    assert!(
        negative_at_5 > negative_at_0 + 4,
        "{negative_at_0} → {negative_at_5}"
    );
}

#[test]
fn shipped_seq2seq_model_names_the_restaurant_of_its_source() {
    let pipeline =
        LatentDiffusionPipeline::load(&root().join("models/e2e-seq2seq"), &Device::flex()).unwrap();
    let sources = [
        "name[The Eagle], eatType[coffee shop], food[Japanese], area[riverside]",
        "name[The Vaults], eatType[pub], priceRange[more than £30], near[Café Adriatic]",
        "name[The Cambridge Blue], eatType[pub], food[English], priceRange[cheap]",
    ];
    let config = SamplerConfig {
        steps: 25,
        guidance_scale: 2.0,
        ..SamplerConfig::default()
    };
    let outputs = pipeline
        .generate_from_sources(&sources, 4, &config, 1)
        .unwrap();
    let names = ["Eagle", "Vaults", "Cambridge Blue"];
    let named: usize = outputs
        .iter()
        .zip(names)
        .map(|(set, name)| set.iter().filter(|t| t.contains(name)).count())
        .sum();
    assert!(named >= 10, "{named}/12 name their restaurant: {outputs:?}");
    assert_eq!(
        pipeline
            .generate_from_sources(&sources, 4, &config, 1)
            .unwrap(),
        outputs
    );
}
