use ld4lg_schedule::NoiseSchedule;
use serde::{Deserialize, Serialize};

/// Variance of DDPM's ancestral step from t to s < t.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DdpmVariance {
    /// `1 − ᾱ_t/ᾱ_s` (DDPM's σ² = β; LD4LG's choice).
    #[default]
    Large,
    /// The posterior variance `(1 − ᾱ_s)/(1 − ᾱ_t) · (1 − ᾱ_t/ᾱ_s)` (DDPM's σ² = β̃).
    Posterior,
}

/// The update rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SamplerKind {
    /// Ancestral DDPM (Ho et al. 2020). Its last step returns x̂₀, as LD4LG's does.
    Ddpm {
        /// Step variance.
        #[serde(default)]
        variance: DdpmVariance,
    },
    /// DDIM (Song et al. 2021); `eta = 0` is deterministic, `eta = 1` is DDPM-like.
    Ddim {
        /// Stochasticity η ∈ [0, 1].
        #[serde(default)]
        eta: f64,
    },
    /// DPM-Solver++ multistep (Lu et al. 2022) on x̂₀ predictions: order 1 (= DDIM), 2 (2M)
    /// or 3 (3M).
    DpmSolverPlusPlus {
        /// Solver order, 1 to 3.
        order: usize,
    },
}

impl Default for SamplerKind {
    fn default() -> Self {
        Self::DpmSolverPlusPlus { order: 2 }
    }
}

/// How the interval from `t_start` to `t_end` is cut into steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Spacing {
    /// Equal steps in t.
    UniformTime,
    /// `tᵢ = t_end + (t_start − t_end)(1 − i/N)²`: finer near the data.
    Quadratic,
    /// Equal steps in log-SNR (DPM-Solver's choice).
    #[default]
    UniformLogSnr,
}

/// Everything a sampling run needs besides the model and the schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplerConfig {
    /// Update rule. Default: DPM-Solver++ 2M.
    pub kind: SamplerKind,
    /// Number of denoiser evaluations (with guidance: batched pairs). Default: 50.
    pub steps: usize,
    /// Step spacing. Default: uniform in log-SNR.
    pub spacing: Spacing,
    /// Classifier-free guidance weight w on the model output: `w·cond + (1 − w)·uncond`;
    /// 1 is the conditional model alone, 0 the unconditional one. Default: 1.
    pub guidance_scale: f64,
    /// Guidance rescale φ ∈ [0, 1] (Lin et al. 2024; diffusers' `guidance_rescale`): the
    /// guided output is scaled, per example, to the standard deviation of the conditional
    /// output and mixed `φ·rescaled + (1 − φ)·guided`. Large weights inflate the output's
    /// scale and push x̂₀ off the data manifold; this undoes the inflation but keeps the
    /// direction. Default: 0 (off).
    pub guidance_rescale: f64,
    /// Apply guidance only at times `t ∈ [lo, hi]` (Kynkäänniemi et al. 2024); elsewhere
    /// the conditional model alone runs (one call, as at w = 1). Guidance at the noisiest
    /// times mostly shrinks diversity, at the cleanest ones it mostly distorts details.
    /// Default: `None`, every step.
    pub guidance_interval: Option<(f64, f64)>,
    /// Feed each step's x̂₀ to the next call. Default: true.
    pub self_conditioning: bool,
    /// Rescale each latent vector of x̂₀ to this norm (LD4LG: √d); `None` leaves x̂₀ as is.
    pub normalize_x0: Option<f64>,
    /// DPM-Solver++: drop to lower orders on the last steps when `steps < 15`. Default: true.
    pub lower_order_final: bool,
    /// Time to start from (1 = pure noise; less for editing). Default: 1.
    pub t_start: f64,
    /// Time to end at. Default: 0.
    pub t_end: f64,
    /// Sampling temperature τ: the starting noise and every noise a stochastic step adds are
    /// multiplied by τ. Below 1 the samples move towards the modes of the learnt distribution
    /// (more typical, less varied), as reduced-temperature sampling does for flows. For a
    /// linear denoiser the output scales exactly by τ (tested). Default: 1.
    pub noise_scale: f64,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self {
            kind: SamplerKind::default(),
            steps: 50,
            spacing: Spacing::default(),
            guidance_scale: 1.0,
            guidance_rescale: 0.0,
            guidance_interval: None,
            self_conditioning: true,
            normalize_x0: None,
            lower_order_final: true,
            t_start: 1.0,
            t_end: 0.0,
            noise_scale: 1.0,
        }
    }
}

/// A sampling run that cannot be carried out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SamplerError {
    /// The configuration is inconsistent.
    #[error("invalid sampler configuration: {0}")]
    InvalidConfig(String),
    /// Shapes or batch sizes do not agree.
    #[error("shape mismatch: {0}")]
    Shape(String),
}

/// The largest guidance weight [`SamplerConfig::validate`] accepts. Useful weights lie in
/// about 1–5; beyond 100 the guided estimate is dominated by the difference of two model
/// outputs scaled up to numerical noise, and every sample decodes to the same garbage.
pub const MAX_GUIDANCE_SCALE: f64 = 100.0;

/// Guidance weights above this one draw a warning when sampling: they are valid but far
/// outside the range where guidance improves samples.
pub const LARGE_GUIDANCE_SCALE: f64 = 10.0;

