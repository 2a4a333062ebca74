//! # ld4lg — latent diffusion for language generation
//!
//! LD4LG (Lovelace et al., *Latent Diffusion for Language Generation*, NeurIPS 2023) in Rust
//! on Burn. Text is encoded by an autoencoder into a short sequence of continuous latent
//! vectors; a transformer denoiser learns to generate such latents by diffusion; the decoder
//! turns generated latents back into text.
//!
//! This crate is the facade: [`pipeline::LatentDiffusionPipeline`] loads a trained run or
//! exported model and generates, edits and interpolates text, one [`request`] per task;
//! [`pick`] chooses among candidates (MBR, fluency); [`fusion`] and [`lm`] are priors that
//! can steer decoding; [`probe`] measures how much of a text the denoiser
//! recovers from noise. Everything below it is re-exported: corpus readers ([`data`]),
//! evaluation ([`metrics`], [`classifier`]), run directories ([`run`]), training
//! ([`train`]), and the model crates ([`autoencoder`], [`denoiser`], [`sampler`],
//! [`schedule`], [`tokenizer`]).
//!
//! ```no_run
//! use ld4lg::pipeline::LatentDiffusionPipeline;
//! use ld4lg::sampler::SamplerConfig;
//!
//! let device = ld4lg::burn::tensor::Device::flex();
//! let pipeline = LatentDiffusionPipeline::load("models/e2e".as_ref(), &device)?;
//! for text in pipeline.generate(4, &SamplerConfig::default(), 1)? {
//!     println!("{text}");
//! }
//! # Ok::<(), ld4lg::Error>(())
//! ```
//!
//! Backends are Cargo features of this crate (`flex`, `ndarray`, `openblas`, `wgpu`, `cuda`);
//! none is on by default, so binaries choose. [`backend::DeviceChoice`] turns a name into a
//! Burn [`Device`](burn::tensor::Device), with a clear error when its feature is missing.

#![warn(missing_docs)]

pub mod backend;
pub mod fusion;
pub mod lm;
pub mod pick;
pub mod pipeline;
pub mod probe;
pub mod request;

pub use ld4lg_run::Error;

pub use burn;
pub use ld4lg_autoencoder as autoencoder;
pub use ld4lg_data as data;
pub use ld4lg_denoiser as denoiser;
pub use ld4lg_eval as metrics;
pub use ld4lg_eval::classifier;
pub use ld4lg_run as run;
pub use ld4lg_sampler as sampler;
pub use ld4lg_schedule as schedule;
pub use ld4lg_tokenizer as tokenizer;
pub use ld4lg_train as train;
