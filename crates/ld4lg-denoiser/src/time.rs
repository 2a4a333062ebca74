use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use ld4lg_nn::Gelu;

/// Configuration of the [`NoiseLevelEmbedding`].
#[derive(Config, Debug)]
pub struct NoiseLevelEmbeddingConfig {
    /// Output width.
    pub d_model: usize,
    /// Width of the sinusoidal features (even).
    #[config(default = 128)]
    pub d_sinusoid: usize,
}

/// Sinusoidal features of the noise level, then an MLP.
///
/// As LD4LG, the level fed in is `1000·ᾱ(t)` rather than `t`, so the embedding depends on the
/// noise itself and not on how a schedule spends time.
#[derive(Module, Debug)]
pub struct NoiseLevelEmbedding {
    hidden: Linear,
    output: Linear,
    activation: Gelu,
    d_sinusoid: usize,
}

impl NoiseLevelEmbeddingConfig {
    /// Builds the embedding.
    pub fn init(&self, device: &Device) -> NoiseLevelEmbedding {
        NoiseLevelEmbedding {
            hidden: LinearConfig::new(self.d_sinusoid, 4 * self.d_model).init(device),
            output: LinearConfig::new(4 * self.d_model, self.d_model).init(device),
            activation: Gelu::new(),
            d_sinusoid: self.d_sinusoid,
        }
    }
}

/// `[sin(x·fᵢ), cos(x·fᵢ)]` with `fᵢ = 10000^(−i/half)`.
///
/// # Shapes
/// - `x`: `[batch]` → `[batch, dim]`
pub fn sinusoidal(x: Tensor<1>, dim: usize) -> Tensor<2> {
    let half = dim / 2;
    let device = x.device();
    let batch = x.dims()[0];
    let frequencies = Tensor::<1, burn::tensor::Int>::arange(0..half as i64, &device)
        .float()
        .mul_scalar(-(10000f64.ln()) / half as f64)
        .exp();
    let angles = x.reshape([batch, 1]) * frequencies.reshape([1, half]);
    Tensor::cat(vec![angles.clone().sin(), angles.cos()], 1)
}

impl NoiseLevelEmbedding {
    /// # Shapes
    /// - `alpha_bar`: `[batch]` → `[batch, d_model]`
    pub fn forward(&self, alpha_bar: Tensor<1>) -> Tensor<2> {
        let features = sinusoidal(alpha_bar.mul_scalar(1000.0), self.d_sinusoid);
        self.output
            .forward(self.activation.forward(self.hidden.forward(features)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn sinusoid_by_hand() {
        // dim 4: frequencies 1 and 10000^(−1/2) = 0.01.
        let x = Tensor::<1>::from_data(TensorData::new(vec![0.0f32, 2.0], [2]), &Device::flex());
        let got: Vec<f32> = sinusoidal(x, 4).into_data().try_to_vec_as().unwrap();
        let expected = [
            0.0,
            0.0,
            1.0,
            1.0,
            2f32.sin(),
            0.02f32.sin(),
            2f32.cos(),
            0.02f32.cos(),
        ];
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-5, "{got:?}");
        }
    }
}
