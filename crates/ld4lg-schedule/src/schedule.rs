use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Largest log-SNR any schedule reaches; λ is clamped to `[LOG_SNR_MIN, LOG_SNR_MAX]` so that
/// ᾱ stays strictly inside (0, 1) and every quantity (σ, α, λ ↔ t) is finite.
pub const LOG_SNR_MAX: f64 = 15.0;
/// Smallest log-SNR any schedule reaches (see [`LOG_SNR_MAX`]).
pub const LOG_SNR_MIN: f64 = -15.0;

/// A noise schedule over continuous time `t ∈ [0, 1]`: `t = 0` is clean data, `t = 1` pure
/// noise.
///
/// The forward process is `z_t = α(t)·x₀ + σ(t)·ε` with `α² = ᾱ(t)` and `σ² = 1 − ᾱ(t)`
/// (variance preserving). Each schedule defines ᾱ(t) in closed form; the log signal-to-noise
/// ratio `λ(t) = ln(ᾱ / (1 − ᾱ))` is then clamped to `[−15, 15]` ([`LOG_SNR_MIN`],
/// [`LOG_SNR_MAX`]), which also clips ᾱ away from exactly 0 and 1. All quantities are
/// computed from λ: `ᾱ = sigmoid(λ)`, `1 − ᾱ = sigmoid(−λ)`, precise at both ends.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum NoiseSchedule {
    /// DDPM's linear β (Ho et al. 2020), in its continuous-time limit:
    /// `ln ᾱ(t) = −N·(β₀·t + (β₁ − β₀)·t²/2)`, the limit of `∏(1 − βᵢ)` with
    /// `βᵢ = linspace(β₀, β₁, N)`. [`DiscreteSchedule`](crate::DiscreteSchedule) gives the
    /// exact discrete product.
    LinearBeta {
        /// β at the first step. DDPM: 1e-4.
        beta_start: f64,
        /// β at the last step. DDPM: 0.02.
        beta_end: f64,
        /// Number of discrete steps N. DDPM: 1000.
        num_train_timesteps: usize,
    },
    /// Cosine schedule of Nichol & Dhariwal (2021):
    /// `ᾱ(t) = f(t)/f(0)`, `f(t) = cos²((t + s)/(1 + s) · π/2)`.
    Cosine {
        /// Offset that keeps β small near `t = 0`. Nichol & Dhariwal: 0.008.
        s: f64,
    },
    /// LD4LG's cosine: `ᾱ(t) = cos²(π t / 2)`, its log-SNR shifted by `2 ln scale`:
    /// `λ(t) = −2 ln tan(π t / 2) + 2 ln scale`. `scale < 1` adds noise at every t.
    ScaledCosine {
        /// Noise scale; 1 is the plain cosine.
        scale: f64,
    },
    /// Diffusion-LM's square-root schedule (Li et al. 2022): `ᾱ(t) = 1 − √(t + s)`.
    Sqrt {
        /// Offset. Diffusion-LM: 1e-4.
        s: f64,
    },
    /// Sigmoid schedule (Jabri et al. 2023):
    /// `ᾱ(t) = (v₁ − sigmoid((start + t·(end − start))/τ)) / (v₁ − v₀)`,
    /// `v₀ = sigmoid(start/τ)`, `v₁ = sigmoid(end/τ)`.
    Sigmoid {
        /// Left end of the sigmoid's input range. Common: −3.
        start: f64,
        /// Right end. Common: 3.
        end: f64,
        /// Temperature. Common: 1 (larger is flatter).
        tau: f64,
    },
}

impl Default for NoiseSchedule {
    /// LD4LG's default: the cosine with scale 1.
    fn default() -> Self {
        Self::ScaledCosine { scale: 1.0 }
    }
}

/// Errors in a schedule's parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid noise schedule: {0}")]
pub struct ScheduleError(pub String);

