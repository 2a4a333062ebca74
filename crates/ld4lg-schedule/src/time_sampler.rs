use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// How training draws the diffusion time `t ∈ [0, 1]` of each example of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TimeSampler {
    /// Independent `t ~ U[0, 1)`.
    #[default]
    Uniform,
    /// Low-discrepancy: one shared offset `u ~ U[0, 1)`, `tᵢ = (πᵢ + u)/B` for a random
    /// permutation π, so every batch covers `[0, 1)` evenly (Kingma et al. 2021).
    Stratified,
    /// Curriculum: at step `s`, `t ~ U[1 − w(s), 1)` with the window
    /// `w(s) = w₀ + (1 − w₀)·min(s / steps, 1)`: coarse structure (large t) first, all t
    /// after `steps` optimiser steps.
    Curriculum {
        /// Initial window width `w₀ ∈ (0, 1]`.
        initial_width: f64,
        /// Optimiser steps over which the window widens to `[0, 1)`.
        steps: u64,
    },
}

impl TimeSampler {
    /// Times for a batch of `batch` examples at optimiser step `step`.
    pub fn sample<R: Rng + ?Sized>(&self, batch: usize, step: u64, rng: &mut R) -> Vec<f64> {
        match *self {
            Self::Uniform => (0..batch).map(|_| rng.random::<f64>()).collect(),
            Self::Stratified => {
                let offset: f64 = rng.random();
                let mut strata: Vec<usize> = (0..batch).collect();
                // Fisher–Yates, so the stratum of an example is random.
                for i in (1..batch).rev() {
                    let j = rng.random_range(0..=i);
                    strata.swap(i, j);
                }
                strata
                    .into_iter()
                    .map(|k| (k as f64 + offset) / batch as f64)
                    .collect()
            }
            Self::Curriculum {
                initial_width,
                steps,
            } => {
                let width = self.curriculum_width(initial_width, steps, step);
                (0..batch)
                    .map(|_| 1.0 - width * rng.random::<f64>())
                    .map(|t| t.min(1.0))
                    .collect()
            }
        }
    }

    fn curriculum_width(&self, initial_width: f64, steps: u64, step: u64) -> f64 {
        let w0 = initial_width.clamp(f64::EPSILON, 1.0);
        let progress = if steps == 0 {
            1.0
        } else {
            (step as f64 / steps as f64).min(1.0)
        };
        w0 + (1.0 - w0) * progress
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::ChaCha8Rng;

    #[test]
    fn uniform_covers_the_unit_interval() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let t = TimeSampler::Uniform.sample(10_000, 0, &mut rng);
        assert!(t.iter().all(|&t| (0.0..1.0).contains(&t)));
        let mean = t.iter().sum::<f64>() / t.len() as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
    }

    #[test]
    fn stratified_puts_one_time_in_each_stratum() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for batch in [1, 7, 64] {
            let t = TimeSampler::Stratified.sample(batch, 0, &mut rng);
            let mut strata: Vec<usize> = t.iter().map(|&t| (t * batch as f64) as usize).collect();
            strata.sort_unstable();
            assert_eq!(strata, (0..batch).collect::<Vec<_>>());
        }
    }

    #[test]
    fn curriculum_starts_noisy_and_widens() {
        let sampler = TimeSampler::Curriculum {
            initial_width: 0.2,
            steps: 100,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let early = sampler.sample(1000, 0, &mut rng);
        assert!(early.iter().all(|&t| t > 0.8 && t <= 1.0));
        let middle = sampler.sample(1000, 50, &mut rng);
        assert!(middle.iter().all(|&t| t > 0.4));
        assert!(
            middle.iter().any(|&t| t < 0.5),
            "window of width 0.6 reaches below 0.5"
        );
        let late = sampler.sample(1000, 1000, &mut rng);
        assert!(late.iter().any(|&t| t < 0.05));
    }

    #[test]
    fn same_seed_same_times() {
        let a = TimeSampler::Stratified.sample(16, 0, &mut ChaCha8Rng::seed_from_u64(9));
        let b = TimeSampler::Stratified.sample(16, 0, &mut ChaCha8Rng::seed_from_u64(9));
        let c = TimeSampler::Stratified.sample(16, 0, &mut ChaCha8Rng::seed_from_u64(10));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
