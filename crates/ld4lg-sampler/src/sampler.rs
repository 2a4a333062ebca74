use crate::scheduler::{Scheduler, StepEstimates, scheduler_for};
use crate::{Conditioning, Denoiser, DenoiserInput, NoiseSource, SamplerConfig, SamplerError};
use burn::tensor::{Device, Tensor};
use ld4lg_schedule::{Coefficients, NoiseSchedule};

/// What the per-step callback of [`Sampler::sample_from_with`] sees, before the step.
#[derive(Debug)]
pub struct SamplerStep<'a> {
    /// The step, from 0 to `steps − 1`.
    pub step: usize,
    /// Steps in the run.
    pub steps: usize,
    /// The time the step starts from.
    pub t: f64,
    /// The latent at `t`.
    pub z_t: &'a Tensor<3>,
    /// The denoiser's estimate of the clean latent at `t` (after any renormalisation).
    pub x0: &'a Tensor<3>,
}

/// Runs a sampler: a denoiser, a schedule and a [`SamplerConfig`]. The loop (guidance,
/// self-conditioning, renormalisation) is here; how `z` moves between times is the
/// [`Scheduler`] of the configured [`SamplerKind`](crate::SamplerKind).
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use ld4lg_sampler::{Conditioning, Denoiser, DenoiserInput, NoiseSource, Sampler, SamplerConfig};
/// use ld4lg_schedule::{NoiseSchedule, PredictionType};
///
/// /// The exact denoiser for data that is always zero.
/// struct Zero;
/// impl Denoiser for Zero {
///     fn prediction_type(&self) -> PredictionType { PredictionType::Sample }
///     fn predict(&self, input: DenoiserInput<'_>) -> Tensor<3> { input.z_t.zeros_like() }
/// }
///
/// let device = Device::flex();
/// let sampler = Sampler::new(Zero, NoiseSchedule::default(), SamplerConfig::default())?;
/// let mut noise = NoiseSource::from_seed(42, 4);
/// let latents = sampler.sample([8, 16], &Conditioning::none(), &mut noise, &device)?;
/// assert_eq!(latents.dims(), [4, 8, 16]);
/// # Ok::<(), ld4lg_sampler::SamplerError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sampler<M> {
    denoiser: M,
    schedule: NoiseSchedule,
    config: SamplerConfig,
    /// `(mean [1, l, d], std)` when the denoiser works on standardised latents
    /// `(x − mean)/std`: [`SamplerConfig::normalize_x0`] then acts on `x`, not on them.
    standardisation: Option<(Tensor<3>, f64)>,
}

impl<M: Denoiser> Sampler<M> {
    /// Checks the configuration and the schedule.
    pub fn new(
        denoiser: M,
        schedule: NoiseSchedule,
        config: SamplerConfig,
    ) -> Result<Self, SamplerError> {
        config.validate()?;
        schedule
            .validate()
            .map_err(|e| SamplerError::InvalidConfig(e.to_string()))?;
        Ok(Self {
            denoiser,
            schedule,
            config,
            standardisation: None,
        })
    }

    /// Declares that the denoiser works on standardised latents `(x − mean)/std`, so that
    /// [`SamplerConfig::normalize_x0`] rescales the vectors of `x = x̂₀·std + mean` (e.g. an
    /// autoencoder's √d-sphere latents) and maps the result back.
    ///
    /// # Shapes
    /// - `mean`: `[l, d]`
    pub fn with_standardisation(mut self, mean: Tensor<2>, std: f64) -> Result<Self, SamplerError> {
        if !(std.is_finite() && std > 0.0) {
            return Err(SamplerError::InvalidConfig(format!(
                "standardisation std must be positive, got {std}"
            )));
        }
        self.standardisation = Some((mean.unsqueeze(), std));
        Ok(self)
    }

    /// The configuration.
    pub fn config(&self) -> &SamplerConfig {
        &self.config
    }

    /// The denoiser.
    pub fn denoiser(&self) -> &M {
        &self.denoiser
    }

