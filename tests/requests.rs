//! The request-style entries of the pipeline give exactly what the task methods give, do not
//! depend on the batch size, decode as asked, and refuse bad settings with typed errors.

use burn::tensor::Device;
use ld4lg::Error;
use ld4lg::autoencoder::{BeamSearchConfig, DecodeStrategy};
use ld4lg::metrics::MbrSimilarity;
use ld4lg::pick::CandidatePicker;
use ld4lg::pipeline::LatentDiffusionPipeline;
use ld4lg::request::{EditRequest, GenerateRequest, InterpolateRequest, InterpolationPath};
use ld4lg::sampler::{Conditioning, SamplerConfig};
use std::path::Path;

fn load(model: &str) -> LatentDiffusionPipeline {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(model);
    LatentDiffusionPipeline::load(&dir, &Device::flex()).unwrap()
}

fn few_steps() -> SamplerConfig {
    SamplerConfig {
        steps: 4,
        ..SamplerConfig::default()
    }
}

const A: &str = "The Eagle is a cheap coffee shop near Burger King.";
const B: &str = "Fitzbillies is a highly rated Italian restaurant in the city centre.";

#[test]
fn generation_requests_are_the_samples_of_consecutive_seeds_at_any_batch_size() {
    let pipeline = load("e2e");
    let request = GenerateRequest::new(3)
        .with_candidates(2)
        .with_seed(11)
        .with_sampler(few_steps());
    let sets = pipeline
        .generate_candidates(&request.clone().with_batch_size(4))
        .unwrap();
    assert_eq!(sets.len(), 3);
    assert!(sets.iter().all(|set| set.len() == 2));
    let flat = pipeline.generate(6, &few_steps(), 11).unwrap();
    assert_eq!(sets.concat(), flat);
    let one_by_one = pipeline
        .generate_candidates(&request.clone().with_batch_size(1))
        .unwrap();
    assert_eq!(one_by_one, sets);

    // Streamed, batches of 4 deliver the complete sets as they finish them: the set whose
    // second candidate falls into the next batch waits for it.
    let mut chunks = Vec::new();
    pipeline
        .generate_candidates_each(&request.clone().with_batch_size(4), |chunk| {
            chunks.push(chunk);
            Ok(())
        })
        .unwrap();
    assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(chunks.concat(), sets);
    // An error of the callback stops the generation and comes back.
    let mut calls = 0;
    let stopped = pipeline.generate_candidates_each(&request.clone().with_batch_size(2), |_| {
        calls += 1;
        Err(Error::Config("stop".into()))
    });
    assert!(matches!(stopped, Err(Error::Config(m)) if m == "stop"));
    assert_eq!(calls, 1);

    // The first-candidate picker keeps candidate 0; MBR keeps one of each set.
    let first = pipeline
        .generate_with(&request, &CandidatePicker::first())
        .unwrap();
    assert_eq!(first, sets.iter().map(|s| s[0].clone()).collect::<Vec<_>>());
    let mbr = pipeline
        .generate_with(&request, &CandidatePicker::mbr(MbrSimilarity::Bleu))
        .unwrap();
    assert!(mbr.iter().zip(&sets).all(|(text, set)| set.contains(text)));

    // A decode strategy per call decodes as a pipeline built with that strategy does.
    let beam = DecodeStrategy::Beam(BeamSearchConfig::new().with_beam_size(3));
    let beamed = pipeline
        .generate_candidates(
            &GenerateRequest::new(2)
                .with_sampler(few_steps())
                .with_decode(beam.clone()),
        )
        .unwrap()
        .concat();
    let reference = load("e2e")
        .with_decode_strategy(beam)
        .generate(2, &few_steps(), 1)
        .unwrap();
    assert_eq!(beamed, reference);
}

#[test]
fn class_and_source_requests_match_the_task_methods() {
    let yelp = load("yelp");
    let sampler = SamplerConfig {
        guidance_scale: 3.0,
        ..few_steps()
    };
    let request = GenerateRequest::new(3)
        .with_class("positive")
        .with_sampler(sampler.clone())
        .with_seed(5)
        .with_batch_size(2);
    let sets = yelp.generate_candidates(&request).unwrap();
    let reference = yelp.generate_class("positive", 3, &sampler, 5).unwrap();
    assert_eq!(sets.concat(), reference);
    let unknown = yelp.generate_candidates(&GenerateRequest::new(1).with_class("neutral"));
    assert!(matches!(unknown, Err(Error::Config(_))), "{unknown:?}");

    let seq2seq = load("e2e-seq2seq");
    let sources = vec![
        "name[The Eagle], eatType[coffee shop], area[riverside]".to_owned(),
        String::new(),
        "name[Zizzi], food[Italian]".to_owned(),
    ];
    let request = GenerateRequest::for_sources(sources.clone())
        .with_candidates(2)
        .with_sampler(few_steps())
        .with_seed(3)
        .with_batch_size(2);
    let sets = seq2seq.generate_candidates(&request).unwrap();
    let reference = seq2seq
        .generate_from_sources(&sources, 2, &few_steps(), 3)
        .unwrap();
    assert_eq!(sets, reference);
    assert!(sets[1].is_empty(), "an empty source gets no candidates");
}

