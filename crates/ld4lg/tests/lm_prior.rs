//! The shipped E2E language model as the prior of shallow fusion: its batched next-token
//! scores are the ones it gives whole texts, and its search state (key/value caches) scores
//! as whole contexts do, so beam search decodes the same with it and without.

use burn::tensor::Device;
use ld4lg::autoencoder::{BeamSearchConfig, DecodeStrategy, Fusion, TokenPrior};
use ld4lg::lm::LanguageModel;
use ld4lg::pipeline::LatentDiffusionPipeline;
use ld4lg::sampler::SamplerConfig;
use ld4lg::tokenizer::special::{BOS_ID, EOS_ID, UNK_ID};
use std::path::Path;
use std::sync::Arc;

fn shipped(device: &Device) -> LanguageModel {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/e2e");
    LanguageModel::load(&dir, device).unwrap()
}

#[test]
fn next_token_scores_of_every_prefix_match_the_whole_text_scores() {
    let device = Device::flex();
    let lm = shipped(&device);
    let texts = [
        "The Eagle is a cheap coffee shop near Burger King.",
        "Near the river, Zizzi serves Italian food.",
    ];
    let whole = lm.token_log_probs(&texts).unwrap();
    for (text, expected) in texts.iter().zip(&whole) {
        let ids = lm.tokenizer().encode(text).unwrap();
        assert_eq!(ids[0], BOS_ID);
        let inner = &ids[1..];
        assert_eq!(inner.len(), expected.len());
        // Every prefix at once, as one beam-search step asks: contexts of all lengths.
        let contexts: Vec<&[u32]> = (0..inner.len()).map(|j| &inner[..j]).collect();
        let next: Vec<Vec<u32>> = inner.iter().map(|&t| vec![t, EOS_ID]).collect();
        let batched = lm.log_probs(&contexts, &next);
        for (j, row) in batched.iter().enumerate() {
            assert!(
                (row[0] - expected[j]).abs() < 1e-4,
                "{text}, token {j}: {} vs {}",
                row[0],
                expected[j]
            );
            // The one-token path agrees with the batch.
            assert!((lm.log_prob(contexts[j], EOS_ID) - row[1]).abs() < 1e-4);
        }
    }
    // The model knows where a sentence ends: after the full stop rather than mid-phrase.
    let ids = lm.tokenizer().encode(texts[0]).unwrap();
    let body = &ids[1..ids.len() - 1];
    assert!(lm.log_prob(body, EOS_ID) > lm.log_prob(&body[..3], EOS_ID) + 3.0);
}

#[test]
fn ids_beyond_the_vocabulary_are_read_and_scored_as_unknown() {
    let device = Device::flex();
    let lm = shipped(&device);
    let vocab = lm.tokenizer().vocab_size() as u32;
    let ids = lm.tokenizer().encode("The Eagle is a pub.").unwrap();
    let inner = &ids[1..ids.len() - 1];
    let mut foreign = inner.to_vec();
    foreign[1] = vocab + 7;
    let mut unknown = inner.to_vec();
    unknown[1] = UNK_ID;
    // A decoder with a larger vocabulary: no panic, and its ids mean `<unk>`.
    let scores = lm.log_probs(
        &[&foreign, &unknown],
        &[vec![EOS_ID, vocab + 1], vec![EOS_ID, UNK_ID]],
    );
    for (a, b) in scores[0].iter().zip(&scores[1]) {
        assert!(a.is_finite() && a < &0.0, "{scores:?}");
        assert!((a - b).abs() < 1e-5, "{scores:?}");
    }
}

#[test]
fn the_search_state_scores_as_whole_contexts_do_past_the_model_length() {
    let device = Device::flex();
    let lm = shipped(&device);
    let ids = lm
        .tokenizer()
        .encode("The Eagle is a cheap coffee shop near Burger King in the riverside area.")
        .unwrap();
    let words = &ids[1..ids.len() - 1];
    let mut state = lm.start(2).unwrap();
    let mut contexts: Vec<Vec<u32>> = vec![Vec::new(); 2];
    let probe = |contexts: &[Vec<u32>]| -> Vec<Vec<u32>> {
        contexts
            .iter()
            .map(|c| vec![EOS_ID, words[c.len() % words.len()], UNK_ID])
            .collect()
    };
    // Rows split and die as in beam search: three rows continue row 0 and row 1 in turn.
    // 80 steps run past the model's 64 positions, where the state rereads the last tokens.
    for step in 0..80 {
        let next = probe(&contexts);
        let by_state = state.log_probs(&next);
        let refs: Vec<&[u32]> = contexts.iter().map(Vec::as_slice).collect();
        let whole = lm.log_probs(&refs, &next);
        for (a, b) in by_state.iter().flatten().zip(whole.iter().flatten()) {
            assert!((a - b).abs() < 1e-3, "step {step}: {a} vs {b}");
        }
        let parents: Vec<usize> = match contexts.len() {
            2 => vec![0, 0, 1],
            _ => vec![step % 3, 2],
        };
        let tokens: Vec<u32> = parents
            .iter()
            .enumerate()
            .map(|(i, _)| words[(step + i) % words.len()])
            .collect();
        contexts = parents
            .iter()
            .zip(&tokens)
            .map(|(&p, &t)| {
                let mut c = contexts[p].clone();
                c.push(t);
                c
            })
            .collect();
        state.advance(&parents, &tokens);
    }
    assert!(contexts[0].len() > lm.model().max_len());
}

/// The shipped model without its search state: beam search then asks with whole contexts.
#[derive(Debug)]
struct Stateless(Arc<LanguageModel>);

impl TokenPrior for Stateless {
    fn log_prob(&self, context: &[u32], token: u32) -> f64 {
        self.0.log_prob(context, token)
    }
    fn log_probs(&self, contexts: &[&[u32]], tokens: &[Vec<u32>]) -> Vec<Vec<f64>> {
        self.0.log_probs(contexts, tokens)
    }
}

#[test]
fn beam_search_decodes_the_same_with_and_without_the_search_state() {
    let device = Device::flex();
    let lm = Arc::new(shipped(&device));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/e2e");
    let pipeline = LatentDiffusionPipeline::load(&dir, &device).unwrap();
    let sampler = SamplerConfig {
        steps: 5,
        ..SamplerConfig::default()
    };
    let beam = BeamSearchConfig::new()
        .with_beam_size(3)
        .with_no_adjacent_repeat(true);
    let latents = pipeline.generate_latents(6, &sampler, 4).unwrap();
    let fused = |prior: Arc<dyn TokenPrior>| {
        DecodeStrategy::FusedBeam(beam.clone(), Fusion::new(prior, 2.0))
    };
    let pipeline = pipeline.with_decode_strategy(fused(lm.clone()));
    let cached = pipeline.decode(latents.clone()).unwrap();
    let pipeline = pipeline.with_decode_strategy(fused(Arc::new(Stateless(lm))));
    let reread = pipeline.decode(latents).unwrap();
    assert_eq!(cached, reread);
    assert!(cached.iter().all(|t| !t.is_empty()), "{cached:?}");
}