    /// Generates latents from pure noise at `config.t_start`; one example per noise stream.
    ///
    /// # Shapes
    /// - `latent_shape`: `[l, d]` → output `[batch, l, d]` with `batch = noise.len()`
    pub fn sample(
        &self,
        latent_shape: [usize; 2],
        conditioning: &Conditioning,
        noise: &mut NoiseSource,
        device: &Device,
    ) -> Result<Tensor<3>, SamplerError> {
        if noise.is_empty() {
            return Err(SamplerError::Shape("no noise streams: batch of 0".into()));
        }
        let [l, d] = latent_shape;
        let (alpha, sigma) = self.schedule.alpha_sigma(self.config.t_start);
        // At t_start < 1 the prior is N(0, 1) only approximately; scale it to the marginal
        // variance of unit-variance data, α² + σ² = 1, so this is plain N(0, I).
        let z = noise
            .normal(l, d, device)
            .mul_scalar((alpha * alpha + sigma * sigma).sqrt() * self.config.noise_scale);
        self.sample_from(z, conditioning, noise)
    }

    /// Denoises `z` from `config.t_start` to `config.t_end` (for editing: `z` is a clean
    /// latent noised to `t_start`).
    ///
    /// # Shapes
    /// - `z`: `[batch, l, d]` → `[batch, l, d]`
    pub fn sample_from(
        &self,
        z: Tensor<3>,
        conditioning: &Conditioning,
        noise: &mut NoiseSource,
    ) -> Result<Tensor<3>, SamplerError> {
        self.sample_from_with(z, conditioning, noise, &mut |_| {})
    }

