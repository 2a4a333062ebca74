use crate::Coefficients;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// What the network predicts, in diffusers' vocabulary.
///
/// With `z = α x₀ + σ ε` and `α² + σ² = 1`:
/// - `Epsilon`: the noise ε; `x₀ = (z − σ ε)/α`.
/// - `Sample`: the clean data x₀ directly.
/// - `VPrediction`: the velocity `v = α ε − σ x₀` (Salimans & Ho 2022);
///   `x₀ = α z − σ v`, `ε = σ z + α v`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PredictionType {
    /// Predict the noise ε.
    Epsilon,
    /// Predict the clean sample x₀.
    Sample,
    /// Predict the velocity v (LD4LG's default).
    #[default]
    VPrediction,
}

impl PredictionType {
    /// The training target for this prediction type.
    ///
    /// # Shapes
    /// - `x0`, `noise`: `[batch, …]` → `[batch, …]`
    pub fn target<const D: usize>(
        self,
        x0: Tensor<D>,
        noise: Tensor<D>,
        c: &Coefficients<D>,
    ) -> Tensor<D> {
        match self {
            Self::Epsilon => noise,
            Self::Sample => x0,
            Self::VPrediction => noise * c.alpha.clone() - x0 * c.sigma.clone(),
        }
    }

    /// The clean-data estimate x̂₀ implied by a model output at `z`.
    ///
    /// # Shapes
    /// - `output`, `z`: `[batch, …]` → `[batch, …]`
    pub fn to_sample<const D: usize>(
        self,
        output: Tensor<D>,
        z: Tensor<D>,
        c: &Coefficients<D>,
    ) -> Tensor<D> {
        match self {
            Self::Epsilon => (z - output * c.sigma.clone()) / c.alpha.clone(),
            Self::Sample => output,
            Self::VPrediction => z * c.alpha.clone() - output * c.sigma.clone(),
        }
    }

    /// The noise estimate ε̂ implied by a model output at `z`.
    ///
    /// # Shapes
    /// - `output`, `z`: `[batch, …]` → `[batch, …]`
    pub fn to_epsilon<const D: usize>(
        self,
        output: Tensor<D>,
        z: Tensor<D>,
        c: &Coefficients<D>,
    ) -> Tensor<D> {
        match self {
            Self::Epsilon => output,
            Self::Sample => (z - output * c.alpha.clone()) / c.sigma.clone(),
            Self::VPrediction => z * c.sigma.clone() + output * c.alpha.clone(),
        }
    }

    /// Re-expresses a model output as another prediction type.
    ///
    /// # Shapes
    /// - `output`, `z`: `[batch, …]` → `[batch, …]`
    pub fn convert<const D: usize>(
        self,
        output: Tensor<D>,
        to: PredictionType,
        z: Tensor<D>,
        c: &Coefficients<D>,
    ) -> Tensor<D> {
        if self == to {
            return output;
        }
        let x0 = self.to_sample(output.clone(), z.clone(), c);
        let eps = self.to_epsilon(output, z, c);
        to.target(x0, eps, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NoiseSchedule, add_noise};
    use burn::tensor::{Device, Distribution, Tensor};

    fn max_abs_diff(a: Tensor<3>, b: Tensor<3>) -> f32 {
        (a - b).abs().max().into_scalar::<f32>()
    }

    #[test]
    fn every_prediction_recovers_x0_and_noise() {
        let device = Device::flex();
        device.seed(3);
        let t = [0.05, 0.3, 0.6, 0.95];
        let c = Coefficients::<3>::at_times(&NoiseSchedule::default(), &t, &device);
        let x0 = Tensor::<3>::random([4, 3, 5], Distribution::Normal(0.5, 2.0), &device);
        let eps = Tensor::<3>::random([4, 3, 5], Distribution::Normal(0.0, 1.0), &device);
        let z = add_noise(x0.clone(), eps.clone(), &c);
        for kind in [
            PredictionType::Epsilon,
            PredictionType::Sample,
            PredictionType::VPrediction,
        ] {
            let output = kind.target(x0.clone(), eps.clone(), &c);
            let x0_hat = kind.to_sample(output.clone(), z.clone(), &c);
            let eps_hat = kind.to_epsilon(output.clone(), z.clone(), &c);
            assert!(max_abs_diff(x0_hat, x0.clone()) < 1e-3, "{kind:?} x0");
            assert!(max_abs_diff(eps_hat, eps.clone()) < 1e-3, "{kind:?} eps");
            for to in [
                PredictionType::Epsilon,
                PredictionType::Sample,
                PredictionType::VPrediction,
            ] {
                let converted = kind.convert(output.clone(), to, z.clone(), &c);
                let back = to.convert(converted, kind, z.clone(), &c);
                assert!(
                    max_abs_diff(back, output.clone()) < 1e-3,
                    "{kind:?} → {to:?} → back"
                );
            }
        }
    }

    #[test]
    fn v_is_alpha_eps_minus_sigma_x0_by_hand() {
        // t = 0.5 under the cosine: α = σ = √½. x₀ = 2, ε = −1 → v = √½·(−1) − √½·2.
        let device = Device::flex();
        let c = Coefficients::<3>::at_times(&NoiseSchedule::default(), &[0.5], &device);
        let x0 = Tensor::<3>::full([1, 1, 1], 2.0, &device);
        let eps = Tensor::<3>::full([1, 1, 1], -1.0, &device);
        let v = PredictionType::VPrediction
            .target(x0, eps, &c)
            .into_scalar::<f32>();
        assert!((v - (-3.0 * 0.5f32.sqrt())).abs() < 1e-6, "{v}");
    }
}
