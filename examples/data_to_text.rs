//! Data-to-text with the shipped E2E sequence-to-sequence model: a meaning representation is
//! read by the context encoder, the denoiser cross-attends to it, five candidates are sampled
//! with classifier-free guidance 2 and minimum-Bayes-risk decoding picks the consensus one.
//!
//! ```text
//! cargo run --release --example data_to_text
//! cargo run --release --example data_to_text -- "name[The Mill], eatType[pub], area[riverside]"
//! ```

use anyhow::Context;
use ld4lg::backend::DeviceChoice;
use ld4lg::metrics::{MbrSimilarity, mbr_select, metric_tokens};
use ld4lg::pipeline::LatentDiffusionPipeline;
use ld4lg::sampler::SamplerConfig;
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
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/e2e-seq2seq");
    let pipeline = LatentDiffusionPipeline::load(&model, &device).with_context(|| {
        format!(
            "loading {} (see models/e2e-seq2seq/README.md for how it was trained)",
            model.display()
        )
    })?;
    // Guidance 2 measured better than 1 on E2E dev (docs/RESULTS.md).
    let sampler = SamplerConfig {
        steps: 50,
        guidance_scale: 2.0,
        ..SamplerConfig::default()
    };
    let start = Instant::now();
    let candidates = pipeline.generate_from_sources(&sources, 5, &sampler, 1)?;
    println!(
        "{} meaning representations × 5 candidates in {:.2?}",
        sources.len(),
        start.elapsed()
    );
    for (source, set) in sources.iter().zip(&candidates) {
        let tokens: Vec<Vec<String>> = set.iter().map(|c| metric_tokens(c)).collect();
        let pick = mbr_select(&tokens, MbrSimilarity::Bleu).unwrap_or(0);
        println!("\n{source}");
        for (i, text) in set.iter().enumerate() {
            let mark = if i == pick { "MBR →" } else { "     " };
            println!("  {mark} {text}");
        }
    }
    Ok(())
}