    /// [`Self::sample_from`], calling `on_step` before each step with the step, its time,
    /// `z_t` and the estimate x̂₀ (the hook for progress bars and trajectory pictures).
    ///
    /// ```
    /// # use burn::tensor::{Device, Tensor};
    /// # use ld4lg_sampler::{Conditioning, Denoiser, DenoiserInput, NoiseSource, Sampler, SamplerConfig};
    /// # use ld4lg_schedule::{NoiseSchedule, PredictionType};
    /// # struct Zero;
    /// # impl Denoiser for Zero {
    /// #     fn prediction_type(&self) -> PredictionType { PredictionType::Sample }
    /// #     fn predict(&self, input: DenoiserInput<'_>) -> Tensor<3> { input.z_t.zeros_like() }
    /// # }
    /// let config = SamplerConfig { steps: 10, ..SamplerConfig::default() };
    /// let sampler = Sampler::new(Zero, NoiseSchedule::default(), config)?;
    /// let mut noise = NoiseSource::from_seed(1, 2);
    /// let z = noise.normal(4, 8, &Device::flex());
    /// let mut times = Vec::new();
    /// sampler.sample_from_with(z, &Conditioning::none(), &mut noise, &mut |step| {
    ///     times.push(step.t);
    /// })?;
    /// assert_eq!(times.len(), 10);
    /// assert!(times.windows(2).all(|w| w[0] > w[1]));
    /// # Ok::<(), ld4lg_sampler::SamplerError>(())
    /// ```
    ///
    /// # Shapes
    /// - `z`: `[batch, l, d]` → `[batch, l, d]`
    pub fn sample_from_with(
        &self,
        z: Tensor<3>,
        conditioning: &Conditioning,
        noise: &mut NoiseSource,
        on_step: &mut dyn FnMut(&SamplerStep<'_>),
    ) -> Result<Tensor<3>, SamplerError> {
        let mut scheduler = scheduler_for(&self.config);
        self.sample_from_scheduled(z, conditioning, noise, scheduler.as_mut(), on_step)
    }

    /// The sampling loop with any [`Scheduler`] (e.g. one of your own) over the configured
    /// timesteps: at each step the denoiser's (guided) output becomes x̂₀ and ε̂ (x̂₀
    /// renormalised when configured, and fed back as self-conditioning), `on_step` sees them,
    /// and the scheduler moves `z` to the next time.
    ///
    /// # Shapes
    /// - `z`: `[batch, l, d]` → `[batch, l, d]`
    pub fn sample_from_scheduled(
        &self,
        mut z: Tensor<3>,
        conditioning: &Conditioning,
        noise: &mut NoiseSource,
        scheduler: &mut dyn Scheduler,
        on_step: &mut dyn FnMut(&SamplerStep<'_>),
    ) -> Result<Tensor<3>, SamplerError> {
        let batch = z.dims()[0];
        if noise.len() != batch {
            return Err(SamplerError::Shape(format!(
                "{} noise streams for a batch of {batch}",
                noise.len()
            )));
        }
        let device = z.device();
        scheduler.set_timesteps(&self.config.timesteps(&self.schedule), &self.schedule);
        let times = scheduler.timesteps().to_vec();
        let steps = times.len().saturating_sub(1);
        let mut self_cond: Option<Tensor<3>> = None;
        for (step, &t) in times[..steps].iter().enumerate() {
            let lambda_t = self.schedule.log_snr(t);
            let output = self.guided_output(z.clone(), t, self_cond.clone(), conditioning, &device);
            let c_t = Coefficients::<3>::from_log_snr(&vec![lambda_t; batch], &device);
            let prediction = self.denoiser.prediction_type();
            let mut x0 = prediction.to_sample(output.clone(), z.clone(), &c_t);
            let eps = match self.config.normalize_x0 {
                Some(norm) => {
                    x0 = match &self.standardisation {
                        None => normalize_vectors(x0, norm),
                        Some((mean, std)) => {
                            let x = x0.mul_scalar(*std) + mean.clone();
                            (normalize_vectors(x, norm) - mean.clone()).div_scalar(*std)
                        }
                    };
                    // ε consistent with the renormalised x̂₀.
                    (z.clone() - x0.clone() * c_t.alpha.clone()) / c_t.sigma.clone()
                }
                None => prediction.to_epsilon(output, z.clone(), &c_t),
            };
            if self.config.self_conditioning {
                self_cond = Some(x0.clone());
            }
            on_step(&SamplerStep {
                step,
                steps,
                t,
                z_t: &z,
                x0: &x0,
            });
            z = scheduler.step(step, StepEstimates { x0, eps }, z, noise);
        }
        Ok(z)
    }

    /// Deterministic DDIM inversion: runs the probability-flow ODE backwards from clean
    /// latents at `config.t_end` up to `config.t_start` over the configured timesteps, each
    /// step `z_s = α_s x̂₀ + σ_s ε̂` with the model's estimates at the less noisy time (the
    /// first step uses `x0` itself and ε = 0).
    /// Sampling the result with [`SamplerKind::Ddim`](crate::SamplerKind::Ddim) `{ eta: 0 }` and the same timesteps
    /// comes back close to `x0` (exactly for a perfect denoiser); interpolating between two
    /// inverted latents and sampling gives texts the model finds likely all along the path.
    ///
    /// # Shapes
    /// - `x0`: `[batch, l, d]` → `[batch, l, d]`
    pub fn invert(
        &self,
        x0: Tensor<3>,
        conditioning: &Conditioning,
    ) -> Result<Tensor<3>, SamplerError> {
        let batch = x0.dims()[0];
        if batch == 0 {
            return Err(SamplerError::Shape("nothing to invert: batch of 0".into()));
        }
        let device = x0.device();
        let mut times = self.config.timesteps(&self.schedule);
        times.reverse();
        // The first step knows x₀ exactly and takes ε = 0: the model's ε̂ at t_end (often
        // t = 0, σ ≈ 0) is ill-conditioned for x₀-predicting denoisers.
        let (alpha_first, _) = self.schedule.alpha_sigma(times[1]);
        let mut self_cond = self.config.self_conditioning.then(|| x0.clone());
        let mut z = x0.mul_scalar(alpha_first);
        for pair in times[1..].windows(2) {
            let (t, s) = (pair[0], pair[1]);
            let lambda_t = self.schedule.log_snr(t);
            let output = self.guided_output(z.clone(), t, self_cond.clone(), conditioning, &device);
            let c_t = Coefficients::<3>::from_log_snr(&vec![lambda_t; batch], &device);
            let prediction = self.denoiser.prediction_type();
            let x0_hat = prediction.to_sample(output.clone(), z.clone(), &c_t);
            let eps_hat = prediction.to_epsilon(output, z, &c_t);
            if self.config.self_conditioning {
                self_cond = Some(x0_hat.clone());
            }
            let (alpha_s, sigma_s) = self.schedule.alpha_sigma(s);
            z = x0_hat.mul_scalar(alpha_s) + eps_hat.mul_scalar(sigma_s);
        }
        Ok(z)
    }

    /// The model output at time `t`, with classifier-free guidance when the conditioning is
    /// not empty, the weight is not 1 and `t` is inside the guidance interval: both branches
    /// in one batched call, `w·cond + (1 − w)·uncond`, then the guidance rescale.
    ///
    /// # Shapes
    /// - `z`, `self_cond`: `[batch, l, d]` → `[batch, l, d]`
    pub fn guided_output(
        &self,
        z: Tensor<3>,
        t: f64,
        self_cond: Option<Tensor<3>>,
        conditioning: &Conditioning,
        device: &Device,
    ) -> Tensor<3> {
        let batch = z.dims()[0];
        let w = self.config.guidance_scale;
        let alpha_bar = self.schedule.alpha_bar(t) as f32;
        let call = |z: Tensor<3>, self_cond, conditioning: &Conditioning, n: usize| {
            self.denoiser.predict(DenoiserInput {
                z_t: z,
                t: Tensor::<1>::full([n], t as f32, device),
                alpha_bar: Tensor::<1>::full([n], alpha_bar, device),
                self_cond,
                conditioning,
            })
        };
        let in_interval = self
            .config
            .guidance_interval
            .is_none_or(|(lo, hi)| (lo..=hi).contains(&t));
        if w == 1.0 || !conditioning.is_conditional() || !in_interval {
            return call(z, self_cond, conditioning, batch);
        }
        let doubled = conditioning.with_null_branch(batch, device);
        let output = call(
            Tensor::cat(vec![z.clone(), z], 0),
            self_cond.map(|c| Tensor::cat(vec![c.clone(), c], 0)),
            &doubled,
            2 * batch,
        );
        let conditional = output.clone().narrow(0, 0, batch);
        let unconditional = output.narrow(0, batch, batch);
        let guided = conditional.clone().mul_scalar(w) + unconditional.mul_scalar(1.0 - w);
        let phi = self.config.guidance_rescale;
        if phi == 0.0 {
            return guided;
        }
        let ratio = (per_example_std(conditional)
            / per_example_std(guided.clone()).clamp_min(1e-12))
        .reshape([batch, 1, 1]);
        let rescaled = guided.clone() * ratio;
        rescaled.mul_scalar(phi) + guided.mul_scalar(1.0 - phi)
    }
}

/// Standard deviation of each example over all its elements (population form; only ratios
/// of it are used).
///
/// # Shapes
/// - `x`: `[batch, l, d]` → `[batch]`
fn per_example_std(x: Tensor<3>) -> Tensor<1> {
    let [batch, l, d] = x.dims();
    let flat = x.reshape([batch, l * d]);
    let centred = flat.clone() - flat.mean_dim(1);
    centred.powi_scalar(2).mean_dim(1).sqrt().reshape([batch])
}

/// Rescales every vector along the last axis to Euclidean norm `norm`.
///
/// # Shapes
/// - `x`: `[batch, l, d]` → `[batch, l, d]`
pub fn normalize_vectors(x: Tensor<3>, norm: f64) -> Tensor<3> {
    let lengths = x.clone().powi_scalar(2).sum_dim(2).sqrt().clamp_min(1e-12);
    (x / lengths).mul_scalar(norm)
}
