//! Train a byte-level BPE tokenizer on the bundled E2E corpus and turn a batch of
//! restaurant descriptions into the id and padding-mask tensors that the autoencoder eats.
//!
//! ```text
//! cargo run --release --example tokenize
//! cargo run --release --example tokenize --features wgpu -- --device wgpu
//! ```

use anyhow::Context;
use ld4lg::backend::DeviceChoice;
use ld4lg::data::{CorpusSpec, OnError};
use ld4lg::tokenizer::{EncodeOptions, Tokenizer, TokenizerConfig};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let device_choice = parse_device()?;
    let device = device_choice.device()?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));

    let start = Instant::now();
    let train = CorpusSpec::E2e {
        path: root.join("data/e2e/trainset.csv.gz"),
    };
    let texts = train
        .open(OnError::Fail)?
        .texts()
        .map(|t| t.map_err(ld4lg::Error::from));
    let tokenizer = Tokenizer::try_train(&TokenizerConfig::default(), texts)
        .context("training the tokenizer on data/e2e/trainset.csv.gz")?;
    println!(
        "trained a {}-token byte-level BPE on the E2E training split in {:.2?}",
        tokenizer.vocab_size(),
        start.elapsed()
    );

    let dev = CorpusSpec::E2e {
        path: root.join("data/e2e/devset.csv.gz"),
    };
    let examples: Vec<_> = dev.open(OnError::Fail)?.take(4).collect::<Result<_, _>>()?;
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let batch = tokenizer.encode_batch(&texts, EncodeOptions::new(64))?;
    let (ids, mask) = batch.to_tensors(&device);
    println!(
        "\nE2E dev batch on {device_choice}: ids {:?}, padding mask {:?}",
        ids.dims(),
        mask.dims()
    );
    for ((example, row), &length) in examples.iter().zip(&batch.ids).zip(&batch.lengths) {
        println!("\n  mr:   {}", example.source.as_deref().unwrap_or(""));
        println!("  text: {}", example.text);
        println!("  ids:  {:?} ({length} tokens)", &row[..length]);
        println!("  back: {}", tokenizer.decode(row)?);
    }
    Ok(())
}

/// `--device NAME` (default: the first compiled backend).
fn parse_device() -> anyhow::Result<DeviceChoice> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => DeviceChoice::default_compiled().context("no backend compiled in"),
        [flag, name] if flag == "--device" => Ok(name.parse()?),
        _ => anyhow::bail!("usage: tokenize [--device flex|ndarray|wgpu|cuda]"),
    }
}
