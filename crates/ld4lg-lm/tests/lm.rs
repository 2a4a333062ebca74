//! Behaviour of the causal language model: causality, padding, the loss, learning.

use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use ld4lg_lm::{CausalLm, CausalLmConfig};

fn tiny(device: &Device) -> CausalLm {
    device.seed(7);
    CausalLmConfig::new(12)
        .with_max_len(8)
        .with_d_model(16)
        .with_n_layers(2)
        .with_n_heads(2)
        .init(device)
}

fn ids(rows: &[&[i64]], device: &Device) -> Tensor<2, Int> {
    let len = rows[0].len();
    let flat: Vec<i64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), len]), device)
}

fn padding(rows: &[&[bool]], device: &Device) -> Tensor<2, Bool> {
    let len = rows[0].len();
    let flat: Vec<bool> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), len]), device)
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn shapes_and_causality() {
    let device = Device::flex();
    let lm = tiny(&device);
    let a = lm.forward(ids(&[&[1, 5, 6, 7, 2]], &device));
    assert_eq!(a.dims(), [1, 5, 12]);
    // Changing token 3 leaves the predictions made before it unchanged, and changes the rest.
    let b = lm.forward(ids(&[&[1, 5, 6, 9, 2]], &device));
    let (a, b) = (values(a), values(b));
    let row = 12;
    for (x, y) in a[..3 * row].iter().zip(&b[..3 * row]) {
        assert!((x - y).abs() < 1e-5, "{x} vs {y}");
    }
    assert!(
        a[3 * row..]
            .iter()
            .zip(&b[3 * row..])
            .any(|(x, y)| (x - y).abs() > 1e-4)
    );
}

#[test]
fn padding_content_changes_nothing_and_the_loss_is_the_mean_over_real_tokens() {
    let device = Device::flex();
    let lm = tiny(&device);
    let pad = padding(&[&[false, false, false, true, true]], &device);
    let one = lm.target_log_probs(ids(&[&[1, 5, 2, 0, 0]], &device), pad.clone());
    let other = lm.target_log_probs(ids(&[&[1, 5, 2, 9, 3]], &device), pad.clone());
    let (one, other) = (values(one), values(other));
    assert_eq!(one.len(), 4);
    assert_eq!(&one[2..], &[0.0, 0.0], "padding targets score 0");
    for (x, y) in one.iter().zip(&other) {
        assert!((x - y).abs() < 1e-6);
    }
    // The same log-probabilities from the logits by hand.
    let logits = values(lm.forward(ids(&[&[1, 5, 2, 0, 0]], &device)));
    for (j, target) in [5usize, 2].into_iter().enumerate() {
        let row = &logits[j * 12..(j + 1) * 12];
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let log_z = max + row.iter().map(|v| (v - max).exp()).sum::<f32>().ln();
        assert!((one[j] - (row[target] - log_z)).abs() < 1e-5);
    }
    let loss = lm
        .loss(ids(&[&[1, 5, 2, 0, 0]], &device), pad)
        .into_scalar::<f32>();
    assert!((loss + (one[0] + one[1]) / 2.0).abs() < 1e-5);
}

#[test]
fn next_log_probs_are_the_full_forward_at_each_rows_last_token() {
    let device = Device::flex();
    let lm = tiny(&device);
    // Rows of different lengths, padded after the text with junk.
    let rows: [&[i64]; 3] = [&[1, 5, 6, 7, 2], &[1, 8, 0, 0, 0], &[1, 3, 9, 4, 11]];
    let last = [3i64, 1, 4];
    let next = lm.next_log_probs(
        ids(&rows, &device),
        Tensor::from_data(TensorData::new(last.to_vec(), [3]), &device),
    );
    assert_eq!(next.dims(), [3, 12]);
    let next = values(next);
    let full = values(burn::tensor::activation::log_softmax(
        lm.forward(ids(&rows, &device)),
        2,
    ));
    for (b, &j) in last.iter().enumerate() {
        let expected = &full[(b * 5 + j as usize) * 12..][..12];
        for (x, y) in next[b * 12..(b + 1) * 12].iter().zip(expected) {
            assert!((x - y).abs() < 1e-5, "row {b}: {x} vs {y}");
        }
    }
    // A probability distribution over the vocabulary.
    let total: f32 = next[..12].iter().map(|v| v.exp()).sum();
    assert!((total - 1.0).abs() < 1e-5);
}

#[test]
fn stepping_with_caches_equals_the_full_forward_and_follows_selected_rows() {
    let device = Device::flex();
    let lm = tiny(&device);
    let rows: [&[i64]; 2] = [&[1, 5, 6, 7], &[1, 8, 3, 9]];
    let full = values(burn::tensor::activation::log_softmax(
        lm.forward(ids(&rows, &device)),
        2,
    ));
    let token =
        |t: &[i64]| Tensor::<1, Int>::from_data(TensorData::new(t.to_vec(), [t.len()]), &device);
    let mut caches = lm.start_caches();
    for j in 0..4 {
        let step = values(lm.step_log_probs(token(&[rows[0][j], rows[1][j]]), &mut caches));
        for b in 0..2 {
            let expected = &full[(b * 4 + j) * 12..][..12];
            for (x, y) in step[b * 12..(b + 1) * 12].iter().zip(expected) {
                assert!((x - y).abs() < 1e-5, "row {b}, position {j}: {x} vs {y}");
            }
        }
    }
    // Keep row 1 twice (as beam search keeps two continuations of one hypothesis), then step:
    // both continue row 1's prefix.
    let index = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 1], [2]), &device);
    let mut caches: Vec<_> = caches
        .into_iter()
        .map(|c| c.select_rows(index.clone()))
        .collect();
    let step = values(lm.step_log_probs(token(&[2, 4]), &mut caches));
    let direct = |last: i64| {
        let row: [&[i64]; 1] = [&[1, 8, 3, 9, last]];
        values(lm.next_log_probs(ids(&row, &device), token(&[4])))
    };
    for (b, last) in [2i64, 4].into_iter().enumerate() {
        for (x, y) in step[b * 12..(b + 1) * 12].iter().zip(direct(last)) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
    }
}

#[test]
fn learns_a_handful_of_sequences() {
    let device = Device::flex().autodiff();
    let mut lm = tiny(&device);
    let batch = ids(
        &[&[1, 5, 6, 7, 2], &[1, 8, 9, 2, 0], &[1, 5, 9, 10, 2]],
        &device,
    );
    let pad = padding(
        &[
            &[false; 5],
            &[false, false, false, false, true],
            &[false; 5],
        ],
        &device,
    );
    let mut optimizer: ModuleOptimizer = AdamWConfig::new()
        .with_epsilon(1e-8)
        .with_weight_decay(0.0)
        .init();
    let start = lm.loss(batch.clone(), pad.clone()).into_scalar::<f32>();
    for _ in 0..150 {
        let loss = lm.loss(batch.clone(), pad.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &lm);
        lm = optimizer.step(3e-3, lm, grads);
    }
    let end = lm.loss(batch, pad).into_scalar::<f32>();
    // Start near ln 12 = 2.48; the sequences are nearly deterministic after <s> 5 / <s> 8.
    assert!(start > 2.0, "{start}");
    assert!(end < 0.5, "{start} -> {end}");
}
