//! Samplers proven on data whose exact denoiser is known in closed form.
//!
//! For x₀ ~ N(μ, s²) (per coordinate) and `z = α x₀ + σ ε`:
//! `E[x₀ | z] = μ + α s²/(α² s² + σ²) · (z − α μ)`, and the probability-flow ODE moves
//! `z` from time t to time u by the monotone map between the Gaussian marginals
//! `N(α μ, α² s² + σ²)`. For a two-component mixture the posterior mean is the
//! responsibility-weighted sum of the components' posterior means.

use burn::tensor::{Device, Tensor};
use ld4lg_sampler::{
    Conditioning, DdpmVariance, Denoiser, DenoiserInput, NoiseSource, Sampler, SamplerConfig,
    SamplerKind, Spacing,
};
use ld4lg_schedule::{NoiseSchedule, PredictionType};

const L: usize = 2;
const D: usize = 4;

/// Exact x₀-denoiser of N(μ, s²) data.
struct Gaussian {
    mu: f32,
    s: f32,
}

impl Denoiser for Gaussian {
    fn prediction_type(&self) -> PredictionType {
        PredictionType::Sample
    }

    fn predict(&self, input: DenoiserInput<'_>) -> Tensor<3> {
        let batch = input.z_t.dims()[0];
        let alpha_bar = input.alpha_bar.reshape([batch, 1, 1]);
        let alpha = alpha_bar.clone().sqrt();
        let variance = alpha_bar.clone().mul_scalar(self.s * self.s) - alpha_bar + 1.0;
        let gain = alpha.clone().mul_scalar(self.s * self.s) / variance;
        (input.z_t - alpha.mul_scalar(self.mu)) * gain + self.mu
    }
}

/// Exact x₀-denoiser of a two-component Gaussian mixture (weights, means, stds).
struct Mixture {
    weights: [f32; 2],
    means: [f32; 2],
    stds: [f32; 2],
}

impl Denoiser for Mixture {
    fn prediction_type(&self) -> PredictionType {
        PredictionType::Sample
    }

    fn predict(&self, input: DenoiserInput<'_>) -> Tensor<3> {
        let batch = input.z_t.dims()[0];
        let alpha_bar = input.alpha_bar.reshape([batch, 1, 1]);
        let alpha = alpha_bar.clone().sqrt();
        let z = input.z_t;
        let component = |k: usize| {
            let (mu, s) = (self.means[k], self.stds[k]);
            let variance = alpha_bar.clone().mul_scalar(s * s) - alpha_bar.clone() + 1.0;
            let centred = z.clone() - alpha.clone().mul_scalar(mu);
            let log_weight = centred
                .clone()
                .powi_scalar(2)
                .div(variance.clone().mul_scalar(2.0))
                .neg()
                - variance.clone().log().mul_scalar(0.5)
                + self.weights[k].ln();
            let mean = centred * alpha.clone().mul_scalar(s * s) / variance + mu;
            (log_weight, mean)
        };
        let (log_w0, mean0) = component(0);
        let (log_w1, mean1) = component(1);
        // Responsibility of component 1: sigmoid(log w₁ − log w₀).
        let r1 = burn::tensor::activation::sigmoid(log_w1 - log_w0);
        mean0.clone() + (mean1 - mean0) * r1
    }
}

fn values(t: Tensor<3>) -> Vec<f32> {
    t.into_data().try_to_vec_as::<f32>().unwrap()
}