pub(crate) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + eˣ)` without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

impl NoiseSchedule {
    /// DDPM's linear-β schedule: β from 1e-4 to 0.02 over 1000 steps.
    pub fn ddpm_linear() -> Self {
        Self::LinearBeta {
            beta_start: 1e-4,
            beta_end: 0.02,
            num_train_timesteps: 1000,
        }
    }

    /// Nichol & Dhariwal's cosine with `s = 0.008`.
    pub fn cosine() -> Self {
        Self::Cosine { s: 0.008 }
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        let ok = match *self {
            Self::LinearBeta {
                beta_start,
                beta_end,
                num_train_timesteps,
            } => {
                beta_start > 0.0
                    && beta_end >= beta_start
                    && beta_end < 1.0
                    && num_train_timesteps > 0
            }
            Self::Cosine { s } => (0.0..1.0).contains(&s),
            Self::ScaledCosine { scale } => scale > 0.0 && scale.is_finite(),
            Self::Sqrt { s } => (0.0..1.0).contains(&s),
            Self::Sigmoid { start, end, tau } => end > start && tau > 0.0,
        };
        if ok {
            Ok(())
        } else {
            Err(ScheduleError(format!("{self:?}")))
        }
    }

    /// Log-SNR before clamping; may be ±∞ at the ends.
    fn raw_log_snr(&self, t: f64) -> f64 {
        match *self {
            Self::LinearBeta {
                beta_start,
                beta_end,
                num_train_timesteps,
            } => {
                let n = num_train_timesteps as f64;
                // Λ = −ln ᾱ; λ = ln ᾱ − ln(1 − ᾱ) = −Λ − ln(−expm1(−Λ)).
                let big_lambda = n * (beta_start * t + (beta_end - beta_start) * t * t / 2.0);
                -big_lambda - (-(-big_lambda).exp_m1()).ln()
            }
            Self::Cosine { s } => {
                let f = |t: f64| ((t + s) / (1.0 + s) * PI / 2.0).cos().powi(2);
                let (f0, ft) = (f(0.0), f(t));
                ft.ln() - (f0 - ft).ln()
            }
            Self::ScaledCosine { scale } => -2.0 * (PI * t / 2.0).tan().ln() + 2.0 * scale.ln(),
            Self::Sqrt { s } => {
                let root = (t + s).sqrt();
                if root >= 1.0 {
                    f64::NEG_INFINITY
                } else {
                    (1.0 - root).ln() - root.ln()
                }
            }
            Self::Sigmoid { start, end, tau } => {
                let v0 = sigmoid(start / tau);
                let v1 = sigmoid(end / tau);
                let v = sigmoid((start + t * (end - start)) / tau);
                // ᾱ ∝ v₁ − v and 1 − ᾱ ∝ v − v₀, with the same denominator.
                (v1 - v).ln() - (v - v0).ln()
            }
        }
    }

    /// Log signal-to-noise ratio `λ(t) = ln(ᾱ/(1 − ᾱ))`, clamped to `[−15, 15]`;
    /// non-increasing in t. `t` is clamped to `[0, 1]`.
    pub fn log_snr(&self, t: f64) -> f64 {
        let t = t.clamp(0.0, 1.0);
        let raw = self.raw_log_snr(t);
        if raw.is_nan() {
            // Only 0/0 at an end point can give NaN: decide by the end.
            if t < 0.5 { LOG_SNR_MAX } else { LOG_SNR_MIN }
        } else {
            raw.clamp(LOG_SNR_MIN, LOG_SNR_MAX)
        }
    }

    /// Signal level `ᾱ(t) = sigmoid(λ(t))`.
    pub fn alpha_bar(&self, t: f64) -> f64 {
        sigmoid(self.log_snr(t))
    }

    /// `(α, σ) = (√ᾱ, √(1 − ᾱ))`, the scales of data and noise in `z_t = α x₀ + σ ε`.
    pub fn alpha_sigma(&self, t: f64) -> (f64, f64) {
        alpha_sigma_from_log_snr(self.log_snr(t))
    }

    /// The time at which the schedule reaches log-SNR `λ` (clamped to `[−15, 15]`); the
    /// inverse of [`NoiseSchedule::log_snr`] wherever λ is not clamped. Result in `[0, 1]`.
    pub fn t_from_log_snr(&self, log_snr: f64) -> f64 {
        let lambda = log_snr.clamp(LOG_SNR_MIN, LOG_SNR_MAX);
        let alpha_bar = sigmoid(lambda);
        let t = match *self {
            Self::LinearBeta {
                beta_start,
                beta_end,
                num_train_timesteps,
            } => {
                let n = num_train_timesteps as f64;
                let big_lambda = softplus(-lambda); // −ln ᾱ
                let a = n * (beta_end - beta_start) / 2.0;
                let b = n * beta_start;
                if a.abs() < f64::EPSILON {
                    big_lambda / b
                } else {
                    // Stable root of a t² + b t − Λ = 0.
                    2.0 * big_lambda / (b + (b * b + 4.0 * a * big_lambda).sqrt())
                }
            }
            Self::Cosine { s } => {
                let f0 = (s / (1.0 + s) * PI / 2.0).cos().powi(2);
                let u = (alpha_bar * f0).sqrt().acos();
                u * (1.0 + s) * 2.0 / PI - s
            }
            Self::ScaledCosine { scale } => {
                let base = lambda - 2.0 * scale.ln();
                2.0 / PI * (-base / 2.0).exp().atan()
            }
            Self::Sqrt { s } => (1.0 - alpha_bar).powi(2) - s,
            Self::Sigmoid { start, end, tau } => {
                let v0 = sigmoid(start / tau);
                let v1 = sigmoid(end / tau);
                let v = v1 - alpha_bar * (v1 - v0);
                let x = (v / (1.0 - v)).ln();
                (x * tau - start) / (end - start)
            }
        };
        t.clamp(0.0, 1.0)
    }
}

/// `(α, σ) = (√sigmoid(λ), √sigmoid(−λ))`.
pub fn alpha_sigma_from_log_snr(log_snr: f64) -> (f64, f64) {
    (sigmoid(log_snr).sqrt(), sigmoid(-log_snr).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values computed independently in Python with the closed forms and `math`
    /// only (script below), at t = 0, 0.1, 0.25, 0.5, 0.75, 0.9, 1; each row holds
    /// (t, ᾱ(t), λ(t)) after clamping λ to ±15.
    ///
    /// ```python
    /// import math
    /// def sig(x): return 1/(1+math.exp(-x))
    /// def clamp(l): return max(-15.0, min(15.0, l))
    /// def lam_from_ab(ab):
    ///     if ab >= 1: return 15.0
    ///     if ab <= 0: return -15.0
    ///     return clamp(math.log(ab) - math.log1p(-ab))
    /// def linear(t, b0=1e-4, b1=0.02, n=1000):
    ///     return lam_from_ab(math.exp(-n*(b0*t + (b1-b0)*t*t/2)))
    /// def cosine(t, s=0.008):
    ///     f = lambda t: math.cos((t+s)/(1+s)*math.pi/2)**2
    ///     return lam_from_ab(f(t)/f(0))
    /// def scaled_cosine(t, scale):
    ///     if t == 0: return 15.0
    ///     return clamp(math.log(math.cos(math.pi*t/2)**2/math.sin(math.pi*t/2)**2) + 2*math.log(scale))
    /// def sqrt_s(t, s=1e-4): return lam_from_ab(1 - math.sqrt(t+s))
    /// def sigm(t, start=-3, end=3, tau=1):
    ///     v0, v1 = sig(start/tau), sig(end/tau)
    ///     return lam_from_ab((v1 - sig((t*(end-start)+start)/tau))/(v1-v0))
    /// for name, f in [("linear", linear), ("cosine", cosine),
    ///                 ("ld4lg", lambda t: scaled_cosine(t, 1.0)),
    ///                 ("ld4lg_scale_0.5", lambda t: scaled_cosine(t, 0.5)),
    ///                 ("sqrt", sqrt_s), ("sigmoid", sigm)]:
    ///     for t in [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]:
    ///         l = f(t); print(name, t, repr(sig(l)), repr(l))
    /// ```
    /// (t, ᾱ(t), λ(t)) at seven times.
    type Rows = [(f64, f64, f64); 7];
    const REFERENCE: &[(&str, Rows)] = include!("reference_values.in");

    fn schedule(name: &str) -> NoiseSchedule {
        match name {
            "linear" => NoiseSchedule::ddpm_linear(),
            "cosine" => NoiseSchedule::cosine(),
            "ld4lg" => NoiseSchedule::ScaledCosine { scale: 1.0 },
            "ld4lg_scale_0.5" => NoiseSchedule::ScaledCosine { scale: 0.5 },
            "sqrt" => NoiseSchedule::Sqrt { s: 1e-4 },
            "sigmoid" => NoiseSchedule::Sigmoid {
                start: -3.0,
                end: 3.0,
                tau: 1.0,
            },
            other => panic!("unknown schedule {other}"),
        }
    }

    #[test]
    fn values_match_the_independent_reference() {
        for (name, rows) in REFERENCE {
            let schedule = schedule(name);
            for &(t, alpha_bar, log_snr) in rows {
                let got_lambda = schedule.log_snr(t);
                let got_alpha_bar = schedule.alpha_bar(t);
                assert!(
                    (got_lambda - log_snr).abs() < 1e-9 * log_snr.abs().max(1.0),
                    "{name} λ({t}) = {got_lambda}, reference {log_snr}"
                );
                assert!(
                    (got_alpha_bar - alpha_bar).abs() < 1e-12,
                    "{name} ᾱ({t}) = {got_alpha_bar}, reference {alpha_bar}"
                );
            }
        }
    }

    #[test]
    fn every_schedule_is_monotone_from_clean_to_noise() {
        for (name, _) in REFERENCE {
            let schedule = schedule(name);
            schedule.validate().unwrap();
            // Diffusion-LM's square root starts at ᾱ(0) = 1 − √s = 0.99 by design.
            assert!(schedule.alpha_bar(0.0) >= 0.99, "{name}: ᾱ(0) ≈ 1");
            assert!(schedule.alpha_bar(1.0) < 5e-4, "{name}: ᾱ(1) ≈ 0");
            let mut previous = f64::INFINITY;
            for i in 0..=1000 {
                let lambda = schedule.log_snr(i as f64 / 1000.0);
                assert!(
                    lambda <= previous,
                    "{name}: λ increases at t = {}",
                    i as f64 / 1000.0
                );
                assert!(lambda.is_finite());
                previous = lambda;
            }
        }
    }

    #[test]
    fn time_and_log_snr_round_trip() {
        for (name, _) in REFERENCE {
            let schedule = schedule(name);
            for i in 1..100 {
                let t = i as f64 / 100.0;
                let lambda = schedule.log_snr(t);
                if lambda.abs() >= LOG_SNR_MAX - 1e-9 {
                    continue; // clamped: not invertible there
                }
                let back = schedule.t_from_log_snr(lambda);
                assert!(
                    (back - t).abs() < 1e-9,
                    "{name}: t {t} → λ {lambda} → t {back}"
                );
            }
            let (lowest, highest) = (schedule.log_snr(1.0), schedule.log_snr(0.0));
            for lambda in [-14.0, -5.0, -1.0, 0.0, 2.5, 10.0, 14.0] {
                if !(lowest..=highest).contains(&lambda) {
                    continue; // never reached (DDPM's linear β ends at λ ≈ −10)
                }
                let t = schedule.t_from_log_snr(lambda);
                let back = schedule.log_snr(t);
                assert!(
                    (back - lambda).abs() < 1e-7,
                    "{name}: λ {lambda} → t {t} → λ {back}"
                );
            }
        }
    }

    #[test]
    fn alpha_and_sigma_are_a_unit_pair() {
        let schedule = NoiseSchedule::default();
        for t in [0.0, 0.3, 0.7, 1.0] {
            let (alpha, sigma) = schedule.alpha_sigma(t);
            assert!((alpha * alpha + sigma * sigma - 1.0).abs() < 1e-12);
            assert!(sigma > 0.0 && alpha > 0.0);
        }
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert!(
            NoiseSchedule::ScaledCosine { scale: 0.0 }
                .validate()
                .is_err()
        );
        assert!(
            NoiseSchedule::Sigmoid {
                start: 3.0,
                end: -3.0,
                tau: 1.0
            }
            .validate()
            .is_err()
        );
        assert!(
            NoiseSchedule::LinearBeta {
                beta_start: 0.1,
                beta_end: 0.01,
                num_train_timesteps: 10
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn schedules_deserialise_from_json() {
        let schedule: NoiseSchedule =
            serde_json::from_str(r#"{ "kind": "scaled-cosine", "scale": 0.5 }"#).unwrap();
        assert_eq!(schedule, NoiseSchedule::ScaledCosine { scale: 0.5 });
        let json = serde_json::to_string(&NoiseSchedule::ddpm_linear()).unwrap();
        assert_eq!(
            serde_json::from_str::<NoiseSchedule>(&json).unwrap(),
            NoiseSchedule::ddpm_linear()
        );
    }
}
