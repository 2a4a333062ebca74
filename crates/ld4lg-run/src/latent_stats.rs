//! Standardisation of autoencoder latents before diffusion.
//!
//! Latents on the √d sphere have unit RMS but are far from centred: on the Yelp autoencoder
//! the dataset mean carries 54 % of their energy and the per-element spread is 0.21–1.45.
//! Diffusing them raw wastes the noise schedule on the mean and gives the small, informative
//! variations a low signal-to-noise ratio at every time. As LD4LG's `normalize_latent`, the
//! denoiser models `(x − mean) / std` instead; the mean is kept per latent position and channel
//! (our Perceiver latents have a fixed role per position) and `std` is one scalar, so the
//! relative scale of the elements is left as the autoencoder made it.

use crate::Error;
use crate::atomic_write;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Per-element mean and overall standard deviation of a corpus' latents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatentStats {
    /// Latent shape `[l, d]`.
    pub shape: [usize; 2],
    /// Mean of each of the `l · d` elements, row-major.
    pub mean: Vec<f32>,
    /// Standard deviation of all centred elements together.
    pub std: f32,
}

impl LatentStats {
    /// Statistics that change nothing (runs trained before latent standardisation).
    pub fn identity(shape: [usize; 2]) -> Self {
        Self {
            shape,
            mean: vec![0.0; shape[0] * shape[1]],
            std: 1.0,
        }
    }

    /// Whether these statistics change nothing.
    pub fn is_identity(&self) -> bool {
        self.std == 1.0 && self.mean.iter().all(|&m| m == 0.0)
    }

    /// Fits the statistics to `values`, `n` latents of `shape` stored row-major.
    ///
    /// # Errors
    /// [`Error::Config`] when `values` is empty or not a whole number of latents, or when the
    /// latents do not vary at all.
    pub fn fit(values: &[f32], shape: [usize; 2]) -> Result<Self, Error> {
        let per = shape[0] * shape[1];
        if per == 0 || values.is_empty() || !values.len().is_multiple_of(per) {
            return Err(Error::Config(format!(
                "cannot fit latent statistics: {} values are not a whole number of {shape:?} latents",
                values.len()
            )));
        }
        let n = (values.len() / per) as f64;
        // f64 sums: the corpora hold tens of thousands of latents.
        let mut sums = vec![0.0f64; per];
        for latent in values.chunks_exact(per) {
            for (sum, &v) in sums.iter_mut().zip(latent) {
                *sum += f64::from(v);
            }
        }
        let mean: Vec<f64> = sums.iter().map(|s| s / n).collect();
        let mut square = 0.0f64;
        for latent in values.chunks_exact(per) {
            for (m, &v) in mean.iter().zip(latent) {
                square += (f64::from(v) - m).powi(2);
            }
        }
        let std = (square / (n * per as f64)).sqrt();
        // Also catches NaN from non-finite latents.
        if std.is_nan() || std <= 1e-12 {
            return Err(Error::Config(
                "cannot fit latent statistics: the latents do not vary".into(),
            ));
        }
        Ok(Self {
            shape,
            mean: mean.iter().map(|&m| m as f32).collect(),
            std: std as f32,
        })
    }

    /// Standardises row-major latents in place.
    pub fn normalize_values(&self, values: &mut [f32]) {
        let per = self.mean.len();
        for latent in values.chunks_exact_mut(per) {
            for (v, m) in latent.iter_mut().zip(&self.mean) {
                *v = (*v - m) / self.std;
            }
        }
    }

    fn mean_tensor(&self, device: &Device) -> Tensor<3> {
        let [l, d] = self.shape;
        Tensor::from_data(TensorData::new(self.mean.clone(), [1, l, d]), device)
    }

    /// The per-element mean `[l, d]` as a tensor, and the overall standard deviation.
    pub fn to_tensor(&self, device: &Device) -> (Tensor<2>, f64) {
        (
            self.mean_tensor(device).reshape(self.shape),
            f64::from(self.std),
        )
    }

    /// Autoencoder latents → the denoiser's space.
    ///
    /// # Shapes
    /// - `latents`: `[batch, l, d]` → `[batch, l, d]`
    pub fn normalize(&self, latents: Tensor<3>) -> Tensor<3> {
        let mean = self.mean_tensor(&latents.device());
        latents.sub(mean).div_scalar(self.std)
    }