fn moments(v: &[f32]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

fn sampler<M: Denoiser>(denoiser: M, kind: SamplerKind, steps: usize) -> Sampler<M> {
    let config = SamplerConfig {
        kind,
        steps,
        self_conditioning: false,
        ..SamplerConfig::default()
    };
    Sampler::new(denoiser, NoiseSchedule::default(), config).unwrap()
}

/// A sampler over the exact denoiser of N(μ, s²) data.
fn exact_gaussian(
    mu: f64,
    s: f64,
    schedule: NoiseSchedule,
    config: SamplerConfig,
) -> Sampler<Gaussian> {
    let denoiser = Gaussian {
        mu: mu as f32,
        s: s as f32,
    };
    Sampler::new(denoiser, schedule, config).unwrap()
}

fn all_kinds() -> Vec<(SamplerKind, usize)> {
    vec![
        (
            SamplerKind::Ddpm {
                variance: DdpmVariance::Large,
            },
            200,
        ),
        (
            SamplerKind::Ddpm {
                variance: DdpmVariance::Posterior,
            },
            200,
        ),
        // First-order deterministic solvers need more steps for 5 % accuracy here.
        (SamplerKind::Ddim { eta: 0.0 }, 200),
        (SamplerKind::Ddim { eta: 1.0 }, 200),
        (SamplerKind::DpmSolverPlusPlus { order: 1 }, 200),
        (SamplerKind::DpmSolverPlusPlus { order: 2 }, 50),
        (SamplerKind::DpmSolverPlusPlus { order: 3 }, 50),
    ]
}

#[test]
fn every_sampler_reproduces_a_gaussian() {
    let device = Device::flex();
    let (mu, s) = (1.5f32, 0.4f32);
    for (kind, steps) in all_kinds() {
        let sampler = sampler(Gaussian { mu, s }, kind, steps);
        let mut noise = NoiseSource::from_seed(7, 1024);
        let x = sampler
            .sample([L, D], &Conditioning::none(), &mut noise, &device)
            .unwrap();
        let (mean, std) = moments(&values(x));
        // 8192 draws: the standard error of the mean is s/90 ≈ 0.0045.
        assert!((mean - mu as f64).abs() < 0.02, "{kind:?}: mean {mean}");
        assert!((std / s as f64 - 1.0).abs() < 0.05, "{kind:?}: std {std}");
    }
}

#[test]
fn every_sampler_reproduces_a_two_component_mixture() {
    let device = Device::flex();
    let mixture = || Mixture {
        weights: [0.3, 0.7],
        means: [-2.0, 2.0],
        stds: [0.5, 0.5],
    };
    for (kind, steps) in all_kinds() {
        let sampler = sampler(mixture(), kind, steps);
        let mut noise = NoiseSource::from_seed(11, 1024);
        let x = values(
            sampler
                .sample([L, D], &Conditioning::none(), &mut noise, &device)
                .unwrap(),
        );
        let (right, left): (Vec<f32>, Vec<f32>) = x.iter().partition(|&&v| v > 0.0);
        let share = right.len() as f64 / x.len() as f64;
        assert!(
            (share - 0.7).abs() < 0.03,
            "{kind:?}: share of the right mode {share}"
        );
        for (mode, mu) in [(right, 2.0), (left, -2.0)] {
            let (mean, std) = moments(&mode);
            assert!((mean - mu).abs() < 0.05, "{kind:?}: mode {mu} mean {mean}");
            assert!(
                (std / 0.5 - 1.0).abs() < 0.08,
                "{kind:?}: mode {mu} std {std}"
            );
        }
    }
}

/// Error of a deterministic sampler against the exact probability-flow map, from the same
/// starting noise, as a function of the number of steps.
fn flow_errors(kind: SamplerKind, steps: &[usize]) -> Vec<f64> {
    let device = Device::flex();
    let schedule = NoiseSchedule::default();
    let (mu, s) = (1.5f64, 0.4f64);
    // End at log-SNR 2, where the flow is smooth and the solution is not yet the data
    // itself. A Python re-implementation (plain floats) of the same solvers on this problem
    // gives errors, at 8/16/32/64 steps: DDIM 8.9e-2, 4.6e-2, 2.3e-2, 1.2e-2;
    // 2M 4.8e-2, 1.2e-2, 2.7e-3, 5.9e-4; 3M 2.0e-2, 5.2e-4, 1.9e-4, 1.9e-5.
    let t_end = schedule.t_from_log_snr(2.0);
    let start = NoiseSource::from_seed(3, 256).normal(L, D, &device);
    let marginal = |t: f64| {
        let (alpha, sigma) = schedule.alpha_sigma(t);
        (alpha * mu, (alpha * alpha * s * s + sigma * sigma).sqrt())
    };
    let (m1, sd1) = marginal(1.0);
    let (m0, sd0) = marginal(t_end);
    let exact: Vec<f64> = values(start.clone())
        .iter()
        .map(|&z| m0 + sd0 * (z as f64 - m1) / sd1)
        .collect();
    steps
        .iter()
        .map(|&n| {
            let config = SamplerConfig {
                kind,
                steps: n,
                spacing: Spacing::UniformLogSnr,
                self_conditioning: false,
                lower_order_final: false,
                t_end,
                ..SamplerConfig::default()
            };
            let sampler = exact_gaussian(mu, s, schedule, config);
            let mut noise = NoiseSource::from_seed(0, 256);
            let got = values(
                sampler
                    .sample_from(start.clone(), &Conditioning::none(), &mut noise)
                    .unwrap(),
            );
            got.iter()
                .zip(&exact)
                .map(|(&g, &e)| (g as f64 - e).abs())
                .fold(0.0, f64::max)
        })
        .collect()
}

fn orders(errors: &[f64]) -> Vec<f64> {
    let orders: Vec<f64> = errors.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
    // Printed for docs/SAMPLERS.md (`cargo test … -- --nocapture`).
    let fmt = |v: &[f64], f: fn(&f64) -> String| v.iter().map(f).collect::<Vec<_>>().join(", ");
    eprintln!(
        "errors [{}] orders [{}]",
        fmt(errors, |e| format!("{e:.2e}")),
        fmt(&orders, |o| format!("{o:.2}"))
    );
    orders
}

#[test]
fn ddim_is_first_order() {
    let errors = flow_errors(SamplerKind::Ddim { eta: 0.0 }, &[8, 16, 32, 64]);
    let orders = orders(&errors);
    for order in &orders {
        assert!(
            (0.8..1.3).contains(order),
            "errors {errors:?}, orders {orders:?}"
        );
    }
}

#[test]
fn dpm_solver_pp_2m_is_second_order() {
    let errors = flow_errors(
        SamplerKind::DpmSolverPlusPlus { order: 2 },
        &[8, 16, 32, 64],
    );
    let orders = orders(&errors);
    for order in &orders {
        assert!(*order >= 1.7, "errors {errors:?}, orders {orders:?}");
    }
}

/// Multistep 3M starts with a first-order step (it has no history yet), whose O(h²) local
/// error bounds the global order by 2, as in the reference DPM-Solver++ and diffusers; it is
/// still more accurate than 2M at every step count.
#[test]
fn dpm_solver_pp_3m_is_at_least_second_order_and_beats_2m() {
    let steps = [8, 16, 32, 64];
    let errors_3m = flow_errors(SamplerKind::DpmSolverPlusPlus { order: 3 }, &steps);
    let errors_2m = flow_errors(SamplerKind::DpmSolverPlusPlus { order: 2 }, &steps);
    eprintln!("3M errors {errors_3m:?}");
    let total_order = (errors_3m[0] / errors_3m[3]).log2() / 3.0;
    assert!(total_order >= 1.7, "3M errors {errors_3m:?}");
    for (e3, e2) in errors_3m.iter().zip(&errors_2m) {
        assert!(e3 < e2, "3M {errors_3m:?} vs 2M {errors_2m:?}");
    }
}

#[test]
fn the_noise_scale_scales_the_output_of_a_linear_denoiser() {
    // Centred Gaussian data: the exact denoiser is linear in z_t, so every sampler's output
    // is linear in the starting noise and the noise it adds; τ must scale it by τ exactly.
    let device = Device::flex();
    let tau = 0.6;
    for (kind, _) in all_kinds() {
        let run = |noise_scale: f64| {
            let config = SamplerConfig {
                kind,
                steps: 12,
                self_conditioning: false,
                noise_scale,
                ..SamplerConfig::default()
            };
            let sampler = Sampler::new(
                Gaussian { mu: 0.0, s: 0.4 },
                NoiseSchedule::default(),
                config,
            )
            .unwrap();
            let mut noise = NoiseSource::from_seed(3, 16);
            values(
                sampler
                    .sample([L, D], &Conditioning::none(), &mut noise, &device)
                    .unwrap(),
            )
        };
        let (full, cooled) = (run(1.0), run(tau));
        let scale = full.iter().map(|v| v.abs()).fold(0.0f32, f32::max);
        assert!(scale > 0.1, "{kind:?}: degenerate output");
        for (a, b) in full.iter().zip(&cooled) {
            assert!(
                (a * tau as f32 - b).abs() < 1e-5 * scale.max(1.0),
                "{kind:?}: {b} is not {tau} × {a}"
            );
        }
    }
    let bad = SamplerConfig {
        noise_scale: 0.0,
        ..SamplerConfig::default()
    };
    assert!(bad.validate().is_err());
}

/// Largest error of DDIM inversion of Gaussian data against the exact probability-flow map,
/// and of the round trip (invert, then DDIM sampling over the same timesteps) against the data.
fn inversion_errors(steps: usize) -> (f64, f64) {
    let device = Device::flex();
    let schedule = NoiseSchedule::default();
    let (mu, s) = (1.5f64, 0.4f64);
    let unit = NoiseSource::from_seed(5, 128).normal(L, D, &device);
    let x0 = unit.clone().mul_scalar(s).add_scalar(mu);
    let config = SamplerConfig {
        kind: SamplerKind::Ddim { eta: 0.0 },
        steps,
        self_conditioning: false,
        ..SamplerConfig::default()
    };
    let sampler = exact_gaussian(mu, s, schedule, config);
    let inverted = sampler.invert(x0.clone(), &Conditioning::none()).unwrap();
    // The flow maps N(μ, s²) at t = 0 monotonically onto N(α₁ μ, α₁² s² + σ₁²) at t = 1.
    let (alpha, sigma) = schedule.alpha_sigma(1.0);
    let sd1 = (alpha * alpha * s * s + sigma * sigma).sqrt();
    let exact: Vec<f64> = values(unit)
        .iter()
        .map(|&u| alpha * mu + sd1 * u as f64)
        .collect();
    let max_diff = |a: &[f32], b: &[f64]| {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| (x as f64 - y).abs())
            .fold(0.0, f64::max)
    };
    let inversion = max_diff(&values(inverted.clone()), &exact);
    let mut noise = NoiseSource::from_seed(0, 128);
    let back = sampler
        .sample_from(inverted, &Conditioning::none(), &mut noise)
        .unwrap();
    let data: Vec<f64> = values(x0).iter().map(|&x| x as f64).collect();
    (inversion, max_diff(&values(back), &data))
}

