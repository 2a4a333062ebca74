//! The shipped E2E language model on a half-precision device: whole-text scores (what
//! `--fluency-lm` picks by) and fusion scores both read back, close to the f32 scores.
//!
//! Its own test binary: a device's dtypes are set once per process, before its first tensor.

use burn::tensor::{Device, FloatDType};
use ld4lg::autoencoder::TokenPrior;
use ld4lg::lm::LanguageModel;
use std::path::Path;

/// f32 token log-probabilities of "The Eagle is a cheap coffee shop near Burger King." (Flex,
/// `LanguageModel::token_log_probs`, printed to four decimals).
const EAGLE_F32: [f64; 12] = [
    -0.9499, -2.6436, -0.4173, -0.2728, -3.1628, -1.6461, -0.0174, -2.4402, -0.2371, -0.005,
    -1.6958, -2.0337,
];

#[test]
fn half_precision_scores_read_back_close_to_f32() {
    let mut device = Device::flex();
    device.configure(FloatDType::F16).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/e2e");
    let lm = LanguageModel::load(&dir, &device).unwrap();
    let text = "The Eagle is a cheap coffee shop near Burger King.";
    let close = |a: f64, b: f64| (a - b).abs() < 0.05 + 0.02 * b.abs();

    let scores = lm.token_log_probs(&[text]).unwrap();
    assert_eq!(scores[0].len(), EAGLE_F32.len());
    for (a, b) in scores[0].iter().zip(EAGLE_F32) {
        assert!(close(*a, b), "{:?} vs {EAGLE_F32:?}", scores[0]);
    }
    // The fusion path: the third token given the two before it.
    let ids = lm.tokenizer().encode(text).unwrap();
    let fused = lm.log_probs(&[&ids[1..3]], &[vec![ids[3]]]);
    assert!(close(fused[0][0], EAGLE_F32[2]), "{fused:?}");
}
