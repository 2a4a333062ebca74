use crate::PredictionType;
use serde::{Deserialize, Serialize};

/// Per-example weights of the diffusion loss.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LossWeighting {
    /// Every example weighs 1.
    #[default]
    Uniform,
    /// Min-SNR-γ (Hang et al. 2023): the x₀-space weight `min(SNR, γ)`, expressed for the
    /// prediction type trained: `min(SNR, γ)/SNR` for ε, `min(SNR, γ)/(SNR + 1)` for v,
    /// `min(SNR, γ)` for x₀.
    MinSnr {
        /// Clamp γ; the paper uses 5.
        gamma: f64,
    },
}

impl LossWeighting {
    /// The weight of an example at log-SNR `log_snr` whose loss is on `prediction`.
    pub fn weight(self, log_snr: f64, prediction: PredictionType) -> f64 {
        match self {
            Self::Uniform => 1.0,
            Self::MinSnr { gamma } => {
                let snr = log_snr.exp();
                let clamped = snr.min(gamma);
                match prediction {
                    PredictionType::Epsilon => clamped / snr,
                    PredictionType::VPrediction => clamped / (snr + 1.0),
                    PredictionType::Sample => clamped,
                }
            }
        }
    }

    /// Weights of a batch.
    pub fn weights(self, log_snr: &[f64], prediction: PredictionType) -> Vec<f64> {
        log_snr
            .iter()
            .map(|&l| self.weight(l, prediction))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_snr_by_hand() {
        let weighting = LossWeighting::MinSnr { gamma: 5.0 };
        // SNR = e^ln(10) = 10 > γ: ε weight 5/10, v weight 5/11, x₀ weight 5.
        let l = 10f64.ln();
        assert!((weighting.weight(l, PredictionType::Epsilon) - 0.5).abs() < 1e-12);
        assert!((weighting.weight(l, PredictionType::VPrediction) - 5.0 / 11.0).abs() < 1e-12);
        assert!((weighting.weight(l, PredictionType::Sample) - 5.0).abs() < 1e-12);
        // SNR = 2 < γ: ε weight 1, v weight 2/3.
        let l = 2f64.ln();
        assert!((weighting.weight(l, PredictionType::Epsilon) - 1.0).abs() < 1e-12);
        assert!((weighting.weight(l, PredictionType::VPrediction) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            LossWeighting::Uniform.weights(&[0.0, 3.0], PredictionType::Sample),
            [1.0, 1.0]
        );
    }
}
