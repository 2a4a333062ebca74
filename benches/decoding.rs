//! Latents → token ids through the autoregressive decoder (greedy and beam search, with its
//! key/value cache) and the parallel decoder, on an untrained model of the E2E configuration's
//! shape. Untrained weights never emit `</s>` early, so every run decodes all 63 positions: a
//! fixed amount of work. The fused row adds shallow fusion with a token 5-gram model of the
//! E2E training references (models/e2e's tokenizer), looked up for 16 tokens per hypothesis
//! and step; the `lm_fusion` row fuses the shipped language model (`models/e2e/lm/`), one
//! batched forward pass over all hypotheses per step (decoder tokens beyond its 3 993-token
//! vocabulary get no prior).
//!
//! `cargo bench --bench decoding`

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ld4lg::autoencoder::Fusion;
use ld4lg::autoencoder::{AutoencoderConfig, BeamSearchConfig, DecodeStrategy, DecoderKind};
use ld4lg::backend::DeviceChoice;
use ld4lg::burn::tensor::Device;
use ld4lg::burn::tensor::{Distribution, Tensor};
use ld4lg::data::{CorpusSpec, OnError};
use ld4lg::fusion::NgramTokenPrior;
use ld4lg::lm::LanguageModel;
use ld4lg::tokenizer::Tokenizer;
use std::path::Path;
use std::sync::Arc;

/// Beam 4 fused with a 5-gram model of the E2E training references at weight 2.
fn fused_beam() -> DecodeStrategy {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tokenizer = Tokenizer::from_file(repo.join("models/e2e/tokenizer.json")).unwrap();
    let texts: Vec<String> = CorpusSpec::E2e {
        path: repo.join("data/e2e/trainset.csv.gz"),
    }
    .open(OnError::Fail)
    .unwrap()
    .texts()
    .collect::<Result<_, _>>()
    .unwrap();
    NgramTokenPrior::train(&tokenizer, &texts, 5)
        .unwrap()
        .into_fused_beam(BeamSearchConfig::new().with_beam_size(4), 2.0)
}

/// Beam 4 fused with the shipped E2E language model at weight 2.
fn lm_fused_beam(device: &Device) -> DecodeStrategy {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lm = LanguageModel::load(&repo.join("models/e2e"), device).unwrap();
    DecodeStrategy::FusedBeam(
        BeamSearchConfig::new().with_beam_size(4),
        Fusion::new(Arc::new(lm), 2.0),
    )
}

fn decode(c: &mut Criterion) {
    let device = DeviceChoice::default_compiled()
        .expect("a backend is compiled in")
        .device()
        .expect("compiled backends give devices");
    let batch = 16;
    let mut group = c.benchmark_group("decode_b16_len64_vocab4000");
    group.sample_size(10);
    for (name, kind, strategy) in [
        ("parallel", DecoderKind::Parallel, DecodeStrategy::Greedy),
        (
            "autoregressive_greedy",
            DecoderKind::Autoregressive,
            DecodeStrategy::Greedy,
        ),
        (
            "autoregressive_beam4",
            DecoderKind::Autoregressive,
            DecodeStrategy::Beam(BeamSearchConfig::new().with_beam_size(4)),
        ),
        (
            "autoregressive_beam4_fusion5",
            DecoderKind::Autoregressive,
            fused_beam(),
        ),
        (
            "autoregressive_beam4_lm_fusion",
            DecoderKind::Autoregressive,
            lm_fused_beam(&device),
        ),
    ] {
        // configs/e2e-autoencoder.json's model, vocabulary of 4 000.
        let model = AutoencoderConfig::new()
            .with_vocab_size(4000)
            .with_max_len(64)
            .with_d_model(128)
            .with_num_latents(16)
            .with_d_latent(32)
            .with_d_decoder(128)
            .with_decoder(kind)
            .init(&device);
        let latents = Tensor::<3>::random([batch, 16, 32], Distribution::Normal(0.0, 1.0), &device);
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| model.decode(latents.clone(), &strategy, 1, 2))
        });
    }
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
