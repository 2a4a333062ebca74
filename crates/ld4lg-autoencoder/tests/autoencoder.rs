//! Behaviour of the autoencoder on synthetic token sequences (`<pad>` = 0, `<s>` = 1,
//! `</s>` = 2, content tokens 3..VOCAB).

use burn::module::{Module, list_param_ids};
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use ld4lg_autoencoder::{
    Autoencoder, AutoencoderConfig, BeamSearchConfig, DecodeStrategy, DecoderKind,
    LatentRegularizer,
};
use rand::{RngExt, SeedableRng, rngs::ChaCha8Rng};
use std::sync::{Mutex, MutexGuard};

const VOCAB: usize = 40;
const BOS: u32 = 1;
const EOS: u32 = 2;

fn sentences(n: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let len = rng.random_range(4..12);
            let mut s = vec![BOS];
            s.extend((0..len).map(|_| rng.random_range(3..VOCAB as u32)));
            s.push(EOS);
            s
        })
        .collect()
}

fn batch(rows: &[Vec<u32>], pad_id: u32, device: &Device) -> (Tensor<2, Int>, Tensor<2, Bool>) {
    let len = rows.iter().map(Vec::len).max().unwrap();
    let mut ids = Vec::new();
    let mut mask = Vec::new();
    for row in rows {
        ids.extend(row.iter().map(|&t| t as i64));
        ids.extend(std::iter::repeat_n(pad_id as i64, len - row.len()));
        mask.extend((0..len).map(|j| j >= row.len()));
    }
    (
        Tensor::from_data(TensorData::new(ids, [rows.len(), len]), device),
        Tensor::from_data(TensorData::new(mask, [rows.len(), len]), device),
    )
}

fn tiny(decoder: DecoderKind, regularizer: LatentRegularizer) -> AutoencoderConfig {
    AutoencoderConfig::new()
        .with_vocab_size(VOCAB)
        .with_max_len(16)
        .with_d_model(64)
        .with_n_heads(4)
        .with_encoder_layers(1)
        .with_perceiver_layers(1)
        .with_num_latents(8)
        .with_d_latent(16)
        .with_d_decoder(64)
        .with_reconstruction_layers(1)
        .with_decoder_layers(2)
        .with_decoder(decoder)
        .with_regularizer(regularizer)
}

/// Flex has one random generator for the whole process, and the test harness runs tests on
/// several threads: without this lock, one test's draws would shift another's, and a seeded
/// initialisation or training run would differ from run to run.
fn random_generator() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn max_abs_diff(a: Tensor<3>, b: Tensor<3>) -> f32 {
    (a - b).abs().max().into_scalar::<f32>()
}

#[test]
fn latents_have_a_fixed_shape_whatever_the_length() {
    let _random = random_generator();
    let device = Device::flex();
    let model = tiny(DecoderKind::Parallel, LatentRegularizer::L2Sphere).init(&device);
    for rows in [sentences(3, 1), vec![vec![BOS, 5, EOS]]] {
        let (ids, mask) = batch(&rows, 0, &device);
        let latents = model.encode(ids, mask);
        assert_eq!(latents.dims(), [rows.len(), 8, 16]);
    }
    assert_eq!(model.latent_shape(), [8, 16]);
}

#[test]
fn padding_content_does_not_change_the_latents() {
    let _random = random_generator();
    let device = Device::flex();
    for regularizer in [LatentRegularizer::L2Sphere, LatentRegularizer::None] {
        let model = tiny(DecoderKind::Parallel, regularizer).init(&device);
        let rows = sentences(4, 2);
        let (ids_a, mask) = batch(&rows, 0, &device);
        let (ids_b, _) = batch(&rows, 17, &device);
        let a = model.encode(ids_a, mask.clone());
        let b = model.encode(ids_b, mask);
        assert!(max_abs_diff(a, b) < 1e-5, "{regularizer:?}");
    }
}