#[test]
fn ddim_inversion_follows_the_exact_flow_and_round_trips() {
    let errors: Vec<(f64, f64)> = [25, 50, 100, 200].map(inversion_errors).to_vec();
    eprintln!("inversion / round-trip errors {errors:?}");
    // Both are first order, as DDIM: doubling the steps halves the error (measured here:
    // 0.45, 0.23, 0.12, 0.060 and 0.34, 0.18, 0.094, 0.048).
    for pair in errors.windows(2) {
        for (coarse, fine) in [(pair[0].0, pair[1].0), (pair[0].1, pair[1].1)] {
            let order = (coarse / fine).log2();
            assert!((0.8..1.3).contains(&order), "{errors:?}");
        }
    }
    let (inversion, round_trip) = errors[3];
    assert!(inversion < 0.07 && round_trip < 0.06, "{errors:?}");
}

#[test]
fn inverting_an_empty_batch_is_an_error() {
    let device = Device::flex();
    let sampler = sampler(
        Gaussian { mu: 0.0, s: 1.0 },
        SamplerKind::Ddim { eta: 0.0 },
        10,
    );
    assert!(
        sampler
            .invert(
                Tensor::<3>::zeros([0, L, D], &device),
                &Conditioning::none()
            )
            .is_err()
    );
}

