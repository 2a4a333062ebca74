use crate::{NoiseSchedule, ScheduleError};
use std::f64::consts::PI;

/// A discrete view of a schedule over `N` training timesteps `0..N`, for DDPM-style users.
///
/// Timestep `n` corresponds to continuous time `t = (n + 1)/N`. `alphas_cumprod[n]` is ᾱ at
/// that step, computed as diffusers does: for [`NoiseSchedule::LinearBeta`] the exact product
/// `∏ᵢ≤ₙ (1 − βᵢ)` with `β = linspace(β₀, β₁, N)` (diffusers' `linear`); for
/// [`NoiseSchedule::Cosine`] with `βₙ = min(1 − f((n+1)/N)/f(n/N), 0.999)` (diffusers'
/// `squaredcos_cap_v2`); for the others ᾱ((n + 1)/N) of the continuous schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscreteSchedule {
    alphas_cumprod: Vec<f64>,
}

impl DiscreteSchedule {
    /// The discrete schedule over `num_train_timesteps` steps.
    pub fn new(
        schedule: &NoiseSchedule,
        num_train_timesteps: usize,
    ) -> Result<Self, ScheduleError> {
        schedule.validate()?;
        if num_train_timesteps == 0 {
            return Err(ScheduleError("num_train_timesteps must be positive".into()));
        }
        let n = num_train_timesteps;
        let alphas_cumprod = match *schedule {
            NoiseSchedule::LinearBeta {
                beta_start,
                beta_end,
                ..
            } => {
                let step = if n > 1 {
                    (beta_end - beta_start) / (n - 1) as f64
                } else {
                    0.0
                };
                cumulative_product((0..n).map(|i| beta_start + step * i as f64))
            }
            NoiseSchedule::Cosine { s } => {
                let f = |t: f64| ((t + s) / (1.0 + s) * PI / 2.0).cos().powi(2);
                cumulative_product((0..n).map(|i| {
                    let (t0, t1) = (i as f64 / n as f64, (i + 1) as f64 / n as f64);
                    (1.0 - f(t1) / f(t0)).min(0.999)
                }))
            }
            _ => (0..n)
                .map(|i| schedule.alpha_bar((i + 1) as f64 / n as f64))
                .collect(),
        };
        Ok(Self { alphas_cumprod })
    }

    /// ᾱ per timestep.
    pub fn alphas_cumprod(&self) -> &[f64] {
        &self.alphas_cumprod
    }

    /// β per timestep: `1 − ᾱₙ/ᾱₙ₋₁`.
    pub fn betas(&self) -> Vec<f64> {
        let mut previous = 1.0;
        self.alphas_cumprod
            .iter()
            .map(|&a| {
                let beta = 1.0 - a / previous;
                previous = a;
                beta
            })
            .collect()
    }

    /// Number of timesteps N.
    pub fn len(&self) -> usize {
        self.alphas_cumprod.len()
    }

    /// Always false: a schedule has at least one step.
    pub fn is_empty(&self) -> bool {
        self.alphas_cumprod.is_empty()
    }

    /// The continuous time of timestep `n`: `(n + 1)/N`.
    pub fn t_of(&self, timestep: usize) -> f64 {
        (timestep + 1) as f64 / self.len() as f64
    }
}

fn cumulative_product(betas: impl Iterator<Item = f64>) -> Vec<f64> {
    betas
        .scan(1.0, |product, beta| {
            *product *= 1.0 - beta;
            Some(*product)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed independently in Python (`math` only) as diffusers does:
    /// ```python
    /// N = 1000
    /// betas = [1e-4 + (0.02 - 1e-4) * i / (N - 1) for i in range(N)]           # "linear"
    /// f = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
    /// betas = [min(1 - f((i + 1) / N) / f(i / N), 0.999) for i in range(N)]   # "squaredcos_cap_v2"
    /// alphas_cumprod = itertools.accumulate(1 - b for b in betas, operator.mul)
    /// ```
    const LINEAR: [(usize, f64); 5] = [
        (0, 0.9999),
        (1, 0.9997800920720721),
        (99, 0.89701814567496),
        (499, 0.07858724288177821),
        (999, 4.0358297653756754e-05),
    ];
    const COSINE: [(usize, f64); 5] = [
        (0, 0.999958715775178),
        (1, 0.9999125759273678),
        (99, 0.9720927371139696),
        (499, 0.4938435904406382),
        (999, 2.4287669070348567e-09),
    ];

    #[test]
    fn matches_diffusers_alphas_cumprod() {
        for (schedule, reference) in [
            (NoiseSchedule::ddpm_linear(), LINEAR),
            (NoiseSchedule::cosine(), COSINE),
        ] {
            let discrete = DiscreteSchedule::new(&schedule, 1000).unwrap();
            for (n, expected) in reference {
                let got = discrete.alphas_cumprod()[n];
                assert!(
                    (got - expected).abs() <= 1e-12 + 1e-9 * expected,
                    "{schedule:?} step {n}: {got} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn continuous_linear_beta_approximates_the_discrete_product() {
        let schedule = NoiseSchedule::ddpm_linear();
        let discrete = DiscreteSchedule::new(&schedule, 1000).unwrap();
        for n in [99, 499, 999] {
            let continuous = schedule.alpha_bar(discrete.t_of(n));
            let exact = discrete.alphas_cumprod()[n];
            // ∏(1 − β) vs exp(−Σβ): agree to a few per cent of ln ᾱ.
            assert!(
                (continuous.ln() - exact.ln()).abs() < 0.05 * exact.ln().abs(),
                "{n}"
            );
        }
    }

    #[test]
    fn betas_invert_the_cumulative_product() {
        let discrete = DiscreteSchedule::new(&NoiseSchedule::default(), 50).unwrap();
        let rebuilt = cumulative_product(discrete.betas().into_iter());
        for (a, b) in rebuilt.iter().zip(discrete.alphas_cumprod()) {
            assert!((a - b).abs() < 1e-12);
        }
        assert!(DiscreteSchedule::new(&NoiseSchedule::default(), 0).is_err());
    }
}