#[test]
fn encoder_word_dropout_hides_the_text_from_the_encoder_in_training_only() {
    let _random = random_generator();
    let device = Device::flex();
    let model = tiny(DecoderKind::Parallel, LatentRegularizer::L2Sphere)
        .with_encoder_word_dropout(Some(1.0))
        .init(&device);
    // Two texts of one length: with every token after <s> masked the encoder reads the same
    // input for both, so the parallel decoder (which sees only the latents) predicts the same.
    let rows = vec![vec![BOS, 5, 6, 7, 8, EOS], vec![BOS, 20, 21, 22, 23, EOS]];
    let (ids, mask) = batch(&rows, 0, &device);
    let predictions = |training: bool| -> Vec<Vec<i64>> {
        let out = model.forward_loss(ids.clone(), mask.clone(), training);
        let flat: Vec<i64> = out.predictions.into_data().try_to_vec_as().unwrap();
        flat.chunks(flat.len() / 2).map(<[i64]>::to_vec).collect()
    };
    let trained = predictions(true);
    assert_eq!(trained[0], trained[1]);
    // Outside training the encoder reads the texts: their latents differ.
    let latents = model.encode(ids.clone(), mask.clone());
    let a = latents.clone().narrow(0, 0, 1);
    let b = latents.narrow(0, 1, 1);
    assert!(max_abs_diff(a, b) > 1e-3);
    let evaluated = model.forward_loss(ids.clone(), mask.clone(), false);
    let trained = model.forward_loss(ids.clone(), mask.clone(), true);
    let (e, t) = (
        evaluated.cross_entropy.into_scalar::<f32>(),
        trained.cross_entropy.into_scalar::<f32>(),
    );
    assert!((e - t).abs() > 1e-6, "evaluation {e}, training {t}");
}

/// Trains on `rows` until every sentence is reconstructed exactly, or `max_steps`.
fn overfit(
    config: &AutoencoderConfig,
    rows: &[Vec<u32>],
    max_steps: usize,
) -> (Autoencoder, usize) {
    let device = Device::flex().autodiff();
    device.seed(0);
    overfit_model(config.init(&device), rows, max_steps)
}

/// Trains `model` (on an autodiff device) as [`overfit`] does.
fn overfit_model(
    mut model: Autoencoder,
    rows: &[Vec<u32>],
    max_steps: usize,
) -> (Autoencoder, usize) {
    let device = Device::flex().autodiff();
    let mut optimizer = AdamWConfig::new()
        .with_epsilon(1e-8)
        .with_weight_decay(0.0)
        .init();
    let (ids, mask) = batch(rows, 0, &device);
    for step in 1..=max_steps {
        let output = model.forward_loss(ids.clone(), mask.clone(), true);
        let grads = GradientsParams::from_grads(output.loss.backward(), &model);
        model = optimizer.step(2e-3, model, grads);
        if step % 25 == 0 {
            let valid = model.valid();
            let inference_device = Device::flex();
            let (ids, mask) = batch(rows, 0, &inference_device);
            let decoded = valid.decode(valid.encode(ids, mask), &DecodeStrategy::Greedy, BOS, EOS);
            if decoded.iter().zip(rows).all(|(d, r)| d[..] == r[1..]) {
                return (valid, step);
            }
        }
    }
    (model.valid(), max_steps)
}

#[test]
fn a_small_model_memorises_32_sentences_with_either_decoder() {
    let _random = random_generator();
    let rows = sentences(32, 3);
    // Seeded and run under the generator lock, so the number of steps is the same every run.
    for decoder in [DecoderKind::Parallel, DecoderKind::Autoregressive] {
        let (_, steps) = overfit(&tiny(decoder, LatentRegularizer::L2Sphere), &rows, 500);
        eprintln!("{decoder:?}: all 32 exact after {steps} steps");
        assert!(
            steps < 500,
            "{decoder:?}: no exact reconstruction of all 32 after 500 steps"
        );
    }
}

