//! Data-to-text with the shipped E2E sequence-to-sequence model: a meaning representation is
//! read by the context encoder, the denoiser cross-attends to it, five candidates are sampled
//! (DDPM, 50 steps, classifier-free guidance 2) and decoded by beam search fused with a token
//! trigram model of the bundled E2E training set, and minimum-Bayes-risk decoding with a
//! fluency term (a word trigram model of the same texts) picks one: the best setting
//! measured on E2E dev (docs/RESULTS.md).
//!
//! ```text
//! cargo run --release --example data_to_text
//! cargo run --release --example data_to_text -- "name[The Mill], eatType[pub], area[riverside]"
//! ```

use anyhow::Context;
use ld4lg::autoencoder::BeamSearchConfig;
use ld4lg::backend::DeviceChoice;
use ld4lg::data::CorpusSpec;
use ld4lg::fusion::NgramTokenPrior;
use ld4lg::metrics::{MbrSimilarity, NgramLm, metric_tokens, rerank};
use ld4lg::pipeline::LatentDiffusionPipeline;
use ld4lg::sampler::{DdpmVariance, SamplerConfig, SamplerKind, Spacing};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut sources: Vec<String> = std::env::args().skip(1).collect();
    if sources.is_empty() {
        sources = [
            "name[The Eagle], eatType[coffee shop], food[Japanese], priceRange[less than £20], customer rating[low], area[riverside], familyFriendly[yes], near[Burger King]",
            "name[The Vaults], eatType[pub], food[French], priceRange[more than £30], area[city centre], near[Raja Indian Cuisine]",
            "name[Zizzi], eatType[restaurant], customer rating[5 out of 5], familyFriendly[no]",
        ]
        .map(String::from)
        .to_vec();
    }
    let device = DeviceChoice::default_compiled()
        .context("no backend compiled in")?
        .device()?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = root.join("models/e2e-seq2seq");
    let pipeline = LatentDiffusionPipeline::load(&model, &device).with_context(|| {
        format!(
            "loading {} (see models/e2e-seq2seq/README.md for how it was trained)",
            model.display()
        )
    })?;
    // DDPM and guidance 2 measured best on E2E dev (docs/RESULTS.md).
    let sampler = SamplerConfig {
        kind: SamplerKind::Ddpm {
            variance: DdpmVariance::Large,
        },
        spacing: Spacing::UniformTime,
        steps: 50,
        guidance_scale: 2.0,
        ..SamplerConfig::default()
    };
    // The fusion and fluency models: token and word trigrams of the training references
    // (a few seconds).
    let train = CorpusSpec::E2e {
        path: root.join("data/e2e/trainset.csv.gz"),
    };
    let texts = train.read_texts()?;
    let prior = NgramTokenPrior::train(pipeline.tokenizer(), &texts, 3)?;
    let beam = BeamSearchConfig::new()
        .with_beam_size(4)
        .with_no_adjacent_repeat(true);
    let pipeline = pipeline.with_decode_strategy(prior.into_fused_beam(beam, 1.0));
    let words: Vec<Vec<String>> = texts.iter().map(|t| metric_tokens(t)).collect();
    let fluency = NgramLm::train(words, 3)?;
    let start = Instant::now();
    let candidates = pipeline.generate_from_sources(&sources, 5, &sampler, 1)?;
    println!(
        "{} meaning representations × 5 candidates in {:.2?}",
        sources.len(),
        start.elapsed()
    );
    for (source, set) in sources.iter().zip(&candidates) {
        let tokens: Vec<Vec<String>> = set.iter().map(|c| metric_tokens(c)).collect();
        let pick = rerank(&tokens, Some(MbrSimilarity::Bleu), Some((&fluency, 0.05))).unwrap_or(0);
        println!("\n{source}");
        for (i, text) in set.iter().enumerate() {
            let mark = if i == pick { "pick →" } else { "      " };
            println!("  {mark} {text}");
        }
    }
    Ok(())
}