#[test]
fn denoising_from_where_the_log_snr_is_clamped_stays_finite_and_keeps_the_input() {
    // From t = 1e-4 every timestep of the cosine schedule sits at the clamped λ = 15, so
    // every step has zero length: the multistep solvers must not divide by it.
    let device = Device::flex();
    let mut noise = NoiseSource::from_seed(5, 4);
    let x0 = noise.normal(L, D, &device);
    let input = values(x0.clone());
    for (kind, _) in all_kinds() {
        for t_start in [1e-4, 1e-6] {
            let config = SamplerConfig {
                kind,
                steps: 4,
                t_start,
                self_conditioning: false,
                ..SamplerConfig::default()
            };
            let sampler = exact_gaussian(0.0, 1.0, NoiseSchedule::default(), config);
            let mut stream = NoiseSource::from_seed(9, 4);
            let out = values(
                sampler
                    .sample_from(x0.clone(), &Conditioning::none(), &mut stream)
                    .unwrap(),
            );
            for (a, b) in input.iter().zip(&out) {
                assert!(b.is_finite(), "{kind:?} from {t_start}: {b}");
                // σ at λ = 15 is 5.5e-4: the data barely moves.
                assert!((a - b).abs() < 5e-3, "{kind:?} from {t_start}: {a} → {b}");
            }
        }
    }
}