#[test]
fn every_parameter_receives_a_gradient() {
    let _random = random_generator();
    let device = Device::flex().autodiff();
    for (decoder, regularizer) in [
        (DecoderKind::Parallel, LatentRegularizer::L2Sphere),
        (
            DecoderKind::Autoregressive,
            LatentRegularizer::Kl { weight: 0.1 },
        ),
    ] {
        let model = tiny(decoder, regularizer)
            .with_latent_noise(0.1)
            .init(&device);
        let (ids, mask) = batch(&sentences(4, 4), 0, &device);
        let output = model.forward_loss(ids, mask, true);
        let grads = GradientsParams::from_grads(output.loss.backward(), &model);
        let ids = list_param_ids(&model);
        assert!(ids.len() > 50);
        assert_eq!(
            grads.len(),
            ids.len(),
            "{decoder:?}: parameters without gradient"
        );
    }
}

#[test]
fn save_then_load_gives_identical_outputs() {
    let _random = random_generator();
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.bpk");
    for tied in [false, true] {
        let config = tiny(DecoderKind::Autoregressive, LatentRegularizer::L2Sphere)
            .with_tie_embeddings(Some(tied));
        let model = config.init(&device);
        let (ids, mask) = batch(&sentences(3, 5), 0, &device);
        let before = model.encode(ids.clone(), mask.clone());
        model.clone().save_file(&path).unwrap();
        let loaded = config.init(&device).try_load_file(&path).unwrap();
        let after = loaded.encode(ids, mask);
        assert_eq!(max_abs_diff(before.clone(), after), 0.0);
        let a = model.decode(before.clone(), &DecodeStrategy::Greedy, BOS, EOS);
        let b = loaded.decode(before, &DecodeStrategy::Greedy, BOS, EOS);
        assert_eq!(a, b, "tied {tied}");
    }
}

#[test]
fn beam_search_of_width_one_is_greedy() {
    let _random = random_generator();
    let rows = sentences(8, 6);
    let (model, _) = overfit(
        &tiny(DecoderKind::Autoregressive, LatentRegularizer::L2Sphere),
        &rows,
        50,
    );
    let device = Device::flex();
    let (ids, mask) = batch(&rows, 0, &device);
    let latents = model.encode(ids, mask);
    let greedy = model.decode(latents.clone(), &DecodeStrategy::Greedy, BOS, EOS);
    let beam = BeamSearchConfig::new()
        .with_beam_size(1)
        .with_length_penalty(0.0);
    let one = model.decode(latents.clone(), &DecodeStrategy::Beam(beam), BOS, EOS);
    assert_eq!(greedy, one);
    // A wider beam never scores worse under the model; here it must still give well-formed
    // sequences that end with </s> or reach the maximum length.
    let wide = model.decode(
        latents,
        &DecodeStrategy::Beam(BeamSearchConfig::new()),
        BOS,
        EOS,
    );
    for seq in wide {
        assert!(seq.last() == Some(&EOS) || seq.len() == 15, "{seq:?}");
    }
}

#[test]
fn word_dropout_acts_in_training_only() {
    let _random = random_generator();
    let device = Device::flex();
    let model = tiny(DecoderKind::Autoregressive, LatentRegularizer::L2Sphere)
        .with_word_dropout(Some(0.5))
        .init(&device);
    let (ids, padding) = batch(&sentences(8, 3), 0, &device);
    let loss = |training: bool| {
        model
            .forward_loss(ids.clone(), padding.clone(), training)
            .cross_entropy
            .into_scalar::<f32>()
    };
    let evaluation = loss(false);
    device.seed(1);
    assert_eq!(loss(false), evaluation, "evaluation masks nothing");
    let first = loss(true);
    device.seed(2);
    let second = loss(true);
    assert_ne!(first, second, "each draw masks different words");
    assert_ne!(first, evaluation);
}

#[test]
fn configurations_saved_before_word_dropout_still_load() {
    let _random = random_generator();
    let mut json =
        serde_json::to_value(tiny(DecoderKind::Parallel, LatentRegularizer::L2Sphere)).unwrap();
    json.as_object_mut().unwrap().remove("word_dropout");
    let config: AutoencoderConfig = serde_json::from_value(json).unwrap();
    assert_eq!(config.word_dropout, None);
}