impl SamplerConfig {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), SamplerError> {
        let fail = |m: String| Err(SamplerError::InvalidConfig(m));
        if self.steps == 0 {
            return fail("steps must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.t_end)
            || !(0.0..=1.0).contains(&self.t_start)
            || self.t_start <= self.t_end
        {
            return fail(format!(
                "need 0 <= t_end < t_start <= 1, got t_start {} and t_end {}",
                self.t_start, self.t_end
            ));
        }
        if !(self.noise_scale.is_finite() && self.noise_scale > 0.0) {
            return fail(format!(
                "noise_scale must be positive, got {}",
                self.noise_scale
            ));
        }
        if self.guidance_scale.is_nan() || self.guidance_scale.abs() > MAX_GUIDANCE_SCALE {
            return fail(format!(
                "guidance_scale must be within ±{MAX_GUIDANCE_SCALE}, got {}",
                self.guidance_scale
            ));
        }
        if !(0.0..=1.0).contains(&self.guidance_rescale) {
            return fail(format!(
                "guidance_rescale must be in [0, 1], got {}",
                self.guidance_rescale
            ));
        }
        if let Some((lo, hi)) = self.guidance_interval
            && !(0.0 <= lo && lo < hi && hi <= 1.0)
        {
            return fail(format!(
                "guidance_interval needs 0 <= lo < hi <= 1, got ({lo}, {hi})"
            ));
        }
        if let Some(norm) = self.normalize_x0
            && (norm <= 0.0 || !norm.is_finite())
        {
            return fail(format!("normalize_x0 must be positive, got {norm}"));
        }
        match self.kind {
            SamplerKind::Ddim { eta } if !(0.0..=1.0).contains(&eta) => {
                fail(format!("DDIM eta must be in [0, 1], got {eta}"))
            }
            SamplerKind::DpmSolverPlusPlus { order } if !(1..=3).contains(&order) => {
                fail(format!("DPM-Solver++ order must be 1, 2 or 3, got {order}"))
            }
            _ => Ok(()),
        }
    }

    /// The `steps + 1` times from `t_start` down to `t_end`.
    pub fn timesteps(&self, schedule: &NoiseSchedule) -> Vec<f64> {
        let n = self.steps as f64;
        (0..=self.steps)
            .map(|i| {
                let f = i as f64 / n;
                match self.spacing {
                    Spacing::UniformTime => self.t_start + (self.t_end - self.t_start) * f,
                    Spacing::Quadratic => {
                        self.t_end + (self.t_start - self.t_end) * (1.0 - f).powi(2)
                    }
                    Spacing::UniformLogSnr => {
                        let start = schedule.log_snr(self.t_start);
                        let end = schedule.log_snr(self.t_end);
                        if i == 0 {
                            self.t_start
                        } else if i == self.steps {
                            self.t_end
                        } else {
                            schedule.t_from_log_snr(start + (end - start) * f)
                        }
                    }
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timesteps_run_from_start_to_end_and_decrease() {
        let schedule = NoiseSchedule::default();
        for spacing in [
            Spacing::UniformTime,
            Spacing::Quadratic,
            Spacing::UniformLogSnr,
        ] {
            let config = SamplerConfig {
                steps: 10,
                spacing,
                ..SamplerConfig::default()
            };
            let t = config.timesteps(&schedule);
            assert_eq!(t.len(), 11);
            assert_eq!((t[0], t[10]), (1.0, 0.0), "{spacing:?}");
            assert!(t.windows(2).all(|w| w[1] < w[0]), "{spacing:?}: {t:?}");
        }
        let quadratic = SamplerConfig {
            steps: 4,
            spacing: Spacing::Quadratic,
            ..SamplerConfig::default()
        };
        assert_eq!(
            quadratic.timesteps(&schedule),
            [1.0, 0.5625, 0.25, 0.0625, 0.0]
        );
        let log_snr = SamplerConfig {
            steps: 4,
            ..SamplerConfig::default()
        };
        let lambdas: Vec<f64> = log_snr
            .timesteps(&schedule)
            .iter()
            .map(|&t| schedule.log_snr(t))
            .collect();
        for (got, expected) in lambdas.iter().zip([-15.0, -7.5, 0.0, 7.5, 15.0]) {
            assert!((got - expected).abs() < 1e-9, "{lambdas:?}");
        }
    }

    #[test]
    fn invalid_configurations_are_refused() {
        let bad = [
            SamplerConfig {
                steps: 0,
                ..SamplerConfig::default()
            },
            SamplerConfig {
                t_start: 0.2,
                t_end: 0.5,
                ..SamplerConfig::default()
            },
            SamplerConfig {
                kind: SamplerKind::Ddim { eta: 2.0 },
                ..SamplerConfig::default()
            },
            SamplerConfig {
                kind: SamplerKind::DpmSolverPlusPlus { order: 4 },
                ..SamplerConfig::default()
            },
            SamplerConfig {
                normalize_x0: Some(0.0),
                ..SamplerConfig::default()
            },
            SamplerConfig {
                guidance_scale: 1e30,
                ..SamplerConfig::default()
            },
            SamplerConfig {
                guidance_scale: f64::NAN,
                ..SamplerConfig::default()
            },
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?}");
        }
        SamplerConfig::default().validate().unwrap();
        SamplerConfig {
            guidance_scale: MAX_GUIDANCE_SCALE,
            ..SamplerConfig::default()
        }
        .validate()
        .unwrap();
    }

    #[test]
    fn configs_deserialise_from_json() {
        let config: SamplerConfig = serde_json::from_str(
            r#"{ "kind": { "kind": "ddim", "eta": 0.5 }, "steps": 25, "spacing": "quadratic" }"#,
        )
        .unwrap();
        assert_eq!(config.kind, SamplerKind::Ddim { eta: 0.5 });
        assert_eq!(config.steps, 25);
        assert_eq!(config.guidance_scale, 1.0);
    }
}