#[test]
fn edit_requests_match_edit_conditioned_at_any_batch_size() {
    let pipeline = load("e2e");
    let texts = vec![A.to_owned(), B.to_owned(), "The Mill is a pub.".to_owned()];
    let request = EditRequest::new(texts.clone(), 0.5)
        .with_seed(4)
        .with_sampler(few_steps())
        .with_batch_size(2);
    let edited = pipeline.edit_with(&request).unwrap();
    let reference = pipeline
        .edit_conditioned(&texts, 0.5, &few_steps(), 4, &Conditioning::none())
        .unwrap();
    assert_eq!(edited, reference);
    let bad = pipeline.edit_with(&EditRequest::new(texts, 1.5));
    assert!(matches!(bad, Err(Error::Config(_))), "{bad:?}");
}

#[test]
fn interpolation_requests_match_the_pipeline_methods() {
    let pipeline = load("e2e");
    let latent = pipeline
        .interpolate_candidates(&InterpolateRequest::new(A, B, 4))
        .unwrap();
    assert_eq!(latent.concat(), pipeline.interpolate(A, B, 4).unwrap());

    let seeds = vec![1, 2];
    let denoised = pipeline
        .interpolate_candidates(
            &InterpolateRequest::new(A, B, 4)
                .with_path(InterpolationPath::Denoised {
                    strength: 0.4,
                    keep_ends: true,
                })
                .with_sampler(few_steps())
                .with_seeds(seeds.clone()),
        )
        .unwrap();
    let ends = pipeline.reconstruct(&[A, B]).unwrap();
    let interior = pipeline
        .interpolate_denoised_interior_candidates(A, B, 4, 0.4, &few_steps(), &seeds)
        .unwrap();
    assert_eq!(denoised.len(), 4);
    assert_eq!(denoised[0], vec![ends[0].clone()]);
    assert_eq!(denoised[1..3], interior[..]);
    assert_eq!(denoised[3], vec![ends[1].clone()]);

    let inverted = pipeline
        .interpolate_with(
            &InterpolateRequest::new(A, B, 3).with_path(InterpolationPath::Inverted {
                depth: 1.0,
                steps: 8,
            }),
            &CandidatePicker::first(),
        )
        .unwrap();
    assert_eq!(
        inverted,
        pipeline.interpolate_inverted(A, B, 3, 1.0, 8).unwrap()
    );
}

#[test]
fn requests_refuse_bad_settings() {
    let pipeline = load("e2e");
    for request in [
        GenerateRequest::new(2).with_candidates(0),
        GenerateRequest::new(2).with_batch_size(0),
        GenerateRequest::new(usize::MAX).with_candidates(2),
    ] {
        let result = pipeline.generate_candidates(&request);
        assert!(matches!(result, Err(Error::Config(_))), "{result:?}");
    }
    let no_seeds = InterpolateRequest::new(A, B, 3)
        .with_path(InterpolationPath::Denoised {
            strength: 0.4,
            keep_ends: false,
        })
        .with_seeds(Vec::new());
    let one_point = InterpolateRequest::new(A, B, 1);
    for request in [no_seeds, one_point] {
        let result = pipeline.interpolate_candidates(&request);
        assert!(matches!(result, Err(Error::Config(_))), "{result:?}");
    }
    let no_steps =
        pipeline.generate_candidates(&GenerateRequest::new(1).with_sampler(SamplerConfig {
            steps: 0,
            ..SamplerConfig::default()
        }));
    assert!(matches!(no_steps, Err(Error::Sampler(_))), "{no_steps:?}");
    let unconditional = pipeline.generate_candidates(&GenerateRequest::new(1).with_class("x"));
    assert!(
        matches!(unconditional, Err(Error::Config(_))),
        "{unconditional:?}"
    );
}