#[test]
fn full_length_training_predicts_what_decoding_gives() {
    let _random = random_generator();
    let device = Device::flex();
    let rows = sentences(6, 5);
    let (ids, padding) = batch(&rows, 0, &device);
    let seq = ids.dims()[1];
    let plain = tiny(DecoderKind::Parallel, LatentRegularizer::L2Sphere).init(&device);
    let output = plain.forward_loss(ids.clone(), padding.clone(), false);
    assert_eq!(output.predictions.dims(), [6, seq]);

    let model = tiny(DecoderKind::Parallel, LatentRegularizer::L2Sphere)
        .with_full_length_training(Some(true))
        .init(&device);
    let output = model.forward_loss(ids.clone(), padding.clone(), false);
    assert_eq!(output.predictions.dims(), [6, 16]);
    assert_eq!(output.targets.dims(), [6, 16]);
    let predicted: Vec<i64> = output.predictions.into_data().try_to_vec_as().unwrap();
    let decoded = model.decode(
        model.encode(ids, padding),
        &DecodeStrategy::Greedy,
        BOS,
        EOS,
    );
    for (row, text) in predicted.chunks(16).zip(&decoded) {
        // Decoding's rule: skip `<s>`, stop before `<pad>` or after `</s>`.
        let mut expected = Vec::new();
        for &id in &row[1..] {
            if id == 0 {
                break;
            }
            expected.push(id as u32);
            if id as u32 == EOS {
                break;
            }
        }
        assert_eq!(text, &expected);
    }
}

#[test]
fn tied_embeddings_train_and_are_checked() {
    // Parallel: no output matrix of its own. Autoregressive: no input table either.
    for (kind, tables) in [(DecoderKind::Parallel, 1), (DecoderKind::Autoregressive, 2)] {
        let _random = random_generator();
        let tied = tiny(kind, LatentRegularizer::L2Sphere).with_tie_embeddings(Some(true));
        let device = Device::flex().autodiff();
        let untied_count = tiny(kind, LatentRegularizer::L2Sphere)
            .init(&device)
            .num_params();
        let model = tied.init(&device);
        assert_eq!(
            untied_count - model.num_params(),
            tables * 64 * VOCAB,
            "{kind:?}"
        );
        let (ids, mask) = batch(&sentences(4, 4), 0, &device);
        let output = model.forward_loss(ids, mask, true);
        let grads = GradientsParams::from_grads(output.loss.backward(), &model);
        assert_eq!(grads.len(), list_param_ids(&model).len(), "{kind:?}");
        drop(_random);

        let rows = sentences(32, 3);
        let (_, steps) = {
            let _random = random_generator();
            overfit(&tied, &rows, 500)
        };
        eprintln!("tied {kind:?}: all 32 exact after {steps} steps");
        assert!(
            steps < 500,
            "tied {kind:?}: no exact reconstruction of all 32 after 500 steps"
        );
        assert!(tied.with_d_decoder(32).check().is_err());
    }
}

#[test]
fn a_new_decoder_learns_on_a_frozen_encoder_whose_latents_stay_the_same() {
    let _random = random_generator();
    let rows = sentences(32, 3);
    let parallel = tiny(DecoderKind::Parallel, LatentRegularizer::L2Sphere);
    let (source, _) = overfit(&parallel, &rows, 500);
    let inference = Device::flex();
    let (ids, mask) = batch(&rows, 0, &inference);
    let source_latents = source.encode(ids.clone(), mask.clone());

    let autoregressive = tiny(DecoderKind::Autoregressive, LatentRegularizer::L2Sphere);
    autoregressive.check_encoder_matches(&parallel).unwrap();
    let error = autoregressive
        .clone()
        .with_d_latent(8)
        .check_encoder_matches(&parallel)
        .unwrap_err();
    assert!(error.contains("d_latent is 8"), "{error}");

    let device = Device::flex().autodiff();
    device.seed(1);
    let model = autoregressive
        .init(&device)
        .with_encoder_of(source.clone().fork(&device));
    // Only the reconstruction network and the decoder get gradients.
    let (train_ids, train_mask) = batch(&rows[..4], 0, &device);
    let output = model.forward_loss(train_ids, train_mask, true);
    let grads = GradientsParams::from_grads(output.loss.backward(), &model);
    let all = list_param_ids(&model).len();
    assert!(
        grads.len() > 10 && grads.len() < all,
        "{} of {all}",
        grads.len()
    );

    let (trained, steps) = overfit_model(model, &rows, 500);
    assert!(
        steps < 500,
        "the new decoder did not learn all 32 in 500 steps"
    );
    let after = trained.encode(ids, mask);
    assert_eq!(
        max_abs_diff(source_latents, after),
        0.0,
        "the encoder moved"
    );
}