    /// The denoiser's space → autoencoder latents.
    ///
    /// # Shapes
    /// - `latents`: `[batch, l, d]` → `[batch, l, d]`
    pub fn denormalize(&self, latents: Tensor<3>) -> Tensor<3> {
        let mean = self.mean_tensor(&latents.device());
        latents.mul_scalar(self.std).add(mean)
    }

    /// Reads statistics written by [`LatentStats::save`]; a missing file means a run trained
    /// without standardisation, so the identity of `shape` is returned.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when the file cannot be read or is not of `shape`.
    pub fn load_or_identity(path: &Path, shape: [usize; 2]) -> Result<Self, Error> {
        if !path.exists() {
            return Ok(Self::identity(shape));
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let stats: Self = serde_json::from_str(&text)
            .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?;
        if stats.shape != shape || stats.mean.len() != shape[0] * shape[1] {
            return Err(Error::Checkpoint(format!(
                "{}: latent statistics of shape {:?}, the autoencoder makes {shape:?}",
                path.display(),
                stats.shape
            )));
        }
        Ok(stats)
    }

    /// Writes the statistics as JSON (atomically).
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::Checkpoint(e.to_string()))?;
        atomic_write(path, &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three latents of shape [1, 2].
    const VALUES: [f32; 6] = [1.0, 2.0, 3.0, 6.0, 5.0, 1.0];

    #[test]
    fn fit_matches_hand_computed_values() {
        // numpy: x = [[1,2],[3,6],[5,1]]; m = x.mean(0) = [3, 3];
        // sqrt(((x - m)**2).mean()) = sqrt((4+1+0+9+4+4)/6) = sqrt(22/6) = 1.9148542
        let stats = LatentStats::fit(&VALUES, [1, 2]).unwrap();
        assert_eq!(stats.mean, vec![3.0, 3.0]);
        assert!((stats.std - 1.914_854_2).abs() < 1e-6, "{}", stats.std);
    }

    #[test]
    fn normalized_values_are_centred_with_unit_spread() {
        let stats = LatentStats::fit(&VALUES, [1, 2]).unwrap();
        let mut values = VALUES;
        stats.normalize_values(&mut values);
        let mean: f32 = values.iter().sum::<f32>() / 6.0;
        let var: f32 = values.iter().map(|v| v * v).sum::<f32>() / 6.0;
        assert!(mean.abs() < 1e-6);
        assert!((var - 1.0).abs() < 1e-5);
    }

    #[test]
    fn tensor_round_trip_and_agreement_with_values() {
        let device = Device::flex();
        let stats = LatentStats::fit(&VALUES, [1, 2]).unwrap();
        let x = Tensor::<3>::from_data(TensorData::new(VALUES.to_vec(), [3, 1, 2]), &device);
        let normalized = stats.normalize(x.clone());
        let mut expected = VALUES;
        stats.normalize_values(&mut expected);
        let got: Vec<f32> = normalized.clone().into_data().try_to_vec().unwrap();
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-6);
        }
        let back: Vec<f32> = stats
            .denormalize(normalized)
            .into_data()
            .try_to_vec()
            .unwrap();
        for (b, v) in back.iter().zip(VALUES) {
            assert!((b - v).abs() < 1e-5);
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(LatentStats::fit(&[], [1, 2]).is_err());
        assert!(LatentStats::fit(&VALUES[..5], [1, 2]).is_err());
        assert!(LatentStats::fit(&[1.0, 1.0, 1.0, 1.0], [1, 2]).is_err());
    }

    #[test]
    fn missing_file_is_identity_and_saved_file_loads_or_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latent_stats.json");
        assert_eq!(
            LatentStats::load_or_identity(&path, [1, 2]).unwrap(),
            LatentStats::identity([1, 2])
        );
        assert!(LatentStats::identity([1, 2]).is_identity());
        let stats = LatentStats::fit(&VALUES, [1, 2]).unwrap();
        assert!(!stats.is_identity());
        stats.save(&path).unwrap();
        assert_eq!(LatentStats::load_or_identity(&path, [1, 2]).unwrap(), stats);
        assert!(LatentStats::load_or_identity(&path, [2, 1]).is_err());
    }
}
