//! Tokenizer throughput: batch-encoding E2E dev references into padded id/mask tensors.
//!
//! `cargo bench --bench tokenizer`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ld4lg::data::{CorpusSpec, OnError};
use ld4lg::tokenizer::{EncodeOptions, Tokenizer, TokenizerConfig};
use std::hint::black_box;
use std::path::Path;

fn texts(file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/e2e")
        .join(file);
    CorpusSpec::E2e { path }
        .open(OnError::Fail)
        .and_then(|stream| stream.texts().collect())
        .expect("bundled E2E corpus")
}

fn encode_batch(c: &mut Criterion) {
    let tokenizer = Tokenizer::train(&TokenizerConfig::default(), texts("trainset.csv.gz").iter())
        .expect("tokenizer trains");
    let batch: Vec<String> = texts("devset.csv.gz").into_iter().take(256).collect();
    let device = ld4lg::backend::DeviceChoice::default_compiled()
        .expect("a backend is compiled in")
        .device()
        .expect("compiled backends give devices");
    let mut group = c.benchmark_group("tokenizer");
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function("encode_batch_256_e2e_dev", |b| {
        b.iter(|| tokenizer.encode_batch(black_box(&batch), EncodeOptions::new(64)))
    });
    group.bench_function("encode_batch_256_to_tensors", |b| {
        b.iter(|| {
            tokenizer
                .encode_batch(black_box(&batch), EncodeOptions::new(64))
                .map(|encoded| encoded.to_tensors(&device))
        })
    });
    group.finish();
}

criterion_group!(benches, encode_batch);
criterion_main!(benches);