#[test]
fn no_adjacent_repeat_never_emits_a_token_twice_in_a_row() {
    let _random = random_generator();
    let device = Device::flex();
    device.seed(7);
    // An untrained decoder repeats its favourite token: the ban must break every such run.
    let model = tiny(DecoderKind::Autoregressive, LatentRegularizer::L2Sphere).init(&device);
    let (ids, mask) = batch(&sentences(6, 8), 0, &device);
    let latents = model.encode(ids, mask);
    let adjacent = |rows: &[Vec<u32>]| {
        rows.iter()
            .map(|r| r.windows(2).filter(|w| w[0] == w[1]).count())
            .sum::<usize>()
    };
    let greedy = model.decode(latents.clone(), &DecodeStrategy::Greedy, BOS, EOS);
    assert!(adjacent(&greedy) > 0, "no repeats to remove: {greedy:?}");
    for beam_size in [1, 3] {
        let config = BeamSearchConfig::new()
            .with_beam_size(beam_size)
            .with_no_adjacent_repeat(true);
        let banned = model.decode(latents.clone(), &DecodeStrategy::Beam(config), BOS, EOS);
        assert_eq!(adjacent(&banned), 0, "beam {beam_size}: {banned:?}");
        assert!(banned.iter().all(|r| !r.is_empty()));
    }
}

#[test]
fn the_decoder_loss_on_given_latents_is_that_of_the_encoded_ones() {
    let _random = random_generator();
    let device = Device::flex();
    for decoder in [DecoderKind::Parallel, DecoderKind::Autoregressive] {
        device.seed(5);
        let model = tiny(decoder, LatentRegularizer::L2Sphere).init(&device);
        let (ids, padding) = batch(&sentences(8, 4), 0, &device);
        let latents = model.encode(ids.clone(), padding.clone());
        let through_encoder = model
            .forward_loss(ids.clone(), padding.clone(), false)
            .cross_entropy
            .into_scalar::<f32>();
        let given = model
            .forward_loss_on_latents(latents.clone(), ids.clone(), padding.clone(), false)
            .cross_entropy
            .into_scalar::<f32>();
        assert_eq!(given, through_encoder, "{decoder:?}");
        // Other latents give another loss: the given ones are really the ones decoded.
        let moved = model
            .forward_loss_on_latents(latents.neg(), ids.clone(), padding.clone(), false)
            .cross_entropy
            .into_scalar::<f32>();
        assert_ne!(moved, through_encoder, "{decoder:?}");
    }
}

#[test]
fn taking_the_whole_decoder_needs_the_same_decoder_but_not_the_same_training_settings() {
    let autoregressive = tiny(DecoderKind::Autoregressive, LatentRegularizer::L2Sphere);
    autoregressive
        .clone()
        .with_latent_noise(0.3)
        .with_word_dropout(Some(0.1))
        .check_decoder_matches(&autoregressive)
        .unwrap();
    let parallel = tiny(DecoderKind::Parallel, LatentRegularizer::L2Sphere);
    let error = autoregressive.check_decoder_matches(&parallel).unwrap_err();
    assert!(error.contains("decoder is Autoregressive"), "{error}");
    let error = autoregressive
        .clone()
        .with_decoder_layers(3)
        .check_decoder_matches(&autoregressive)
        .unwrap_err();
    assert!(error.contains("decoder_layers is 3"), "{error}");
    let error = autoregressive
        .clone()
        .with_d_latent(8)
        .check_decoder_matches(&autoregressive)
        .unwrap_err();
    assert!(error.contains("d_latent is 8"), "{error}");
}
